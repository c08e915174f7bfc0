/*
 * A published partition: the VM worker's side of GetVmWorkerProcess.
 *
 * VmidlPublishPartition marshals the partition's front door (IVmidlWorker)
 * into a prefix-wide named section.  A device host in another process
 * unmarshals it and calls Connect, which hands that process views of its
 * own: an IVmVirtualDeviceAccess whose GetDevice gives a view of each
 * device.  The views pass every call on to the device, tagged with the
 * process, so that what a process registered can be taken away alone.
 *
 * Wine has no DCOM ping: a process that ends keeps its references.  So the
 * worker waits on each connected process, and when one ends it disconnects
 * that process's views (the stubs drop their references) and removes every
 * range and doorbell the process registered.
 *
 * All COM work runs on one thread of vmidl's in the multithreaded
 * apartment: objects marshaled there take calls on RPC threads without a
 * message loop, and the RPC runtime tells them which process calls.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vmidl_private.h"
#include "objbase.h"
#include "rpc.h"
#include "list.h"
#include "vmidl_worker.h"
#include "vmidl_names.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

/* --- the thread in the multithreaded apartment ----------------------------- */

struct mta_work
{
    struct list entry;
    void (*func)(void *arg);
    void *arg;
    HANDLE done;            /* NULL: nobody waits, the thread frees the work */
};

struct client;

static SRWLOCK mta_lock = SRWLOCK_INIT;
static struct list mta_queue = {&mta_queue, &mta_queue};
static INIT_ONCE mta_once = INIT_ONCE_STATIC_INIT;
static HRESULT mta_status;
static DWORD mta_thread_id;

/* The thread also waits for the end of each connected process: waits[0]
 * is its work queue's, the others are processes, one per client.  Only
 * the thread touches them; other threads reserve a place first. */
#define MAX_WATCHED_CLIENTS (MAXIMUM_WAIT_OBJECTS - 1)
static HANDLE mta_waits[MAXIMUM_WAIT_OBJECTS];
static struct client *mta_watched[MAXIMUM_WAIT_OBJECTS];
static DWORD mta_wait_count;
static LONG watch_reservations;

static void client_ended(struct client *client);

/* The COM runtime, loaded when the first partition is published: a host
 * that never publishes never loads it (ole32 brings user32 and gdi32). */
static HRESULT (WINAPI *pCoInitializeEx)(void *, DWORD);
static HRESULT (WINAPI *pCoMarshalInterface)(IStream *, REFIID, IUnknown *, DWORD, void *, DWORD);
static HRESULT (WINAPI *pCoReleaseMarshalData)(IStream *);
static HRESULT (WINAPI *pCoDisconnectObject)(IUnknown *, DWORD);
static HRESULT (WINAPI *pCreateStreamOnHGlobal)(HGLOBAL, BOOL, IStream **);
static HRESULT (WINAPI *pGetHGlobalFromStream)(IStream *, HGLOBAL *);
static RPC_STATUS (WINAPI *pI_RpcBindingInqLocalClientPID)(RPC_BINDING_HANDLE, ULONG *);

static BOOL load_com(void)
{
    HMODULE ole32 = LoadLibraryW(L"ole32.dll"), rpcrt4 = LoadLibraryW(L"rpcrt4.dll");

    if (!ole32 || !rpcrt4) return FALSE;
#define LOAD(module, func) if (!(p##func = (void *)GetProcAddress(module, #func))) return FALSE
    LOAD(ole32, CoInitializeEx);
    LOAD(ole32, CoMarshalInterface);
    LOAD(ole32, CoReleaseMarshalData);
    LOAD(ole32, CoDisconnectObject);
    LOAD(ole32, CreateStreamOnHGlobal);
    LOAD(ole32, GetHGlobalFromStream);
    LOAD(rpcrt4, I_RpcBindingInqLocalClientPID);
#undef LOAD
    return TRUE;
}

static void mta_run_queue(void)
{
    struct mta_work *work;

    for (;;)
    {
        AcquireSRWLockExclusive(&mta_lock);
        if (list_empty(&mta_queue))
        {
            ReleaseSRWLockExclusive(&mta_lock);
            return;
        }
        work = LIST_ENTRY(mta_queue.next, struct mta_work, entry);
        list_remove(&work->entry);
        ReleaseSRWLockExclusive(&mta_lock);

        work->func(work->arg);
        if (work->done) SetEvent(work->done);
        else free(work);
    }
}

/* Never ends: it keeps the apartment, and the objects marshaled in it,
 * alive for the life of the process. */
static DWORD WINAPI mta_thread_proc(void *arg)
{
    HANDLE ready = arg;
    DWORD ret;

    mta_thread_id = GetCurrentThreadId();
    mta_status = pCoInitializeEx(NULL, COINIT_MULTITHREADED);
    SetEvent(ready);
    if (FAILED(mta_status)) return 0;

    for (;;)
    {
        mta_run_queue();
        ret = WaitForMultipleObjects(mta_wait_count, mta_waits, FALSE, INFINITE);
        if (ret > WAIT_OBJECT_0 && ret < WAIT_OBJECT_0 + mta_wait_count)
            client_ended(mta_watched[ret - WAIT_OBJECT_0]);
        else if (ret != WAIT_OBJECT_0) ERR("wait failed, error %lu\n", GetLastError());
    }
}

static BOOL WINAPI mta_start(INIT_ONCE *once, void *param, void **context)
{
    HMODULE module;
    HANDLE ready, thread;

    GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
            (const WCHAR *)mta_thread_proc, &module);
    ready = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!ready || !load_com() || !(mta_waits[0] = CreateEventW(NULL, FALSE, FALSE, NULL))
            || !(thread = CreateThread(NULL, 0, mta_thread_proc, ready, 0, NULL)))
    {
        mta_status = HRESULT_FROM_WIN32(GetLastError());
        if (ready) CloseHandle(ready);
        return TRUE;
    }
    mta_wait_count = 1;
    WaitForSingleObject(ready, INFINITE);
    CloseHandle(ready);
    CloseHandle(thread);
    return TRUE;
}

static HRESULT run_in_mta(void (*func)(void *arg), void *arg, BOOL wait)
{
    struct mta_work *work;

    InitOnceExecuteOnce(&mta_once, mta_start, NULL, NULL);
    if (FAILED(mta_status)) return mta_status;
    if (!(work = calloc(1, sizeof(*work)))) return E_OUTOFMEMORY;
    work->func = func;
    work->arg = arg;
    if (wait && !(work->done = CreateEventW(NULL, TRUE, FALSE, NULL)))
    {
        free(work);
        return HRESULT_FROM_WIN32(GetLastError());
    }

    AcquireSRWLockExclusive(&mta_lock);
    list_add_tail(&mta_queue, &work->entry);
    ReleaseSRWLockExclusive(&mta_lock);
    SetEvent(mta_waits[0]);

    if (wait)
    {
        WaitForSingleObject(work->done, INFINITE);
        CloseHandle(work->done);
        free(work);
    }
    return S_OK;
}

/* --- connected processes and their views ----------------------------------- */

struct broker;

struct client
{
    struct list entry;          /* broker->clients */
    LONG refcount;              /* the broker's list, each view, the apartment's wait, work in flight */
    struct broker *broker;
    DWORD pid;
    HANDLE process;
    UINT64 owner;               /* tags what the process registers */
    BOOL gone;                  /* ended, or the partition went: under the broker's lock */
    BOOL watched;               /* in the apartment's waits: the apartment's thread only */
    struct list views;          /* struct view */
};

/* What a client's views share: a place in its list, for disconnecting. */
struct view
{
    struct list entry;          /* client->views */
    IUnknown *unknown;
    LONG *refcount;
    struct device *device;      /* a device view's device, NULL for an access view */
};

struct broker
{
    IVmidlWorker IVmidlWorker_iface;
    LONG refcount;
    struct partition *partition;
    SRWLOCK lock;               /* the clients and their views */
    struct list clients;
    IStream *marshal_data;
    HANDLE section;
};

static LONG64 next_owner;

static void client_release(struct client *client);

static BOOL addref_if_alive(LONG *refcount)
{
    LONG old = *refcount;

    while (old)
    {
        LONG found = InterlockedCompareExchange(refcount, old + 1, old);
        if (found == old) return TRUE;
        old = found;
    }
    return FALSE;
}

static void view_add(struct client *client, struct view *view, IUnknown *unknown, LONG *refcount,
        struct device *device)
{
    view->unknown = unknown;
    view->refcount = refcount;
    view->device = device;
    InterlockedIncrement(&client->refcount);
    AcquireSRWLockExclusive(&client->broker->lock);
    list_add_tail(&client->views, &view->entry);
    ReleaseSRWLockExclusive(&client->broker->lock);
}

static void view_remove(struct client *client, struct view *view)
{
    AcquireSRWLockExclusive(&client->broker->lock);
    list_remove(&view->entry);
    ReleaseSRWLockExclusive(&client->broker->lock);
    client_release(client);
}

/* A device view: the device's two interfaces on behalf of one process. */
struct device_view
{
    IVmFiovGuestMmioMappings IVmFiovGuestMmioMappings_iface;
    IVmFiovGuestMemoryFastNotification IVmFiovGuestMemoryFastNotification_iface;
    LONG refcount;
    struct view view;
    struct client *client;
    IUnknown *object;           /* the device itself */
    struct device *device;
};

static inline struct device_view *impl_from_IVmFiovGuestMmioMappings(IVmFiovGuestMmioMappings *iface)
{
    return CONTAINING_RECORD(iface, struct device_view, IVmFiovGuestMmioMappings_iface);
}

static inline struct device_view *impl_from_IVmFiovGuestMemoryFastNotification(IVmFiovGuestMemoryFastNotification *iface)
{
    return CONTAINING_RECORD(iface, struct device_view, IVmFiovGuestMemoryFastNotification_iface);
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
    else
    {
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

/* The process's ranges and doorbells on the device go with its view. */
static ULONG WINAPI device_view_Release(IVmFiovGuestMmioMappings *iface)
{
    struct device_view *view = impl_from_IVmFiovGuestMmioMappings(iface);
    ULONG refcount = InterlockedDecrement(&view->refcount);

    TRACE("view %p, refcount %lu\n", view, refcount);

    if (!refcount)
    {
        device_release_owner(view->device, view->client->owner);
        IUnknown_Release(view->object);
        view_remove(view->client, &view->view);
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
    return device_create_range(view->device, view->client->owner, bar, bar_offset_pages, page_count, flags,
            section, section_offset_pages);
}

static HRESULT WINAPI device_view_DestroySectionBackedMmioRange(IVmFiovGuestMmioMappings *iface,
        FIOV_BAR_SELECTOR bar, ULONG64 bar_offset_pages)
{
    struct device_view *view = impl_from_IVmFiovGuestMmioMappings(iface);

    TRACE("view %p, bar %u, bar_offset_pages %#I64x\n", view, bar, bar_offset_pages);
    return device_destroy_range(view->device, bar, bar_offset_pages);
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
    return device_register_doorbell(view->device, view->client->owner, bar, offset, value, flags, event);
}

static HRESULT WINAPI device_view_UnregisterDoorbell(IVmFiovGuestMemoryFastNotification *iface,
        FIOV_BAR_SELECTOR bar, UINT64 offset, UINT64 value, UINT64 flags)
{
    struct device_view *view = impl_from_IVmFiovGuestMemoryFastNotification(iface);

    TRACE("view %p, bar %u, offset %#I64x, value %#I64x, flags %#I64x\n", view, bar, offset, value, flags);
    return device_unregister_doorbell(view->device, bar, offset, value, flags);
}

static const IVmFiovGuestMemoryFastNotificationVtbl device_view_fast_notification_vtbl =
{
    device_view_fn_QueryInterface,
    device_view_fn_AddRef,
    device_view_fn_Release,
    device_view_RegisterDoorbell,
    device_view_UnregisterDoorbell,
};

/* The process's view of a device: the same one every time, while it lives. */
static HRESULT device_view_get(struct client *client, IUnknown *object, IUnknown **out)
{
    struct device *device = device_from_unknown(object);
    struct device_view *view = NULL;
    struct list *cur;

    AcquireSRWLockShared(&client->broker->lock);
    LIST_FOR_EACH(cur, &client->views)
    {
        struct view *entry = LIST_ENTRY(cur, struct view, entry);

        if (entry->device != device || !addref_if_alive(entry->refcount)) continue;
        view = CONTAINING_RECORD(entry, struct device_view, view);
        break;
    }
    ReleaseSRWLockShared(&client->broker->lock);

    if (!view)
    {
        if (!(view = calloc(1, sizeof(*view)))) return E_OUTOFMEMORY;
        view->IVmFiovGuestMmioMappings_iface.lpVtbl = &device_view_mmio_mappings_vtbl;
        view->IVmFiovGuestMemoryFastNotification_iface.lpVtbl = &device_view_fast_notification_vtbl;
        view->refcount = 1;
        view->client = client;
        view->object = object;
        view->device = device;
        IUnknown_AddRef(object);
        view_add(client, &view->view, (IUnknown *)&view->IVmFiovGuestMmioMappings_iface, &view->refcount, device);
        TRACE("client %p: view %p of device %p\n", client, view, device);
    }
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
        view_remove(view->client, &view->view);
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
    hr = device_view_get(view->client, object, out);
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

static HRESULT access_view_create(struct client *client, REFIID riid, IUnknown **out)
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
    view_add(client, &view->view, (IUnknown *)&view->IVmVirtualDeviceAccess_iface, &view->refcount, NULL);
    hr = IVmVirtualDeviceAccess_QueryInterface(&view->IVmVirtualDeviceAccess_iface, riid, (void **)out);
    IVmVirtualDeviceAccess_Release(&view->IVmVirtualDeviceAccess_iface);
    return hr;
}

static void broker_release(struct broker *broker);

static void client_release(struct client *client)
{
    if (InterlockedDecrement(&client->refcount)) return;
    TRACE("client %p of process %04lx freed\n", client, client->pid);
    CloseHandle(client->process);
    broker_release(client->broker);
    free(client);
}

/* In the apartment: the client's process leaves its waits. */
static void client_unwatch(struct client *client)
{
    DWORD i;

    if (!client->watched) return;
    for (i = 1; i < mta_wait_count; i++)
    {
        if (mta_watched[i] != client) continue;
        mta_waits[i] = mta_waits[--mta_wait_count];
        mta_watched[i] = mta_watched[mta_wait_count];
        break;
    }
    client->watched = FALSE;
    InterlockedDecrement(&watch_reservations);
    client_release(client);
}

/* In the apartment: the process's views lose their stubs (and with them
 * the references the process held) and their ranges and doorbells. */
static void client_disconnect(struct client *client)
{
    IUnknown **views = NULL;
    unsigned int count = 0, i;
    struct list *cur;
    BOOL gone;

    AcquireSRWLockExclusive(&client->broker->lock);
    if (!(gone = client->gone))
    {
        client->gone = TRUE;
        list_remove(&client->entry);
        if ((views = calloc(list_count(&client->views), sizeof(*views))))
        {
            LIST_FOR_EACH(cur, &client->views)
            {
                struct view *view = LIST_ENTRY(cur, struct view, entry);
                if (addref_if_alive(view->refcount)) views[count++] = view->unknown;
            }
        }
    }
    ReleaseSRWLockExclusive(&client->broker->lock);
    if (gone) return;

    TRACE("client %p of process %04lx: %u views\n", client, client->pid, count);
    client_unwatch(client);
    for (i = 0; i < count; i++)
    {
        pCoDisconnectObject(views[i], 0);
        IUnknown_Release(views[i]);
    }
    free(views);
    client_release(client);     /* the broker's list */
}

static void client_ended(struct client *client)
{
    TRACE("process %04lx ended\n", client->pid);
    InterlockedIncrement(&client->refcount);
    client_disconnect(client);
    client_release(client);
}

/* In the apartment: from now on the client's end is noticed at once. */
static void client_watch(void *arg)
{
    struct client *client = arg;

    if (client->gone)
    {
        InterlockedDecrement(&watch_reservations);
        client_release(client);
        return;
    }
    mta_waits[mta_wait_count] = client->process;
    mta_watched[mta_wait_count++] = client;
    client->watched = TRUE;
}

/* The record of the calling process, new or found. */
static HRESULT broker_client(struct broker *broker, DWORD pid, struct client **ret)
{
    struct client *client;
    struct list *cur;

    AcquireSRWLockShared(&broker->lock);
    LIST_FOR_EACH(cur, &broker->clients)
    {
        client = LIST_ENTRY(cur, struct client, entry);
        if (client->pid != pid) continue;
        InterlockedIncrement(&client->refcount);
        ReleaseSRWLockShared(&broker->lock);
        *ret = client;
        return S_OK;
    }
    ReleaseSRWLockShared(&broker->lock);

    if (InterlockedIncrement(&watch_reservations) > MAX_WATCHED_CLIENTS)
    {
        WARN("already %u processes connected\n", MAX_WATCHED_CLIENTS);
        InterlockedDecrement(&watch_reservations);
        return HRESULT_FROM_WIN32(ERROR_NO_SYSTEM_RESOURCES);
    }
    if (!(client = calloc(1, sizeof(*client))) || !(client->process = OpenProcess(SYNCHRONIZE, FALSE, pid)))
    {
        WARN("cannot open process %04lx, error %lu\n", pid, GetLastError());
        InterlockedDecrement(&watch_reservations);
        free(client);
        return client ? E_ACCESSDENIED : E_OUTOFMEMORY;
    }
    client->refcount = 3;       /* the list's, the apartment's wait and the caller's */
    client->broker = broker;
    client->pid = pid;
    client->owner = InterlockedIncrement64(&next_owner);
    list_init(&client->views);
    InterlockedIncrement(&broker->refcount);

    AcquireSRWLockExclusive(&broker->lock);
    list_add_tail(&broker->clients, &client->entry);
    ReleaseSRWLockExclusive(&broker->lock);

    if (FAILED(run_in_mta(client_watch, client, FALSE)))
    {
        ERR("cannot wait for process %04lx\n", pid);
        InterlockedDecrement(&watch_reservations);
        client_release(client);
    }
    TRACE("client %p: process %04lx, owner %#I64x\n", client, pid, client->owner);
    *ret = client;
    return S_OK;
}

static inline struct broker *impl_from_IVmidlWorker(IVmidlWorker *iface)
{
    return CONTAINING_RECORD(iface, struct broker, IVmidlWorker_iface);
}

static HRESULT WINAPI broker_QueryInterface(IVmidlWorker *iface, REFIID riid, void **out)
{
    struct broker *broker = impl_from_IVmidlWorker(iface);

    TRACE("broker %p, riid %s, out %p\n", broker, debugstr_guid(riid), out);

    if (!out) return E_POINTER;
    if (IsEqualIID(riid, &IID_IVmidlWorker) || IsEqualIID(riid, &IID_IUnknown))
    {
        *out = &broker->IVmidlWorker_iface;
        IVmidlWorker_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI broker_AddRef(IVmidlWorker *iface)
{
    struct broker *broker = impl_from_IVmidlWorker(iface);
    ULONG refcount = InterlockedIncrement(&broker->refcount);

    TRACE("broker %p, refcount %lu\n", broker, refcount);
    return refcount;
}

static ULONG WINAPI broker_Release(IVmidlWorker *iface)
{
    struct broker *broker = impl_from_IVmidlWorker(iface);
    ULONG refcount = InterlockedDecrement(&broker->refcount);

    TRACE("broker %p, refcount %lu\n", broker, refcount);

    if (!refcount)
    {
        partition_release(broker->partition);
        free(broker);
    }
    return refcount;
}

static void broker_release(struct broker *broker)
{
    IVmidlWorker_Release(&broker->IVmidlWorker_iface);
}

/* From another process, that process's own access view; in this one, the
 * partition's access object itself. */
static HRESULT WINAPI broker_Connect(IVmidlWorker *iface, REFIID riid, IUnknown **out)
{
    struct broker *broker = impl_from_IVmidlWorker(iface);
    IVmVirtualDeviceAccess *access;
    struct client *client;
    RPC_STATUS status;
    ULONG pid;
    HRESULT hr;

    TRACE("broker %p, riid %s, out %p\n", broker, debugstr_guid(riid), out);

    if (!out) return E_POINTER;
    *out = NULL;
    if ((status = pI_RpcBindingInqLocalClientPID(NULL, &pid)) == RPC_S_NO_CALL_ACTIVE)
    {
        if (FAILED(hr = device_access_create(broker->partition, &access))) return hr;
        hr = IVmVirtualDeviceAccess_QueryInterface(access, riid, (void **)out);
        IVmVirtualDeviceAccess_Release(access);
        return hr;
    }
    if (status)
    {
        WARN("cannot tell who is calling, status %ld\n", status);
        return E_ACCESSDENIED;
    }
    if (FAILED(hr = broker_client(broker, pid, &client))) return hr;
    hr = access_view_create(client, riid, out);
    client_release(client);
    return hr;
}

static const IVmidlWorkerVtbl broker_vtbl =
{
    broker_QueryInterface,
    broker_AddRef,
    broker_Release,
    broker_Connect,
};

/* --- publishing ---------------------------------------------------------- */

static void worker_unpublish(struct partition *partition);

struct publish
{
    struct partition *partition;
    HRESULT hr;
};

/* In the apartment: the front door, marshaled for any process of the
 * prefix, into the partition's named section. */
static void publish_work(void *arg)
{
    struct publish *publish = arg;
    struct partition *partition = publish->partition;
    WCHAR name[VMIDL_NAME_LENGTH];
    struct broker *broker;
    ULARGE_INTEGER size;
    LARGE_INTEGER zero = {{0}};
    HGLOBAL global;
    UINT32 *data;
    void *blob;
    HRESULT hr;

    if (!(broker = calloc(1, sizeof(*broker))))
    {
        publish->hr = E_OUTOFMEMORY;
        return;
    }
    broker->IVmidlWorker_iface.lpVtbl = &broker_vtbl;
    broker->refcount = 1;
    broker->partition = partition;
    partition_addref(partition);
    InitializeSRWLock(&broker->lock);
    list_init(&broker->clients);

    if (FAILED(hr = pCreateStreamOnHGlobal(NULL, TRUE, &broker->marshal_data))) goto failed;
    if (FAILED(hr = pCoMarshalInterface(broker->marshal_data, &IID_IVmidlWorker, (IUnknown *)&broker->IVmidlWorker_iface,
            MSHCTX_LOCAL, NULL, MSHLFLAGS_TABLESTRONG)))
        goto failed;
    IStream_Seek(broker->marshal_data, zero, STREAM_SEEK_CUR, &size);
    pGetHGlobalFromStream(broker->marshal_data, &global);

    vmidl_worker_section_name(name, &partition->runtime_id);
    if (!(broker->section = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
            sizeof(*data) + size.QuadPart, name))
            || !(data = MapViewOfFile(broker->section, FILE_MAP_WRITE, 0, 0, 0)))
    {
        hr = HRESULT_FROM_WIN32(GetLastError());
        IStream_Seek(broker->marshal_data, zero, STREAM_SEEK_SET, NULL);
        pCoReleaseMarshalData(broker->marshal_data);
        goto failed;
    }
    blob = GlobalLock(global);
    data[0] = size.QuadPart;
    memcpy(data + 1, blob, size.QuadPart);
    GlobalUnlock(global);
    UnmapViewOfFile(data);

    partition->unpublish = worker_unpublish;
    partition->broker = broker;
    TRACE("partition %p published as %s, %I64u bytes\n", partition, debugstr_w(name), size.QuadPart);
    /* A delete that came meanwhile did not see the broker yet. */
    if (InterlockedCompareExchange(&partition->deleted, 0, 0)) worker_unpublish(partition);
    publish->hr = S_OK;
    return;

failed:
    WARN("cannot publish partition %p, hr %#lx\n", partition, hr);
    if (broker->section) CloseHandle(broker->section);
    if (broker->marshal_data) IStream_Release(broker->marshal_data);
    broker_release(broker);
    publish->hr = hr;
}

/* In the apartment, once the partition is deleted: nobody reaches the
 * front door or a view any more. */
static void unpublish_work(void *arg)
{
    struct broker *broker = arg;
    LARGE_INTEGER zero = {{0}};

    IStream_Seek(broker->marshal_data, zero, STREAM_SEEK_SET, NULL);
    pCoReleaseMarshalData(broker->marshal_data);
    IStream_Release(broker->marshal_data);
    pCoDisconnectObject((IUnknown *)&broker->IVmidlWorker_iface, 0);

    AcquireSRWLockShared(&broker->lock);
    while (!list_empty(&broker->clients))
    {
        struct client *client = LIST_ENTRY(broker->clients.next, struct client, entry);

        InterlockedIncrement(&client->refcount);
        ReleaseSRWLockShared(&broker->lock);
        client_disconnect(client);
        client_release(client);
        AcquireSRWLockShared(&broker->lock);
    }
    ReleaseSRWLockShared(&broker->lock);
    broker_release(broker);
}

/* From VmidlDeletePartition: the section's name goes at once, and the
 * drivers are cut off before it returns, so that none of their calls
 * reaches the removed device.  In DllMain, or in the apartment itself (a
 * delete that raced the publishing), the apartment's thread does it a
 * moment later. */
static void worker_unpublish(struct partition *partition)
{
    struct broker *broker = InterlockedExchangePointer((void **)&partition->broker, NULL);
    BOOL wait = GetCurrentThreadId() != mta_thread_id && !holding_loader_lock();

    if (!broker) return;
    CloseHandle(broker->section);
    if (FAILED(run_in_mta(unpublish_work, broker, wait))) ERR("cannot unpublish partition %p\n", partition);
}

HRESULT WINAPI VmidlPublishPartition(VMIDL_PARTITION_HANDLE handle)
{
    struct publish publish;
    HRESULT hr;

    TRACE("partition %p\n", handle);

    if (!handle) return E_INVALIDARG;
    if (!(publish.partition = partition_from_handle(handle))) return E_HANDLE;
    if (InterlockedCompareExchange(&publish.partition->publishing, 1, 0))
        hr = HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS);
    else if (SUCCEEDED(hr = run_in_mta(publish_work, &publish, TRUE)) && FAILED(hr = publish.hr))
        InterlockedExchange(&publish.partition->publishing, 0);
    partition_release(publish.partition);
    return hr;
}
