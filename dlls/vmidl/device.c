/*
 * The FlexibleIov device object: COM identity and lifetime, and its two
 * fast-path interfaces.  What the device is (BARs, ranges, doorbells)
 * lives in the unix half; the methods check their arguments, hand them
 * over and return what it says.  What each method answers, and when, is
 * the SDK's: include/vmfiov.idl.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vmidl_private.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

#define FIOV_MMIO_MAPPING_FLAGS (FiovMmioMappingFlagWriteable | FiovMmioMappingFlagExecutable)
#define MAX_PAGES ((UINT64)MAXLONGLONG / FIOV_PAGE_SIZE)

struct device
{
    IVmFiovGuestMmioMappings IVmFiovGuestMmioMappings_iface;
    IVmFiovGuestMemoryFastNotification IVmFiovGuestMemoryFastNotification_iface;
    IVmidlDeviceServices IVmidlDeviceServices_iface;
    LONG refcount;
    struct list entry;          /* partition->devices */
    GUID instance_id;
    struct partition *partition;
    UINT64 unix_device;
};

static inline struct device *impl_from_IVmFiovGuestMmioMappings(IVmFiovGuestMmioMappings *iface)
{
    return CONTAINING_RECORD(iface, struct device, IVmFiovGuestMmioMappings_iface);
}

static HRESULT WINAPI device_QueryInterface(IVmFiovGuestMmioMappings *iface, REFIID riid, void **out)
{
    struct device *device = impl_from_IVmFiovGuestMmioMappings(iface);

    TRACE("device %p, riid %s, out %p\n", device, wine_dbgstr_guid(riid), out);

    if (!out) return E_POINTER;
    if (IsEqualIID(riid, &IID_IVmFiovGuestMmioMappings) || IsEqualIID(riid, &IID_IUnknown))
        *out = &device->IVmFiovGuestMmioMappings_iface;
    else if (IsEqualIID(riid, &IID_IVmFiovGuestMemoryFastNotification))
        *out = &device->IVmFiovGuestMemoryFastNotification_iface;
    else if (IsEqualIID(riid, &IID_IVmidlDeviceServices))
        *out = &device->IVmidlDeviceServices_iface;
    else
    {
        WARN("%s not implemented\n", wine_dbgstr_guid(riid));
        *out = NULL;
        return E_NOINTERFACE;
    }
    IUnknown_AddRef((IUnknown *)*out);
    return S_OK;
}

static ULONG WINAPI device_AddRef(IVmFiovGuestMmioMappings *iface)
{
    struct device *device = impl_from_IVmFiovGuestMmioMappings(iface);
    ULONG refcount = InterlockedIncrement(&device->refcount);

    TRACE("device %p, refcount %lu\n", device, refcount);
    return refcount;
}

/* Once GetDevice cannot find it any more, the unix half silences every
 * doorbell (no event is set after this returns) and takes the device's
 * ranges and doorbells out of the guest: here, or, while a vCPU is in the
 * device's MMIO callback, on the partition's dispatcher thread once the
 * callback has returned. */
static ULONG WINAPI device_Release(IVmFiovGuestMmioMappings *iface)
{
    struct device *device = impl_from_IVmFiovGuestMmioMappings(iface);
    ULONG refcount = InterlockedDecrement(&device->refcount);

    TRACE("device %p, refcount %lu\n", device, refcount);

    if (!refcount)
    {
        struct device_params params = {.vm = device->partition->unix_vm, .device = device->unix_device};

        AcquireSRWLockExclusive(&device->partition->devices_lock);
        list_remove(&device->entry);
        ReleaseSRWLockExclusive(&device->partition->devices_lock);
        VMIDL_CALL(device_remove, &params);
        partition_release(device->partition);
        free(device);
    }
    return refcount;
}

/* A device whose last reference is being released is still listed, until
 * its Release takes it out: it does not come back. */
struct device *device_find(struct partition *partition, const GUID *instance_id)
{
    struct device *device, *found = NULL;

    AcquireSRWLockShared(&partition->devices_lock);
    LIST_FOR_EACH_ENTRY(device, &partition->devices, struct device, entry)
    {
        if (!IsEqualGUID(&device->instance_id, instance_id) || !addref_if_alive(&device->refcount)) continue;
        found = device;
        break;
    }
    ReleaseSRWLockShared(&partition->devices_lock);
    return found;
}

IUnknown *device_unknown(struct device *device)
{
    return (IUnknown *)&device->IVmFiovGuestMmioMappings_iface;
}

HRESULT device_move_bar(struct device *device, UINT32 bar, UINT64 gpa)
{
    struct bar_move_params params = {.vm = device->partition->unix_vm, .device = device->unix_device, .bar = bar,
            .guest_address = gpa};

    return hresult_from_status(VMIDL_CALL(bar_move, &params));
}

HRESULT device_create_range(struct device *device, UINT64 owner, FIOV_BAR_SELECTOR bar, ULONG64 bar_offset_pages,
        UINT64 page_count, FiovMmioMappingFlags flags, HANDLE process, UINT64 section, UINT64 section_offset_pages)
{
    struct range_create_params params;

    if (!page_count || bar_offset_pages > MAX_PAGES || page_count > MAX_PAGES - bar_offset_pages
            || section_offset_pages > MAX_PAGES || page_count > MAX_PAGES - section_offset_pages
            || (flags & ~FIOV_MMIO_MAPPING_FLAGS))
    {
        WARN("invalid arguments\n");
        return E_INVALIDARG;
    }

    params.vm = device->partition->unix_vm;
    params.device = device->unix_device;
    params.owner = owner;
    params.bar = bar;
    params.writable = !!(flags & FiovMmioMappingFlagWriteable);
    params.bar_offset = bar_offset_pages * FIOV_PAGE_SIZE;
    params.size = page_count * FIOV_PAGE_SIZE;
    params.section = section;
    params.handle_process = (ULONG_PTR)process;
    params.section_offset = section_offset_pages * FIOV_PAGE_SIZE;
    return hresult_from_status(VMIDL_CALL(range_create, &params));
}

HRESULT device_destroy_range(struct device *device, UINT64 owner, FIOV_BAR_SELECTOR bar, ULONG64 bar_offset_pages)
{
    struct range_destroy_params params;

    if (bar_offset_pages > MAX_PAGES)
    {
        WARN("invalid arguments\n");
        return E_INVALIDARG;
    }
    params.vm = device->partition->unix_vm;
    params.device = device->unix_device;
    params.owner = owner;
    params.bar = bar;
    params.bar_offset = bar_offset_pages * FIOV_PAGE_SIZE;
    return hresult_from_status(VMIDL_CALL(range_destroy, &params));
}

static HRESULT WINAPI mmio_mappings_CreateSectionBackedMmioRange(IVmFiovGuestMmioMappings *iface,
        FIOV_BAR_SELECTOR bar, ULONG64 bar_offset_pages, UINT64 page_count, FiovMmioMappingFlags flags,
        HANDLE section, UINT64 section_offset_pages)
{
    struct device *device = impl_from_IVmFiovGuestMmioMappings(iface);

    TRACE("device %p, bar %u, bar_offset_pages %#I64x, page_count %#I64x, flags %#x, section %p, "
            "section_offset_pages %#I64x\n", device, bar, bar_offset_pages, page_count, flags, section,
            section_offset_pages);
    return device_create_range(device, 0, bar, bar_offset_pages, page_count, flags, GetCurrentProcess(),
            (ULONG_PTR)section, section_offset_pages);
}

static HRESULT WINAPI mmio_mappings_DestroySectionBackedMmioRange(IVmFiovGuestMmioMappings *iface,
        FIOV_BAR_SELECTOR bar, ULONG64 bar_offset_pages)
{
    struct device *device = impl_from_IVmFiovGuestMmioMappings(iface);

    TRACE("device %p, bar %u, bar_offset_pages %#I64x\n", device, bar, bar_offset_pages);
    return device_destroy_range(device, 0, bar, bar_offset_pages);
}

static const IVmFiovGuestMmioMappingsVtbl device_mmio_mappings_vtbl =
{
    device_QueryInterface,
    device_AddRef,
    device_Release,
    mmio_mappings_CreateSectionBackedMmioRange,
    mmio_mappings_DestroySectionBackedMmioRange,
};

static inline struct device *impl_from_IVmFiovGuestMemoryFastNotification(IVmFiovGuestMemoryFastNotification *iface)
{
    return CONTAINING_RECORD(iface, struct device, IVmFiovGuestMemoryFastNotification_iface);
}

static HRESULT WINAPI fast_notification_QueryInterface(IVmFiovGuestMemoryFastNotification *iface,
        REFIID riid, void **out)
{
    struct device *device = impl_from_IVmFiovGuestMemoryFastNotification(iface);
    return IVmFiovGuestMmioMappings_QueryInterface(&device->IVmFiovGuestMmioMappings_iface, riid, out);
}

static ULONG WINAPI fast_notification_AddRef(IVmFiovGuestMemoryFastNotification *iface)
{
    struct device *device = impl_from_IVmFiovGuestMemoryFastNotification(iface);
    return IVmFiovGuestMmioMappings_AddRef(&device->IVmFiovGuestMmioMappings_iface);
}

static ULONG WINAPI fast_notification_Release(IVmFiovGuestMemoryFastNotification *iface)
{
    struct device *device = impl_from_IVmFiovGuestMemoryFastNotification(iface);
    return IVmFiovGuestMmioMappings_Release(&device->IVmFiovGuestMmioMappings_iface);
}

/* Fills params from the COM arguments; the unix half checks them against
 * the BAR. */
static BOOL doorbell_params_init(const struct device *device, FIOV_BAR_SELECTOR bar, UINT64 offset,
        UINT64 value, UINT64 flags, struct doorbell_params *params)
{
    static const UINT32 lengths[] = {0, 1, 2, 4, 8};
    UINT64 size_code = flags & FIOV_DOORBELL_FLAG_TRIGGER_SIZE_MASK;
    UINT32 length;

    if (flags & ~(UINT64)(FIOV_DOORBELL_FLAG_TRIGGER_SIZE_MASK | FIOV_DOORBELL_FLAG_TRIGGER_ANY_VALUE)) return FALSE;
    if (size_code >= ARRAY_SIZE(lengths)) return FALSE;
    length = lengths[size_code];
    if ((offset & (FIOV_PAGE_SIZE - 1)) + max(length, 1) > FIOV_PAGE_SIZE) return FALSE;

    params->any_value = !!(flags & FIOV_DOORBELL_FLAG_TRIGGER_ANY_VALUE);
    if (!params->any_value && (!length || (length < 8 && value >> (length * 8)))) return FALSE;

    params->vm = device->partition->unix_vm;
    params->device = device->unix_device;
    params->bar = bar;
    params->length = length;
    params->bar_offset = offset;
    params->value = params->any_value ? 0 : value;
    params->owner = 0;
    params->event = 0;
    params->handle_process = 0;
    return TRUE;
}

HRESULT device_register_doorbell(struct device *device, UINT64 owner, FIOV_BAR_SELECTOR bar, UINT64 offset,
        UINT64 value, UINT64 flags, HANDLE process, UINT64 event)
{
    struct doorbell_params params;

    if (!doorbell_params_init(device, bar, offset, value, flags, &params) || !event)
    {
        WARN("invalid arguments\n");
        return E_INVALIDARG;
    }
    params.owner = owner;
    params.event = event;
    params.handle_process = (ULONG_PTR)process;
    return hresult_from_status(VMIDL_CALL(doorbell_register, &params));
}

HRESULT device_unregister_doorbell(struct device *device, UINT64 owner, FIOV_BAR_SELECTOR bar, UINT64 offset,
        UINT64 value, UINT64 flags)
{
    struct doorbell_params params;

    if (!doorbell_params_init(device, bar, offset, value, flags, &params))
    {
        WARN("invalid arguments\n");
        return E_INVALIDARG;
    }
    params.owner = owner;
    return hresult_from_status(VMIDL_CALL(doorbell_unregister, &params));
}

void device_release_owner(struct device *device, UINT64 owner)
{
    struct device_owner_params params = {.vm = device->partition->unix_vm, .device = device->unix_device, .owner = owner};

    TRACE("device %p, owner %#I64x\n", device, owner);
    VMIDL_CALL(device_release_owner, &params);
}

static HRESULT WINAPI fast_notification_RegisterDoorbell(IVmFiovGuestMemoryFastNotification *iface,
        FIOV_BAR_SELECTOR bar, UINT64 offset, UINT64 value, UINT64 flags, HANDLE event)
{
    struct device *device = impl_from_IVmFiovGuestMemoryFastNotification(iface);

    TRACE("device %p, bar %u, offset %#I64x, value %#I64x, flags %#I64x, event %p\n",
            device, bar, offset, value, flags, event);
    return device_register_doorbell(device, 0, bar, offset, value, flags, GetCurrentProcess(), (ULONG_PTR)event);
}

static HRESULT WINAPI fast_notification_UnregisterDoorbell(IVmFiovGuestMemoryFastNotification *iface,
        FIOV_BAR_SELECTOR bar, UINT64 offset, UINT64 value, UINT64 flags)
{
    struct device *device = impl_from_IVmFiovGuestMemoryFastNotification(iface);

    TRACE("device %p, bar %u, offset %#I64x, value %#I64x, flags %#I64x\n", device, bar, offset, value, flags);
    return device_unregister_doorbell(device, 0, bar, offset, value, flags);
}

static const IVmFiovGuestMemoryFastNotificationVtbl device_fast_notification_vtbl =
{
    fast_notification_QueryInterface,
    fast_notification_AddRef,
    fast_notification_Release,
    fast_notification_RegisterDoorbell,
    fast_notification_UnregisterDoorbell,
};

HRESULT device_attach_pci(struct device *device, const VMIDL_PCI_DEVICE_DESC *desc)
{
    struct device_pci_params params =
    {
        .vm = device->partition->unix_vm,
        .device = device->unix_device,
        .device_number = desc->DeviceNumber,
        .vendor_id = desc->VendorId,
        .device_id = desc->DeviceId,
        .subsystem_vendor_id = desc->SubsystemVendorId,
        .subsystem_id = desc->SubsystemId,
        .class_code = desc->ClassCode,
        .revision_id = desc->RevisionId,
        .has_capabilities = !!desc->HasCapabilities,
        .config_callback = (ULONG_PTR)desc->ConfigCallback,
        .config_context = (ULONG_PTR)desc->ConfigCallbackContext,
    };

    return hresult_from_status(VMIDL_CALL(device_attach_pci, &params));
}

/* What MSI data and address a device may write: see VmidlDeliverMsi. */
static BOOL msi_is_valid(UINT64 address, UINT32 data)
{
    if ((address & ~(UINT64)0xfffff) != 0xfee00000) return FALSE;
    if (data >> 16 || (data & 0x8000) || (data & 0xff) < 16) return FALSE;
    return ((data >> 8) & 7) <= 1;
}

HRESULT device_deliver_msi(struct device *device, UINT64 address, UINT32 data)
{
    struct vm_msi_params params = {.vm = device->partition->unix_vm, .address = address, .data = data};

    if (!msi_is_valid(address, data))
    {
        WARN("invalid MSI: address %#I64x, data %#x\n", address, data);
        return E_INVALIDARG;
    }
    return hresult_from_status(VMIDL_CALL(vm_signal_msi, &params));
}

HRESULT device_guest_memory(struct device *device, UINT64 gpa, void *buffer, UINT32 size, BOOL write)
{
    struct vm_guest_memory_params params = {.vm = device->partition->unix_vm, .guest_address = gpa,
            .buffer = (ULONG_PTR)buffer, .size = size, .write = write};

    if (!buffer || !size || gpa + size < gpa) return E_INVALIDARG;
    return hresult_from_status(VMIDL_CALL(vm_guest_memory, &params));
}

HRESULT device_share_guest_memory(struct device *device, HANDLE process, UINT64 gpa, UINT64 size, BOOL writable,
        ULONG64 *section, UINT64 *section_offset)
{
    struct vm_ram_section_params params = {.vm = device->partition->unix_vm, .guest_address = gpa, .size = size,
            .writable = !!writable};
    HANDLE shared;
    HRESULT hr;

    if (!section || !section_offset) return E_INVALIDARG;
    *section = *section_offset = 0;
    if (!size || (gpa & PAGE_MASK_4K) || (size & PAGE_MASK_4K) || gpa + size < gpa) return E_INVALIDARG;
    if (FAILED(hr = hresult_from_status(VMIDL_CALL(vm_ram_section, &params)))) return hr;
    if (!DuplicateHandle(GetCurrentProcess(), (HANDLE)(ULONG_PTR)params.section, process, &shared, 0, FALSE,
            DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE))
        return HRESULT_FROM_WIN32(GetLastError());
    *section = (ULONG_PTR)shared;
    *section_offset = params.section_offset;
    return S_OK;
}

static inline struct device *impl_from_IVmidlDeviceServices(IVmidlDeviceServices *iface)
{
    return CONTAINING_RECORD(iface, struct device, IVmidlDeviceServices_iface);
}

static HRESULT WINAPI services_QueryInterface(IVmidlDeviceServices *iface, REFIID riid, void **out)
{
    struct device *device = impl_from_IVmidlDeviceServices(iface);
    return IVmFiovGuestMmioMappings_QueryInterface(&device->IVmFiovGuestMmioMappings_iface, riid, out);
}

static ULONG WINAPI services_AddRef(IVmidlDeviceServices *iface)
{
    struct device *device = impl_from_IVmidlDeviceServices(iface);
    return IVmFiovGuestMmioMappings_AddRef(&device->IVmFiovGuestMmioMappings_iface);
}

static ULONG WINAPI services_Release(IVmidlDeviceServices *iface)
{
    struct device *device = impl_from_IVmidlDeviceServices(iface);
    return IVmFiovGuestMmioMappings_Release(&device->IVmFiovGuestMmioMappings_iface);
}

static HRESULT WINAPI services_DeliverMsi(IVmidlDeviceServices *iface, UINT64 address, UINT32 data)
{
    struct device *device = impl_from_IVmidlDeviceServices(iface);

    TRACE("device %p, address %#I64x, data %#x\n", device, address, data);
    return device_deliver_msi(device, address, data);
}

static HRESULT WINAPI services_ReadGuestMemory(IVmidlDeviceServices *iface, UINT64 gpa, UINT32 size, BYTE *buffer)
{
    struct device *device = impl_from_IVmidlDeviceServices(iface);

    TRACE("device %p, gpa %#I64x, size %#x, buffer %p\n", device, gpa, size, buffer);
    return device_guest_memory(device, gpa, buffer, size, FALSE);
}

static HRESULT WINAPI services_WriteGuestMemory(IVmidlDeviceServices *iface, UINT64 gpa, UINT32 size,
        const BYTE *buffer)
{
    struct device *device = impl_from_IVmidlDeviceServices(iface);

    TRACE("device %p, gpa %#I64x, size %#x, buffer %p\n", device, gpa, size, buffer);
    return device_guest_memory(device, gpa, (void *)buffer, size, TRUE);
}

static HRESULT WINAPI services_ShareGuestMemory(IVmidlDeviceServices *iface, UINT64 gpa, UINT64 size,
        BOOL writable, ULONG64 *section, UINT64 *section_offset)
{
    struct device *device = impl_from_IVmidlDeviceServices(iface);

    TRACE("device %p, gpa %#I64x, size %#I64x, writable %d\n", device, gpa, size, writable);
    return device_share_guest_memory(device, GetCurrentProcess(), gpa, size, writable, section, section_offset);
}

static const IVmidlDeviceServicesVtbl device_services_vtbl =
{
    services_QueryInterface,
    services_AddRef,
    services_Release,
    services_DeliverMsi,
    services_ReadGuestMemory,
    services_WriteGuestMemory,
    services_ShareGuestMemory,
};

/* Under the partition's devices lock, so that no second device of that
 * instance is added meanwhile. */
static BOOL instance_is_taken(struct partition *partition, const GUID *instance_id)
{
    struct device *device;

    LIST_FOR_EACH_ENTRY(device, &partition->devices, struct device, entry)
        if (IsEqualGUID(&device->instance_id, instance_id) && ReadNoFence(&device->refcount)) return TRUE;
    return FALSE;
}

static HRESULT device_create(struct partition *partition, const VMIDL_FLEXIO_DEVICE_DESC *desc, IUnknown **out)
{
    struct device_create_params create;
    struct device_params add;
    struct device *device;
    HRESULT hr;

    if (!(device = calloc(1, sizeof(*device)))) return E_OUTOFMEMORY;
    device->IVmFiovGuestMmioMappings_iface.lpVtbl = &device_mmio_mappings_vtbl;
    device->IVmFiovGuestMemoryFastNotification_iface.lpVtbl = &device_fast_notification_vtbl;
    device->IVmidlDeviceServices_iface.lpVtbl = &device_services_vtbl;
    device->refcount = 1;
    device->instance_id = desc->InstanceId;

    memcpy(create.bar_address, desc->BarAddress, sizeof(create.bar_address));
    memcpy(create.bar_size, desc->BarSize, sizeof(create.bar_size));
    create.mmio_callback = (ULONG_PTR)desc->MmioCallback;
    create.mmio_context = (ULONG_PTR)desc->MmioCallbackContext;
    if (FAILED(hr = hresult_from_status(VMIDL_CALL(device_create, &create))))
    {
        free(device);
        return hr;
    }
    device->unix_device = create.device;
    device->partition = partition;
    add.vm = partition->unix_vm;
    add.device = device->unix_device;

    /* From the moment it is listed, GetDevice finds it. */
    AcquireSRWLockExclusive(&partition->devices_lock);
    if (instance_is_taken(partition, &desc->InstanceId)) hr = HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS);
    else if (SUCCEEDED(hr = hresult_from_status(VMIDL_CALL(device_add, &add))))
        list_add_tail(&partition->devices, &device->entry);
    ReleaseSRWLockExclusive(&partition->devices_lock);
    if (FAILED(hr))
    {
        WARN("cannot add device, hr %#lx\n", hr);
        VMIDL_CALL(device_remove, &add);
        free(device);
        return hr;
    }
    partition_addref(partition);
    TRACE("created device %p\n", device);
    *out = (IUnknown *)&device->IVmFiovGuestMmioMappings_iface;
    return S_OK;
}

/* The device behind a COM pointer, if it is one of vmidl's devices. */
struct device *device_from_unknown(IUnknown *unknown)
{
    IVmFiovGuestMmioMappings *mappings;
    struct device *device = NULL;

    if (SUCCEEDED(IUnknown_QueryInterface(unknown, &IID_IVmFiovGuestMmioMappings, (void **)&mappings)))
    {
        if (mappings->lpVtbl == &device_mmio_mappings_vtbl) device = impl_from_IVmFiovGuestMmioMappings(mappings);
        IVmFiovGuestMmioMappings_Release(mappings);
    }
    return device;
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
    struct partition *partition;
    HRESULT hr;

    TRACE("partition %p, desc %p, out %p\n", handle, desc, out);

    if (!out) return E_INVALIDARG;
    *out = NULL;
    if (!handle || !desc || !device_desc_is_valid(desc)) return E_INVALIDARG;
    if (!(partition = partition_from_handle(handle))) return E_HANDLE;
    hr = device_create(partition, desc, out);
    partition_release(partition);
    return hr;
}
