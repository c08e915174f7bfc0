/*
 * The partition host: the VM worker role, in the emulation driver's own
 * process (see include/vmidlhost.h for the contract).
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vmidl_private.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

#define VMIDL_MAX_VPS 64
#define PAGE_MASK_4K (FIOV_PAGE_SIZE - 1)

static DWORD WINAPI dispatcher_proc(void *arg)
{
    struct vmidl_partition *partition = arg;
    struct vm_params params = {.vm = partition->vm};
    NTSTATUS status;

    if ((status = VMIDL_CALL(doorbell_dispatch, &params)))
        ERR("doorbell dispatcher failed, status %#lx\n", status);
    return status;
}

void partition_release(struct vmidl_partition *partition)
{
    if (InterlockedDecrement(&partition->refcount)) return;
    TRACE("freeing partition %p\n", partition);
    free(partition);
}

/* The caller holds partition->lock. */
struct device *partition_find_device(struct vmidl_partition *partition, const GUID *instance_id)
{
    struct list *cur;

    LIST_FOR_EACH(cur, &partition->devices)
    {
        struct device *device = LIST_ENTRY(cur, struct device, entry);
        if (device->refcount && IsEqualGUID(&device->desc.InstanceId, instance_id)) return device;
    }
    return NULL;
}

/* Runs a unix call on the partition's VM, holding the partition shared so
 * that it cannot be deleted meanwhile.  params_vm points to the params,
 * which start with the vm handle. */
HRESULT partition_unix_call(struct vmidl_partition *partition, enum vmidl_funcs code, UINT64 *params_vm)
{
    HRESULT hr;

    AcquireSRWLockShared(&partition->lock);
    if (partition->deleted)
    {
        WARN("partition %p was deleted\n", partition);
        hr = HRESULT_FROM_WIN32(ERROR_DEVICE_REMOVED);
    }
    else
    {
        *params_vm = partition->vm;
        hr = hresult_from_status(__wine_unix_call_dispatcher(__wine_unixlib_handle, code, params_vm));
    }
    ReleaseSRWLockShared(&partition->lock);
    return hr;
}

HRESULT WINAPI VmidlCreatePartition(REFGUID runtime_id, UINT32 vp_count, VMIDL_PARTITION_HANDLE *out)
{
    struct vm_create_params params = {.vp_count = vp_count};
    struct vmidl_partition *partition;
    NTSTATUS status;

    TRACE("runtime_id %s, vp_count %u, out %p\n", debugstr_guid(runtime_id), vp_count, out);

    if (!out) return E_INVALIDARG;
    *out = NULL;
    if (!runtime_id || !vp_count || vp_count > VMIDL_MAX_VPS) return E_INVALIDARG;

    if (!(partition = calloc(1, sizeof(*partition)))) return E_OUTOFMEMORY;
    partition->refcount = 1;
    partition->runtime_id = *runtime_id;
    partition->vp_count = vp_count;
    list_init(&partition->devices);
    InitializeSRWLock(&partition->lock);

    if ((status = VMIDL_CALL(vm_create, &params)))
    {
        WARN("cannot create a KVM VM, status %#lx\n", status);
        free(partition);
        return hresult_from_status(status);
    }
    partition->vm = params.vm;

    if (!(partition->dispatcher = CreateThread(NULL, 0, dispatcher_proc, partition, 0, NULL)))
    {
        HRESULT hr = HRESULT_FROM_WIN32(GetLastError());
        struct vm_params destroy = {.vm = partition->vm};
        VMIDL_CALL(vm_destroy, &destroy);
        free(partition);
        return hr;
    }

    TRACE("created partition %p\n", partition);
    *out = (VMIDL_PARTITION_HANDLE)partition;
    return S_OK;
}

HRESULT WINAPI VmidlDeletePartition(VMIDL_PARTITION_HANDLE handle)
{
    struct vmidl_partition *partition = (struct vmidl_partition *)handle;
    struct vm_params params;
    struct list *cur, *next;

    TRACE("partition %p\n", partition);

    if (!partition) return E_INVALIDARG;
    params.vm = partition->vm;

    AcquireSRWLockExclusive(&partition->lock);
    if (partition->deleted || partition->running_vps)
    {
        BOOL deleted = partition->deleted;
        ReleaseSRWLockExclusive(&partition->lock);
        WARN("partition %p is %s\n", partition, deleted ? "already deleted" : "running");
        return deleted ? HRESULT_FROM_WIN32(ERROR_DEVICE_REMOVED) : HRESULT_FROM_WIN32(ERROR_BUSY);
    }
    partition->deleted = TRUE;

    VMIDL_CALL(doorbell_dispatch_stop, &params);
    WaitForSingleObject(partition->dispatcher, INFINITE);
    CloseHandle(partition->dispatcher);

    /* The VM takes the devices' unix state with it; device objects still
     * held find the partition deleted. */
    LIST_FOR_EACH_SAFE(cur, next, &partition->devices)
    {
        list_remove(cur);
        list_init(cur);
    }
    VMIDL_CALL(vm_destroy, &params);
    ReleaseSRWLockExclusive(&partition->lock);

    partition_release(partition);
    return S_OK;
}

HRESULT WINAPI VmidlMapGpaRange(VMIDL_PARTITION_HANDLE handle, void *host, UINT64 gpa, UINT64 size, UINT32 flags)
{
    struct vmidl_partition *partition = (struct vmidl_partition *)handle;
    struct vm_map_ram_params params =
    {
        .host_address = (ULONG_PTR)host,
        .guest_address = gpa,
        .size = size,
        .writable = !!(flags & VMIDL_MAP_GPA_RANGE_FLAG_WRITE),
    };
    TRACE("partition %p, host %p, gpa %#I64x, size %#I64x, flags %#x\n", partition, host, gpa, size, flags);

    if (!partition || !host || ((ULONG_PTR)host & PAGE_MASK_4K) || (gpa & PAGE_MASK_4K)
            || !size || (size & PAGE_MASK_4K) || gpa + size < gpa
            || !(flags & VMIDL_MAP_GPA_RANGE_FLAG_READ)
            || (flags & ~(VMIDL_MAP_GPA_RANGE_FLAG_READ | VMIDL_MAP_GPA_RANGE_FLAG_WRITE)))
        return E_INVALIDARG;
    return partition_unix_call(partition, unix_vm_map_ram, &params.vm);
}

static HRESULT vp_registers_call(struct vmidl_partition *partition, UINT32 vp_index,
        const VMIDL_VP_REGISTERS *registers, BOOL set)
{
    struct vp_registers_params params = {.vp_index = vp_index, .registers = (ULONG_PTR)registers};

    if (!partition || !registers || vp_index >= partition->vp_count) return E_INVALIDARG;
    return partition_unix_call(partition, set ? unix_vp_set_registers : unix_vp_get_registers, &params.vm);
}

HRESULT WINAPI VmidlSetVirtualProcessorRegisters(VMIDL_PARTITION_HANDLE handle, UINT32 vp_index,
        const VMIDL_VP_REGISTERS *registers)
{
    struct vmidl_partition *partition = (struct vmidl_partition *)handle;
    TRACE("partition %p, vp_index %u, registers %p\n", partition, vp_index, registers);
    return vp_registers_call(partition, vp_index, registers, TRUE);
}

HRESULT WINAPI VmidlGetVirtualProcessorRegisters(VMIDL_PARTITION_HANDLE handle, UINT32 vp_index,
        VMIDL_VP_REGISTERS *registers)
{
    struct vmidl_partition *partition = (struct vmidl_partition *)handle;
    TRACE("partition %p, vp_index %u, registers %p\n", partition, vp_index, registers);
    return vp_registers_call(partition, vp_index, registers, FALSE);
}

/* Returns a new reference to the device whose BAR decodes gpa. */
static struct device *partition_device_at(struct vmidl_partition *partition, UINT64 gpa,
        FIOV_BAR_SELECTOR *bar, UINT64 *offset)
{
    struct device *found = NULL;
    struct list *cur;
    unsigned int i;

    AcquireSRWLockShared(&partition->lock);
    LIST_FOR_EACH(cur, &partition->devices)
    {
        struct device *device = LIST_ENTRY(cur, struct device, entry);

        for (i = 0; i < VMIDL_BAR_COUNT; i++)
        {
            if (gpa - device->desc.BarAddress[i] >= device->desc.BarSize[i]) continue;
            if (!device_addref_if_alive(device)) break;
            *bar = i;
            *offset = gpa - device->desc.BarAddress[i];
            found = device;
            goto done;
        }
    }
done:
    ReleaseSRWLockShared(&partition->lock);
    return found;
}

HRESULT WINAPI VmidlRunVirtualProcessor(VMIDL_PARTITION_HANDLE handle, UINT32 vp_index,
        VMIDL_RUN_VP_EXIT_CONTEXT *exit)
{
    struct vmidl_partition *partition = (struct vmidl_partition *)handle;
    struct vp_run_params params = {.vp_index = vp_index, .mmio_read_value = ~0ull};
    HRESULT hr;

    TRACE("partition %p, vp_index %u, exit %p\n", partition, vp_index, exit);

    if (!partition || !exit || vp_index >= partition->vp_count) return E_INVALIDARG;
    AcquireSRWLockShared(&partition->lock);
    if (partition->deleted)
    {
        ReleaseSRWLockShared(&partition->lock);
        return HRESULT_FROM_WIN32(ERROR_DEVICE_REMOVED);
    }
    params.vm = partition->vm;
    InterlockedIncrement(&partition->running_vps);
    ReleaseSRWLockShared(&partition->lock);

    for (;;)
    {
        FIOV_BAR_SELECTOR bar;
        struct device *device;
        UINT64 offset, data;

        if (FAILED(hr = hresult_from_status(VMIDL_CALL(vp_run, &params)))) break;
        params.mmio_read_value = ~0ull;
        if (params.exit.ExitReason != VmidlRunVpExitReasonMemoryAccess) break;
        if (!(device = partition_device_at(partition, params.exit.Address, &bar, &offset))) break;

        data = params.exit.IsWrite ? params.exit.Data : 0;
        hr = device->desc.MmioCallback(device->desc.MmioCallbackContext, bar, offset,
                params.exit.AccessSize, params.exit.IsWrite, &data);
        IVmFiovGuestMmioMappings_Release(&device->IVmFiovGuestMmioMappings_iface);
        if (FAILED(hr))
        {
            WARN("MMIO callback failed, hr %#lx\n", hr);
            break;
        }
        if (!params.exit.IsWrite) params.mmio_read_value = data;
    }

    InterlockedDecrement(&partition->running_vps);
    *exit = params.exit;
    return hr;
}

static BOOL device_desc_is_valid(const VMIDL_FLEXIO_DEVICE_DESC *desc)
{
    unsigned int i;

    if (!desc->MmioCallback) return FALSE;
    for (i = 0; i < VMIDL_BAR_COUNT; i++)
    {
        if (!desc->BarSize[i]) continue;
        if ((desc->BarSize[i] & PAGE_MASK_4K) || (desc->BarAddress[i] & PAGE_MASK_4K)
                || desc->BarAddress[i] + desc->BarSize[i] < desc->BarAddress[i])
            return FALSE;
    }
    return TRUE;
}

HRESULT WINAPI VmidlAddFlexIoDevice(VMIDL_PARTITION_HANDLE handle, const VMIDL_FLEXIO_DEVICE_DESC *desc,
        IUnknown **out)
{
    struct vmidl_partition *partition = (struct vmidl_partition *)handle;
    TRACE("partition %p, desc %p, out %p\n", partition, desc, out);

    if (!out) return E_INVALIDARG;
    *out = NULL;
    if (!partition || !desc || !device_desc_is_valid(desc)) return E_INVALIDARG;
    return device_create(partition, desc, out);
}

HRESULT WINAPI VmidlSetBarAddress(VMIDL_PARTITION_HANDLE handle, REFGUID instance_id,
        UINT32 bar, UINT64 gpa)
{
    struct vmidl_partition *partition = (struct vmidl_partition *)handle;
    struct bar_move_params params = {.bar = bar, .guest_address = gpa};
    struct device *device;
    HRESULT hr;

    TRACE("partition %p, instance_id %s, bar %u, gpa %#I64x\n", partition, debugstr_guid(instance_id), bar, gpa);

    if (!partition || !instance_id || bar >= VMIDL_BAR_COUNT || (gpa & PAGE_MASK_4K)) return E_INVALIDARG;

    AcquireSRWLockExclusive(&partition->lock);
    if (partition->deleted) hr = HRESULT_FROM_WIN32(ERROR_DEVICE_REMOVED);
    else if (!(device = partition_find_device(partition, instance_id))) hr = HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
    else if (!device->desc.BarSize[bar] || gpa + device->desc.BarSize[bar] < gpa) hr = E_INVALIDARG;
    else
    {
        params.vm = partition->vm;
        params.device = device->unix_device;
        if (SUCCEEDED(hr = hresult_from_status(VMIDL_CALL(bar_move, &params))))
            device->desc.BarAddress[bar] = gpa;
    }
    ReleaseSRWLockExclusive(&partition->lock);
    return hr;
}

HRESULT WINAPI VmidlGetVirtualDeviceAccess(VMIDL_PARTITION_HANDLE handle, IVmVirtualDeviceAccess **out)
{
    struct vmidl_partition *partition = (struct vmidl_partition *)handle;
    TRACE("partition %p, out %p\n", partition, out);

    if (!out) return E_INVALIDARG;
    *out = NULL;
    if (!partition) return E_INVALIDARG;
    return device_access_create(partition, out);
}
