/*
 * The device's interfaces through a driver in another process.
 *
 * The test process is the VM worker: it publishes its partition and starts
 * a child, the driver, which reaches the partition with GetVmWorkerProcess
 * and gets the device through IVmVirtualDeviceAccess::GetDevice, as WSL's
 * device hosts do.  The test then calls a local object whose methods the
 * child makes, one by one, on its proxies: every call crosses to the child
 * and back into the worker, handles included (the test's handle is
 * duplicated into the child, which passes its own copy on).  So the same
 * test code checks the same HRESULTs and guest observations either way.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>

#define COBJMACROS
#define CONST_VTABLE
#include "wine/test.h"
#include "objbase.h"
#include "vmfiov.h"
#include "vmidl_test.h"

enum request_code
{
    REQUEST_CREATE_RANGE,
    REQUEST_DESTROY_RANGE,
    REQUEST_REGISTER_DOORBELL,
    REQUEST_UNREGISTER_DOORBELL,
};

struct request
{
    UINT32 code;
    UINT32 bar;
    UINT64 args[4];
    UINT64 handle;          /* the child's copy */
};

/* A handle value that names nothing in the child, for a handle that names
 * nothing here: the worker then finds nothing in the child either. */
#define NO_SUCH_HANDLE 0x7ffffff0
/* A handle the test calls closed: the child passes one it closed itself
 * (one closed here might name something again by the time it crosses). */
#define CLOSED_HANDLE 0x7ffffff4

HANDLE remote_driver_closed_handle(void)
{
    return (HANDLE)(ULONG_PTR)CLOSED_HANDLE;
}

/* --- the child ---------------------------------------------------------- */

static HRESULT (WINAPI *pGetVmWorkerProcess)(REFGUID, REFIID, IUnknown **);

static HRESULT serve_request(IVmFiovGuestMmioMappings *mappings, IVmFiovGuestMemoryFastNotification *notification,
        const struct request *request)
{
    HANDLE handle = (HANDLE)(ULONG_PTR)request->handle;
    const UINT64 *a = request->args;
    HRESULT hr = E_FAIL;

    if (request->handle == CLOSED_HANDLE)
    {
        handle = CreateEventA(NULL, FALSE, FALSE, NULL);
        CloseHandle(handle);
    }
    switch (request->code)
    {
    case REQUEST_CREATE_RANGE:
        hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, request->bar, a[0], a[1], a[2], handle, a[3]);
        break;
    case REQUEST_DESTROY_RANGE:
        hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(mappings, request->bar, a[0]);
        break;
    case REQUEST_REGISTER_DOORBELL:
        hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(notification, request->bar, a[0], a[1], a[2], handle);
        break;
    case REQUEST_UNREGISTER_DOORBELL:
        hr = IVmFiovGuestMemoryFastNotification_UnregisterDoorbell(notification, request->bar, a[0], a[1], a[2]);
        break;
    }
    /* The handles the test duplicated into this process are the child's to close. */
    if (handle && handle != INVALID_HANDLE_VALUE && request->handle != NO_SUCH_HANDLE
            && request->handle != CLOSED_HANDLE)
        CloseHandle(handle);
    return hr;
}

/* Child: "vmidl_test.exe TEST driver RUNTIME_ID INSTANCE_ID".  Serves the
 * requests on stdin, answering each HRESULT on stdout, until stdin ends. */
BOOL remote_driver_child(void)
{
    IVmFiovGuestMemoryFastNotification *notification;
    IVmFiovGuestMmioMappings *mappings;
    IVmVirtualDeviceAccess *access;
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE), out = GetStdHandle(STD_OUTPUT_HANDLE);
    struct request request;
    GUID runtime_id, instance;
    WCHAR buffer[64];
    IUnknown *device;
    char **argv;
    DWORD size;
    HRESULT hr;

    if (winetest_get_mainargs(&argv) < 5 || strcmp(argv[2], "driver")) return FALSE;

    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    MultiByteToWideChar(CP_ACP, 0, argv[3], -1, buffer, ARRAYSIZE(buffer));
    CLSIDFromString(buffer, &runtime_id);
    MultiByteToWideChar(CP_ACP, 0, argv[4], -1, buffer, ARRAYSIZE(buffer));
    CLSIDFromString(buffer, &instance);

    pGetVmWorkerProcess = (void *)GetProcAddress(LoadLibraryA("vmwpctrl.dll"), "GetVmWorkerProcess");
    if (!pGetVmWorkerProcess) ExitProcess(1);
    if (FAILED(hr = pGetVmWorkerProcess(&runtime_id, &IID_IVmVirtualDeviceAccess, (IUnknown **)&access)))
        ExitProcess(2);
    if (FAILED(hr = IVmVirtualDeviceAccess_GetDevice(access, &FLEXIO_DEVICE_ID, &instance, &device)))
        ExitProcess(3);
    IUnknown_QueryInterface(device, &IID_IVmFiovGuestMmioMappings, (void **)&mappings);
    IUnknown_QueryInterface(device, &IID_IVmFiovGuestMemoryFastNotification, (void **)&notification);
    IUnknown_Release(device);

    hr = S_OK;
    WriteFile(out, &hr, sizeof(hr), &size, NULL);   /* ready */
    while (ReadFile(in, &request, sizeof(request), &size, NULL) && size == sizeof(request))
    {
        hr = serve_request(mappings, notification, &request);
        WriteFile(out, &hr, sizeof(hr), &size, NULL);
    }

    IVmFiovGuestMemoryFastNotification_Release(notification);
    IVmFiovGuestMmioMappings_Release(mappings);
    IVmVirtualDeviceAccess_Release(access);
    CoUninitialize();
    ExitProcess(0);
}

/* --- the test's side ------------------------------------------------------- */

struct remote_driver
{
    IVmFiovGuestMmioMappings IVmFiovGuestMmioMappings_iface;
    IVmFiovGuestMemoryFastNotification IVmFiovGuestMemoryFastNotification_iface;
    LONG refcount;
    HANDLE process;
    HANDLE requests, answers;
};

static inline struct remote_driver *impl_from_IVmFiovGuestMmioMappings(IVmFiovGuestMmioMappings *iface)
{
    return CONTAINING_RECORD(iface, struct remote_driver, IVmFiovGuestMmioMappings_iface);
}

static inline struct remote_driver *impl_from_IVmFiovGuestMemoryFastNotification(IVmFiovGuestMemoryFastNotification *iface)
{
    return CONTAINING_RECORD(iface, struct remote_driver, IVmFiovGuestMemoryFastNotification_iface);
}

/* The child's copy of a handle of this process. */
static UINT64 handle_for_child(struct remote_driver *driver, HANDLE handle)
{
    HANDLE copy;

    if (!handle || handle == INVALID_HANDLE_VALUE || handle == remote_driver_closed_handle()) return (ULONG_PTR)handle;
    if (!DuplicateHandle(GetCurrentProcess(), handle, driver->process, &copy, 0, FALSE, DUPLICATE_SAME_ACCESS))
        return NO_SUCH_HANDLE;
    return (ULONG_PTR)copy;
}

static HRESULT remote_call(struct remote_driver *driver, UINT32 code, UINT32 bar, UINT64 a0, UINT64 a1, UINT64 a2,
        UINT64 a3, HANDLE handle)
{
    struct request request = {code, bar, {a0, a1, a2, a3}};
    HRESULT hr = E_FAIL;
    DWORD size;

    request.handle = handle_for_child(driver, handle);
    if (!WriteFile(driver->requests, &request, sizeof(request), &size, NULL)
            || !ReadFile(driver->answers, &hr, sizeof(hr), &size, NULL) || size != sizeof(hr))
        ok(0, "the driver process is gone\n");
    return hr;
}

static HRESULT WINAPI remote_driver_QueryInterface(IVmFiovGuestMmioMappings *iface, REFIID riid, void **out)
{
    struct remote_driver *driver = impl_from_IVmFiovGuestMmioMappings(iface);

    if (!out) return E_POINTER;
    if (IsEqualIID(riid, &IID_IVmFiovGuestMmioMappings) || IsEqualIID(riid, &IID_IUnknown))
        *out = &driver->IVmFiovGuestMmioMappings_iface;
    else if (IsEqualIID(riid, &IID_IVmFiovGuestMemoryFastNotification))
        *out = &driver->IVmFiovGuestMemoryFastNotification_iface;
    else
    {
        *out = NULL;
        return E_NOINTERFACE;
    }
    IUnknown_AddRef((IUnknown *)*out);
    return S_OK;
}

static ULONG WINAPI remote_driver_AddRef(IVmFiovGuestMmioMappings *iface)
{
    struct remote_driver *driver = impl_from_IVmFiovGuestMmioMappings(iface);
    return InterlockedIncrement(&driver->refcount);
}

/* The child releases its proxies and ends: what it held goes with them. */
static ULONG WINAPI remote_driver_Release(IVmFiovGuestMmioMappings *iface)
{
    struct remote_driver *driver = impl_from_IVmFiovGuestMmioMappings(iface);
    ULONG refcount = InterlockedDecrement(&driver->refcount);
    DWORD code = ~0u;

    if (!refcount)
    {
        CloseHandle(driver->requests);
        ok(!WaitForSingleObject(driver->process, 20000), "the driver process does not end\n");
        GetExitCodeProcess(driver->process, &code);
        ok(!code, "the driver process exited with %lu\n", code);
        CloseHandle(driver->answers);
        CloseHandle(driver->process);
        free(driver);
    }
    return refcount;
}

static HRESULT WINAPI remote_driver_CreateSectionBackedMmioRange(IVmFiovGuestMmioMappings *iface,
        FIOV_BAR_SELECTOR bar, ULONG64 bar_offset_pages, UINT64 page_count, FiovMmioMappingFlags flags,
        HANDLE section, UINT64 section_offset_pages)
{
    return remote_call(impl_from_IVmFiovGuestMmioMappings(iface), REQUEST_CREATE_RANGE, bar, bar_offset_pages,
            page_count, flags, section_offset_pages, section);
}

static HRESULT WINAPI remote_driver_DestroySectionBackedMmioRange(IVmFiovGuestMmioMappings *iface,
        FIOV_BAR_SELECTOR bar, ULONG64 bar_offset_pages)
{
    return remote_call(impl_from_IVmFiovGuestMmioMappings(iface), REQUEST_DESTROY_RANGE, bar, bar_offset_pages,
            0, 0, 0, NULL);
}

static const IVmFiovGuestMmioMappingsVtbl remote_driver_mmio_mappings_vtbl =
{
    remote_driver_QueryInterface,
    remote_driver_AddRef,
    remote_driver_Release,
    remote_driver_CreateSectionBackedMmioRange,
    remote_driver_DestroySectionBackedMmioRange,
};

static HRESULT WINAPI remote_driver_fn_QueryInterface(IVmFiovGuestMemoryFastNotification *iface, REFIID riid, void **out)
{
    struct remote_driver *driver = impl_from_IVmFiovGuestMemoryFastNotification(iface);
    return remote_driver_QueryInterface(&driver->IVmFiovGuestMmioMappings_iface, riid, out);
}

static ULONG WINAPI remote_driver_fn_AddRef(IVmFiovGuestMemoryFastNotification *iface)
{
    struct remote_driver *driver = impl_from_IVmFiovGuestMemoryFastNotification(iface);
    return remote_driver_AddRef(&driver->IVmFiovGuestMmioMappings_iface);
}

static ULONG WINAPI remote_driver_fn_Release(IVmFiovGuestMemoryFastNotification *iface)
{
    struct remote_driver *driver = impl_from_IVmFiovGuestMemoryFastNotification(iface);
    return remote_driver_Release(&driver->IVmFiovGuestMmioMappings_iface);
}

static HRESULT WINAPI remote_driver_RegisterDoorbell(IVmFiovGuestMemoryFastNotification *iface,
        FIOV_BAR_SELECTOR bar, UINT64 offset, UINT64 value, UINT64 flags, HANDLE event)
{
    return remote_call(impl_from_IVmFiovGuestMemoryFastNotification(iface), REQUEST_REGISTER_DOORBELL, bar, offset,
            value, flags, 0, event);
}

static HRESULT WINAPI remote_driver_UnregisterDoorbell(IVmFiovGuestMemoryFastNotification *iface,
        FIOV_BAR_SELECTOR bar, UINT64 offset, UINT64 value, UINT64 flags)
{
    return remote_call(impl_from_IVmFiovGuestMemoryFastNotification(iface), REQUEST_UNREGISTER_DOORBELL, bar, offset,
            value, flags, 0, NULL);
}

static const IVmFiovGuestMemoryFastNotificationVtbl remote_driver_fast_notification_vtbl =
{
    remote_driver_fn_QueryInterface,
    remote_driver_fn_AddRef,
    remote_driver_fn_Release,
    remote_driver_RegisterDoorbell,
    remote_driver_UnregisterDoorbell,
};

static void guid_string(const GUID *guid, char *buffer)
{
    WCHAR string[64];

    StringFromGUID2(guid, string, ARRAYSIZE(string));
    WideCharToMultiByte(CP_ACP, 0, string, -1, buffer, 64, NULL, NULL);
}

/* Publishes the guest's partition and starts the driver process; *iface
 * is the device's interface iid through it. */
HRESULT remote_driver_start(struct guest *guest, const GUID *instance, REFIID iid, void **iface)
{
    SECURITY_ATTRIBUTES inherit = {sizeof(inherit), NULL, TRUE};
    STARTUPINFOA startup = {sizeof(startup)};
    HANDLE child_in, child_out, requests, answers;
    char cmdline[MAX_PATH + 200], id[64], instance_id[64], **argv;
    struct remote_driver *driver;
    PROCESS_INFORMATION info;
    DWORD size;
    HRESULT hr;

    if (FAILED(hr = pVmidlPublishPartition(guest->partition))) return hr;

    CreatePipe(&child_in, &requests, &inherit, 0);
    CreatePipe(&answers, &child_out, &inherit, 0);
    SetHandleInformation(requests, HANDLE_FLAG_INHERIT, 0);
    SetHandleInformation(answers, HANDLE_FLAG_INHERIT, 0);
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdInput = child_in;
    startup.hStdOutput = child_out;
    startup.hStdError = GetStdHandle(STD_ERROR_HANDLE);

    winetest_get_mainargs(&argv);
    guid_string(&guest->runtime_id, id);
    guid_string(instance, instance_id);
    sprintf(cmdline, "\"%s\" %s driver %s %s", argv[0], argv[1], id, instance_id);
    if (!CreateProcessA(NULL, cmdline, NULL, NULL, TRUE, 0, NULL, NULL, &startup, &info))
        hr = HRESULT_FROM_WIN32(GetLastError());
    CloseHandle(child_in);
    CloseHandle(child_out);
    if (FAILED(hr)) goto failed;
    CloseHandle(info.hThread);

    if (!ReadFile(answers, &hr, sizeof(hr), &size, NULL) || size != sizeof(hr))
    {
        DWORD code = 0;
        WaitForSingleObject(info.hProcess, 10000);
        GetExitCodeProcess(info.hProcess, &code);
        hr = HRESULT_FROM_WIN32(ERROR_PROCESS_ABORTED);
        trace("the driver process failed to start, exit code %lu\n", code);
    }
    if (FAILED(hr))
    {
        CloseHandle(info.hProcess);
        goto failed;
    }

    driver = calloc(1, sizeof(*driver));
    driver->IVmFiovGuestMmioMappings_iface.lpVtbl = &remote_driver_mmio_mappings_vtbl;
    driver->IVmFiovGuestMemoryFastNotification_iface.lpVtbl = &remote_driver_fast_notification_vtbl;
    driver->refcount = 1;
    driver->process = info.hProcess;
    driver->requests = requests;
    driver->answers = answers;
    hr = remote_driver_QueryInterface(&driver->IVmFiovGuestMmioMappings_iface, iid, iface);
    remote_driver_Release(&driver->IVmFiovGuestMmioMappings_iface);
    return hr;

failed:
    CloseHandle(requests);
    CloseHandle(answers);
    return hr;
}
