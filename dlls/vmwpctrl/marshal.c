/*
 * The glue widl cannot write: the two methods that take a HANDLE cross
 * processes as the handle's value in the caller's process, and the worker
 * duplicates it out of the process that the RPC runtime says is calling:
 * never out of one a caller names.  Everything else about marshaling is
 * widl's (vmidl_ps.idl).
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdarg.h>

#define COBJMACROS
#include "windef.h"
#include "winbase.h"
#include "objbase.h"
#include "rpc.h"
#include "vmfiov.h"
#include "vmidl_worker.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

/* The calling process, from the RPC runtime (never from the caller's word),
 * opened to duplicate its handles out of it. */
static HRESULT open_caller(HANDLE *process)
{
    RPC_STATUS status;
    ULONG pid;

    if ((status = I_RpcBindingInqLocalClientPID(NULL, &pid)))
    {
        WARN("cannot tell who is calling, status %ld\n", status);
        return E_ACCESSDENIED;
    }
    if (!(*process = OpenProcess(PROCESS_DUP_HANDLE, FALSE, pid)))
    {
        WARN("cannot open the calling process %04lx, error %lu\n", pid, GetLastError());
        return E_ACCESSDENIED;
    }
    return S_OK;
}

/* The view in the worker takes the handle's value and the process it is
 * a value in: it checks the other arguments first, as the same call in
 * process does, and only then duplicates it. */
static HRESULT get_handles(IUnknown *iface, IVmidlDeviceHandles **handles, HANDLE *process)
{
    HRESULT hr;

    if (FAILED(hr = IUnknown_QueryInterface(iface, &IID_IVmidlDeviceHandles, (void **)handles)))
    {
        ERR("%p is not a device view of vmidl's\n", iface);
        return hr;
    }
    if (FAILED(hr = open_caller(process))) IVmidlDeviceHandles_Release(*handles);
    return hr;
}

HRESULT CALLBACK IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange_Proxy(IVmFiovGuestMmioMappings *iface,
        FIOV_BAR_SELECTOR bar, ULONG64 bar_offset_pages, UINT64 page_count, FiovMmioMappingFlags flags,
        HANDLE section, UINT64 section_offset_pages)
{
    TRACE("iface %p, section %p\n", iface, section);
    return IVmFiovGuestMmioMappings_RemoteCreateSectionBackedMmioRange_Proxy(iface, bar, bar_offset_pages,
            page_count, flags, (ULONG_PTR)section, section_offset_pages);
}

HRESULT __RPC_STUB IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange_Stub(IVmFiovGuestMmioMappings *iface,
        FIOV_BAR_SELECTOR bar, ULONG64 bar_offset_pages, UINT64 page_count, FiovMmioMappingFlags flags,
        ULONG64 section, UINT64 section_offset_pages)
{
    IVmidlDeviceHandles *handles;
    HANDLE process;
    HRESULT hr;

    TRACE("iface %p, section %#I64x\n", iface, section);
    if (FAILED(hr = get_handles((IUnknown *)iface, &handles, &process))) return hr;
    hr = IVmidlDeviceHandles_CreateSectionBackedMmioRange(handles, bar, bar_offset_pages, page_count, flags,
            process, section, section_offset_pages);
    CloseHandle(process);
    IVmidlDeviceHandles_Release(handles);
    return hr;
}

HRESULT CALLBACK IVmFiovGuestMemoryFastNotification_RegisterDoorbell_Proxy(IVmFiovGuestMemoryFastNotification *iface,
        FIOV_BAR_SELECTOR bar, UINT64 offset, UINT64 value, UINT64 flags, HANDLE event)
{
    TRACE("iface %p, event %p\n", iface, event);
    return IVmFiovGuestMemoryFastNotification_RemoteRegisterDoorbell_Proxy(iface, bar, offset, value, flags,
            (ULONG_PTR)event);
}

HRESULT __RPC_STUB IVmFiovGuestMemoryFastNotification_RegisterDoorbell_Stub(IVmFiovGuestMemoryFastNotification *iface,
        FIOV_BAR_SELECTOR bar, UINT64 offset, UINT64 value, UINT64 flags, ULONG64 event)
{
    IVmidlDeviceHandles *handles;
    HANDLE process;
    HRESULT hr;

    TRACE("iface %p, event %#I64x\n", iface, event);
    if (FAILED(hr = get_handles((IUnknown *)iface, &handles, &process))) return hr;
    hr = IVmidlDeviceHandles_RegisterDoorbell(handles, bar, offset, value, flags, process, event);
    CloseHandle(process);
    IVmidlDeviceHandles_Release(handles);
    return hr;
}
