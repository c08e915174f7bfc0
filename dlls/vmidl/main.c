/*
 * vmidl.dll entry point and the one NTSTATUS -> HRESULT conversion.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vmidl_private.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

HRESULT hresult_from_status(NTSTATUS status)
{
    if (!status) return S_OK;
    if (status == STATUS_NO_MEMORY) return E_OUTOFMEMORY;
    return HRESULT_FROM_WIN32(RtlNtStatusToDosError(status));
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, void *reserved)
{
    TRACE("instance %p, reason %lu, reserved %p\n", instance, reason, reserved);

    switch (reason)
    {
    case DLL_PROCESS_ATTACH:
        DisableThreadLibraryCalls(instance);
        if (__wine_init_unix_call())
        {
            ERR("vmidl.so, the unix half of vmidl.dll, could not be loaded\n");
            return FALSE;
        }
        break;
    }
    return TRUE;
}
