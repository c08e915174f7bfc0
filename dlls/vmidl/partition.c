/*
 * The partition host: the VM worker role, in the emulation driver's own
 * process (see include/vmidlhost.h for the contract).  Partition handles
 * are looked up in a table, so that a deleted partition's handle gets
 * E_HANDLE instead of touching freed memory.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vmidl_private.h"
#include "vmidl_names.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

#define VMIDL_MAX_VPS 64

struct handle_entry
{
    UINT64 handle;
    struct partition *partition;
};

/* Never held across a unix call: lookups are all a vCPU thread does here. */
static SRWLOCK handle_lock = SRWLOCK_INIT;
static struct handle_entry *handles;
static unsigned int handle_count, handle_capacity;
static UINT64 next_handle = 0x10000;

void partition_addref(struct partition *partition)
{
    InterlockedIncrement(&partition->refcount);
}

void partition_release(struct partition *partition)
{
    struct vm_params params = {.vm = partition->unix_vm};

    if (InterlockedDecrement(&partition->refcount)) return;
    TRACE("freeing partition %p\n", partition);
    VMIDL_CALL(vm_free, &params);
    if (partition->runtime_id_name) CloseHandle(partition->runtime_id_name);
    free(partition);
}

struct partition *partition_from_handle(VMIDL_PARTITION_HANDLE handle)
{
    struct partition *partition = NULL;
    unsigned int i;

    AcquireSRWLockShared(&handle_lock);
    for (i = 0; i < handle_count; i++)
    {
        if (handles[i].handle != (ULONG_PTR)handle) continue;
        partition = handles[i].partition;
        partition_addref(partition);
        break;
    }
    ReleaseSRWLockShared(&handle_lock);
    if (!partition) WARN("invalid partition handle %p\n", handle);
    return partition;
}

static VMIDL_PARTITION_HANDLE handle_insert(struct partition *partition)
{
    UINT64 handle = 0;

    AcquireSRWLockExclusive(&handle_lock);
    if (handle_count == handle_capacity)
    {
        unsigned int capacity = handle_capacity ? handle_capacity * 2 : 8;
        struct handle_entry *grown = realloc(handles, capacity * sizeof(*grown));

        if (grown)
        {
            handles = grown;
            handle_capacity = capacity;
        }
    }
    if (handle_count < handle_capacity)
    {
        handle = next_handle++;
        handles[handle_count].handle = handle;
        handles[handle_count].partition = partition;
        handle_count++;
    }
    ReleaseSRWLockExclusive(&handle_lock);
    return (VMIDL_PARTITION_HANDLE)(ULONG_PTR)handle;
}

static void handle_remove(VMIDL_PARTITION_HANDLE handle)
{
    unsigned int i;

    AcquireSRWLockExclusive(&handle_lock);
    for (i = 0; i < handle_count; i++)
    {
        if (handles[i].handle != (ULONG_PTR)handle) continue;
        handles[i] = handles[--handle_count];
        break;
    }
    ReleaseSRWLockExclusive(&handle_lock);
}

/* A thread starts and exits under the loader lock (its DLL notifications),
 * so whoever holds that lock must not wait for one. */
BOOL holding_loader_lock(void)
{
    return RtlIsCriticalSectionLockedByThread(NtCurrentTeb()->Peb->LoaderLock);
}

/* The thread keeps vmidl.dll loaded and lets go of it as it exits, so that
 * a partition deleted from DllMain never waits for it. */
static DWORD WINAPI dispatcher_proc(void *arg)
{
    struct partition *partition = arg;
    struct vm_params params = {.vm = partition->unix_vm};
    HMODULE module;
    NTSTATUS status;

    InterlockedExchange(&partition->dispatcher_started, 1);
    RtlWakeAddressAll(&partition->dispatcher_started);
    GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
            (const WCHAR *)dispatcher_proc, &module);
    if ((status = VMIDL_CALL(vm_dispatch, &params))) ERR("doorbell dispatcher failed, status %#lx\n", status);
    partition_release(partition);
    FreeLibraryAndExitThread(module, status);
}

/* A partition comes back with its thread running, and goes with it gone,
 * so that the threads and fds a host counts are settled either side. */
static HRESULT start_dispatcher(struct partition *partition)
{
    static const LONG not_started;
    HMODULE module;

    if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, (const WCHAR *)dispatcher_proc, &module))
        return HRESULT_FROM_WIN32(GetLastError());
    partition_addref(partition);
    if (!(partition->dispatcher = CreateThread(NULL, 0, dispatcher_proc, partition, 0, NULL)))
    {
        HRESULT hr = HRESULT_FROM_WIN32(GetLastError());
        InterlockedDecrement(&partition->refcount);
        FreeLibrary(module);
        return hr;
    }
    if (!holding_loader_lock())
        while (!ReadAcquire(&partition->dispatcher_started))
            RtlWaitOnAddress(&partition->dispatcher_started, &not_started, sizeof(not_started), NULL);
    return S_OK;
}

/* A RuntimeId names one partition in the whole prefix, as it names one VM
 * on Windows: a named object of the prefix reserves it until the partition
 * is deleted (or its process ends). */
static HRESULT reserve_runtime_id(struct partition *partition)
{
    WCHAR name[VMIDL_NAME_LENGTH];

    vmidl_partition_name(name, &partition->runtime_id);
    if (!(partition->runtime_id_name = CreateMutexW(NULL, FALSE, name)))
        return HRESULT_FROM_WIN32(GetLastError());
    if (GetLastError() == ERROR_ALREADY_EXISTS)
    {
        WARN("%s is taken\n", debugstr_w(name));
        CloseHandle(partition->runtime_id_name);
        return HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS);
    }
    return S_OK;
}

HRESULT WINAPI VmidlCreatePartitionEx(REFGUID runtime_id, UINT32 vp_count, UINT32 flags,
        VMIDL_PARTITION_HANDLE *out)
{
    struct vm_create_params params = {.vp_count = vp_count, .flags = flags};
    struct partition *partition;
    NTSTATUS status;
    HRESULT hr;

    TRACE("runtime_id %s, vp_count %u, flags %#x, out %p\n", debugstr_guid(runtime_id), vp_count, flags, out);

    if (!out) return E_INVALIDARG;
    *out = NULL;
    if (!runtime_id || !vp_count || vp_count > VMIDL_MAX_VPS || (flags & ~VMIDL_PARTITION_FLAG_INTERRUPT_CONTROLLER))
        return E_INVALIDARG;

    if (!(partition = calloc(1, sizeof(*partition)))) return E_OUTOFMEMORY;
    partition->runtime_id = *runtime_id;
    InitializeSRWLock(&partition->devices_lock);
    list_init(&partition->devices);
    if (FAILED(hr = reserve_runtime_id(partition)))
    {
        free(partition);
        return hr;
    }
    if ((status = VMIDL_CALL(vm_create, &params)))
    {
        WARN("cannot create a KVM VM, status %#lx\n", status);
        CloseHandle(partition->runtime_id_name);
        free(partition);
        return hresult_from_status(status);
    }
    partition->refcount = 1;
    partition->unix_vm = params.vm;
    partition->vp_count = vp_count;

    if (FAILED(hr = start_dispatcher(partition)))
    {
        partition_release(partition);
        return hr;
    }
    if (!(*out = handle_insert(partition)))
    {
        struct vm_params shutdown = {.vm = partition->unix_vm};
        VMIDL_CALL(vm_shutdown, &shutdown);
        CloseHandle(partition->dispatcher);
        partition_release(partition);
        return E_OUTOFMEMORY;
    }
    TRACE("created partition %p, handle %p\n", partition, *out);
    return S_OK;
}

HRESULT WINAPI VmidlCreatePartition(REFGUID runtime_id, UINT32 vp_count, VMIDL_PARTITION_HANDLE *out)
{
    return VmidlCreatePartitionEx(runtime_id, vp_count, 0, out);
}

HRESULT WINAPI VmidlDeletePartition(VMIDL_PARTITION_HANDLE handle)
{
    struct partition *partition;
    struct vm_params params;
    NTSTATUS status;

    TRACE("partition %p\n", handle);

    if (!handle) return E_INVALIDARG;
    if (!(partition = partition_from_handle(handle))) return E_HANDLE;
    if (InterlockedCompareExchange(&partition->deleting, 1, 0))
    {
        partition_release(partition);
        return E_HANDLE;
    }

    params.vm = partition->unix_vm;
    if ((status = VMIDL_CALL(vm_shutdown, &params)))
    {
        WARN("partition %p: cannot shut down, status %#lx\n", partition, status);
        InterlockedExchange(&partition->deleting, 0);
        partition_release(partition);
        return hresult_from_status(status);
    }
    handle_remove(handle);
    InterlockedExchange(&partition->deleted, 1);
    if (partition->unpublish) partition->unpublish(partition);
    CloseHandle(partition->runtime_id_name);
    partition->runtime_id_name = NULL;
    if (!holding_loader_lock()) WaitForSingleObject(partition->dispatcher, INFINITE);
    CloseHandle(partition->dispatcher);
    partition_release(partition);   /* the handle's */
    partition_release(partition);
    return S_OK;
}

static BOOL ram_args_are_valid(UINT64 gpa, UINT64 size, UINT32 flags)
{
    return !(gpa & PAGE_MASK_4K) && size && !(size & PAGE_MASK_4K) && gpa + size > gpa
            && (flags & VMIDL_MAP_GPA_RANGE_FLAG_READ)
            && !(flags & ~(VMIDL_MAP_GPA_RANGE_FLAG_READ | VMIDL_MAP_GPA_RANGE_FLAG_WRITE));
}

HRESULT WINAPI VmidlMapGpaRange(VMIDL_PARTITION_HANDLE handle, void *host, UINT64 gpa, UINT64 size, UINT32 flags)
{
    struct vm_map_ram_params params =
    {
        .host_address = (ULONG_PTR)host,
        .guest_address = gpa,
        .size = size,
        .writable = !!(flags & VMIDL_MAP_GPA_RANGE_FLAG_WRITE),
    };
    struct partition *partition;
    HRESULT hr;

    TRACE("partition %p, host %p, gpa %#I64x, size %#I64x, flags %#x\n", handle, host, gpa, size, flags);

    if (!handle || !host || ((ULONG_PTR)host & PAGE_MASK_4K) || !ram_args_are_valid(gpa, size, flags))
        return E_INVALIDARG;
    if (!(partition = partition_from_handle(handle))) return E_HANDLE;
    params.vm = partition->unix_vm;
    hr = hresult_from_status(VMIDL_CALL(vm_map_ram, &params));
    partition_release(partition);
    return hr;
}

HRESULT WINAPI VmidlMapGpaSection(VMIDL_PARTITION_HANDLE handle, HANDLE section, UINT64 section_offset,
        UINT64 gpa, UINT64 size, UINT32 flags)
{
    struct vm_map_section_params params =
    {
        .section = (ULONG_PTR)section,
        .section_offset = section_offset,
        .guest_address = gpa,
        .size = size,
        .writable = !!(flags & VMIDL_MAP_GPA_RANGE_FLAG_WRITE),
    };
    struct partition *partition;
    HRESULT hr;

    TRACE("partition %p, section %p, section_offset %#I64x, gpa %#I64x, size %#I64x, flags %#x\n",
            handle, section, section_offset, gpa, size, flags);

    if (!handle || !section || (section_offset & PAGE_MASK_4K) || section_offset + size < section_offset
            || !ram_args_are_valid(gpa, size, flags))
        return E_INVALIDARG;
    if (!(partition = partition_from_handle(handle))) return E_HANDLE;
    params.vm = partition->unix_vm;
    hr = hresult_from_status(VMIDL_CALL(vm_map_section, &params));
    partition_release(partition);
    return hr;
}

HRESULT WINAPI VmidlSetPciConfigWindow(VMIDL_PARTITION_HANDLE handle, UINT64 gpa)
{
    struct vm_pci_window_params params = {.guest_address = gpa};
    struct partition *partition;
    HRESULT hr;

    TRACE("partition %p, gpa %#I64x\n", handle, gpa);

    if (!handle || (gpa & (VMIDL_PCI_CONFIG_WINDOW_SIZE - 1)) || gpa + VMIDL_PCI_CONFIG_WINDOW_SIZE < gpa)
        return E_INVALIDARG;
    if (!(partition = partition_from_handle(handle))) return E_HANDLE;
    params.vm = partition->unix_vm;
    hr = hresult_from_status(VMIDL_CALL(vm_set_pci_window, &params));
    partition_release(partition);
    return hr;
}

/* The device, by instance, with a new reference. */
static HRESULT find_device(VMIDL_PARTITION_HANDLE handle, const GUID *instance_id, struct device **device)
{
    struct partition *partition;

    if (!(partition = partition_from_handle(handle))) return E_HANDLE;
    *device = device_find(partition, instance_id);
    partition_release(partition);
    return *device ? S_OK : HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
}

HRESULT WINAPI VmidlAttachPciDevice(VMIDL_PARTITION_HANDLE handle, REFGUID instance_id,
        const VMIDL_PCI_DEVICE_DESC *desc)
{
    struct device *device;
    HRESULT hr;

    TRACE("partition %p, instance_id %s, desc %p\n", handle, debugstr_guid(instance_id), desc);

    if (!handle || !instance_id || !desc || desc->DeviceNumber >= VMIDL_PCI_DEVICE_COUNT || desc->Reserved
            || desc->ClassCode >> 24 || !desc->ConfigCallback)
        return E_INVALIDARG;
    if (FAILED(hr = find_device(handle, instance_id, &device))) return hr;
    hr = device_attach_pci(device, desc);
    IUnknown_Release(device_unknown(device));
    return hr;
}

HRESULT WINAPI VmidlSetBarAddress(VMIDL_PARTITION_HANDLE handle, REFGUID instance_id, UINT32 bar, UINT64 gpa)
{
    struct device *device;
    HRESULT hr;

    TRACE("partition %p, instance_id %s, bar %u, gpa %#I64x\n", handle, debugstr_guid(instance_id), bar, gpa);

    if (!handle || !instance_id || bar >= VMIDL_BAR_COUNT || (gpa & PAGE_MASK_4K)) return E_INVALIDARG;
    if (FAILED(hr = find_device(handle, instance_id, &device))) return hr;
    hr = device_move_bar(device, bar, gpa);
    IUnknown_Release(device_unknown(device));
    return hr;
}
