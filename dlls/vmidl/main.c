/*
 * vmidl.dll's entry point and the one NTSTATUS -> HRESULT conversion.
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
    /* Their Win32 codes say nothing of what the host API means by them. */
    if (status == STATUS_INVALID_DEVICE_STATE) return HRESULT_FROM_WIN32(ERROR_INVALID_STATE);
    if (status == STATUS_INVALID_ADDRESS) return HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS);
    return HRESULT_FROM_WIN32(RtlNtStatusToDosError(status));
}

/* ole32 and rpcrt4 are delay imports (dlltool -y), whose slots lie in the
 * import address table.  Binutils 2.44 (Debian 13) links that table
 * read-only, and Wine's LdrResolveDelayLoadedAPI stores into a slot without
 * unprotecting it as Windows' loader does: give the table the write access
 * that older binutils leave it, before any delay-loaded call. */
static void make_delay_import_slots_writable(HINSTANCE instance)
{
    const IMAGE_DOS_HEADER *dos = (const IMAGE_DOS_HEADER *)instance;
    const IMAGE_NT_HEADERS *nt = (const IMAGE_NT_HEADERS *)((const BYTE *)instance + dos->e_lfanew);
    const IMAGE_DATA_DIRECTORY *iat = &nt->OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_IAT];
    DWORD old;

    if (iat->VirtualAddress && iat->Size
            && !VirtualProtect((BYTE *)instance + iat->VirtualAddress, iat->Size, PAGE_READWRITE, &old))
        ERR("cannot make the import address table writable, error %lu\n", GetLastError());
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, void *reserved)
{
    NTSTATUS status;

    TRACE("instance %p, reason %lu, reserved %p\n", instance, reason, reserved);

    switch (reason)
    {
    case DLL_PROCESS_ATTACH:
        DisableThreadLibraryCalls(instance);
        make_delay_import_slots_writable(instance);
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
