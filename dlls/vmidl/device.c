/*
 * The FlexibleIov device object: COM identity and lifetime.  Its two
 * fast-path interfaces live in mmio_mappings.c and fast_notification.c;
 * what it is (BARs, ranges, doorbells) lives in the unix half.
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

/* The unix half unregisters every doorbell (no event is set after this
 * returns), destroys every range, and waits for MMIO callbacks of the
 * device that other threads are in. */
ULONG WINAPI device_Release(IVmFiovGuestMmioMappings *iface)
{
    struct device *device = impl_from_IVmFiovGuestMmioMappings(iface);
    ULONG refcount = InterlockedDecrement(&device->refcount);

    TRACE("device %p, refcount %lu\n", device, refcount);

    if (!refcount)
    {
        struct device_params params = {.vm = device->partition->unix_vm, .device = device->unix_device};

        VMIDL_CALL(device_remove, &params);
        partition_release(device->partition);
        free(device);
    }
    return refcount;
}

HRESULT device_create(struct partition *partition, const VMIDL_FLEXIO_DEVICE_DESC *desc, IUnknown **out)
{
    struct device_create_params create;
    struct device_params add;
    struct device *device;
    HRESULT hr;

    if (!(device = calloc(1, sizeof(*device)))) return E_OUTOFMEMORY;
    device->IVmFiovGuestMmioMappings_iface.lpVtbl = &device_mmio_mappings_vtbl;
    device->IVmFiovGuestMemoryFastNotification_iface.lpVtbl = &device_fast_notification_vtbl;
    device->refcount = 1;

    create.instance_id = desc->InstanceId;
    memcpy(create.bar_address, desc->BarAddress, sizeof(create.bar_address));
    memcpy(create.bar_size, desc->BarSize, sizeof(create.bar_size));
    create.mmio_callback = (ULONG_PTR)desc->MmioCallback;
    create.mmio_context = (ULONG_PTR)desc->MmioCallbackContext;
    create.object = (ULONG_PTR)&device->IVmFiovGuestMmioMappings_iface;
    create.object_refcount = (ULONG_PTR)&device->refcount;
    if (FAILED(hr = hresult_from_status(VMIDL_CALL(device_create, &create))))
    {
        free(device);
        return hr;
    }
    device->unix_device = create.device;
    device->partition = partition;
    partition_addref(partition);

    /* From here on GetDevice finds it. */
    add.vm = partition->unix_vm;
    add.device = device->unix_device;
    if (FAILED(hr = hresult_from_status(VMIDL_CALL(device_add, &add))))
    {
        WARN("cannot add device, hr %#lx\n", hr);
        VMIDL_CALL(device_remove, &add);
        partition_release(partition);
        free(device);
        return hr;
    }
    TRACE("created device %p\n", device);
    *out = (IUnknown *)&device->IVmFiovGuestMmioMappings_iface;
    return S_OK;
}
