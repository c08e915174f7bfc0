/*
 * PE half of vmidltest.dll; see vmidltest.h.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdarg.h>

#include "ntstatus.h"
#define WIN32_NO_STATUS
#include "windef.h"
#include "winbase.h"
#include "winternl.h"

#include "vmidltest.h"

typedef UINT64 unixlib_handle_t;
extern unixlib_handle_t __wine_unixlib_handle;
extern NTSTATUS (WINAPI *__wine_unix_call_dispatcher)(unixlib_handle_t, unsigned int, void *);
extern NTSTATUS WINAPI __wine_init_unix_call(void);

static HRESULT (WINAPI *delete_on_detach)(void *partition);
static void *detach_partition;
static HRESULT *detach_result;

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, void *reserved)
{
    if (reason == DLL_PROCESS_ATTACH)
    {
        DisableThreadLibraryCalls(instance);
        return !__wine_init_unix_call();
    }
    if (reason == DLL_PROCESS_DETACH && delete_on_detach)
        *detach_result = delete_on_detach(detach_partition);
    return TRUE;
}

/* Has DllMain(DLL_PROCESS_DETACH) delete the partition, whether FreeLibrary
 * or the process's exit unloads the DLL, and store the HRESULT. */
void WINAPI VmidlTestDeleteOnDetach(HRESULT (WINAPI *delete_partition)(void *), void *partition, HRESULT *result);
void WINAPI VmidlTestDeleteOnDetach(HRESULT (WINAPI *delete_partition)(void *), void *partition, HRESULT *result)
{
    delete_on_detach = delete_partition;
    detach_partition = partition;
    detach_result = result;
}

/* Truncates the file behind Wine's back, as another program could. */
NTSTATUS WINAPI VmidlTestTruncateFile(const WCHAR *path, UINT64 size);
NTSTATUS WINAPI VmidlTestTruncateFile(const WCHAR *path, UINT64 size)
{
    char *(CDECL *get_unix_file_name)(const WCHAR *);
    struct vmidltest_truncate_params params = {.size = size};
    char *unix_path;

    get_unix_file_name = (void *)GetProcAddress(GetModuleHandleA("kernel32.dll"), "wine_get_unix_file_name");
    if (!get_unix_file_name || !(unix_path = get_unix_file_name(path))) return STATUS_OBJECT_NAME_NOT_FOUND;
    lstrcpynA(params.path, unix_path, sizeof(params.path));
    HeapFree(GetProcessHeap(), 0, unix_path);
    return __wine_unix_call_dispatcher(__wine_unixlib_handle, unix_truncate_file, &params);
}

NTSTATUS WINAPI VmidlTestGetResources(struct vmidltest_resources *resources);
NTSTATUS WINAPI VmidlTestGetResources(struct vmidltest_resources *resources)
{
    return __wine_unix_call_dispatcher(__wine_unixlib_handle, unix_get_resources, resources);
}

NTSTATUS WINAPI VmidlTestListFds(struct vmidltest_list_fds_params *params);
NTSTATUS WINAPI VmidlTestListFds(struct vmidltest_list_fds_params *params)
{
    return __wine_unix_call_dispatcher(__wine_unixlib_handle, unix_list_fds, params);
}
