/*
 * Unix-call entry points of vmidl.so, in the order of enum vmidl_funcs.
 * Each one unpacks its params, does the work and turns the negative errno
 * it gets into an NTSTATUS.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <stdint.h>

#include "ntstatus.h"
#define WIN32_NO_STATUS
#include "windef.h"
#include "winternl.h"
#include "wine/debug.h"

#include "unix_private.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

typedef NTSTATUS (*unixlib_entry_t)(void *args);

static NTSTATUS status_from_errno(int err)
{
    switch (err)
    {
    case 0: return STATUS_SUCCESS;
    case -EINVAL: return STATUS_INVALID_PARAMETER;
    case -ENOMEM: return STATUS_NO_MEMORY;
    case -EEXIST: return STATUS_OBJECT_NAME_COLLISION;
    case -ENOENT: return STATUS_NOT_FOUND;
    case -ENOSPC: return STATUS_INSUFFICIENT_RESOURCES;
    case -EBADF: return STATUS_INVALID_HANDLE;
    case -EACCES:
    case -EPERM: return STATUS_ACCESS_DENIED;
    case -EBUSY: return STATUS_DEVICE_BUSY;
    case -ENODEV:
    case -ENXIO:
    case -EOPNOTSUPP: return STATUS_NOT_SUPPORTED;
    default:
        WARN("unexpected error %d\n", err);
        return STATUS_UNSUCCESSFUL;
    }
}

static struct vm *get_vm(UINT64 handle)
{
    return (struct vm *)(uintptr_t)handle;
}

static struct device *get_device(UINT64 handle)
{
    return (struct device *)(uintptr_t)handle;
}

static NTSTATUS vmidl_vm_create(void *args)
{
    struct vm_create_params *params = args;
    struct vm *vm;
    int err;

    /* /dev/kvm missing means no KVM at all, not a missing file. */
    if ((err = vm_create(params->vp_count, &vm)) == -ENOENT) err = -ENODEV;
    if (!err) params->vm = (uintptr_t)vm;
    return status_from_errno(err);
}

static NTSTATUS vmidl_vm_destroy(void *args)
{
    struct vm_params *params = args;
    vm_destroy(get_vm(params->vm));
    return STATUS_SUCCESS;
}

static NTSTATUS vmidl_vm_map_ram(void *args)
{
    struct vm_map_ram_params *params = args;
    return status_from_errno(vm_map_ram(get_vm(params->vm), params->host_address, params->guest_address,
            params->size, params->writable));
}

static NTSTATUS vmidl_vp_set_registers(void *args)
{
    struct vp_registers_params *params = args;
    struct vm *vm = get_vm(params->vm);
    return status_from_errno(vcpu_set_registers(&vm->vcpus[params->vp_index],
            (const VMIDL_VP_REGISTERS *)(uintptr_t)params->registers));
}

static NTSTATUS vmidl_vp_get_registers(void *args)
{
    struct vp_registers_params *params = args;
    struct vm *vm = get_vm(params->vm);
    return status_from_errno(vcpu_get_registers(&vm->vcpus[params->vp_index],
            (VMIDL_VP_REGISTERS *)(uintptr_t)params->registers));
}

static NTSTATUS vmidl_vp_run(void *args)
{
    struct vp_run_params *params = args;
    struct vm *vm = get_vm(params->vm);
    return status_from_errno(vcpu_run(&vm->vcpus[params->vp_index], params->mmio_read_value, &params->exit));
}

static NTSTATUS vmidl_device_add(void *args)
{
    struct device_add_params *params = args;
    struct device *device;
    int err;

    if (!(err = device_add(get_vm(params->vm), params->bar_address, params->bar_size, &device)))
        params->device = (uintptr_t)device;
    return status_from_errno(err);
}

static NTSTATUS vmidl_device_remove(void *args)
{
    struct device_params *params = args;
    device_remove(get_vm(params->vm), get_device(params->device), 0);
    return STATUS_SUCCESS;
}

static NTSTATUS vmidl_bar_move(void *args)
{
    struct bar_move_params *params = args;
    return status_from_errno(device_move_bar(get_vm(params->vm), get_device(params->device),
            params->bar, params->guest_address));
}

static NTSTATUS vmidl_range_create(void *args)
{
    struct range_create_params *params = args;
    return status_from_errno(range_create(get_vm(params->vm), get_device(params->device), params));
}

static NTSTATUS vmidl_range_destroy(void *args)
{
    struct range_destroy_params *params = args;
    return status_from_errno(range_destroy(get_vm(params->vm), get_device(params->device),
            params->bar, params->bar_offset));
}

static NTSTATUS vmidl_doorbell_register(void *args)
{
    struct doorbell_params *params = args;
    return status_from_errno(doorbell_register(get_vm(params->vm), get_device(params->device), params));
}

static NTSTATUS vmidl_doorbell_unregister(void *args)
{
    struct doorbell_params *params = args;
    return status_from_errno(doorbell_unregister(get_vm(params->vm), get_device(params->device), params));
}

static NTSTATUS vmidl_doorbell_dispatch(void *args)
{
    struct vm_params *params = args;
    return status_from_errno(dispatch_run(&get_vm(params->vm)->dispatch));
}

static NTSTATUS vmidl_doorbell_dispatch_stop(void *args)
{
    struct vm_params *params = args;
    return status_from_errno(dispatch_stop(&get_vm(params->vm)->dispatch));
}

__attribute__((visibility("default"))) const unixlib_entry_t __wine_unix_call_funcs[] =
{
    vmidl_vm_create,
    vmidl_vm_destroy,
    vmidl_vm_map_ram,
    vmidl_vp_set_registers,
    vmidl_vp_get_registers,
    vmidl_vp_run,
    vmidl_device_add,
    vmidl_device_remove,
    vmidl_bar_move,
    vmidl_range_create,
    vmidl_range_destroy,
    vmidl_doorbell_register,
    vmidl_doorbell_unregister,
    vmidl_doorbell_dispatch,
    vmidl_doorbell_dispatch_stop,
};

C_ASSERT(ARRAYSIZE(__wine_unix_call_funcs) == unix_funcs_count);
