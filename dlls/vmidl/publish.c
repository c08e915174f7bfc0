/*
 * A published partition: the VM worker's side of GetVmWorkerProcess.
 *
 * VmidlPublishPartition marshals the partition's front door (IVmidlWorker,
 * the broker) into a prefix-wide named section.  A device host in another
 * process unmarshals it and calls Connect, which hands that process views
 * of its own (view.c), tracked per process (client.c), so that everything
 * a process holds can be cut off when it ends, and everything when the
 * partition goes.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vmidl_private.h"
#include "objbase.h"
#include "rpc.h"
#include "vmidl_names.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

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
    WARN("%s not implemented\n", debugstr_guid(riid));
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

void broker_release(struct broker *broker)
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
    if ((status = I_RpcBindingInqLocalClientPID(NULL, &pid)) == RPC_S_NO_CALL_ACTIVE)
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

static void worker_unpublish(struct partition *partition);

struct publish
{
    struct partition *partition;
    const WCHAR *system_id;     /* NULL: the RuntimeId's string */
    HRESULT hr;
};

/* How long a publication waits for drivers still reading the withdrawn
 * section of the RuntimeId's last partition (a copy of a few hundred
 * bytes each) to let go of it. */
#define WITHDRAWN_WAIT_MS 10000

static BOOL section_is_withdrawn(HANDLE section)
{
    const struct vmidl_published *published;
    BOOL withdrawn;

    if (!(published = MapViewOfFile(section, FILE_MAP_READ, 0, 0, 0))) return FALSE;
    withdrawn = ReadAcquire((LONG *)&published->magic) == VMIDL_WITHDRAWN_MAGIC;
    UnmapViewOfFile(published);
    return withdrawn;
}

/* Data into a new named section, size and magic last, so that a process
 * that opens the section early finds nothing there rather than half of
 * it.  A section of that name that is already there (a squatter's, say)
 * is never used; a withdrawn one, which a driver that looked the name up
 * a moment ago still holds, is waited out. */
static HRESULT write_section(const WCHAR *name, const void *data, UINT32 size, HANDLE *ret)
{
    struct vmidl_published *published;
    ULONGLONG start = GetTickCount64();
    HANDLE section;
    BOOL withdrawn;

    for (;;)
    {
        if (!(section = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
                offsetof(struct vmidl_published, data[size]), name)))
            return HRESULT_FROM_WIN32(GetLastError());
        if (GetLastError() != ERROR_ALREADY_EXISTS) break;
        withdrawn = section_is_withdrawn(section);
        CloseHandle(section);
        if (!withdrawn || GetTickCount64() - start > WITHDRAWN_WAIT_MS)
        {
            WARN("%s exists already%s\n", debugstr_w(name), withdrawn ? ", withdrawn but still held" : "");
            return HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS);
        }
        Sleep(1);
    }
    if (!(published = MapViewOfFile(section, FILE_MAP_WRITE, 0, 0, 0)))
    {
        CloseHandle(section);
        return HRESULT_FROM_WIN32(GetLastError());
    }
    memcpy(published->data, data, size);
    published->size = size;
    WriteRelease((LONG *)&published->magic, VMIDL_PUBLISHED_MAGIC);
    UnmapViewOfFile(published);
    TRACE("published %s, %u bytes\n", debugstr_w(name), size);
    *ret = section;
    return S_OK;
}

/* A reader that holds the section a while longer finds nothing in it. */
static void withdraw_section(HANDLE section)
{
    struct vmidl_published *published;

    if (!section) return;
    if ((published = MapViewOfFile(section, FILE_MAP_WRITE, 0, 0, 0)))
    {
        WriteRelease((LONG *)&published->magic, VMIDL_WITHDRAWN_MAGIC);
        UnmapViewOfFile(published);
    }
    CloseHandle(section);
}

/* The front door into the RuntimeId's section, then the RuntimeId into
 * the compute system Id's, so that whoever finds the Id finds the worker. */
static HRESULT write_sections(struct broker *broker, const GUID *runtime_id, const WCHAR *system_id,
        HGLOBAL global, UINT32 size)
{
    WCHAR name[VMIDL_SYSTEM_NAME_LENGTH], default_id[VMIDL_GUID_STRING_LENGTH];
    struct vmidl_system *system;
    HRESULT hr;

    vmidl_worker_section_name(name, runtime_id);
    hr = write_section(name, GlobalLock(global), size, &broker->section);
    GlobalUnlock(global);
    if (FAILED(hr)) return hr;

    if (!system_id)
    {
        vmidl_guid_string(default_id, runtime_id);
        system_id = default_id;
    }
    size = offsetof(struct vmidl_system, id[wcslen(system_id) + 1]);
    if (!(system = malloc(size))) hr = E_OUTOFMEMORY;
    else
    {
        system->runtime_id = *runtime_id;
        wcscpy(system->id, system_id);
        vmidl_system_section_name(name, system_id);
        hr = write_section(name, system, size, &broker->system_section);
        free(system);
    }
    if (FAILED(hr))
    {
        withdraw_section(broker->section);
        broker->section = NULL;
    }
    return hr;
}

/* In the apartment: the front door, marshaled for any process of the
 * prefix, into the partition's named sections. */
static void publish_work(void *arg)
{
    struct publish *publish = arg;
    struct partition *partition = publish->partition;
    LARGE_INTEGER zero = {{0}};
    struct broker *broker;
    ULARGE_INTEGER size;
    HGLOBAL global;
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

    if (FAILED(hr = CreateStreamOnHGlobal(NULL, TRUE, &broker->marshal_data))) goto failed;
    if (FAILED(hr = CoMarshalInterface(broker->marshal_data, &IID_IVmidlWorker, (IUnknown *)&broker->IVmidlWorker_iface,
            MSHCTX_LOCAL, NULL, MSHLFLAGS_TABLESTRONG)))
        goto failed;
    IStream_Seek(broker->marshal_data, zero, STREAM_SEEK_CUR, &size);
    GetHGlobalFromStream(broker->marshal_data, &global);
    if (FAILED(hr = write_sections(broker, &partition->runtime_id, publish->system_id, global, size.QuadPart)))
    {
        IStream_Seek(broker->marshal_data, zero, STREAM_SEEK_SET, NULL);
        CoReleaseMarshalData(broker->marshal_data);
        goto failed;
    }

    partition->unpublish = worker_unpublish;
    partition->broker = broker;
    TRACE("partition %p published\n", partition);
    /* A delete that came meanwhile did not see the broker yet. */
    if (ReadAcquire(&partition->deleted)) worker_unpublish(partition);
    publish->hr = S_OK;
    return;

failed:
    WARN("cannot publish partition %p, hr %#lx\n", partition, hr);
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
    CoReleaseMarshalData(broker->marshal_data);
    IStream_Release(broker->marshal_data);
    CoDisconnectObject((IUnknown *)&broker->IVmidlWorker_iface, 0);
    broker_close(broker);
    broker_release(broker);
}

/* From VmidlDeletePartition: the section is withdrawn and its name goes
 * (once no driver is still reading it), and the drivers are cut off
 * before it returns, so that none of their calls
 * reaches the removed device.  In DllMain, or in the apartment itself (a
 * delete that raced the publishing), the apartment's thread does it a
 * moment later. */
static void worker_unpublish(struct partition *partition)
{
    struct broker *broker = InterlockedExchangePointer((void **)&partition->broker, NULL);
    BOOL wait = !mta_is_current() && !holding_loader_lock();

    if (!broker) return;
    withdraw_section(broker->system_section);
    withdraw_section(broker->section);
    if (FAILED(mta_run(unpublish_work, broker, wait))) ERR("cannot unpublish partition %p\n", partition);
}

HRESULT WINAPI VmidlPublishPartitionEx(VMIDL_PARTITION_HANDLE handle, const WCHAR *system_id)
{
    struct publish publish;
    HRESULT hr;

    TRACE("partition %p, system_id %s\n", handle, debugstr_w(system_id));

    if (!handle || (system_id && !vmidl_system_id_is_valid(system_id))) return E_INVALIDARG;
    if (!(publish.partition = partition_from_handle(handle))) return E_HANDLE;
    publish.system_id = system_id;
    if (InterlockedCompareExchange(&publish.partition->publishing, 1, 0))
        hr = HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS);
    else if (SUCCEEDED(hr = mta_run(publish_work, &publish, TRUE)) && FAILED(hr = publish.hr))
        InterlockedExchange(&publish.partition->publishing, 0);
    partition_release(publish.partition);
    return hr;
}

HRESULT WINAPI VmidlPublishPartition(VMIDL_PARTITION_HANDLE handle)
{
    TRACE("partition %p\n", handle);
    return VmidlPublishPartitionEx(handle, NULL);
}
