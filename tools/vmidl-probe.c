/*
 * vmidl-probe.exe: vmidl-prefix runs it inside a Wine prefix to see whether
 * a program there can use vmidl: load vmidl.dll (and with it its unix half,
 * vmidl.so), then create a KVM partition, which needs read-write access to
 * /dev/kvm.  It prints one line per step and stops at the first that fails;
 * the exit status says which (vmidl-prefix turns it into advice):
 *
 *   0  vmidl is usable
 *   2  vmidl.dll is not in the prefix (LoadLibrary: ERROR_MOD_NOT_FOUND)
 *   3  vmidl.dll is there but its unix half did not load (ERROR_DLL_INIT_FAILED)
 *   4  vmidl.dll did not load for another reason
 *   5  vmidl.dll has no VmidlCreatePartition
 *   6  /dev/kvm cannot be opened read-write (E_ACCESSDENIED)
 *   7  no usable KVM (ERROR_NOT_SUPPORTED)
 *   8  VmidlCreatePartition failed otherwise
 *   9  what device hosts in other processes need is not in the prefix:
 *      vmwpctrl.dll, or the interfaces' proxies (registered by wineboot -u)
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>
#include <string.h>
#include <stdarg.h>

#include <windef.h>
#include <winbase.h>
#include <winreg.h>
#include <winver.h>

#include "vmidlhost.h"

/* A RuntimeId names one partition in the prefix: this one is the probe's,
 * told apart by its process id. */
static const GUID probe_runtime_id = {0x7f1c5a8e, 0x2b4d, 0x4e61, {0x9a, 0x3c, 0x5d, 0x0e, 0x8b, 0x21, 0x6f, 0x47}};

/* The proxy of the newest interface vmidl marshals (IVmidlDeviceServices,
 * SDK 2.1), as vmwpctrl.dll's registration says: a prefix that an older
 * vmidl registered lacks it, and then needs vmidl-prefix install again. */
static const char proxy_key[] = "Interface\\{DE786B53-F664-4C03-887B-ECCA7E70A77B}\\ProxyStubClsid32";

/* Wine marks its builtin PE files with this text after the DOS header. */
static BOOL is_wine_builtin(HMODULE module)
{
    static const char marker[] = "Wine builtin DLL";
    return !memcmp((const char *)module + 0x40, marker, sizeof(marker));
}

static const char *wine_version(void)
{
    const char *(CDECL *pwine_get_version)(void);

    pwine_get_version = (void *)GetProcAddress(GetModuleHandleA("ntdll.dll"), "wine_get_version");
    return pwine_get_version ? pwine_get_version() : NULL;
}

/* "a.b.c" from the module's version resource, or "no version" (a vmidl
 * older than 2.0). */
static const char *module_version(HMODULE module, char *text, size_t size)
{
    const VS_FIXEDFILEINFO *info = NULL;
    const DWORD *data;
    HRSRC resource;
    DWORD length, i;

    snprintf(text, size, "no version");
    if (!(resource = FindResourceW(module, MAKEINTRESOURCEW(VS_VERSION_INFO), (const WCHAR *)RT_VERSION))
            || !(data = LockResource(LoadResource(module, resource))))
        return text;
    length = SizeofResource(module, resource) / sizeof(*data);
    for (i = 0; i < length && !info; i++) if (data[i] == VS_FFI_SIGNATURE) info = (const VS_FIXEDFILEINFO *)&data[i];
    if (info)
        snprintf(text, size, "%lu.%lu.%lu", (unsigned long)HIWORD(info->dwFileVersionMS),
                (unsigned long)LOWORD(info->dwFileVersionMS), (unsigned long)HIWORD(info->dwFileVersionLS));
    return text;
}

int main(void)
{
    HRESULT (WINAPI *pVmidlCreatePartition)(REFGUID, UINT32, VMIDL_PARTITION_HANDLE *);
    HRESULT (WINAPI *pVmidlDeletePartition)(VMIDL_PARTITION_HANDLE);
    VMIDL_PARTITION_HANDLE partition;
    GUID runtime_id = probe_runtime_id;
    char path[MAX_PATH], version_text[32], other_version[32];
    const char *version;
    HMODULE module, vmwpctrl;
    DWORD error;
    HRESULT hr;
    HKEY key;

    setvbuf(stdout, NULL, _IONBF, 0);
    if ((version = wine_version())) printf("wine: %s\n", version);
    else printf("wine: not Wine (no wine_get_version in ntdll.dll)\n");

    if (!(module = LoadLibraryA("vmidl.dll")))
    {
        error = GetLastError();
        if (error == ERROR_MOD_NOT_FOUND)
        {
            printf("vmidl.dll: not found in this prefix (error %lu)\n", error);
            return 2;
        }
        if (error == ERROR_DLL_INIT_FAILED)
        {
            printf("vmidl.dll: found, but it could not start (error %lu)\n", error);
            printf("vmidl.so: its unix half did not load\n");
            return 3;
        }
        printf("vmidl.dll: could not be loaded (error %lu)\n", error);
        return 4;
    }
    if (!GetModuleFileNameA(module, path, sizeof(path))) strcpy(path, "?");
    printf("vmidl.dll: loaded, %s (%s), version %s\n", path,
            is_wine_builtin(module) ? "Wine builtin" : "not a Wine builtin", module_version(module, version_text,
            sizeof(version_text)));
    printf("vmidl.so: loaded\n");

    pVmidlCreatePartition = (void *)GetProcAddress(module, "VmidlCreatePartition");
    pVmidlDeletePartition = (void *)GetProcAddress(module, "VmidlDeletePartition");
    if (!pVmidlCreatePartition || !pVmidlDeletePartition)
    {
        printf("vmidl.dll: has no VmidlCreatePartition: not vmidl's Wine builtin\n");
        return 5;
    }

    if (!(vmwpctrl = LoadLibraryA("vmwpctrl.dll")) || !GetProcAddress(vmwpctrl, "GetVmWorkerProcess"))
    {
        printf("vmwpctrl.dll: not in this prefix (error %lu): drivers in other processes cannot reach a VM worker\n",
                GetLastError());
        return 9;
    }
    printf("vmwpctrl.dll: loaded, version %s\n", module_version(vmwpctrl, other_version, sizeof(other_version)));
    if (strcmp(version_text, other_version))
    {
        printf("vmwpctrl.dll: not the same version as vmidl.dll: a prefix last updated by another vmidl "
                "(vmidl-prefix install)\n");
        return 9;
    }
    if (RegOpenKeyExA(HKEY_CLASSES_ROOT, proxy_key, 0, KEY_READ, &key))
    {
        printf("proxies: not registered in this prefix, or registered by an older vmidl: drivers in other processes "
                "cannot call a VM worker\n");
        return 9;
    }
    RegCloseKey(key);
    printf("proxies: registered\n");

    runtime_id.Data1 ^= GetCurrentProcessId();
    hr = pVmidlCreatePartition(&runtime_id, 1, &partition);
    if (hr == E_ACCESSDENIED)
    {
        printf("/dev/kvm: cannot be opened read-write by this user (E_ACCESSDENIED)\n");
        return 6;
    }
    if (hr == HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED))
    {
        printf("/dev/kvm: no usable KVM: missing, or lacking a capability vmidl needs (ERROR_NOT_SUPPORTED)\n");
        return 7;
    }
    if (FAILED(hr))
    {
        printf("/dev/kvm: VmidlCreatePartition failed with %#lx\n", hr);
        return 8;
    }
    pVmidlDeletePartition(partition);
    printf("/dev/kvm: read-write; a KVM partition was created and deleted\n");
    return 0;
}
