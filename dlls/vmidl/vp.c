/*
 * Virtual processors of the partition host: registers, runs and cancels.
 * A run hands every access to a device BAR that no fast path consumed to
 * the device's MMIO callback, and every access to the device's part of
 * its PCI config space to its config callback, on the running thread,
 * and goes on.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vmidl_private.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

/* A new reference to the partition, if the handle is live and has the VP. */
static HRESULT get_vp(VMIDL_PARTITION_HANDLE handle, UINT32 vp_index, struct partition **ret)
{
    struct partition *partition;

    if (!handle) return E_INVALIDARG;
    if (!(partition = partition_from_handle(handle))) return E_HANDLE;
    if (vp_index >= partition->vp_count)
    {
        partition_release(partition);
        return E_INVALIDARG;
    }
    *ret = partition;
    return S_OK;
}

HRESULT WINAPI VmidlSetVirtualProcessorRegisters(VMIDL_PARTITION_HANDLE handle, UINT32 vp_index,
        const VMIDL_VP_REGISTERS *registers)
{
    struct vp_registers_params params = {.vp_index = vp_index};
    struct partition *partition;
    HRESULT hr;

    TRACE("partition %p, vp_index %u, registers %p\n", handle, vp_index, registers);

    if (!registers) return E_INVALIDARG;
    if (FAILED(hr = get_vp(handle, vp_index, &partition))) return hr;
    params.vm = partition->unix_vm;
    params.registers = *registers;
    hr = hresult_from_status(VMIDL_CALL(vp_set_registers, &params));
    partition_release(partition);
    return hr;
}

HRESULT WINAPI VmidlGetVirtualProcessorRegisters(VMIDL_PARTITION_HANDLE handle, UINT32 vp_index,
        VMIDL_VP_REGISTERS *registers)
{
    struct vp_registers_params params = {.vp_index = vp_index};
    struct partition *partition;
    HRESULT hr;

    TRACE("partition %p, vp_index %u, registers %p\n", handle, vp_index, registers);

    if (!registers) return E_INVALIDARG;
    if (FAILED(hr = get_vp(handle, vp_index, &partition))) return hr;
    params.vm = partition->unix_vm;
    if (SUCCEEDED(hr = hresult_from_status(VMIDL_CALL(vp_get_registers, &params)))) *registers = params.registers;
    partition_release(partition);
    return hr;
}

/* The device's part of its config space: what its callback says, in the
 * bytes of the access. */
static HRESULT config_access(const struct vp_run_params *params, UINT64 *data)
{
    VMIDL_PCI_CONFIG_CALLBACK callback = (VMIDL_PCI_CONFIG_CALLBACK)(ULONG_PTR)params->mmio_callback;
    UINT32 value = *data;
    HRESULT hr;

    hr = callback((void *)(ULONG_PTR)params->mmio_context, params->bar_offset, params->exit.AccessSize,
            params->exit.IsWrite, &value);
    *data = params->exit.AccessSize == 4 ? value : value & ((1u << params->exit.AccessSize * 8) - 1);
    return hr;
}

HRESULT WINAPI VmidlRunVirtualProcessor(VMIDL_PARTITION_HANDLE handle, UINT32 vp_index,
        VMIDL_RUN_VP_EXIT_CONTEXT *exit)
{
    struct vp_run_params params = {.vp_index = vp_index};
    struct partition *partition;
    HRESULT hr;

    TRACE("partition %p, vp_index %u, exit %p\n", handle, vp_index, exit);

    if (!exit) return E_INVALIDARG;
    if (FAILED(hr = get_vp(handle, vp_index, &partition))) return hr;
    params.vm = partition->unix_vm;

    for (;;)
    {
        VMIDL_MMIO_CALLBACK callback;
        UINT64 data;

        if (FAILED(hr = hresult_from_status(VMIDL_CALL(vp_run, &params))) || !params.mmio_callback) break;

        data = params.exit.IsWrite ? params.exit.Data : 0;
        if (params.config) hr = config_access(&params, &data);
        else
        {
            callback = (VMIDL_MMIO_CALLBACK)(ULONG_PTR)params.mmio_callback;
            hr = callback((void *)(ULONG_PTR)params.mmio_context, params.bar, params.bar_offset,
                    params.exit.AccessSize, params.exit.IsWrite, &data);
        }
        if (FAILED(hr))
        {
            struct vp_params abandon = {.vm = params.vm, .vp_index = vp_index};

            WARN("%s callback failed, hr %#lx\n", params.config ? "config" : "MMIO", hr);
            VMIDL_CALL(vp_abandon, &abandon);
            break;
        }
        params.resume = TRUE;
        params.mmio_read_value = data;
    }

    *exit = params.exit;
    partition_release(partition);
    return hr;
}

HRESULT WINAPI VmidlCancelRunVirtualProcessor(VMIDL_PARTITION_HANDLE handle, UINT32 vp_index, UINT32 flags)
{
    struct vp_params params = {.vp_index = vp_index};
    struct partition *partition;
    HRESULT hr;

    TRACE("partition %p, vp_index %u, flags %#x\n", handle, vp_index, flags);

    if (flags) return E_INVALIDARG;
    if (FAILED(hr = get_vp(handle, vp_index, &partition))) return hr;
    params.vm = partition->unix_vm;
    VMIDL_CALL(vp_cancel, &params);
    partition_release(partition);
    return S_OK;
}
