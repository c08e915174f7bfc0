/*
 * vmwpctrl.dll: how a device host reaches the VM worker of a virtual
 * machine, as WSL's DeviceHostProxy does on Windows:
 *
 *   GetVmWorkerProcess(RuntimeId, &IID_IVmVirtualDeviceAccess, &unknown)
 *
 * A partition VmidlPublishPartition made reachable (in this process or in
 * another of the prefix) answers with an IVmVirtualDeviceAccess of the
 * caller's own; in another process it is a proxy, and every call on it and
 * on the devices it gives runs in the worker.  The calling thread must be
 * in a COM apartment, as on Windows.
 *
 * Errors: E_POINTER for a NULL Object; E_INVALIDARG for a NULL GUID;
 * HRESULT_FROM_WIN32(ERROR_NOT_FOUND) when no published partition has that
 * RuntimeId; CO_E_NOTINITIALIZED when the thread is in no apartment;
 * E_NOINTERFACE when the worker's object does not answer riid;
 * HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE) when the worker has just
 * ended; HRESULT_FROM_WIN32(ERROR_NO_SYSTEM_RESOURCES) when 63 other
 * processes are connected to the worker's (one per partition it reached).
 * *Object is NULL whenever the call fails.
 *
 * The proxies and stubs of the interfaces live here too (marshal.c and
 * widl's vmidl_ps.idl), so that vmidl.dll loads no COM runtime unless a
 * partition is published.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdarg.h>

#define COBJMACROS
#include "windef.h"
#include "winbase.h"
#include "objbase.h"
#include "rpcproxy.h"
#include "vmidl_worker.h"
#include "vmwpctrl.h"
#include "vmidl_names.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

/* The marshaled front door in a published worker's section, checked
 * against the view: a section still being written, or not a worker's, is
 * ERROR_NOT_FOUND. */
static HRESULT read_section(const struct vmidl_published *published, HGLOBAL *ret)
{
    UINT32 size;
    HGLOBAL global;

    if (!vmidl_published_size(published, &size)) return HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
    if (!(global = GlobalAlloc(GMEM_MOVEABLE, size))) return E_OUTOFMEMORY;
    memcpy(GlobalLock(global), published->data, size);
    GlobalUnlock(global);
    *ret = global;
    return S_OK;
}

/* The worker's front door, from the marshaled form in its named section. */
static HRESULT unmarshal_worker(const GUID *runtime_id, IVmidlWorker **worker)
{
    WCHAR name[VMIDL_NAME_LENGTH];
    const struct vmidl_published *published;
    IStream *stream;
    HANDLE section;
    HGLOBAL global;
    HRESULT hr;

    *worker = NULL;
    vmidl_worker_section_name(name, runtime_id);
    if (!(section = OpenFileMappingW(FILE_MAP_READ, FALSE, name)))
    {
        WARN("no published partition %s\n", debugstr_guid(runtime_id));
        return HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
    }
    published = MapViewOfFile(section, FILE_MAP_READ, 0, 0, 0);
    CloseHandle(section);
    if (!published) return HRESULT_FROM_WIN32(GetLastError());
    hr = read_section(published, &global);
    UnmapViewOfFile(published);
    if (FAILED(hr)) return hr;

    if (FAILED(hr = CreateStreamOnHGlobal(global, TRUE, &stream)))
    {
        GlobalFree(global);
        return hr;
    }
    hr = CoUnmarshalInterface(stream, &IID_IVmidlWorker, (void **)worker);
    IStream_Release(stream);
    /* A front door that was disconnected unmarshals to S_FALSE and NULL. */
    if (SUCCEEDED(hr) && !*worker) hr = HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
    return hr;
}

HRESULT WINAPI GetVmWorkerProcess(REFGUID runtime_id, REFIID riid, IUnknown **object)
{
    IVmidlWorker *worker;
    HRESULT hr;

    TRACE("runtime_id %s, riid %s, object %p\n", debugstr_guid(runtime_id), debugstr_guid(riid), object);

    if (!object) return E_POINTER;
    *object = NULL;
    if (!runtime_id || !riid) return E_INVALIDARG;

    if (FAILED(hr = unmarshal_worker(runtime_id, &worker))) return hr;
    hr = IVmidlWorker_Connect(worker, riid, object);
    IVmidlWorker_Release(worker);
    if (FAILED(hr)) *object = NULL;
    else if (!*object) hr = E_NOINTERFACE;
    return hr;
}

/* The factory of the proxies and stubs (vmidl_ps.idl, with marshal.c),
 * from the dlldata.c widl writes. */
extern HRESULT WINAPI vmidl_ps_DllGetClassObject(REFCLSID clsid, REFIID riid, void **out);
extern HRESULT WINAPI vmidl_ps_DllCanUnloadNow(void);

HRESULT WINAPI DllGetClassObject(REFCLSID clsid, REFIID riid, void **out)
{
    TRACE("clsid %s, riid %s, out %p\n", debugstr_guid(clsid), debugstr_guid(riid), out);

    if (IsEqualCLSID(clsid, &CLSID_PSFactoryBuffer)) return vmidl_ps_DllGetClassObject(clsid, riid, out);
    *out = NULL;
    return CLASS_E_CLASSNOTAVAILABLE;
}

HRESULT WINAPI DllCanUnloadNow(void)
{
    return vmidl_ps_DllCanUnloadNow();
}

/* The registration widl made for vmidl_ps.idl (the same wineboot applies):
 * ProxyStubClsid32 of each marshaled interface, and the factory's CLSID. */
HRESULT WINAPI DllRegisterServer(void);
HRESULT WINAPI DllUnregisterServer(void);

HRESULT WINAPI DllRegisterServer(void)
{
    TRACE("\n");
    return __wine_register_resources();
}

HRESULT WINAPI DllUnregisterServer(void)
{
    TRACE("\n");
    return __wine_unregister_resources();
}
