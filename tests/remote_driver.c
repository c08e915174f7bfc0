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
 * tests/crossproc.c asks for more: the child then behaves as a driver of
 * its own, with a section it made and an event it waits on (see enum
 * remote_request in vmidl_test.h).
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
#include "child.h"
#include "demo/pci_device.h"

struct request
{
    UINT32 code;            /* enum remote_request */
    UINT32 bar;
    UINT64 args[4];
    UINT64 handle;          /* the child's copy, or the test's own value as it is */
    BOOL raw_handle;        /* the latter */
};

struct answer
{
    HRESULT hr;
    UINT64 value;
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

/* The child's own section (a view of it) and doorbell event. */
static UINT64 *own_view;
static HANDLE own_event;
static LONG own_wakes;

/* Acknowledges each wake in the section, where the guest waits for it. */
static DWORD WINAPI own_doorbell_proc(void *arg)
{
    while (!WaitForSingleObject(own_event, INFINITE))
    {
        InterlockedIncrement(&own_wakes);
        if (own_view) ((volatile UINT64 *)own_view)[REMOTE_DRIVER_ACK_OFFSET / 8] = own_wakes;
    }
    return 1;
}

static HRESULT create_own_range(IVmFiovGuestMmioMappings *mappings, FIOV_BAR_SELECTOR bar, UINT64 bar_offset_pages,
        UINT64 pages, unsigned int tag)
{
    HANDLE section = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, pages * 0x1000, NULL);
    unsigned int i;
    HRESULT hr;

    if (!section || !(own_view = MapViewOfFile(section, FILE_MAP_WRITE, 0, 0, 0)))
        return HRESULT_FROM_WIN32(GetLastError());
    for (i = 0; i < pages * 0x1000 / 8; i++) own_view[i] = section_pattern(tag, i / 512, i % 512);
    own_view[REMOTE_DRIVER_ACK_OFFSET / 8] = 0;
    hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, bar, bar_offset_pages, pages,
            FiovMmioMappingFlagWriteable, section, 0);
    /* The worker holds the section from now on. */
    CloseHandle(section);
    return hr;
}

static HRESULT register_own_doorbell(IVmFiovGuestMemoryFastNotification *notification, FIOV_BAR_SELECTOR bar,
        UINT64 offset, UINT64 value, UINT64 flags)
{
    HANDLE thread;

    if (!own_event)
    {
        own_event = CreateEventA(NULL, FALSE, FALSE, NULL);
        if (!(thread = CreateThread(NULL, 0, own_doorbell_proc, NULL, 0, NULL)))
            return HRESULT_FROM_WIN32(GetLastError());
        CloseHandle(thread);
    }
    return IVmFiovGuestMemoryFastNotification_RegisterDoorbell(notification, bar, offset, value, flags, own_event);
}

static struct pci_engine pci_engine;

/* vmidl.dll's device services, loaded only for the requests that use them:
 * a driver of the FlexibleIov interfaces alone needs nothing but vmwpctrl. */
static BOOL load_host_api(void)
{
    return pVmidlDeliverMsi || guest_load_host_api();
}

static HRESULT copy_guest_memory(IUnknown *device, UINT64 gpa, UINT64 size, BOOL write)
{
    BYTE *buffer = malloc(size ? size : 1);
    HRESULT hr;

    memset(buffer, 0x5a, size);
    hr = write ? pVmidlWriteGuestMemory(device, gpa, buffer, size) : pVmidlReadGuestMemory(device, gpa, buffer, size);
    free(buffer);
    return hr;
}

static HRESULT probe_aperture(IUnknown *device, UINT64 gpa, UINT64 size, BOOL write_protected, UINT64 *first)
{
    UINT64 *aperture;
    HRESULT hr;

    if (FAILED(hr = pVmidlCreateGuestMemoryAperture(device, gpa, size, write_protected, (void **)&aperture))) return hr;
    *first = *aperture;
    return pVmidlDestroyGuestMemoryAperture(device, aperture);
}

/* What the child got the device through, to get it again. */
static IVmVirtualDeviceAccess *child_access;
static GUID child_instance;

/* Releases the device's proxies, the last references, on a thread of
 * its own, while the worker is free to go on. */
static DWORD WINAPI release_proc(void *arg)
{
    IUnknown **proxies = arg;

    IUnknown_Release(proxies[0]);
    IUnknown_Release(proxies[1]);
    free(proxies);
    return 0;
}

static HRESULT release_async(IVmFiovGuestMmioMappings **mappings, IVmFiovGuestMemoryFastNotification **notification)
{
    IUnknown **proxies = malloc(2 * sizeof(*proxies));
    HANDLE thread;

    proxies[0] = (IUnknown *)*mappings;
    proxies[1] = (IUnknown *)*notification;
    *mappings = NULL;
    *notification = NULL;
    if (!(thread = CreateThread(NULL, 0, release_proc, proxies, 0, NULL))) return HRESULT_FROM_WIN32(GetLastError());
    CloseHandle(thread);
    return S_OK;
}

/* count one-page ranges of one section of its own from page first on. */
static HRESULT create_many_ranges(IVmFiovGuestMmioMappings *mappings, UINT32 bar, UINT64 first, UINT64 count)
{
    HANDLE section = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x1000, NULL);
    HRESULT hr = S_OK;
    UINT64 i;

    for (i = 0; i < count && SUCCEEDED(hr); i++)
        hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, bar, first + i, 1,
                FiovMmioMappingFlagNone, section, 0);
    CloseHandle(section);
    return hr;
}

/* The device again, as at the start, and a doorbell of its own on it. */
static HRESULT get_device_again(IVmFiovGuestMmioMappings **mappings, IVmFiovGuestMemoryFastNotification **notification,
        UINT32 bar, UINT64 offset)
{
    IUnknown *device;
    HRESULT hr;

    if (FAILED(hr = IVmVirtualDeviceAccess_GetDevice(child_access, &FLEXIO_DEVICE_ID, &child_instance, &device)))
        return hr;
    IUnknown_QueryInterface(device, &IID_IVmFiovGuestMmioMappings, (void **)mappings);
    IUnknown_QueryInterface(device, &IID_IVmFiovGuestMemoryFastNotification, (void **)notification);
    IUnknown_Release(device);
    return register_own_doorbell(*notification, bar, offset, 0, SIZE_QWORD | ANY_VALUE);
}

static struct answer serve_request(IVmFiovGuestMmioMappings **mappings_ptr,
        IVmFiovGuestMemoryFastNotification **notification_ptr, const struct request *request)
{
    IVmFiovGuestMmioMappings *mappings = *mappings_ptr;
    IVmFiovGuestMemoryFastNotification *notification = *notification_ptr;
    HANDLE handle = (HANDLE)(ULONG_PTR)request->handle;
    const UINT64 *a = request->args;
    struct answer answer = {E_FAIL};
    DWORD info;

    if (request->handle == CLOSED_HANDLE)
    {
        handle = CreateEventA(NULL, FALSE, FALSE, NULL);
        CloseHandle(handle);
    }
    switch (request->code)
    {
    case REMOTE_CREATE_RANGE:
        answer.hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, request->bar, a[0], a[1], a[2],
                handle, a[3]);
        break;
    case REMOTE_DESTROY_RANGE:
        answer.hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(mappings, request->bar, a[0]);
        break;
    case REMOTE_REGISTER_DOORBELL:
        answer.hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(notification, request->bar, a[0], a[1], a[2],
                handle);
        /* What the value the test passed as it is names here, if anything. */
        answer.value = GetHandleInformation(handle, &info);
        break;
    case REMOTE_UNREGISTER_DOORBELL:
        answer.hr = IVmFiovGuestMemoryFastNotification_UnregisterDoorbell(notification, request->bar, a[0], a[1], a[2]);
        break;
    case REMOTE_OWN_RANGE:
        answer.hr = create_own_range(mappings, request->bar, a[0], a[1], a[2]);
        break;
    case REMOTE_OWN_DOORBELL:
        answer.hr = register_own_doorbell(notification, request->bar, a[0], a[1], a[2]);
        break;
    case REMOTE_WAKES:
        answer.hr = S_OK;
        answer.value = ReadAcquire(&own_wakes);
        break;
    case REMOTE_READ_SECTION:
        answer.hr = own_view ? S_OK : E_UNEXPECTED;
        if (own_view) answer.value = ((volatile UINT64 *)own_view)[a[0]];
        break;
    case REMOTE_EXIT:
        /* Without a Release: what it holds is the worker's to take back. */
        ExitProcess(0);
    case REMOTE_MANY_RANGES:
        answer.hr = create_many_ranges(mappings, request->bar, a[0], a[1]);
        break;
    case REMOTE_RELEASE_DEVICE:
        answer.hr = release_async(mappings_ptr, notification_ptr);
        break;
    case REMOTE_GET_DEVICE_AGAIN:
        answer.hr = get_device_again(mappings_ptr, notification_ptr, request->bar, a[0]);
        break;
    case REMOTE_PCI_ENGINE_START:
        answer.hr = pci_engine_start(&pci_engine, (IUnknown *)mappings, a[0], a[1], TEST_WAIT_MS);
        break;
    case REMOTE_DELIVER_MSI:
        answer.hr = load_host_api() ? pVmidlDeliverMsi((IUnknown *)mappings, a[0], a[1]) : E_NOTIMPL;
        break;
    case REMOTE_COPY_GUEST_MEMORY:
        answer.hr = load_host_api() ? copy_guest_memory((IUnknown *)mappings, a[0], a[1], a[2]) : E_NOTIMPL;
        break;
    case REMOTE_APERTURE:
        answer.hr = load_host_api() ? probe_aperture((IUnknown *)mappings, a[0], a[1], a[2], &answer.value) : E_NOTIMPL;
        break;
    case REMOTE_PCI_ENGINE_STOP:
        pci_engine_stop(&pci_engine);
        answer.hr = pci_engine.error;
        answer.value = (UINT32)pci_engine.irqs_raised | (UINT64)pci_engine.completed << 32;
        break;
    }
    /* The handles the test duplicated into this process are the child's to close. */
    if (handle && handle != INVALID_HANDLE_VALUE && request->handle != NO_SUCH_HANDLE
            && request->handle != CLOSED_HANDLE && !request->raw_handle)
        CloseHandle(handle);
    return answer;
}

/* A call that never came back would hold the test until winetest-run's
 * timeout killed it, saying nothing of where: after a minute the driver
 * names the call and ends, and the test's read of the answer fails. */
static LONG call_in_flight = -1;
static ULONGLONG call_started;

static DWORD WINAPI call_watchdog_proc(void *arg)
{
    LONG code;

    for (;;)
    {
        Sleep(1000);
        if ((code = ReadAcquire(&call_in_flight)) < 0 || GetTickCount64() - call_started < TEST_WAIT_MS) continue;
        fprintf(stderr, "remote_driver.c: driver %04lx: request %ld unanswered after %lu s\n", GetCurrentProcessId(),
                code, TEST_WAIT_MS / 1000);
        fflush(stderr);
        TerminateProcess(GetCurrentProcess(), 0xbad);
    }
    return 0;
}

/* Child: "vmidl_test.exe TEST driver RUNTIME_ID INSTANCE_ID".  Serves the
 * requests on stdin, answering each HRESULT on stdout, until stdin ends. */
BOOL remote_driver_child(void)
{
    IVmFiovGuestMemoryFastNotification *notification;
    IVmFiovGuestMmioMappings *mappings;
    IVmVirtualDeviceAccess *access;
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE), out = GetStdHandle(STD_OUTPUT_HANDLE);
    struct answer answer = {S_OK};
    struct request request;
    GUID runtime_id, instance;
    IUnknown *device, *unknown;
    char **argv;
    DWORD size;
    HRESULT hr;

    if (winetest_get_mainargs(&argv) < 5 || strcmp(argv[2], "driver")) return FALSE;
    if (!guid_from_text(argv[3], &runtime_id) || !guid_from_text(argv[4], &instance)) ExitProcess(4);

    pGetVmWorkerProcess = (void *)GetProcAddress(LoadLibraryA("vmwpctrl.dll"), "GetVmWorkerProcess");
    if (!pGetVmWorkerProcess) ExitProcess(1);
    /* Before the process has a COM apartment: the ready answer says what that gives. */
    answer.value = pGetVmWorkerProcess(&runtime_id, &IID_IVmVirtualDeviceAccess, &unknown);
    enter_mta();
    if (FAILED(hr = pGetVmWorkerProcess(&runtime_id, &IID_IVmVirtualDeviceAccess, (IUnknown **)&access)))
        ExitProcess(2);
    if (FAILED(hr = IVmVirtualDeviceAccess_GetDevice(access, &FLEXIO_DEVICE_ID, &instance, &device)))
        ExitProcess(3);
    child_access = access;
    child_instance = instance;
    IUnknown_QueryInterface(device, &IID_IVmFiovGuestMmioMappings, (void **)&mappings);
    IUnknown_QueryInterface(device, &IID_IVmFiovGuestMemoryFastNotification, (void **)&notification);
    IUnknown_Release(device);

    CloseHandle(CreateThread(NULL, 0, call_watchdog_proc, NULL, 0, NULL));
    WriteFile(out, &answer, sizeof(answer), &size, NULL);   /* ready */
    while (ReadFile(in, &request, sizeof(request), &size, NULL) && size == sizeof(request))
    {
        call_started = GetTickCount64();
        WriteRelease(&call_in_flight, request.code);
        answer = serve_request(&mappings, &notification, &request);
        WriteRelease(&call_in_flight, -1);
        WriteFile(out, &answer, sizeof(answer), &size, NULL);
    }

    if (notification) IVmFiovGuestMemoryFastNotification_Release(notification);
    if (mappings) IVmFiovGuestMmioMappings_Release(mappings);
    IVmVirtualDeviceAccess_Release(access);
    leave_mta();
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
    BOOL killed;
    HRESULT uninitialized_hr;
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

static struct answer send_request(struct remote_driver *driver, const struct request *request)
{
    struct answer answer = {E_FAIL};
    DWORD size;

    if (!WriteFile(driver->requests, request, sizeof(*request), &size, NULL))
        ok(0, "the driver process is gone\n");
    else if (request->code != REMOTE_EXIT
            && (!ReadFile(driver->answers, &answer, sizeof(answer), &size, NULL) || size != sizeof(answer)))
        ok(0, "the driver process is gone\n");
    return answer;
}

static HRESULT remote_call(struct remote_driver *driver, UINT32 code, UINT32 bar, UINT64 a0, UINT64 a1, UINT64 a2,
        UINT64 a3, HANDLE handle)
{
    struct request request = {code, bar, {a0, a1, a2, a3}};

    request.handle = handle_for_child(driver, handle);
    return send_request(driver, &request).hr;
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
        ok(!WaitForSingleObject(driver->process, TEST_WAIT_MS), "the driver process does not end\n");
        GetExitCodeProcess(driver->process, &code);
        ok(!code || driver->killed, "the driver process exited with %lu\n", code);
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
    return remote_call(impl_from_IVmFiovGuestMmioMappings(iface), REMOTE_CREATE_RANGE, bar, bar_offset_pages,
            page_count, flags, section_offset_pages, section);
}

static HRESULT WINAPI remote_driver_DestroySectionBackedMmioRange(IVmFiovGuestMmioMappings *iface,
        FIOV_BAR_SELECTOR bar, ULONG64 bar_offset_pages)
{
    return remote_call(impl_from_IVmFiovGuestMmioMappings(iface), REMOTE_DESTROY_RANGE, bar, bar_offset_pages,
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
    return remote_call(impl_from_IVmFiovGuestMemoryFastNotification(iface), REMOTE_REGISTER_DOORBELL, bar, offset,
            value, flags, 0, event);
}

static HRESULT WINAPI remote_driver_UnregisterDoorbell(IVmFiovGuestMemoryFastNotification *iface,
        FIOV_BAR_SELECTOR bar, UINT64 offset, UINT64 value, UINT64 flags)
{
    return remote_call(impl_from_IVmFiovGuestMemoryFastNotification(iface), REMOTE_UNREGISTER_DOORBELL, bar, offset,
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

static struct remote_driver *remote_driver_from_iface(void *iface)
{
    if (((IVmFiovGuestMmioMappings *)iface)->lpVtbl == &remote_driver_mmio_mappings_vtbl)
        return impl_from_IVmFiovGuestMmioMappings(iface);
    return impl_from_IVmFiovGuestMemoryFastNotification(iface);
}

HRESULT remote_driver_call(void *iface, enum remote_request code, UINT32 bar, UINT64 a0, UINT64 a1, UINT64 a2,
        UINT64 *value)
{
    struct request request = {code, bar, {a0, a1, a2}};
    struct answer answer = send_request(remote_driver_from_iface(iface), &request);

    if (value) *value = answer.value;
    return answer.hr;
}

HRESULT remote_driver_register_raw(void *iface, FIOV_BAR_SELECTOR bar, UINT64 offset, UINT64 value, UINT64 flags,
        HANDLE event, BOOL *names_handle)
{
    struct request request = {REMOTE_REGISTER_DOORBELL, bar, {offset, value, flags}, (ULONG_PTR)event, TRUE};
    struct answer answer = send_request(remote_driver_from_iface(iface), &request);

    *names_handle = answer.value;
    return answer.hr;
}

HANDLE remote_driver_kill(void *iface)
{
    struct remote_driver *driver = remote_driver_from_iface(iface);

    driver->killed = TRUE;
    TerminateProcess(driver->process, 0xdead);
    return driver->process;
}

HRESULT remote_driver_uninitialized_hr(void *iface)
{
    return remote_driver_from_iface(iface)->uninitialized_hr;
}

HRESULT remote_driver_start(struct guest *guest, const GUID *instance, REFIID iid, void **iface)
{
    char cmdline[MAX_PATH + 200], id[GUID_TEXT_LENGTH], instance_id[GUID_TEXT_LENGTH], **argv;
    struct answer ready = {S_OK};
    struct remote_driver *driver;
    HANDLE process, requests, answers;
    DWORD size;
    HRESULT hr = S_OK;

    winetest_get_mainargs(&argv);
    guid_to_text(&guest->runtime_id, id);
    guid_to_text(instance, instance_id);
    sprintf(cmdline, "\"%s\" %s driver %s %s", argv[0], argv[1], id, instance_id);
    if (!(process = start_child_process(cmdline, &requests, &answers))) return HRESULT_FROM_WIN32(GetLastError());

    if (!ReadFile(answers, &ready, sizeof(ready), &size, NULL) || size != sizeof(ready))
    {
        DWORD code = 0;
        WaitForSingleObject(process, TEST_WAIT_MS);
        GetExitCodeProcess(process, &code);
        trace("the driver process failed to start, exit code %lu\n", code);
        CloseHandle(process);
        CloseHandle(requests);
        CloseHandle(answers);
        return HRESULT_FROM_WIN32(ERROR_PROCESS_ABORTED);
    }

    driver = calloc(1, sizeof(*driver));
    driver->IVmFiovGuestMmioMappings_iface.lpVtbl = &remote_driver_mmio_mappings_vtbl;
    driver->IVmFiovGuestMemoryFastNotification_iface.lpVtbl = &remote_driver_fast_notification_vtbl;
    driver->refcount = 1;
    driver->process = process;
    driver->requests = requests;
    driver->answers = answers;
    driver->uninitialized_hr = ready.value;
    hr = remote_driver_QueryInterface(&driver->IVmFiovGuestMmioMappings_iface, iid, iface);
    remote_driver_Release(&driver->IVmFiovGuestMmioMappings_iface);
    return hr;
}
