/*
 * IVmVirtualDeviceAccess: how an emulation driver finds its device, as
 * handed out by GetVmWorkerProcess() on Windows.
 *
 * GetDevice errors: E_POINTER for a NULL Device; E_INVALIDARG for NULL
 * GUIDs or a category other than FLEXIO_DEVICE_ID (the only kind of device
 * vmidl hosts); HRESULT_FROM_WIN32(ERROR_NOT_FOUND) for an unknown instance;
 * HRESULT_FROM_WIN32(ERROR_DEVICE_REMOVED) once the partition is deleted.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vmidl_private.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

struct device_access
{
    IVmVirtualDeviceAccess IVmVirtualDeviceAccess_iface;
    LONG refcount;
    struct partition *partition;
};

static inline struct device_access *impl_from_IVmVirtualDeviceAccess(IVmVirtualDeviceAccess *iface)
{
    return CONTAINING_RECORD(iface, struct device_access, IVmVirtualDeviceAccess_iface);
}

static HRESULT WINAPI device_access_QueryInterface(IVmVirtualDeviceAccess *iface, REFIID riid, void **out)
{
    struct device_access *access = impl_from_IVmVirtualDeviceAccess(iface);

    TRACE("access %p, riid %s, out %p\n", access, wine_dbgstr_guid(riid), out);

    if (!out) return E_POINTER;
    if (IsEqualIID(riid, &IID_IVmVirtualDeviceAccess) || IsEqualIID(riid, &IID_IUnknown))
    {
        *out = &access->IVmVirtualDeviceAccess_iface;
        IVmVirtualDeviceAccess_AddRef(iface);
        return S_OK;
    }
    WARN("%s not implemented\n", wine_dbgstr_guid(riid));
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI device_access_AddRef(IVmVirtualDeviceAccess *iface)
{
    struct device_access *access = impl_from_IVmVirtualDeviceAccess(iface);
    ULONG refcount = InterlockedIncrement(&access->refcount);

    TRACE("access %p, refcount %lu\n", access, refcount);
    return refcount;
}

static ULONG WINAPI device_access_Release(IVmVirtualDeviceAccess *iface)
{
    struct device_access *access = impl_from_IVmVirtualDeviceAccess(iface);
    ULONG refcount = InterlockedDecrement(&access->refcount);

    TRACE("access %p, refcount %lu\n", access, refcount);

    if (!refcount)
    {
        partition_release(access->partition);
        free(access);
    }
    return refcount;
}

/* Reserved on Windows too: no client calls it. */
static HRESULT WINAPI device_access_Reserved(IVmVirtualDeviceAccess *iface)
{
    WARN("access %p: reserved method called\n", iface);
    return E_NOTIMPL;
}

static HRESULT WINAPI device_access_GetDevice(IVmVirtualDeviceAccess *iface, REFGUID category,
        REFGUID instance_id, IUnknown **out)
{
    struct device_access *access = impl_from_IVmVirtualDeviceAccess(iface);
    struct device *device;

    TRACE("access %p, category %s, instance_id %s, out %p\n", access, wine_dbgstr_guid(category),
            wine_dbgstr_guid(instance_id), out);

    if (!out) return E_POINTER;
    *out = NULL;
    if (!category || !instance_id || !IsEqualGUID(category, &FLEXIO_DEVICE_ID))
    {
        WARN("invalid arguments\n");
        return E_INVALIDARG;
    }

    if (ReadNoFence(&access->partition->deleting)) return HRESULT_FROM_WIN32(ERROR_DEVICE_REMOVED);
    if (!(device = device_find(access->partition, instance_id))) return HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
    *out = device_unknown(device);
    return S_OK;
}

static const IVmVirtualDeviceAccessVtbl device_access_vtbl =
{
    device_access_QueryInterface,
    device_access_AddRef,
    device_access_Release,
    device_access_Reserved,
    device_access_GetDevice,
};

HRESULT device_access_create(struct partition *partition, IVmVirtualDeviceAccess **out)
{
    struct device_access *access;

    if (!(access = calloc(1, sizeof(*access)))) return E_OUTOFMEMORY;
    access->IVmVirtualDeviceAccess_iface.lpVtbl = &device_access_vtbl;
    access->refcount = 1;
    access->partition = partition;
    partition_addref(partition);

    TRACE("created access %p\n", access);
    *out = &access->IVmVirtualDeviceAccess_iface;
    return S_OK;
}

HRESULT WINAPI VmidlGetVirtualDeviceAccess(VMIDL_PARTITION_HANDLE handle, IVmVirtualDeviceAccess **out)
{
    struct partition *partition;
    HRESULT hr;

    TRACE("partition %p, out %p\n", handle, out);

    if (!out) return E_INVALIDARG;
    *out = NULL;
    if (!handle) return E_INVALIDARG;
    if (!(partition = partition_from_handle(handle))) return E_HANDLE;
    hr = device_access_create(partition, out);
    partition_release(partition);
    return hr;
}
