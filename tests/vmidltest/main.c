/*
 * PE half of vmidltest.dll; see vmidltest.h.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdarg.h>

#include "windef.h"
#include "winbase.h"
#include "winternl.h"

#include "vmidltest.h"

typedef UINT64 unixlib_handle_t;
extern unixlib_handle_t __wine_unixlib_handle;
extern NTSTATUS (WINAPI *__wine_unix_call_dispatcher)(unixlib_handle_t, unsigned int, void *);
extern NTSTATUS WINAPI __wine_init_unix_call(void);

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, void *reserved)
{
    if (reason == DLL_PROCESS_ATTACH)
    {
        DisableThreadLibraryCalls(instance);
        return !__wine_init_unix_call();
    }
    return TRUE;
}

NTSTATUS WINAPI VmidlTestGetResources(struct vmidltest_resources *resources);
NTSTATUS WINAPI VmidlTestGetResources(struct vmidltest_resources *resources)
{
    return __wine_unix_call_dispatcher(__wine_unixlib_handle, 0, resources);
}
