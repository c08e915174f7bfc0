/*
 * Teardown: releasing the last device reference, or deleting the partition,
 * gives back every fd, shared mapping, thread and handle that ranges and
 * doorbells took, and the guest loses the fast paths.  That holds when the
 * last Release races a ringing guest, another thread's method calls or an
 * MMIO callback in progress, and a process may exit with all of it live.
 *
 * Counted on the unix side of the process by vmidltest.dll (Wine only).
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define COBJMACROS
#include "wine/test.h"
#include "objbase.h"
#include "vmfiov.h"
#include "vmidl_test.h"

#define PAGE 0x1000
#define BAR0 GUEST_BAR_BASE

static const GUID instance = {0x74656172, 0x646f, 0x776e, {1, 2, 3, 4, 5, 6, 7, 8}};

/* A device with four ranges (pagefile, file-backed, read-only) on BAR0
 * pages 0-5 and four doorbells at 0x8000 + 8 * i for value i; the caller's
 * own handles are all closed again. */
static IUnknown *create_busy_device_desc(struct guest *guest, const VMIDL_FLEXIO_DEVICE_DESC *desc, HANDLE *events,
        char *path)
{
    IVmFiovGuestMemoryFastNotification *notification;
    IVmFiovGuestMmioMappings *mappings;
    HANDLE section, file;
    char dir[MAX_PATH];
    IUnknown *device;
    unsigned int i;
    DWORD written;
    HRESULT hr;

    hr = pVmidlAddFlexIoDevice(guest->partition, desc, &device);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    if (FAILED(hr)) return NULL;
    IUnknown_QueryInterface(device, &IID_IVmFiovGuestMmioMappings, (void **)&mappings);
    IUnknown_QueryInterface(device, &IID_IVmFiovGuestMemoryFastNotification, (void **)&notification);

    section = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 8 * PAGE, NULL);
    hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, 0, 2, FiovMmioMappingFlagWriteable, section, 0);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, 2, 2, FiovMmioMappingFlagNone, section, 4);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    CloseHandle(section);

    GetTempPathA(ARRAYSIZE(dir), dir);
    GetTempFileNameA(dir, "vmi", 0, path);
    file = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    WriteFile(file, path, strlen(path), &written, NULL);
    section = CreateFileMappingA(file, NULL, PAGE_READWRITE, 0, 4 * PAGE, NULL);
    hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, 4, 1, FiovMmioMappingFlagWriteable, section, 1);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, 5, 1, FiovMmioMappingFlagExecutable, section, 3);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    CloseHandle(section);
    CloseHandle(file);

    for (i = 0; i < 4; i++)
    {
        HANDLE event = CreateEventA(NULL, FALSE, FALSE, NULL);
        DuplicateHandle(GetCurrentProcess(), event, GetCurrentProcess(), &events[i], 0, FALSE, DUPLICATE_SAME_ACCESS);
        hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(notification, FIOV_BAR0, 0x8000 + i * 8, i,
                FIOV_DOORBELL_FLAG_TRIGGER_SIZE_QWORD, event);
        ok(hr == S_OK, "got hr %#lx\n", hr);
        CloseHandle(event);
    }
    IVmFiovGuestMmioMappings_Release(mappings);
    IVmFiovGuestMemoryFastNotification_Release(notification);
    return device;
}

static IUnknown *create_busy_device(struct guest *guest, struct mmio_log *log, HANDLE *events, char *path)
{
    VMIDL_FLEXIO_DEVICE_DESC desc;

    guest_device_desc(&desc, &instance, log, BAR0);
    return create_busy_device_desc(guest, &desc, events, path);
}

static void close_events(HANDLE *events)
{
    unsigned int i;
    for (i = 0; i < 4; i++) CloseHandle(events[i]);
}

static DWORD WINAPI guest_thread(void *arg)
{
    return guest_run(arg);
}

/* A guest that rings doorbell 1 count times. */
static void ring_doorbell_ops(struct guest *guest, unsigned int count)
{
    guest_reset_ops(guest);
    while (count--) guest_add_op(guest, GUEST_OP_WRITE, 8, BAR0 + 0x8008, 1);
}

static void test_device_release(void)
{
    struct resources baseline, busy;
    struct mmio_log log;
    char path[MAX_PATH];
    struct guest guest;
    IUnknown *device;
    HANDLE events[4];
    HRESULT hr;

    if (!create_guest(&guest)) return;
    mmio_log_init(&log);

    /* One full cycle first, so that lazy setup (Wine's, and the worker
     * thread KVM adds to the process at a VM's first run) is not counted. */
    device = create_busy_device(&guest, &log, events, path);
    guest_reset_ops(&guest);
    guest_add_op(&guest, GUEST_OP_WRITE, 8, BAR0 + 0x8008, 1);
    ok(guest_run(&guest) == S_OK, "guest run failed\n");
    WaitForSingleObject(events[1], TEST_WAIT_MS);
    IUnknown_Release(device);
    close_events(events);
    DeleteFileA(path);

    get_resources(&baseline);
    device = create_busy_device(&guest, &log, events, path);
    get_resources(&busy);
    ok(busy.unix.fds == baseline.unix.fds + 4, "4 doorbells: %u fds, baseline %u\n", busy.unix.fds, baseline.unix.fds);
    ok(busy.unix.shared_maps == baseline.unix.shared_maps + 4, "4 ranges: %u shared mappings, baseline %u\n",
            busy.unix.shared_maps, baseline.unix.shared_maps);
    ok(busy.unix.threads == baseline.unix.threads, "threads: %u, baseline %u\n", busy.unix.threads, baseline.unix.threads);
    /* The test's own copies of the four events, and vmidl's; and the hold
     * each range keeps on its section (the file cannot shrink under it). */
    ok(busy.handles == baseline.handles + 8 + 4, "4 doorbells, 4 ranges: %lu handles, baseline %lu\n",
            busy.handles, baseline.handles);

    guest_reset_ops(&guest);
    guest_add_op(&guest, GUEST_OP_WRITE, 8, BAR0 + 0x8008, 1);
    guest_add_op(&guest, GUEST_OP_WRITE, 8, BAR0, 0x1234);
    hr = guest_run(&guest);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    ok(WaitForSingleObject(events[1], TEST_WAIT_MS) == WAIT_OBJECT_0, "doorbell not delivered\n");

    ok(!IUnknown_Release(device), "device still referenced\n");
    close_events(events);
    check_resources(&baseline);

    /* The guest lost both fast paths and the device: all of it is now
     * unclaimed MMIO. */
    guest_reset_ops(&guest);
    guest_add_op(&guest, GUEST_OP_READ, 8, BAR0, 0);
    hr = guest_run(&guest);
    ok(hr == E_UNEXPECTED && guest.last_exit.ExitReason == VmidlRunVpExitReasonMemoryAccess
            && guest.last_exit.Address == BAR0, "got hr %#lx, exit %u at %#I64x\n", hr,
            guest.last_exit.ExitReason, guest.last_exit.Address);
    guest_reset_ops(&guest);
    guest_add_op(&guest, GUEST_OP_WRITE, 8, BAR0 + 0x8008, 1);
    hr = guest_run(&guest);
    ok(hr == E_UNEXPECTED && guest.last_exit.ExitReason == VmidlRunVpExitReasonMemoryAccess
            && guest.last_exit.Address == BAR0 + 0x8008, "got hr %#lx, exit %u at %#I64x\n", hr,
            guest.last_exit.ExitReason, guest.last_exit.Address);

    guest_destroy(&guest);
    mmio_log_cleanup(&log);
    DeleteFileA(path);
}

static void test_partition_delete(void)
{
    struct resources baseline, now;
    struct mmio_log log;
    char path[MAX_PATH];
    struct guest guest;
    IUnknown *device;
    HANDLE events[4];

    mmio_log_init(&log);
    get_resources(&baseline);

    if (!create_guest(&guest)) return;
    device = create_busy_device(&guest, &log, events, path);
    get_resources(&now);
    ok(now.unix.threads == baseline.unix.threads + 1, "partition threads: %u, baseline %u\n",
            now.unix.threads, baseline.unix.threads);

    /* The device object outlives the partition. */
    guest_destroy(&guest);
    close_events(events);
    check_resources(&baseline);
    ok(!IUnknown_Release(device), "device still referenced\n");
    check_resources(&baseline);

    mmio_log_cleanup(&log);
    DeleteFileA(path);
}

/* Keeps calling methods through its own references, then drops them. */
struct method_caller
{
    IVmFiovGuestMmioMappings *mappings;
    IVmFiovGuestMemoryFastNotification *notification;
    HANDLE section, event, stop, busy;
    unsigned int calls, failed;
};

static DWORD WINAPI method_caller_proc(void *arg)
{
    struct method_caller *caller = arg;
    HRESULT hr[4];

    while (WaitForSingleObject(caller->stop, 0) == WAIT_TIMEOUT)
    {
        hr[0] = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(caller->mappings, FIOV_BAR0, 10, 1,
                FiovMmioMappingFlagWriteable, caller->section, 0);
        hr[1] = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(caller->notification, FIOV_BAR0, 0x9000, 0,
                FIOV_DOORBELL_FLAG_TRIGGER_SIZE_QWORD | FIOV_DOORBELL_FLAG_TRIGGER_ANY_VALUE, caller->event);
        hr[2] = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(caller->mappings, FIOV_BAR0, 10);
        hr[3] = IVmFiovGuestMemoryFastNotification_UnregisterDoorbell(caller->notification, FIOV_BAR0, 0x9000, 0,
                FIOV_DOORBELL_FLAG_TRIGGER_SIZE_QWORD | FIOV_DOORBELL_FLAG_TRIGGER_ANY_VALUE);
        caller->calls += 4;
        if (hr[0] || hr[1] || hr[2] || hr[3]) caller->failed++;
        SetEvent(caller->busy);
    }
    IVmFiovGuestMmioMappings_Release(caller->mappings);
    IVmFiovGuestMemoryFastNotification_Release(caller->notification);
    return 0;
}

/* The driver drops its reference while the guest rings a doorbell and
 * another thread is in and out of methods; that thread's Release is the
 * last one.  Once it has returned, the event stays clear. */
static void test_release_while_busy(void)
{
    struct method_caller caller = {0};
    struct resources baseline;
    HANDLE events[4], threads[2];
    struct mmio_log log;
    char path[MAX_PATH];
    struct guest guest;
    IUnknown *device;
    DWORD ret, code;

    if (!create_guest(&guest)) return;
    mmio_log_init(&log);
    /* The first run brings KVM's worker thread. */
    ring_doorbell_ops(&guest, 1);
    guest_run(&guest);
    get_resources(&baseline);

    device = create_busy_device(&guest, &log, events, path);
    IUnknown_QueryInterface(device, &IID_IVmFiovGuestMmioMappings, (void **)&caller.mappings);
    IUnknown_QueryInterface(device, &IID_IVmFiovGuestMemoryFastNotification, (void **)&caller.notification);
    caller.section = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, PAGE, NULL);
    caller.event = CreateEventA(NULL, FALSE, FALSE, NULL);
    caller.stop = CreateEventA(NULL, TRUE, FALSE, NULL);
    caller.busy = CreateEventA(NULL, TRUE, FALSE, NULL);

    ring_doorbell_ops(&guest, 3000);
    threads[0] = CreateThread(NULL, 0, guest_thread, &guest, 0, NULL);
    threads[1] = CreateThread(NULL, 0, method_caller_proc, &caller, 0, NULL);
    ok(WaitForSingleObject(events[1], TEST_WAIT_MS) == WAIT_OBJECT_0, "doorbell never rang\n");
    ok(WaitForSingleObject(caller.busy, TEST_WAIT_MS) == WAIT_OBJECT_0, "the method caller never got through its calls\n");
    Sleep(20);

    ok(IUnknown_Release(device), "the method caller's references are gone\n");
    SetEvent(caller.stop);
    ret = WaitForSingleObject(threads[1], TEST_WAIT_MS);
    ok(ret == WAIT_OBJECT_0, "method caller hangs: %#lx\n", ret);
    ok(caller.calls && !caller.failed, "%u of %u calls failed\n", caller.failed, caller.calls);
    ResetEvent(events[1]);
    ok(WaitForSingleObject(events[1], 100) == WAIT_TIMEOUT, "event set after the last Release returned\n");

    /* The guest either finished or ran into its BAR with no device. */
    ret = WaitForSingleObject(threads[0], TEST_WAIT_MS);
    ok(ret == WAIT_OBJECT_0, "guest hangs: %#lx\n", ret);
    GetExitCodeThread(threads[0], &code);
    ok(code == S_OK || (code == (DWORD)E_UNEXPECTED && guest.last_exit.ExitReason == VmidlRunVpExitReasonMemoryAccess
            && guest.last_exit.Address == BAR0 + 0x8008), "got hr %#lx, exit %u at %#I64x\n", code,
            guest.last_exit.ExitReason, guest.last_exit.Address);

    CloseHandle(threads[0]);
    CloseHandle(threads[1]);
    CloseHandle(caller.section);
    CloseHandle(caller.event);
    CloseHandle(caller.stop);
    CloseHandle(caller.busy);
    close_events(events);
    check_resources(&baseline);

    guest_destroy(&guest);
    mmio_log_cleanup(&log);
    DeleteFileA(path);
}

/* An emulator that holds up the first intercepted access until released. */
struct blocking_emulator
{
    HANDLE entered, resume;
    LONG calls;
};

static HRESULT CALLBACK blocking_emulator_callback(void *context, UINT32 bar, UINT64 offset,
        UINT32 size, BOOL is_write, UINT64 *data)
{
    struct blocking_emulator *emulator = context;

    if (!is_write) *data = 0;
    if (InterlockedIncrement(&emulator->calls) == 1)
    {
        SetEvent(emulator->entered);
        WaitForSingleObject(emulator->resume, TEST_WAIT_MS);
    }
    return S_OK;
}

/* A guest that has run once (KVM adds a worker to the process at a VM's
 * first run), the counts then, and the description of a device whose
 * emulator holds up its first access. */
static BOOL start_blocking_test(struct guest *guest, struct resources *baseline, struct blocking_emulator *emulator,
        VMIDL_FLEXIO_DEVICE_DESC *desc)
{
    if (!create_guest(guest)) return FALSE;
    ring_doorbell_ops(guest, 1);
    guest_run(guest);
    get_resources(baseline);
    emulator->entered = CreateEventA(NULL, TRUE, FALSE, NULL);
    emulator->resume = CreateEventA(NULL, TRUE, FALSE, NULL);
    guest_device_desc(desc, &instance, NULL, BAR0);
    desc->MmioCallback = blocking_emulator_callback;
    desc->MmioCallbackContext = emulator;
    return TRUE;
}

/* The driver drops its last reference while the vCPU thread is inside the
 * device's MMIO callback: the device lives until the callback returns, then
 * goes without holding the vCPU up.  Its doorbells set nothing from the
 * Release on; until the dispatcher has taken one out of KVM (a grace
 * period), a guest write there is dropped, and afterwards it reaches no
 * device. */
static void test_release_during_mmio(void)
{
    struct blocking_emulator emulator = {0};
    struct resources baseline;
    VMIDL_FLEXIO_DEVICE_DESC desc;
    char path[MAX_PATH];
    struct guest guest;
    IUnknown *device;
    HANDLE events[4], thread;
    DWORD ret, code;

    if (!start_blocking_test(&guest, &baseline, &emulator, &desc)) return;
    device = create_busy_device_desc(&guest, &desc, events, path);

    guest_reset_ops(&guest);
    guest_add_op(&guest, GUEST_OP_WRITE, 8, BAR0 + 0x8008, 1);
    guest_add_op(&guest, GUEST_OP_READ, 8, BAR0 + 0x7000, 0);
    guest_add_op(&guest, GUEST_OP_WRITE, 8, BAR0 + 0x8008, 1);
    thread = CreateThread(NULL, 0, guest_thread, &guest, 0, NULL);
    ret = WaitForSingleObject(emulator.entered, TEST_WAIT_MS);
    ok(ret == WAIT_OBJECT_0, "MMIO callback not called: %#lx\n", ret);
    ok(WaitForSingleObject(events[1], TEST_WAIT_MS) == WAIT_OBJECT_0, "doorbell never rang\n");

    IUnknown_Release(device);
    SetEvent(emulator.resume);
    ret = WaitForSingleObject(thread, TEST_WAIT_MS);
    ok(ret == WAIT_OBJECT_0, "guest hangs: %#lx\n", ret);
    GetExitCodeThread(thread, &code);
    ok(code == S_OK || (code == (DWORD)E_UNEXPECTED && guest.last_exit.ExitReason == VmidlRunVpExitReasonMemoryAccess
            && guest.last_exit.Address == BAR0 + 0x8008 && guest.last_exit.IsWrite),
            "got hr %#lx, exit %u at %#I64x\n", code, guest.last_exit.ExitReason, guest.last_exit.Address);
    ok(emulator.calls == 1, "%ld intercepted accesses\n", emulator.calls);
    ok(WaitForSingleObject(events[1], 0) == WAIT_TIMEOUT, "the doorbell outlived the device\n");

    CloseHandle(thread);
    CloseHandle(emulator.entered);
    CloseHandle(emulator.resume);
    close_events(events);
    check_resources(&baseline);

    guest_reset_ops(&guest);
    guest_add_op(&guest, GUEST_OP_WRITE, 8, BAR0 + 0x8008, 1);
    ok(guest_run(&guest) == E_UNEXPECTED && guest.last_exit.ExitReason == VmidlRunVpExitReasonMemoryAccess
            && guest.last_exit.Address == BAR0 + 0x8008, "the removed doorbell's address: exit %u at %#I64x\n",
            guest.last_exit.ExitReason, guest.last_exit.Address);
    guest_destroy(&guest);
    DeleteFileA(path);
}

/* Child process: exits with a running guest, live ranges and doorbells and
 * a dispatcher delivering signals.  The exit code says what it checked. */
static void exit_with_live_state(void)
{
    struct mmio_log log;
    char path[MAX_PATH];
    struct guest guest;
    HANDLE events[4];

    if (!create_guest(&guest)) ExitProcess(1);
    mmio_log_init(&log);
    create_busy_device(&guest, &log, events, path);
    ring_doorbell_ops(&guest, 10000);
    CreateThread(NULL, 0, guest_thread, &guest, 0, NULL);
    ok(WaitForSingleObject(events[1], TEST_WAIT_MS) == WAIT_OBJECT_0, "doorbell never rang\n");
    ExitProcess(winetest_get_failures() ? 2 : 0);
}

#define DETACH_RESULT_NAME "vmidl-test-delete-on-detach"

/* Child process: another DLL's DllMain(DLL_PROCESS_DETACH) deletes a
 * partition with a running VP and a ringing dispatcher, when FreeLibrary
 * unloads that DLL or when the process exits.  The HRESULT goes to the
 * parent through a shared section. */
static void delete_from_dllmain(BOOL at_exit)
{
    void (WINAPI *pVmidlTestDeleteOnDetach)(HRESULT (WINAPI *)(VMIDL_PARTITION_HANDLE), VMIDL_PARTITION_HANDLE, HRESULT *);
    HANDLE mapping, events[4];
    struct mmio_log log;
    char path[MAX_PATH];
    struct guest guest;
    HRESULT *result;
    HMODULE module;

    mapping = OpenFileMappingA(FILE_MAP_WRITE, FALSE, DETACH_RESULT_NAME);
    result = MapViewOfFile(mapping, FILE_MAP_WRITE, 0, 0, sizeof(*result));
    if (!result || !create_guest(&guest)) ExitProcess(1);
    mmio_log_init(&log);
    create_busy_device(&guest, &log, events, path);
    ring_doorbell_ops(&guest, 10000);
    CreateThread(NULL, 0, guest_thread, &guest, 0, NULL);
    ok(WaitForSingleObject(events[1], TEST_WAIT_MS) == WAIT_OBJECT_0, "doorbell never rang\n");

    module = LoadLibraryA("vmidltest.dll");
    pVmidlTestDeleteOnDetach = (void *)GetProcAddress(module, "VmidlTestDeleteOnDetach");
    if (!pVmidlTestDeleteOnDetach) ExitProcess(1);
    pVmidlTestDeleteOnDetach(pVmidlDeletePartition, guest.partition, result);
    if (!at_exit)
    {
        FreeLibrary(module);
        ok(*result == S_OK, "delete from DllMain: got hr %#lx\n", *result);
    }
    ExitProcess(winetest_get_failures() ? 2 : 0);
}

static void run_child(const char *what, HRESULT *detach_result)
{
    PROCESS_INFORMATION info;
    STARTUPINFOA startup = {sizeof(startup)};
    char cmdline[MAX_PATH + 32], **argv;
    DWORD ret, code = ~0u;
    BOOL success;

    winetest_push_context("%s", what);
    if (detach_result) *detach_result = 0xdeadbeef;
    winetest_get_mainargs(&argv);
    sprintf(cmdline, "\"%s\" teardown %s", argv[0], what);
    success = CreateProcessA(NULL, cmdline, NULL, NULL, FALSE, 0, NULL, NULL, &startup, &info);
    ok(success, "CreateProcess failed, error %lu\n", GetLastError());
    if (success)
    {
        ret = WaitForSingleObject(info.hProcess, TEST_WAIT_MS);
        ok(ret == WAIT_OBJECT_0, "child did not exit: %#lx\n", ret);
        if (ret != WAIT_OBJECT_0) TerminateProcess(info.hProcess, 1);
        GetExitCodeProcess(info.hProcess, &code);
        ok(!code, "child exited with %#lx\n", code);
        if (detach_result) ok(*detach_result == S_OK, "delete from DllMain: got hr %#lx\n", *detach_result);
        CloseHandle(info.hProcess);
        CloseHandle(info.hThread);
    }
    winetest_pop_context();
}

static void test_process_exit(void)
{
    HANDLE mapping;
    HRESULT *result;

    run_child("exit", NULL);

    mapping = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, sizeof(*result), DETACH_RESULT_NAME);
    result = MapViewOfFile(mapping, FILE_MAP_WRITE, 0, 0, sizeof(*result));
    ok(!!result, "cannot map the shared result, error %lu\n", GetLastError());
    if (!result) return;
    run_child("detach-free", result);
    run_child("detach-exit", result);
    UnmapViewOfFile(result);
    CloseHandle(mapping);
}

/* Registers count doorbells on the device at 0xc000 + 8 * i, sharing one event. */
static void add_doorbells(IUnknown *device, unsigned int count)
{
    IVmFiovGuestMemoryFastNotification *notification;
    HANDLE event = CreateEventA(NULL, FALSE, FALSE, NULL);
    unsigned int i;
    HRESULT hr = S_OK;

    IUnknown_QueryInterface(device, &IID_IVmFiovGuestMemoryFastNotification, (void **)&notification);
    for (i = 0; i < count && hr == S_OK; i++)
        hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(notification, FIOV_BAR0, 0xc000 + i * 8, 1,
                FIOV_DOORBELL_FLAG_TRIGGER_SIZE_QWORD, event);
    ok(hr == S_OK, "doorbell %u: got hr %#lx\n", i, hr);
    IVmFiovGuestMemoryFastNotification_Release(notification);
    CloseHandle(event);
}

/* A device with hundreds of doorbells released while a vCPU is in its MMIO
 * callback: their removal, a kernel grace period each, is not the vCPU's
 * to do, and the guest goes on at once.  The fds show it: when the guest's
 * next exit reaches the host, most doorbells are still there. */
#define MANY_DOORBELLS 256
static void test_release_during_mmio_many(void)
{
    struct blocking_emulator emulator = {0};
    VMIDL_FLEXIO_DEVICE_DESC desc;
    struct resources baseline;
    unsigned int fds, busy_fds;
    struct guest guest;
    IUnknown *device;
    HANDLE thread;
    DWORD ret, code;

    if (!start_blocking_test(&guest, &baseline, &emulator, &desc)) return;
    ok(pVmidlAddFlexIoDevice(guest.partition, &desc, &device) == S_OK, "cannot add the device\n");
    add_doorbells(device, MANY_DOORBELLS);
    busy_fds = count_fds();

    guest_reset_ops(&guest);
    guest_add_op(&guest, GUEST_OP_READ, 8, BAR0 + 0x7000, 0);
    thread = CreateThread(NULL, 0, guest_thread, &guest, 0, NULL);
    ret = WaitForSingleObject(emulator.entered, TEST_WAIT_MS);
    ok(ret == WAIT_OBJECT_0, "MMIO callback not called: %#lx\n", ret);
    IUnknown_Release(device);
    SetEvent(emulator.resume);
    ret = WaitForSingleObject(thread, TEST_WAIT_MS);
    fds = count_fds();
    ok(ret == WAIT_OBJECT_0, "guest hangs: %#lx\n", ret);
    GetExitCodeThread(thread, &code);
    ok(code == S_OK, "guest run failed, hr %#lx, exit %u at %#I64x\n", code, guest.last_exit.ExitReason,
            guest.last_exit.Address);
    ok(fds > baseline.unix.fds + MANY_DOORBELLS / 2, "the guest went on only after the removal: %u fds, %u with "
            "the doorbells, %u without\n", fds, busy_fds, baseline.unix.fds);

    CloseHandle(thread);
    CloseHandle(emulator.entered);
    CloseHandle(emulator.resume);
    check_resources(&baseline);
    guest_destroy(&guest);
}

/* The vCPU thread is ended (TerminateThread) inside the MMIO callback of a
 * device whose last reference went meanwhile: the removal it held up is
 * still done, and deleting the partition neither waits for the dead
 * thread nor leaves anything of the device behind.  (A thread ended inside
 * one of Wine's own server calls can leave Wine's locks held, whatever
 * vmidl does: TerminateThread's known danger.) */
static DWORD WINAPI deleter_proc(void *arg)
{
    return pVmidlDeletePartition(arg);
}

static void test_vcpu_killed_in_callback(void)
{
    struct blocking_emulator emulator = {0};
    VMIDL_FLEXIO_DEVICE_DESC desc;
    struct resources baseline;
    HANDLE thread, deleter;
    struct guest guest;
    IUnknown *device;
    DWORD ret, code;

    get_resources(&baseline);
    if (!create_guest(&guest)) return;
    emulator.entered = CreateEventA(NULL, TRUE, FALSE, NULL);
    emulator.resume = CreateEventA(NULL, TRUE, FALSE, NULL);
    guest_device_desc(&desc, &instance, NULL, BAR0);
    desc.MmioCallback = blocking_emulator_callback;
    desc.MmioCallbackContext = &emulator;
    ok(pVmidlAddFlexIoDevice(guest.partition, &desc, &device) == S_OK, "cannot add the device\n");
    add_doorbells(device, 64);

    guest_reset_ops(&guest);
    guest_add_op(&guest, GUEST_OP_READ, 8, BAR0 + 0x7000, 0);
    thread = CreateThread(NULL, 0, guest_thread, &guest, 0, NULL);
    ok(!WaitForSingleObject(emulator.entered, TEST_WAIT_MS), "MMIO callback not called\n");
    IUnknown_Release(device);
    ok(TerminateThread(thread, 0xdead), "TerminateThread failed, error %lu\n", GetLastError());
    WaitForSingleObject(thread, INFINITE);
    CloseHandle(thread);

    deleter = CreateThread(NULL, 0, deleter_proc, guest.partition, 0, NULL);
    ret = WaitForSingleObject(deleter, TEST_WAIT_MS);
    ok(ret == WAIT_OBJECT_0, "the delete hangs: %#lx\n", ret);
    GetExitCodeThread(deleter, &code);
    ok(code == S_OK, "got hr %#lx\n", code);
    CloseHandle(deleter);
    CloseHandle(emulator.entered);
    CloseHandle(emulator.resume);
    if (ret) return;    /* the partition is still being deleted */
    guest.partition = NULL;
    guest_destroy(&guest);
    check_resources(&baseline);
}

/* Counts event handles until stopped, as often as it gets to: each count
 * is checked, the first wrong one kept for the test to report. */
struct event_counter
{
    unsigned int expected;
    unsigned int counts, wrong, first_wrong;
    struct counting counting;
    LONG stop;
};

static DWORD WINAPI count_events_thread(void *arg)
{
    struct event_counter *counter = arg;
    unsigned int events;

    while (!ReadAcquire(&counter->stop))
    {
        events = poll_handles_of_type(L"Event", &counter->counting);
        if (events != counter->expected && !counter->wrong++) counter->first_wrong = events;
        counter->counts++;
    }
    return 0;
}

/* The handle counts every test here relies on stay right while another
 * process starts, and counting never takes the wineserver down: Wine 8.0's
 * crashes when it lists every process's handles while one of them has an
 * empty table, as a process that inherits nothing has while CreateProcess
 * starts it (doc/testing.md, Known issues). */
static void test_counting_while_process_starts(void)
{
    STARTUPINFOA startup = {sizeof(startup)};
    struct event_counter counter = {0};
    char cmdline[] = "cmd.exe /c exit";
    PROCESS_INFORMATION info;
    HANDLE events[10], thread;
    unsigned int i, before;

    before = count_handles_of_type(L"Event");
    for (i = 0; i < ARRAY_SIZE(events); i++) events[i] = CreateEventA(NULL, FALSE, FALSE, NULL);
    counter.expected = before + ARRAY_SIZE(events);
    thread = CreateThread(NULL, 0, count_events_thread, &counter, 0, NULL);
    startup.dwFlags = STARTF_USESTDHANDLES;     /* no standard handles: the child inherits nothing */
    for (i = 0; i < 5; i++)
    {
        if (!CreateProcessA(NULL, cmdline, NULL, NULL, FALSE, 0, NULL, NULL, &startup, &info))
        {
            ok(0, "cannot start cmd.exe, error %lu\n", GetLastError());
            break;
        }
        WaitForSingleObject(info.hProcess, TEST_WAIT_MS);
        CloseHandle(info.hProcess);
        CloseHandle(info.hThread);
    }
    WriteRelease(&counter.stop, TRUE);
    WaitForSingleObject(thread, TEST_WAIT_MS);
    CloseHandle(thread);
    for (i = 0; i < ARRAY_SIZE(events); i++) CloseHandle(events[i]);
    ok(count_handles_of_type(L"Event") == before, "%u event handles left, %u before\n",
            count_handles_of_type(L"Event"), before);
    check_counting(&counter.counting);
    ok(!counter.wrong, "%u of %u counts wrong, the first %u event handles, expected %u\n", counter.wrong,
            counter.counts, counter.first_wrong, counter.expected);
    ok(counter.counts > 0, "never counted\n");
    trace("counted %u times while 5 processes started\n", counter.counts);
}

START_TEST(teardown)
{
    struct guest guest;
    char **argv;

    if (winetest_get_mainargs(&argv) >= 3)
    {
        if (!guest_load_host_api()) return;
        if (!strcmp(argv[2], "exit")) exit_with_live_state();
        else delete_from_dllmain(!strcmp(argv[2], "detach-exit"));
        return;
    }
    if (!init_resource_counting()) return;
    test_counting_while_process_starts();
    if (!init_guest_test(&guest)) return;
    guest_destroy(&guest);

    test_device_release();
    test_partition_delete();
    test_release_while_busy();
    test_release_during_mmio();
    test_release_during_mmio_many();
    test_vcpu_killed_in_callback();
    test_process_exit();
}
