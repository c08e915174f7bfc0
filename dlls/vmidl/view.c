/*
 * What a published partition hands a process in another process: views of
 * its IVmVirtualDeviceAccess and of each device.  A view passes every call
 * on to the partition, on behalf of that view: what a device view
 * registered, it alone may remove, and it goes with the view.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vmidl_private.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

/* The owner tags of device views; 0 is the device's own callers. */
static LONG64 next_owner;

struct device_view
{
    IVmFiovGuestMmioMappings IVmFiovGuestMmioMappings_iface;
    IVmFiovGuestMemoryFastNotification IVmFiovGuestMemoryFastNotification_iface;
    IVmidlDeviceHandles IVmidlDeviceHandles_iface;
    IVmidlDeviceServices IVmidlDeviceServices_iface;
    LONG refcount;
    struct view view;
    struct client *client;
    struct device *device;      /* with a reference */
    UINT64 owner;
};

static inline struct device_view *impl_from_IVmFiovGuestMmioMappings(IVmFiovGuestMmioMappings *iface)
{
    return CONTAINING_RECORD(iface, struct device_view, IVmFiovGuestMmioMappings_iface);
}

static inline struct device_view *impl_from_IVmFiovGuestMemoryFastNotification(IVmFiovGuestMemoryFastNotification *iface)
{
    return CONTAINING_RECORD(iface, struct device_view, IVmFiovGuestMemoryFastNotification_iface);
}

static inline struct device_view *impl_from_IVmidlDeviceHandles(IVmidlDeviceHandles *iface)
{
    return CONTAINING_RECORD(iface, struct device_view, IVmidlDeviceHandles_iface);
}

static inline struct device_view *impl_from_IVmidlDeviceServices(IVmidlDeviceServices *iface)
{
    return CONTAINING_RECORD(iface, struct device_view, IVmidlDeviceServices_iface);
}

static HRESULT WINAPI device_view_QueryInterface(IVmFiovGuestMmioMappings *iface, REFIID riid, void **out)
{
    struct device_view *view = impl_from_IVmFiovGuestMmioMappings(iface);

    TRACE("view %p, riid %s, out %p\n", view, debugstr_guid(riid), out);

    if (!out) return E_POINTER;
    if (IsEqualIID(riid, &IID_IVmFiovGuestMmioMappings) || IsEqualIID(riid, &IID_IUnknown))
        *out = &view->IVmFiovGuestMmioMappings_iface;
    else if (IsEqualIID(riid, &IID_IVmFiovGuestMemoryFastNotification))
        *out = &view->IVmFiovGuestMemoryFastNotification_iface;
    else if (IsEqualIID(riid, &IID_IVmidlDeviceHandles))
        *out = &view->IVmidlDeviceHandles_iface;
    else if (IsEqualIID(riid, &IID_IVmidlDeviceServices))
        *out = &view->IVmidlDeviceServices_iface;
    else
    {
        WARN("%s not implemented\n", debugstr_guid(riid));
        *out = NULL;
        return E_NOINTERFACE;
    }
    IUnknown_AddRef((IUnknown *)*out);
    return S_OK;
}

static ULONG WINAPI device_view_AddRef(IVmFiovGuestMmioMappings *iface)
{
    struct device_view *view = impl_from_IVmFiovGuestMmioMappings(iface);
    ULONG refcount = InterlockedIncrement(&view->refcount);

    TRACE("view %p, refcount %lu\n", view, refcount);
    return refcount;
}

/* The view's ranges and doorbells go with it; a view the process gets
 * meanwhile is another view, with an owner tag of its own. */
static ULONG WINAPI device_view_Release(IVmFiovGuestMmioMappings *iface)
{
    struct device_view *view = impl_from_IVmFiovGuestMmioMappings(iface);
    ULONG refcount = InterlockedDecrement(&view->refcount);

    TRACE("view %p, refcount %lu\n", view, refcount);

    if (!refcount)
    {
        device_release_owner(view->device, view->owner);
        IUnknown_Release(device_unknown(view->device));
        client_remove_view(view->client, &view->view);
        free(view);
    }
    return refcount;
}

static HRESULT WINAPI device_view_CreateSectionBackedMmioRange(IVmFiovGuestMmioMappings *iface,
        FIOV_BAR_SELECTOR bar, ULONG64 bar_offset_pages, UINT64 page_count, FiovMmioMappingFlags flags,
        HANDLE section, UINT64 section_offset_pages)
{
    struct device_view *view = impl_from_IVmFiovGuestMmioMappings(iface);

    TRACE("view %p, bar %u, bar_offset_pages %#I64x, page_count %#I64x, flags %#x, section %p, "
            "section_offset_pages %#I64x\n", view, bar, bar_offset_pages, page_count, flags, section,
            section_offset_pages);
    return device_create_range(view->device, view->owner, bar, bar_offset_pages, page_count, flags,
            GetCurrentProcess(), (ULONG_PTR)section, section_offset_pages);
}

static HRESULT WINAPI device_view_DestroySectionBackedMmioRange(IVmFiovGuestMmioMappings *iface,
        FIOV_BAR_SELECTOR bar, ULONG64 bar_offset_pages)
{
    struct device_view *view = impl_from_IVmFiovGuestMmioMappings(iface);

    TRACE("view %p, bar %u, bar_offset_pages %#I64x\n", view, bar, bar_offset_pages);
    return device_destroy_range(view->device, view->owner, bar, bar_offset_pages);
}

static const IVmFiovGuestMmioMappingsVtbl device_view_mmio_mappings_vtbl =
{
    device_view_QueryInterface,
    device_view_AddRef,
    device_view_Release,
    device_view_CreateSectionBackedMmioRange,
    device_view_DestroySectionBackedMmioRange,
};

static HRESULT WINAPI device_view_fn_QueryInterface(IVmFiovGuestMemoryFastNotification *iface, REFIID riid, void **out)
{
    struct device_view *view = impl_from_IVmFiovGuestMemoryFastNotification(iface);
    return device_view_QueryInterface(&view->IVmFiovGuestMmioMappings_iface, riid, out);
}

static ULONG WINAPI device_view_fn_AddRef(IVmFiovGuestMemoryFastNotification *iface)
{
    struct device_view *view = impl_from_IVmFiovGuestMemoryFastNotification(iface);
    return device_view_AddRef(&view->IVmFiovGuestMmioMappings_iface);
}

static ULONG WINAPI device_view_fn_Release(IVmFiovGuestMemoryFastNotification *iface)
{
    struct device_view *view = impl_from_IVmFiovGuestMemoryFastNotification(iface);
    return device_view_Release(&view->IVmFiovGuestMmioMappings_iface);
}

static HRESULT WINAPI device_view_RegisterDoorbell(IVmFiovGuestMemoryFastNotification *iface,
        FIOV_BAR_SELECTOR bar, UINT64 offset, UINT64 value, UINT64 flags, HANDLE event)
{
    struct device_view *view = impl_from_IVmFiovGuestMemoryFastNotification(iface);

    TRACE("view %p, bar %u, offset %#I64x, value %#I64x, flags %#I64x, event %p\n",
            view, bar, offset, value, flags, event);
    return device_register_doorbell(view->device, view->owner, bar, offset, value, flags, GetCurrentProcess(),
            (ULONG_PTR)event);
}

static HRESULT WINAPI device_view_UnregisterDoorbell(IVmFiovGuestMemoryFastNotification *iface,
        FIOV_BAR_SELECTOR bar, UINT64 offset, UINT64 value, UINT64 flags)
{
    struct device_view *view = impl_from_IVmFiovGuestMemoryFastNotification(iface);

    TRACE("view %p, bar %u, offset %#I64x, value %#I64x, flags %#I64x\n", view, bar, offset, value, flags);
    return device_unregister_doorbell(view->device, view->owner, bar, offset, value, flags);
}

static const IVmFiovGuestMemoryFastNotificationVtbl device_view_fast_notification_vtbl =
{
    device_view_fn_QueryInterface,
    device_view_fn_AddRef,
    device_view_fn_Release,
    device_view_RegisterDoorbell,
    device_view_UnregisterDoorbell,
};

static HRESULT WINAPI device_view_handles_QueryInterface(IVmidlDeviceHandles *iface, REFIID riid, void **out)
{
    struct device_view *view = impl_from_IVmidlDeviceHandles(iface);
    return device_view_QueryInterface(&view->IVmFiovGuestMmioMappings_iface, riid, out);
}

static ULONG WINAPI device_view_handles_AddRef(IVmidlDeviceHandles *iface)
{
    struct device_view *view = impl_from_IVmidlDeviceHandles(iface);
    return device_view_AddRef(&view->IVmFiovGuestMmioMappings_iface);
}

static ULONG WINAPI device_view_handles_Release(IVmidlDeviceHandles *iface)
{
    struct device_view *view = impl_from_IVmidlDeviceHandles(iface);
    return device_view_Release(&view->IVmFiovGuestMmioMappings_iface);
}

static HRESULT WINAPI device_view_handles_CreateSectionBackedMmioRange(IVmidlDeviceHandles *iface, UINT32 bar,
        ULONG64 bar_offset_pages, UINT64 page_count, UINT32 flags, HANDLE process, ULONG64 section,
        UINT64 section_offset_pages)
{
    struct device_view *view = impl_from_IVmidlDeviceHandles(iface);

    TRACE("view %p, bar %u, bar_offset_pages %#I64x, page_count %#I64x, flags %#x, process %p, section %#I64x, "
            "section_offset_pages %#I64x\n", view, bar, bar_offset_pages, page_count, flags, process, section,
            section_offset_pages);
    return device_create_range(view->device, view->owner, bar, bar_offset_pages, page_count, flags, process,
            section, section_offset_pages);
}

static HRESULT WINAPI device_view_handles_RegisterDoorbell(IVmidlDeviceHandles *iface, UINT32 bar,
        UINT64 offset, UINT64 value, UINT64 flags, HANDLE process, ULONG64 event)
{
    struct device_view *view = impl_from_IVmidlDeviceHandles(iface);

    TRACE("view %p, bar %u, offset %#I64x, value %#I64x, flags %#I64x, process %p, event %#I64x\n",
            view, bar, offset, value, flags, process, event);
    return device_register_doorbell(view->device, view->owner, bar, offset, value, flags, process, event);
}

static const IVmidlDeviceHandlesVtbl device_view_handles_vtbl =
{
    device_view_handles_QueryInterface,
    device_view_handles_AddRef,
    device_view_handles_Release,
    device_view_handles_CreateSectionBackedMmioRange,
    device_view_handles_RegisterDoorbell,
};

static HRESULT WINAPI device_view_services_QueryInterface(IVmidlDeviceServices *iface, REFIID riid, void **out)
{
    struct device_view *view = impl_from_IVmidlDeviceServices(iface);
    return device_view_QueryInterface(&view->IVmFiovGuestMmioMappings_iface, riid, out);
}

static ULONG WINAPI device_view_services_AddRef(IVmidlDeviceServices *iface)
{
    struct device_view *view = impl_from_IVmidlDeviceServices(iface);
    return device_view_AddRef(&view->IVmFiovGuestMmioMappings_iface);
}

static ULONG WINAPI device_view_services_Release(IVmidlDeviceServices *iface)
{
    struct device_view *view = impl_from_IVmidlDeviceServices(iface);
    return device_view_Release(&view->IVmFiovGuestMmioMappings_iface);
}

static HRESULT WINAPI device_view_DeliverMsi(IVmidlDeviceServices *iface, UINT64 address, UINT32 data)
{
    struct device_view *view = impl_from_IVmidlDeviceServices(iface);

    TRACE("view %p, address %#I64x, data %#x\n", view, address, data);
    return device_deliver_msi(view->device, address, data);
}

static HRESULT WINAPI device_view_ReadGuestMemory(IVmidlDeviceServices *iface, UINT64 gpa, UINT32 size,
        BYTE *buffer)
{
    struct device_view *view = impl_from_IVmidlDeviceServices(iface);

    TRACE("view %p, gpa %#I64x, size %#x, buffer %p\n", view, gpa, size, buffer);
    return device_guest_memory(view->device, gpa, buffer, size, FALSE);
}

static HRESULT WINAPI device_view_WriteGuestMemory(IVmidlDeviceServices *iface, UINT64 gpa, UINT32 size,
        const BYTE *buffer)
{
    struct device_view *view = impl_from_IVmidlDeviceServices(iface);

    TRACE("view %p, gpa %#I64x, size %#x, buffer %p\n", view, gpa, size, buffer);
    return device_guest_memory(view->device, gpa, (void *)buffer, size, TRUE);
}

/* Into the view's process: the section handle is a value there. */
static HRESULT WINAPI device_view_ShareGuestMemory(IVmidlDeviceServices *iface, UINT64 gpa, UINT64 size,
        BOOL writable, ULONG64 *section, UINT64 *section_offset)
{
    struct device_view *view = impl_from_IVmidlDeviceServices(iface);

    TRACE("view %p, gpa %#I64x, size %#I64x, writable %d\n", view, gpa, size, writable);
    return device_share_guest_memory(view->device, view->client->process, gpa, size, writable, section,
            section_offset);
}

static const IVmidlDeviceServicesVtbl device_view_services_vtbl =
{
    device_view_services_QueryInterface,
    device_view_services_AddRef,
    device_view_services_Release,
    device_view_DeliverMsi,
    device_view_ReadGuestMemory,
    device_view_WriteGuestMemory,
    device_view_ShareGuestMemory,
};

/* The process's view of a device: the same one every time, while it lives. */
static HRESULT device_view_get(struct client *client, struct device *device, IUnknown **out)
{
    struct device_view *view;
    struct view *found;
    HRESULT hr;

    if ((found = client_find_view(client, device)))
    {
        *out = found->unknown;
        return S_OK;
    }
    if (!(view = calloc(1, sizeof(*view)))) return E_OUTOFMEMORY;
    view->IVmFiovGuestMmioMappings_iface.lpVtbl = &device_view_mmio_mappings_vtbl;
    view->IVmFiovGuestMemoryFastNotification_iface.lpVtbl = &device_view_fast_notification_vtbl;
    view->IVmidlDeviceHandles_iface.lpVtbl = &device_view_handles_vtbl;
    view->IVmidlDeviceServices_iface.lpVtbl = &device_view_services_vtbl;
    view->refcount = 1;
    view->client = client;
    view->device = device;
    view->owner = InterlockedIncrement64(&next_owner);
    if (FAILED(hr = client_add_view(client, &view->view, (IUnknown *)&view->IVmFiovGuestMmioMappings_iface,
            &view->refcount, device)))
    {
        free(view);
        return hr;
    }
    IUnknown_AddRef(device_unknown(device));
    TRACE("client %p: view %p of device %p, owner %#I64x\n", client, view, device, view->owner);
    *out = (IUnknown *)&view->IVmFiovGuestMmioMappings_iface;
    return S_OK;
}

/* An access view: IVmVirtualDeviceAccess on behalf of one process. */
struct access_view
{
    IVmVirtualDeviceAccess IVmVirtualDeviceAccess_iface;
    LONG refcount;
    struct view view;
    struct client *client;
    IVmVirtualDeviceAccess *access;     /* the partition's own */
};

static inline struct access_view *impl_from_IVmVirtualDeviceAccess(IVmVirtualDeviceAccess *iface)
{
    return CONTAINING_RECORD(iface, struct access_view, IVmVirtualDeviceAccess_iface);
}

static HRESULT WINAPI access_view_QueryInterface(IVmVirtualDeviceAccess *iface, REFIID riid, void **out)
{
    struct access_view *view = impl_from_IVmVirtualDeviceAccess(iface);

    TRACE("view %p, riid %s, out %p\n", view, debugstr_guid(riid), out);

    if (!out) return E_POINTER;
    if (IsEqualIID(riid, &IID_IVmVirtualDeviceAccess) || IsEqualIID(riid, &IID_IUnknown))
    {
        *out = &view->IVmVirtualDeviceAccess_iface;
        IVmVirtualDeviceAccess_AddRef(iface);
        return S_OK;
    }
    WARN("%s not implemented\n", debugstr_guid(riid));
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI access_view_AddRef(IVmVirtualDeviceAccess *iface)
{
    struct access_view *view = impl_from_IVmVirtualDeviceAccess(iface);
    ULONG refcount = InterlockedIncrement(&view->refcount);

    TRACE("view %p, refcount %lu\n", view, refcount);
    return refcount;
}

static ULONG WINAPI access_view_Release(IVmVirtualDeviceAccess *iface)
{
    struct access_view *view = impl_from_IVmVirtualDeviceAccess(iface);
    ULONG refcount = InterlockedDecrement(&view->refcount);

    TRACE("view %p, refcount %lu\n", view, refcount);

    if (!refcount)
    {
        IVmVirtualDeviceAccess_Release(view->access);
        client_remove_view(view->client, &view->view);
        free(view);
    }
    return refcount;
}

static HRESULT WINAPI access_view_Reserved(IVmVirtualDeviceAccess *iface)
{
    struct access_view *view = impl_from_IVmVirtualDeviceAccess(iface);
    return IVmVirtualDeviceAccess_Reserved(view->access);
}

static HRESULT WINAPI access_view_GetDevice(IVmVirtualDeviceAccess *iface, REFGUID category,
        REFGUID instance_id, IUnknown **out)
{
    struct access_view *view = impl_from_IVmVirtualDeviceAccess(iface);
    IUnknown *object;
    HRESULT hr;

    TRACE("view %p, category %s, instance_id %s, out %p\n", view, debugstr_guid(category),
            debugstr_guid(instance_id), out);

    if (FAILED(hr = IVmVirtualDeviceAccess_GetDevice(view->access, category, instance_id, out ? &object : NULL)))
    {
        if (out) *out = NULL;
        return hr;
    }
    hr = device_view_get(view->client, device_from_unknown(object), out);
    IUnknown_Release(object);
    return hr;
}

static const IVmVirtualDeviceAccessVtbl access_view_vtbl =
{
    access_view_QueryInterface,
    access_view_AddRef,
    access_view_Release,
    access_view_Reserved,
    access_view_GetDevice,
};

HRESULT access_view_create(struct client *client, REFIID riid, IUnknown **out)
{
    struct access_view *view;
    HRESULT hr;

    if (!(view = calloc(1, sizeof(*view)))) return E_OUTOFMEMORY;
    if (FAILED(hr = device_access_create(client->broker->partition, &view->access)))
    {
        free(view);
        return hr;
    }
    view->IVmVirtualDeviceAccess_iface.lpVtbl = &access_view_vtbl;
    view->refcount = 1;
    view->client = client;
    if (FAILED(hr = client_add_view(client, &view->view, (IUnknown *)&view->IVmVirtualDeviceAccess_iface,
            &view->refcount, NULL)))
    {
        IVmVirtualDeviceAccess_Release(view->access);
        free(view);
        return hr;
    }
    hr = IVmVirtualDeviceAccess_QueryInterface(&view->IVmVirtualDeviceAccess_iface, riid, (void **)out);
    IVmVirtualDeviceAccess_Release(&view->IVmVirtualDeviceAccess_iface);
    return hr;
}
