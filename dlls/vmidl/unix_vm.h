/*
 * A partition's VM: its guest RAM, devices and vCPUs, and the calls that
 * involve more than one device (placement, BAR moves, routing MMIO exits).
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_UNIX_VM_H
#define __VMIDL_UNIX_VM_H

#include "unix_device.h"
#include "unix_route.h"
#include "unix_vcpu.h"

struct vm
{
    int fd;
    struct memslot_table memslots;
    struct dispatcher dispatcher;
    struct bar_host host;
    /* Guest RAM, the device list and where BARs are placed.  Never taken
     * by a vCPU, and never held while waiting for one. */
    pthread_mutex_t layout_lock;
    struct list devices;        /* struct device, also while being removed */
    struct list ram;            /* struct ram_region */
    unsigned int removals;      /* devices being cleared outside the layout lock */
    int closing;                /* being shut down, or shut down */
    int closed;                 /* the KVM VM and its vCPUs are gone */
    /* Where intercepted MMIO goes, and each vCPU's exit_device.  The vCPU
     * path takes it only briefly; nobody holds it across a system call. */
    pthread_mutex_t route_lock;
    struct route_table routes;
    int paused;                 /* vCPUs wait outside KVM while a BAR moves */
    pthread_mutex_t removal_lock;       /* see struct bar_host */
    unsigned int vcpu_count;
    struct vcpu vcpus[];
};

extern NTSTATUS vm_create(unsigned int vcpu_count, struct vm **ret);
extern NTSTATUS vm_shutdown(struct vm *vm);
extern void vm_free(struct vm *vm);
extern NTSTATUS vm_map_ram(struct vm *vm, const struct vm_map_ram_params *params);

extern NTSTATUS vm_add_device(struct vm *vm, struct device *device);
/* Takes the device out of the VM (if it was added) and frees it. */
extern void vm_remove_device(struct vm *vm, struct device *device);
extern NTSTATUS vm_find_device(struct vm *vm, const GUID *instance_id, UINT64 *object);
extern NTSTATUS vm_move_bar(struct vm *vm, const struct bar_move_params *params);

extern NTSTATUS vm_set_registers(struct vm *vm, unsigned int index, const VMIDL_VP_REGISTERS *regs);
extern NTSTATUS vm_get_registers(struct vm *vm, unsigned int index, VMIDL_VP_REGISTERS *regs);
extern NTSTATUS vm_run_vp(struct vm *vm, struct vp_run_params *params);
extern void vm_abandon_vp(struct vm *vm, unsigned int index);
extern void vm_cancel_vp(struct vm *vm, unsigned int index);

#endif /* __VMIDL_UNIX_VM_H */
