/*
 * Shared setup of the vmidl conformance tests.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "ntstatus.h"
#define WIN32_NO_STATUS
#define COBJMACROS
#include "wine/test.h"
#include "winternl.h"
#include "vmfiov.h"
#include "vmidl_test.h"

static NTSTATUS (WINAPI *pVmidlTestGetResources)(struct vmidltest_resources *);
static NTSTATUS (WINAPI *pVmidlTestListFds)(struct vmidltest_list_fds_params *);
NTSTATUS (WINAPI *pVmidlTestTruncateFile)(const WCHAR *, UINT64);
static NTSTATUS (WINAPI *pNtQuerySystemInformation)(SYSTEM_INFORMATION_CLASS, void *, ULONG, ULONG *);
static void count_unix_only_threads(void);

/* Notes what went wrong; the first failure's text is kept. */
void counting_failed(struct counting *counting, const char *format, ...)
{
    va_list args;

    if (counting->failures++) return;
    va_start(args, format);
    vsnprintf(counting->first_failure, sizeof(counting->first_failure), format, args);
    va_end(args);
}

void check_counting_(const char *file, int line, const struct counting *counting)
{
    ok_(file, line)(!counting->failures, "%u failures, the first: %s\n", counting->failures,
            counting->first_failure);
}

BOOL create_guest_(const char *file, int line, struct guest *guest)
{
    HRESULT hr = guest_create(guest, &guest_image_interp);
    ok_(file, line)(hr == S_OK, "cannot create a guest, hr %#lx\n", hr);
    return SUCCEEDED(hr);
}

BOOL device_test_remote;

DWORD test_wait_ms(void)
{
    static DWORD wait_ms;

    if (!wait_ms) wait_ms = GetEnvironmentVariableA("VMIDL_KVM_EMULATED", NULL, 0) ? 1800000 : 120000;
    return wait_ms;
}

/* ole32 is loaded only by the tests that use COM themselves: it brings
 * user32 and gdi32, whose start-up memcheck cannot judge (see Makefile.am's
 * check-sanitize), into every process that imports it. */
static HMODULE ole32(void)
{
    static HMODULE module;

    if (!module) module = LoadLibraryA("ole32.dll");
    return module;
}

HRESULT enter_mta(void)
{
    HRESULT (WINAPI *pCoInitializeEx)(void *, DWORD) = (void *)GetProcAddress(ole32(), "CoInitializeEx");
    return pCoInitializeEx(NULL, COINIT_MULTITHREADED);
}

void leave_mta(void)
{
    void (WINAPI *pCoUninitialize)(void) = (void *)GetProcAddress(ole32(), "CoUninitialize");
    pCoUninitialize();
}

BOOL init_device_test(struct guest *guest, struct mmio_log *log, const GUID *instance, REFIID iid,
        IUnknown **device, void **iface)
{
    VMIDL_FLEXIO_DEVICE_DESC desc;
    HRESULT hr;

    if (!init_guest_test(guest)) return FALSE;
    mmio_log_init(log);
    guest_device_desc(&desc, instance, log, GUEST_BAR_BASE);
    hr = pVmidlAddFlexIoDevice(guest->partition, &desc, device);
    ok(hr == S_OK, "cannot add the device, hr %#lx\n", hr);
    if (!device_test_remote) hr = guest_get_device_interface(guest->partition, instance, iid, iface);
    else if (SUCCEEDED(hr = pVmidlPublishPartition(guest->partition)))
        hr = remote_driver_start(guest, instance, iid, iface);
    ok(hr == S_OK, "cannot get the device interface, hr %#lx\n", hr);
    return SUCCEEDED(hr);
}

BOOL init_guest_test(struct guest *guest)
{
    return init_guest_test_ex(guest, &guest_image_interp, 0);
}

BOOL init_guest_test_ex(struct guest *guest, const struct guest_image *image, unsigned int flags)
{
    HRESULT hr;

    memset(guest, 0, sizeof(*guest));
    if (remote_driver_child()) return FALSE;
    if (!guest_load_host_api())
    {
        win_skip("vmidl partition host API not available\n");
        return FALSE;
    }
    hr = guest_create_ex(guest, image, 1, NULL, flags);
    if (guest_hr_is_no_kvm(hr))
    {
        skip("KVM is not usable here (hr %#lx)\n", hr);
        return FALSE;
    }
    ok(hr == S_OK, "cannot create a guest, hr %#lx\n", hr);
    return SUCCEEDED(hr);
}

HANDLE create_test_section_(const char *file, int line, unsigned int tag, unsigned int pages, UINT64 **view)
{
    HANDLE section = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, pages * 0x1000, NULL);
    unsigned int p, i;

    ok_(file, line)(!!section, "CreateFileMapping failed, error %lu\n", GetLastError());
    *view = MapViewOfFile(section, FILE_MAP_ALL_ACCESS, 0, 0, 0);
    ok_(file, line)(!!*view, "MapViewOfFile failed, error %lu\n", GetLastError());
    for (p = 0; p < pages; p++)
        for (i = 0; i < 0x1000 / 8; i++) (*view)[p * 0x1000 / 8 + i] = section_pattern(tag, p, i);
    return section;
}

unsigned int count_free_memslots_(const char *file, int line, struct guest *guest, UINT64 bar_address)
{
    static const GUID scratch = {0x736c6f74, 0x7363, 0x7261, {0x74, 0x63, 0x68, 0, 0, 0, 0, 0}};
    const UINT64 bar_size = 0x10000000;
    IVmFiovGuestMmioMappings *mappings;
    VMIDL_FLEXIO_DEVICE_DESC desc;
    unsigned int count = 0;
    IUnknown *device;
    HANDLE section;
    HRESULT hr;

    guest_device_desc(&desc, &scratch, NULL, bar_address);
    desc.BarSize[FIOV_BAR0] = bar_size;
    desc.BarAddress[FIOV_BAR2] = bar_address + bar_size;
    hr = pVmidlAddFlexIoDevice(guest->partition, &desc, &device);
    ok_(file, line)(hr == S_OK, "cannot add the scratch device, hr %#lx\n", hr);
    if (FAILED(hr)) return 0;
    IUnknown_QueryInterface(device, &IID_IVmFiovGuestMmioMappings, (void **)&mappings);
    section = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x1000, NULL);
    while (count < bar_size / 0x1000 && SUCCEEDED(hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(
            mappings, FIOV_BAR0, count, 1, FiovMmioMappingFlagNone, section, 0)))
        count++;
    ok_(file, line)(hr == HRESULT_FROM_WIN32(ERROR_NO_SYSTEM_RESOURCES), "range %u: got hr %#lx\n", count, hr);
    CloseHandle(section);
    IVmFiovGuestMmioMappings_Release(mappings);
    IUnknown_Release(device);
    return count;
}

BOOL init_resource_counting(void)
{
    HMODULE module = LoadLibraryA("vmidltest.dll");

    pNtQuerySystemInformation = (void *)GetProcAddress(GetModuleHandleA("ntdll.dll"), "NtQuerySystemInformation");
    if (!(pVmidlTestGetResources = (void *)GetProcAddress(module, "VmidlTestGetResources")))
    {
        win_skip("vmidltest.dll not available\n");
        return FALSE;
    }
    pVmidlTestTruncateFile = (void *)GetProcAddress(module, "VmidlTestTruncateFile");
    pVmidlTestListFds = (void *)GetProcAddress(module, "VmidlTestListFds");
    count_unix_only_threads();
    return TRUE;
}

/* The system's information of that class, in a buffer to free, or NULL. */
static void *query_system_information(SYSTEM_INFORMATION_CLASS class, struct counting *counting)
{
    ULONG size = 1 << 16;
    NTSTATUS status;
    void *info;

    for (;;)
    {
        info = malloc(size);
        if ((status = pNtQuerySystemInformation(class, info, size, &size)) != STATUS_INFO_LENGTH_MISMATCH) break;
        free(info);
        size *= 2;
    }
    if (!status) return info;
    counting_failed(counting, "class %u: got status %#lx", class, status);
    free(info);
    return NULL;
}

/* The type name of one of the process's handles; FALSE if it is not one. */
static BOOL handle_type(HANDLE handle, WCHAR *name, unsigned int size)
{
    static NTSTATUS (WINAPI *pNtQueryObject)(HANDLE, OBJECT_INFORMATION_CLASS, void *, ULONG, ULONG *);
    union { OBJECT_TYPE_INFORMATION info; char buffer[256]; } type;

    if (!pNtQueryObject) pNtQueryObject = (void *)GetProcAddress(GetModuleHandleA("ntdll.dll"), "NtQueryObject");
    name[0] = 0;
    if (pNtQueryObject(handle, ObjectTypeInformation, &type, sizeof(type), NULL)) return FALSE;
    swprintf(name, size, L"%.*s", type.info.TypeName.Length / sizeof(WCHAR), type.info.TypeName.Buffer);
    return TRUE;
}

/* This process's entry of SystemProcessInformation: its live threads (the
 * second field, NumberOfThreads, which Wine's headers show only to Wine)
 * and its HandleCount. */
static BOOL query_this_process(ULONG *threads, ULONG *handle_count, struct counting *counting)
{
    BYTE *info = query_system_information(SystemProcessInformation, counting);
    ULONG offset = 0;
    BOOL found = FALSE;

    for (; info; offset += *(ULONG *)(info + offset))
    {
        const SYSTEM_PROCESS_INFORMATION *process = (const SYSTEM_PROCESS_INFORMATION *)(info + offset);

        if ((found = HandleToULong(process->UniqueProcessId) == GetCurrentProcessId()))
        {
            *threads = *(const ULONG *)(info + offset + sizeof(ULONG));
            *handle_count = process->HandleCount;
            break;
        }
        if (!process->NextEntryOffset) break;
    }
    if (info && !found) counting_failed(counting, "this process is not in the process list");
    free(info);
    return found;
}

/* Handles this process holds; of a type, if type_name is given; each one
 * traced, if trace_them.  Wine 8's GetProcessHandleCount always says 0,
 * and SystemHandleInformation, which lists every process's handles, makes
 * Wine 8.0's wineserver crash when a process's table is empty, as it is
 * while a process starts (doc/testing.md, Known issues).  So each handle
 * value is asked for, up to the HandleCount Wine gives the process: the
 * size of its handle table, whose entry i is handle 4 * (i + 1). */
static DWORD count_handles_(const WCHAR *type_name, BOOL trace_them, struct counting *counting)
{
    ULONG threads, table_size = 0, i;
    WCHAR name[64];
    DWORD count = 0;

    query_this_process(&threads, &table_size, counting);
    for (i = 0; i < table_size; i++)
    {
        HANDLE handle = ULongToHandle((i + 1) * 4);

        if (!handle_type(handle, name, ARRAY_SIZE(name))) continue;
        if (trace_them) trace("handle %p: %ls\n", handle, name);
        if (!type_name || !wcscmp(name, type_name)) count++;
    }
    return count;
}

unsigned int poll_handles_of_type(const WCHAR *type_name, struct counting *counting)
{
    return count_handles_(type_name, FALSE, counting);
}

unsigned int count_handles_of_type(const WCHAR *type_name)
{
    struct counting counting = {0};
    unsigned int count = count_handles_(type_name, FALSE, &counting);

    check_counting(&counting);
    return count;
}

/* What each handle is, for a test that finds more or fewer than it expected. */
static void trace_handles(void)
{
    struct counting counting = {0};

    count_handles_(NULL, TRUE, &counting);
    check_counting(&counting);
}

unsigned int count_fds(void)
{
    struct vmidltest_resources r;

    if (pVmidlTestGetResources(&r)) return 0;
    return r.fds;
}

/* Threads of this process that Wine counts as alive.  One that has ended
 * stays in /proc/self/task, with its server pipes open, until its unix
 * thread is through, which takes a moment on a fast machine and much
 * longer in an emulated one. */
static ULONG count_live_threads(struct counting *counting)
{
    ULONG threads = 0, handle_count;

    query_this_process(&threads, &handle_count, counting);
    return threads;
}

/* Unix threads that are not Wine threads, counted once the process has
 * started; -1 until then. */
static int unix_only_threads = -1;

static void count_resources(struct resources *r, struct counting *counting)
{
    NTSTATUS status = pVmidlTestGetResources(&r->unix);

    if (status) counting_failed(counting, "VmidlTestGetResources got status %#lx", status);
    r->handles = count_handles_(NULL, FALSE, counting);
}

static void count_unix_only_threads(void)
{
    struct counting counting = {0};
    struct resources r;

    if (unix_only_threads >= 0) return;
    count_resources(&r, &counting);
    unix_only_threads = max((int)r.unix.threads - (int)count_live_threads(&counting), 0);
    check_counting(&counting);
    trace("%d unix threads of the process are not Wine threads\n", unix_only_threads);
}

/* Whether a Wine thread is on its way out: its unix thread, and with it
 * the fds and mappings it holds, is still there. */
static BOOL threads_ending(const struct resources *r, struct counting *counting)
{
    return unix_only_threads >= 0 && (int)r->unix.threads - (int)count_live_threads(counting) > unix_only_threads;
}

/* Counts that have not changed for stable_ms while no thread was ending,
 * polled every interval_ms, or the last ones after limit_ms. */
static void get_stable_resources(struct resources *r, DWORD interval_ms, DWORD stable_ms, DWORD limit_ms,
        struct counting *counting)
{
    ULONGLONG stable_since = GetTickCount64(), start = stable_since;
    struct resources again;

    count_resources(r, counting);
    while ((threads_ending(r, counting) || GetTickCount64() - stable_since < stable_ms)
            && GetTickCount64() - start < limit_ms)
    {
        Sleep(interval_ms);
        count_resources(&again, counting);
        if (memcmp(&again, r, sizeof(again)) || threads_ending(&again, counting)) stable_since = GetTickCount64();
        *r = again;
    }
}

/* Threads that were just waited for, and the worker KVM runs for a VM that
 * was just destroyed, leave a moment later: take counts once no thread is
 * ending and they stay put.  The limit is generous: the same tests run in
 * an emulated machine some 50 times slower than bare KVM. */
void poll_resources(struct resources *r, struct counting *counting)
{
    get_stable_resources(r, 10, 10, TEST_WAIT_MS, counting);
}

void get_resources(struct resources *r)
{
    struct counting counting = {0};

    poll_resources(r, &counting);
    check_counting(&counting);
}

/* Wine's thread pool, on which the RPC runtime runs other processes' calls,
 * ends a worker, and its server pipes, after 5 s with nothing to do.  A
 * baseline taken while one sits out those 5 s would count a thread that
 * leaves during the test: wait until the counts stay put for longer. */
void get_resources_after_calls(struct resources *r)
{
    struct counting counting = {0};

    get_stable_resources(r, 100, 6000, TEST_WAIT_MS + 60000, &counting);
    check_counting(&counting);
}

/* While a driver process is connected, this process's handle count is
 * not its own to settle: Wine's RPC transport keeps one event per pipe
 * connection cached, or not, as its reads and writes happened to overlap.
 * crossproc.c counts handles once the driver is gone. */
static BOOL handles_count(void)
{
    return !device_test_remote;
}

static BOOL resources_settled(const struct resources *now, const struct resources *baseline)
{
    return now->unix.fds <= baseline->unix.fds && now->unix.threads <= baseline->unix.threads
            && now->unix.maps <= baseline->unix.maps && (now->handles <= baseline->handles || !handles_count());
}

void check_resources_(const char *file, int line, const struct resources *baseline)
{
    struct counting counting = {0};
    struct resources now;
    ULONGLONG start;

    start = GetTickCount64();
    do count_resources(&now, &counting);
    while ((!resources_settled(&now, baseline) || threads_ending(&now, &counting))
            && GetTickCount64() - start < TEST_WAIT_MS && (Sleep(10), TRUE));
    check_counting_(file, line, &counting);
    ok_(file, line)(now.unix.fds == baseline->unix.fds, "fds: %u, baseline %u\n", now.unix.fds, baseline->unix.fds);
    if (now.unix.fds != baseline->unix.fds && pVmidlTestListFds)
    {
        static struct vmidltest_list_fds_params list;
        if (!pVmidlTestListFds(&list)) trace("the process's fds:\n%s", list.text);
    }
    ok_(file, line)(now.unix.shared_maps == baseline->unix.shared_maps, "shared mappings: %u, baseline %u\n",
            now.unix.shared_maps, baseline->unix.shared_maps);
    ok_(file, line)(now.unix.maps == baseline->unix.maps, "mappings: %u, baseline %u\n",
            now.unix.maps, baseline->unix.maps);
    ok_(file, line)(now.unix.threads == baseline->unix.threads, "threads: %u, baseline %u\n",
            now.unix.threads, baseline->unix.threads);
    if (!handles_count()) return;
    ok_(file, line)(now.handles == baseline->handles, "handles: %lu, baseline %lu\n", now.handles, baseline->handles);
    if (now.handles != baseline->handles) trace_handles();
}
