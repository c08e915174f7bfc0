/*
 * A FlexibleIov device: its BARs and what is registered on them, and the
 * emulator that takes its intercepted MMIO.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_UNIX_DEVICE_H
#define __VMIDL_UNIX_DEVICE_H

#include "unix_bar.h"

/* Live doorbells per device.  KVM has no practical ioeventfd limit here, but
 * each registration slows the next one and each removal costs a kernel grace
 * period (~8 ms), so an unbounded count would let one driver stall teardown. */
#define MAX_DOORBELLS_PER_DEVICE 1024

struct device
{
    struct list entry;          /* vm->devices */
    GUID instance_id;
    UINT64 mmio_callback;
    UINT64 mmio_context;
    UINT64 object;              /* the COM object, and its LONG refcount */
    UINT64 object_refcount;
    /* Under the VM's layout lock: */
    int added;                  /* in the VM's device list */
    int removing;               /* its last reference is gone */
    int orphaned;               /* ... while a vCPU was in its MMIO callback; under the route lock */
    /* Serialises the calls on the device; held across their KVM calls. */
    pthread_mutex_t lock;
    int dead;                   /* its VM was shut down */
    struct bar bars[VMIDL_BAR_COUNT];
    unsigned int doorbell_count;
};

extern NTSTATUS device_create(const struct device_create_params *params, struct device **ret);
extern void device_free(struct device *device);

extern NTSTATUS device_create_range(struct device *device, const struct bar_host *host,
        const struct range_create_params *params);
extern NTSTATUS device_destroy_range(struct device *device, const struct bar_host *host,
        const struct range_destroy_params *params);
extern NTSTATUS device_register_doorbell(struct device *device, const struct bar_host *host,
        const struct doorbell_params *params);
extern NTSTATUS device_unregister_doorbell(struct device *device, const struct bar_host *host,
        const struct doorbell_params *params);

/* Takes every doorbell and range of the owner (BAR_ANY_OWNER: all of them)
 * out of KVM and frees them, one at a time under the device lock, so that
 * each slow removal holds nobody up. */
extern void device_clear(struct device *device, const struct bar_host *host, uint64_t owner);
/* Marks the device dead: once this returns no call on it runs or will. */
extern void device_kill(struct device *device);
/* Frees what a dead device still holds; its VM is closed, so KVM is not
 * asked to remove anything. */
extern void device_release_contents(struct device *device, const struct bar_host *host);

#endif /* __VMIDL_UNIX_DEVICE_H */
