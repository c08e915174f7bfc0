/*
 * vmidl.dll entry points, the proxy/stub factory of what it marshals, and
 * the one NTSTATUS -> HRESULT conversion.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vmidl_private.h"
#include "objbase.h"
#include "rpcproxy.h"
#include "vmidl_worker.h"
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
    NTSTATUS status;

    TRACE("instance %p, reason %lu, reserved %p\n", instance, reason, reserved);

    switch (reason)
    {
    case DLL_PROCESS_ATTACH:
        DisableThreadLibraryCalls(instance);
        if ((status = __wine_init_unix_call()))
        {
            /* Without it LoadLibrary fails with ERROR_DLL_INIT_FAILED, which
             * says nothing to a user: say why, whatever WINEDEBUG says. */
            MESSAGE("vmidl: cannot load vmidl.so, the unix half of vmidl.dll (status %#lx): install both halves "
                    "into Wine's x86_64-windows and x86_64-unix directories\n", status);
            return FALSE;
        }
        break;
    }
    return TRUE;
}

/* From the dlldata.c widl writes for vmidl_ps.idl. */
extern HRESULT WINAPI vmidl_ps_DllGetClassObject(REFCLSID clsid, REFIID riid, void **out);

HRESULT WINAPI DllGetClassObject(REFCLSID clsid, REFIID riid, void **out)
{
    TRACE("clsid %s, riid %s, out %p\n", debugstr_guid(clsid), debugstr_guid(riid), out);

    if (IsEqualCLSID(clsid, &CLSID_PSFactoryBuffer)) return vmidl_ps_DllGetClassObject(clsid, riid, out);
    *out = NULL;
    return CLASS_E_CLASSNOTAVAILABLE;
}

/* Its threads and its unix half stay for the life of the process. */
HRESULT WINAPI DllCanUnloadNow(void)
{
    return S_FALSE;
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
