/*
 * The demo's emulation driver: it serves the ring of tools/demo/ring.h
 * through nothing but IVmVirtualDeviceAccess and the two fast-path
 * interfaces, wherever the access object comes from (the VM worker's own
 * process, or GetVmWorkerProcess in another).
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_DEMO_RING_DRIVER_H
#define __VMIDL_DEMO_RING_DRIVER_H

#include "demo/ring.h"

#define RING_DRIVER_SAMPLES 3

struct ring_driver
{
    IVmFiovGuestMmioMappings *mappings;
    IVmFiovGuestMemoryFastNotification *notification;
    HANDLE section, doorbell, thread;
    struct ring *ring;
    UINT64 answered, wakeups;
    struct ring_entry samples[RING_DRIVER_SAMPLES], last;
};

/* The device the demo's VM worker adds, and where. */
extern const GUID ring_device_instance;

/* Registers the doorbell, then maps the ring (which says it is served) and
 * answers requests on a thread of its own until the guest is done. */
extern HRESULT ring_driver_start(struct ring_driver *driver, IVmVirtualDeviceAccess *access, const GUID *instance);
/* Waits for the guest to be done, up to timeout ms: FALSE if it is not. */
extern BOOL ring_driver_wait(struct ring_driver *driver, DWORD timeout);
/* Takes the doorbell and the ring out of the device and lets it go. */
extern void ring_driver_stop(struct ring_driver *driver);
extern void ring_driver_print(const struct ring_driver *driver);

#endif /* __VMIDL_DEMO_RING_DRIVER_H */
