/*
 * The PCI device of the demo and the tests (tools/demo/pci.h): its config
 * space, which the worker's config callback serves, and its engine, which
 * serves its doorbells through a device object or a driver's proxy of one.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_PCI_DEVICE_H
#define __VMIDL_PCI_DEVICE_H

#include "guest.h"
#include "demo/pci.h"

/* Config space from 0x34 on, as the config callback serves it: a vendor
 * capability, power management, then MSI. */
struct pci_config
{
    CRITICAL_SECTION cs;
    BYTE space[0x1000];
    unsigned int accesses;
    unsigned int misrouted;     /* accesses to offsets that are vmidl's */
    unsigned int dropped_writes;
};
extern void pci_config_init(struct pci_config *config);
extern void pci_config_cleanup(struct pci_config *config);
extern HRESULT CALLBACK pci_config_callback(void *context, UINT32 offset, UINT32 size, BOOL is_write, UINT32 *data);
/* Whether the guest enabled MSI, and where and what it asked for. */
extern BOOL pci_config_msi(struct pci_config *config, UINT64 *address, UINT32 *data);

/* The engine: interrupts, and the descriptor ring through copies and an
 * aperture.  A wait for the guest gives up after timeout_ms. */
struct pci_engine
{
    IUnknown *device;
    UINT64 msi_address;
    UINT32 msi_data;
    DWORD timeout_ms;
    HANDLE thread, stop, irq_event, ring_event;
    IVmFiovGuestMemoryFastNotification *notification;
    unsigned int doorbells;     /* registered on BAR2 */
    BYTE *aperture;             /* of [PCI_GUEST_RING, PCI_GUEST_RAM_END) */
    LONG irqs_raised;
    LONG completed;
    HRESULT error;
};
extern HRESULT pci_engine_start(struct pci_engine *engine, IUnknown *device, UINT64 msi_address, UINT32 msi_data,
        DWORD timeout_ms);
extern void pci_engine_stop(struct pci_engine *engine);

#endif /* __VMIDL_PCI_DEVICE_H */
