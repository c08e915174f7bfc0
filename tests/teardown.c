/*
 * Teardown: releasing the last device reference, or deleting the partition,
 * gives back every fd, shared mapping, thread and handle that ranges and
 * doorbells took, and the guest loses the fast paths.
 *
 * Counted on the unix side of the process by vmidltest.dll (Wine only).
 */

#define COBJMACROS
#include "wine/test.h"
#include "objbase.h"
#include "vmfiov.h"
#include "vmidl_test.h"

#define PAGE 0x1000
#define BAR0 GUEST_BAR_BASE

static const GUID instance = {0x74656172, 0x646f, 0x776e, {1, 2, 3, 4, 5, 6, 7, 8}};

/* A device with four ranges (pagefile, file-backed, read-only) and four
 * doorbells; the caller's own handles are all closed again. */
static IUnknown *create_busy_device(struct guest *guest, struct mmio_log *log, HANDLE *events, char *path)
{
    IVmFiovGuestMemoryFastNotification *notification;
    IVmFiovGuestMmioMappings *mappings;
    VMIDL_FLEXIO_DEVICE_DESC desc;
    HANDLE section, file;
    char dir[MAX_PATH];
    IUnknown *device;
    unsigned int i;
    DWORD written;
    HRESULT hr;

    guest_device_desc(&desc, &instance, log, BAR0);
    hr = pVmidlAddFlexIoDevice(guest->partition, &desc, &device);
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
    WriteFile(file, dir, 4 * PAGE > sizeof(dir) ? sizeof(dir) : 4 * PAGE, &written, NULL);
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

static void test_device_release(void)
{
    struct resources baseline, busy, now;
    struct mmio_log log;
    char path[MAX_PATH];
    struct guest guest;
    IUnknown *device;
    HANDLE events[4];
    unsigned int i;
    HRESULT hr;

    if (!create_guest(&guest)) return;
    mmio_log_init(&log);

    /* One full cycle first, so that lazy setup (Wine's, and the worker
     * thread KVM adds to the process at a VM's first run) is not counted. */
    device = create_busy_device(&guest, &log, events, path);
    guest_reset_ops(&guest);
    guest_add_op(&guest, GUEST_OP_WRITE, 8, BAR0 + 0x8008, 1);
    ok(guest_run(&guest) == S_OK, "guest run failed\n");
    WaitForSingleObject(events[1], 5000);
    IUnknown_Release(device);
    for (i = 0; i < 4; i++) CloseHandle(events[i]);
    DeleteFileA(path);

    get_resources(&baseline);
    device = create_busy_device(&guest, &log, events, path);
    get_resources(&busy);
    ok(busy.unix.fds == baseline.unix.fds + 4, "4 doorbells: %u fds, baseline %u\n", busy.unix.fds, baseline.unix.fds);
    ok(busy.unix.shared_maps == baseline.unix.shared_maps + 4, "4 ranges: %u shared mappings, baseline %u\n",
            busy.unix.shared_maps, baseline.unix.shared_maps);
    ok(busy.unix.threads == baseline.unix.threads, "threads: %u, baseline %u\n", busy.unix.threads, baseline.unix.threads);
    /* The test's own copies of the four events, and vmidl's. */
    ok(busy.handles == baseline.handles + 8, "4 doorbells: %lu handles, baseline %lu\n", busy.handles, baseline.handles);

    guest_reset_ops(&guest);
    guest_add_op(&guest, GUEST_OP_WRITE, 8, BAR0 + 0x8008, 1);
    guest_add_op(&guest, GUEST_OP_WRITE, 8, BAR0, 0x1234);
    hr = guest_run(&guest);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    ok(WaitForSingleObject(events[1], 5000) == WAIT_OBJECT_0, "doorbell not delivered\n");

    ok(!IUnknown_Release(device), "device still referenced\n");
    for (i = 0; i < 4; i++) CloseHandle(events[i]);
    get_resources(&now);
    check_resources(&now, &baseline);

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
    unsigned int i;

    mmio_log_init(&log);
    get_resources(&baseline);

    if (!create_guest(&guest)) return;
    device = create_busy_device(&guest, &log, events, path);
    get_resources(&now);
    ok(now.unix.threads == baseline.unix.threads + 1, "partition threads: %u, baseline %u\n",
            now.unix.threads, baseline.unix.threads);

    /* The device object outlives the partition. */
    guest_destroy(&guest);
    for (i = 0; i < 4; i++) CloseHandle(events[i]);
    get_resources(&now);
    check_resources(&now, &baseline);
    ok(!IUnknown_Release(device), "device still referenced\n");
    get_resources(&now);
    check_resources(&now, &baseline);

    mmio_log_cleanup(&log);
    DeleteFileA(path);
}

START_TEST(teardown)
{
    struct guest guest;

    if (!init_resource_counting()) return;
    if (!init_guest_test(&guest)) return;
    guest_destroy(&guest);

    test_device_release();
    test_partition_delete();
}
