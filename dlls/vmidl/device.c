/*
 * The FlexibleIov device object: identity, lifetime and teardown.  Its two
 * fast-path interfaces live in mmio_mappings.c and fast_notification.c.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vmidl_private.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

static inline struct device *impl_from_IVmFiovGuestMmioMappings(IVmFiovGuestMmioMappings *iface)
{
    return CONTAINING_RECORD(iface, struct device, IVmFiovGuestMmioMappings_iface);
}

HRESULT WINAPI device_QueryInterface(IVmFiovGuestMmioMappings *iface, REFIID riid, void **out)
{
    struct device *device = impl_from_IVmFiovGuestMmioMappings(iface);

    TRACE("device %p, riid %s, out %p\n", device, wine_dbgstr_guid(riid), out);

    if (!out) return E_POINTER;
    if (IsEqualIID(riid, &IID_IVmFiovGuestMmioMappings) || IsEqualIID(riid, &IID_IUnknown))
        *out = &device->IVmFiovGuestMmioMappings_iface;
    else if (IsEqualIID(riid, &IID_IVmFiovGuestMemoryFastNotification))
        *out = &device->IVmFiovGuestMemoryFastNotification_iface;
    else
    {
        WARN("%s not implemented\n", wine_dbgstr_guid(riid));
        *out = NULL;
        return E_NOINTERFACE;
    }
    IUnknown_AddRef((IUnknown *)*out);
    return S_OK;
}

ULONG WINAPI device_AddRef(IVmFiovGuestMmioMappings *iface)
{
    struct device *device = impl_from_IVmFiovGuestMmioMappings(iface);
    ULONG refcount = InterlockedIncrement(&device->refcount);

    TRACE("device %p, refcount %lu\n", device, refcount);
    return refcount;
}

/* Teardown: the unix side drops every doorbell (no event is set after it
 * returns) and every range, then the device leaves the partition. */
ULONG WINAPI device_Release(IVmFiovGuestMmioMappings *iface)
{
    struct device *device = impl_from_IVmFiovGuestMmioMappings(iface);
    ULONG refcount = InterlockedDecrement(&device->refcount);
    struct vmidl_partition *partition = device->partition;

    TRACE("device %p, refcount %lu\n", device, refcount);

    if (!refcount)
    {
        struct device_params params = {.device = device->unix_device};

        AcquireSRWLockExclusive(&partition->lock);
        list_remove(&device->entry);
        ReleaseSRWLockExclusive(&partition->lock);
        /* Shared only: removing many doorbells takes a while, and the
         * vCPUs keep routing MMIO meanwhile. */
        partition_unix_call(partition, unix_device_remove, &params.vm);
        partition_release(partition);
        free(device);
    }
    return refcount;
}

/* For lookups by address or instance: a device whose refcount already hit
 * zero is being torn down and must not come back. */
BOOL device_addref_if_alive(struct device *device)
{
    LONG refcount = device->refcount;

    while (refcount)
    {
        LONG old = InterlockedCompareExchange(&device->refcount, refcount + 1, refcount);
        if (old == refcount) return TRUE;
        refcount = old;
    }
    return FALSE;
}

BOOL device_bar_is_valid(const struct device *device, FIOV_BAR_SELECTOR bar)
{
    return bar < VMIDL_BAR_COUNT && device->desc.BarSize[bar];
}

HRESULT device_create(struct vmidl_partition *partition, const VMIDL_FLEXIO_DEVICE_DESC *desc, IUnknown **out)
{
    struct device_add_params params;
    struct device *device;
    HRESULT hr;

    if (!(device = calloc(1, sizeof(*device)))) return E_OUTOFMEMORY;
    device->IVmFiovGuestMmioMappings_iface.lpVtbl = &device_mmio_mappings_vtbl;
    device->IVmFiovGuestMemoryFastNotification_iface.lpVtbl = &device_fast_notification_vtbl;
    device->refcount = 1;
    device->partition = partition;
    device->desc = *desc;

    params.vm = partition->vm;
    memcpy(params.bar_address, desc->BarAddress, sizeof(params.bar_address));
    memcpy(params.bar_size, desc->BarSize, sizeof(params.bar_size));

    AcquireSRWLockExclusive(&partition->lock);
    if (partition->deleted) hr = HRESULT_FROM_WIN32(ERROR_DEVICE_REMOVED);
    else if (partition_find_device(partition, &desc->InstanceId)) hr = HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS);
    else if (SUCCEEDED(hr = hresult_from_status(VMIDL_CALL(device_add, &params))))
    {
        device->unix_device = params.device;
        list_add_tail(&partition->devices, &device->entry);
        InterlockedIncrement(&partition->refcount);
    }
    ReleaseSRWLockExclusive(&partition->lock);

    if (FAILED(hr))
    {
        WARN("cannot add device, hr %#lx\n", hr);
        free(device);
        return hr;
    }
    TRACE("created device %p\n", device);
    *out = (IUnknown *)&device->IVmFiovGuestMmioMappings_iface;
    return S_OK;
}
