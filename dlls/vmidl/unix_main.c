/*
 * Unix-call entry points of vmidl.so, in the order of enum vmidl_funcs.
 * Each one unpacks its params and hands them to the mechanism that owns
 * them.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "unix_private.h"

typedef NTSTATUS (*unixlib_entry_t)(void *args);

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
    NTSTATUS status;

    if (!(status = vm_create(params->vp_count, params->flags, &vm))) params->vm = (uintptr_t)vm;
    return status;
}

static NTSTATUS vmidl_vm_shutdown(void *args)
{
    struct vm_params *params = args;
    return vm_shutdown(get_vm(params->vm));
}

static NTSTATUS vmidl_vm_free(void *args)
{
    struct vm_params *params = args;
    vm_free(get_vm(params->vm));
    return STATUS_SUCCESS;
}

static NTSTATUS vmidl_vm_map_ram(void *args)
{
    struct vm_map_ram_params *params = args;
    return vm_map_ram(get_vm(params->vm), params);
}

static NTSTATUS vmidl_vm_dispatch(void *args)
{
    struct vm_params *params = args;
    return dispatcher_run(&get_vm(params->vm)->dispatcher);
}

static NTSTATUS vmidl_vp_set_registers(void *args)
{
    struct vp_registers_params *params = args;
    return vm_set_registers(get_vm(params->vm), params->vp_index, &params->registers);
}

static NTSTATUS vmidl_vp_get_registers(void *args)
{
    struct vp_registers_params *params = args;
    return vm_get_registers(get_vm(params->vm), params->vp_index, &params->registers);
}

static NTSTATUS vmidl_vp_run(void *args)
{
    struct vp_run_params *params = args;
    return vm_run_vp(get_vm(params->vm), params);
}

static NTSTATUS vmidl_vp_abandon(void *args)
{
    struct vp_params *params = args;
    vm_abandon_vp(get_vm(params->vm), params->vp_index);
    return STATUS_SUCCESS;
}

static NTSTATUS vmidl_vp_cancel(void *args)
{
    struct vp_params *params = args;
    vm_cancel_vp(get_vm(params->vm), params->vp_index);
    return STATUS_SUCCESS;
}

static NTSTATUS vmidl_device_create(void *args)
{
    struct device_create_params *params = args;
    struct device *device;
    NTSTATUS status;

    if (!(status = device_create(params, &device))) params->device = (uintptr_t)device;
    return status;
}

static NTSTATUS vmidl_device_add(void *args)
{
    struct device_params *params = args;
    return vm_add_device(get_vm(params->vm), get_device(params->device));
}

static NTSTATUS vmidl_device_remove(void *args)
{
    struct device_params *params = args;
    vm_remove_device(get_vm(params->vm), get_device(params->device));
    return STATUS_SUCCESS;
}

static NTSTATUS vmidl_bar_move(void *args)
{
    struct bar_move_params *params = args;
    return vm_move_bar(get_vm(params->vm), get_device(params->device), params->bar, params->guest_address, 0);
}

static NTSTATUS vmidl_range_create(void *args)
{
    struct range_create_params *params = args;
    return device_create_range(get_device(params->device), &get_vm(params->vm)->host, params);
}

static NTSTATUS vmidl_range_destroy(void *args)
{
    struct range_destroy_params *params = args;
    return device_destroy_range(get_device(params->device), &get_vm(params->vm)->host, params);
}

static NTSTATUS vmidl_doorbell_register(void *args)
{
    struct doorbell_params *params = args;
    return device_register_doorbell(get_device(params->device), &get_vm(params->vm)->host, params);
}

static NTSTATUS vmidl_doorbell_unregister(void *args)
{
    struct doorbell_params *params = args;
    return device_unregister_doorbell(get_device(params->device), &get_vm(params->vm)->host, params);
}

static NTSTATUS vmidl_device_release_owner(void *args)
{
    struct device_owner_params *params = args;
    device_clear(get_device(params->device), &get_vm(params->vm)->host, params->owner);
    return STATUS_SUCCESS;
}

static NTSTATUS vmidl_vm_map_section(void *args)
{
    struct vm_map_section_params *params = args;
    return vm_map_section(get_vm(params->vm), params);
}

static NTSTATUS vmidl_vm_set_pci_window(void *args)
{
    struct vm_pci_window_params *params = args;
    return vm_set_pci_window(get_vm(params->vm), params->guest_address);
}

static NTSTATUS vmidl_vm_signal_msi(void *args)
{
    struct vm_msi_params *params = args;
    return vm_signal_msi(get_vm(params->vm), params);
}

static NTSTATUS vmidl_vm_guest_memory(void *args)
{
    struct vm_guest_memory_params *params = args;
    return vm_guest_memory(get_vm(params->vm), params);
}

static NTSTATUS vmidl_vm_ram_section(void *args)
{
    struct vm_ram_section_params *params = args;
    return vm_ram_section(get_vm(params->vm), params);
}

static NTSTATUS vmidl_device_attach_pci(void *args)
{
    struct device_pci_params *params = args;
    return vm_attach_pci(get_vm(params->vm), get_device(params->device), params);
}

__attribute__((visibility("default"))) const unixlib_entry_t __wine_unix_call_funcs[] =
{
    vmidl_vm_create,
    vmidl_vm_shutdown,
    vmidl_vm_free,
    vmidl_vm_map_ram,
    vmidl_vm_dispatch,
    vmidl_vp_set_registers,
    vmidl_vp_get_registers,
    vmidl_vp_run,
    vmidl_vp_abandon,
    vmidl_vp_cancel,
    vmidl_device_create,
    vmidl_device_add,
    vmidl_device_remove,
    vmidl_bar_move,
    vmidl_range_create,
    vmidl_range_destroy,
    vmidl_doorbell_register,
    vmidl_doorbell_unregister,
    vmidl_device_release_owner,
    vmidl_vm_map_section,
    vmidl_vm_set_pci_window,
    vmidl_vm_signal_msi,
    vmidl_vm_guest_memory,
    vmidl_vm_ram_section,
    vmidl_device_attach_pci,
};

C_ASSERT(ARRAYSIZE(__wine_unix_call_funcs) == unix_funcs_count);
