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
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

/* The worker's copy of the caller's handle; NULL stays NULL, so that the
 * method answers it as it would in process. */
static HRESULT duplicate_from_caller(ULONG64 value, HANDLE *handle)
{
    ULONG pid;
    HANDLE process;
    RPC_STATUS status;

    *handle = NULL;
    if (!value) return S_OK;
    if ((status = I_RpcBindingInqLocalClientPID(NULL, &pid)))
    {
        WARN("cannot tell who is calling, status %ld\n", status);
        return E_ACCESSDENIED;
    }
    if (!(process = OpenProcess(PROCESS_DUP_HANDLE, FALSE, pid)))
    {
        WARN("cannot open the calling process %04lx, error %lu\n", pid, GetLastError());
        return E_ACCESSDENIED;
    }
    if (!DuplicateHandle(process, (HANDLE)(ULONG_PTR)value, GetCurrentProcess(), handle, 0, FALSE,
            DUPLICATE_SAME_ACCESS))
    {
        WARN("process %04lx has no handle %#I64x\n", pid, value);
        *handle = NULL;
        CloseHandle(process);
        return E_HANDLE;
    }
    CloseHandle(process);
    return S_OK;
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
        ULONG64 section_value, UINT64 section_offset_pages)
{
    HANDLE section;
    HRESULT hr;

    TRACE("iface %p, section %#I64x\n", iface, section_value);
    if (FAILED(hr = duplicate_from_caller(section_value, &section))) return hr;
    hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(iface, bar, bar_offset_pages, page_count, flags,
            section, section_offset_pages);
    if (section) CloseHandle(section);
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
        FIOV_BAR_SELECTOR bar, UINT64 offset, UINT64 value, UINT64 flags, ULONG64 event_value)
{
    HANDLE event;
    HRESULT hr;

    TRACE("iface %p, event %#I64x\n", iface, event_value);
    if (FAILED(hr = duplicate_from_caller(event_value, &event))) return hr;
    hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(iface, bar, offset, value, flags, event);
    if (event) CloseHandle(event);
    return hr;
}
