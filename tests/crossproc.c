/*
 * Device hosts in other processes, as on Windows: a driver process reaches
 * the VM worker with GetVmWorkerProcess, maps a section it made and
 * registers an event it waits on; the worker takes back what a process
 * held when it ends, however it ends; a driver whose worker ends gets an
 * error, not a hang.  The test process is the VM worker (with a real
 * guest), its drivers are tests/remote_driver.c's; where the worker must
 * die, it is tools/worker's vmidl-worker.exe.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>

#define COBJMACROS
#include "wine/test.h"
#include "objbase.h"
#include "vmfiov.h"
#include "vmidl_test.h"
#include "child.h"

#define PAGE 0x1000
#define BAR_A GUEST_BAR_BASE
#define BAR_B (GUEST_BAR_BASE + 0x200000)
#define DOORBELL 0x8008
#define DOORBELL_FLAGS (SIZE_QWORD | ANY_VALUE)
#define ACK REMOTE_DRIVER_ACK_OFFSET
#define MAX_CONNECTIONS 63

static const GUID instance_a = {0x63726f73, 0x7370, 0x726f, {0x63, 0x41, 0, 0, 0, 0, 0, 1}};
static const GUID instance_b = {0x63726f73, 0x7370, 0x726f, {0x63, 0x42, 0, 0, 0, 0, 0, 2}};

static HRESULT (WINAPI *pGetVmWorkerProcess)(REFGUID, REFIID, IUnknown **);

static struct guest guest;
static struct mmio_log mmio;

static BOOL add_device(const GUID *instance, UINT64 base, IUnknown **device)
{
    VMIDL_FLEXIO_DEVICE_DESC desc;
    HRESULT hr;

    guest_device_desc(&desc, instance, &mmio, base);
    hr = pVmidlAddFlexIoDevice(guest.partition, &desc, device);
    ok(hr == S_OK, "cannot add a device, hr %#lx\n", hr);
    return hr == S_OK;
}

/* A published guest with device A, which has run once (KVM adds a thread
 * to the process at a VM's first run). */
static BOOL init_worker(IUnknown **device)
{
    HRESULT hr;

    if (!create_guest(&guest)) return FALSE;
    mmio_log_init(&mmio);
    if (!add_device(&instance_a, BAR_A, device)) return FALSE;
    hr = pVmidlPublishPartition(guest.partition);
    ok(hr == S_OK, "cannot publish, hr %#lx\n", hr);
    guest_reset_ops(&guest);
    ok(guest_run(&guest) == S_OK, "guest run failed\n");
    return hr == S_OK;
}

static void done_worker(IUnknown *device)
{
    IUnknown_Release(device);
    guest_destroy(&guest);
    mmio_log_cleanup(&mmio);
}

static void *device_interface_of(IUnknown *device, REFIID iid)
{
    void *iface = NULL;
    HRESULT hr = IUnknown_QueryInterface(device, iid, &iface);

    ok(hr == S_OK, "got hr %#lx\n", hr);
    return iface;
}

static IVmFiovGuestMmioMappings *start_driver(const GUID *instance)
{
    IVmFiovGuestMmioMappings *driver;
    HRESULT hr;

    hr = remote_driver_start(&guest, instance, &IID_IVmFiovGuestMmioMappings, (void **)&driver);
    ok(hr == S_OK, "cannot start a driver process, hr %#lx\n", hr);
    return SUCCEEDED(hr) ? driver : NULL;
}

/* The driver maps two pages of a section of its own at BAR0 and waits on
 * an event of its own for the doorbell. */
static void serve_device(IVmFiovGuestMmioMappings *driver, unsigned int tag)
{
    HRESULT hr;

    hr = remote_driver_call(driver, REMOTE_OWN_RANGE, FIOV_BAR0, 0, 2, tag, NULL);
    ok(hr == S_OK, "the driver's CreateSectionBackedMmioRange got hr %#lx\n", hr);
    hr = remote_driver_call(driver, REMOTE_OWN_DOORBELL, FIOV_BAR0, DOORBELL, 0, DOORBELL_FLAGS, NULL);
    ok(hr == S_OK, "the driver's RegisterDoorbell got hr %#lx\n", hr);
}

static LONGLONG now_ms(void)
{
    LARGE_INTEGER frequency, counter;

    QueryPerformanceFrequency(&frequency);
    QueryPerformanceCounter(&counter);
    return counter.QuadPart * 1000 / frequency.QuadPart;
}

/* The driver's wake count once it reaches expected, or when waiting gives
 * up: the driver counts on its own thread, later than the guest sees the
 * acknowledgement, and how much later depends on the machine. */
static UINT64 driver_wakes(IVmFiovGuestMmioMappings *driver, UINT64 expected)
{
    LONGLONG start = now_ms();
    UINT64 wakes;
    HRESULT hr;

    for (;;)
    {
        wakes = ~0ull;
        hr = remote_driver_call(driver, REMOTE_WAKES, 0, 0, 0, 0, &wakes);
        if (hr != S_OK || wakes >= expected || now_ms() - start >= TEST_WAIT_MS) break;
        Sleep(10);
    }
    /* The first call that fails ends the poll: one check covers them all. */
    ok(hr == S_OK, "got hr %#lx\n", hr);
    return wakes;
}

/* Ring i rings the doorbell of the device at bar, then waits (no exit)
 * until the driver has acknowledged wake first + i through its section. */
static unsigned int add_rings(UINT64 bar, unsigned int first, unsigned int count)
{
    unsigned int i, op = 0;

    for (i = 0; i < count; i++)
    {
        guest_add_op(&guest, GUEST_OP_WRITE, 8, bar + DOORBELL, first + i);
        op = guest_add_op(&guest, GUEST_OP_WAIT, 64, bar + ACK, first + i);
    }
    return op;
}

static unsigned int count_acked(unsigned int first_op, unsigned int count)
{
    unsigned int i, acked = 0;

    for (i = 0; i < count; i++) acked += guest.ops[first_op + 2 * i + 1].result == 1;
    return acked;
}

/* The guest writes and reads once in BAR0 of the device at base; which of
 * the two reached the emulator, and what the read gave.  The run is
 * checked, or noted in runs if it is given (check_counting after the poll). */
static void probe_(struct counting *runs, UINT64 base, UINT64 write_offset, UINT64 read_offset, BOOL *write_trapped,
        BOOL *read_trapped, UINT64 *read)
{
    unsigned int i, op;
    HRESULT hr;

    mmio_log_reset(&mmio);
    guest_reset_ops(&guest);
    guest_add_op(&guest, GUEST_OP_WRITE, 8, base + write_offset, 1);
    op = guest_add_op(&guest, GUEST_OP_READ, 8, base + read_offset, 0);
    hr = guest_run(&guest);
    if (!runs) ok(hr == S_OK, "guest run failed, hr %#lx\n", hr);
    else if (hr != S_OK) counting_failed(runs, "guest run failed, hr %#lx", hr);
    *write_trapped = *read_trapped = FALSE;
    for (i = 0; i < mmio.count && i < ARRAYSIZE(mmio.accesses); i++)
    {
        const struct mmio_access *access = &mmio.accesses[i];

        if (access->bar != FIOV_BAR0) continue;
        if (access->is_write && access->offset == write_offset) *write_trapped = TRUE;
        if (!access->is_write && access->offset == read_offset) *read_trapped = TRUE;
    }
    if (read) *read = guest.ops[op].result;
}

static void probe(UINT64 base, UINT64 write_offset, UINT64 read_offset, BOOL *write_trapped, BOOL *read_trapped,
        UINT64 *read)
{
    probe_(NULL, base, write_offset, read_offset, write_trapped, read_trapped, read);
}

static void poll_probe(struct counting *runs, UINT64 base, UINT64 write_offset, UINT64 read_offset, BOOL *write_trapped,
        BOOL *read_trapped)
{
    probe_(runs, base, write_offset, read_offset, write_trapped, read_trapped, NULL);
}

static DWORD WINAPI guest_thread(void *arg)
{
    return guest_run(&guest);
}

/* A child maps a section it made and the guest reads it; the child's
 * auto-reset event wakes once per ring, and Unregister stops it. */
static void test_ring_and_section(void)
{
    static const unsigned int rings = 200;
    IVmFiovGuestMemoryFastNotification *notification;
    IVmFiovGuestMmioMappings *driver;
    BOOL write_trapped, read_trapped;
    unsigned int i, page, op, first;
    UINT64 value;
    IUnknown *device;
    HRESULT hr;

    if (!init_worker(&device)) return;
    if (!(driver = start_driver(&instance_a))) goto done;
    serve_device(driver, 0x51);

    mmio_log_reset(&mmio);
    guest_reset_ops(&guest);
    first = guest_add_op(&guest, GUEST_OP_READ, 8, BAR_A, 0);
    for (page = 0; page < 2; page++)
        for (i = 1; i < 400; i += 57) guest_add_op(&guest, GUEST_OP_READ, 8, BAR_A + page * PAGE + i * 8, 0);
    guest_add_op(&guest, GUEST_OP_WRITE, 8, BAR_A + PAGE + 16, 0x1234);
    ok(guest_run(&guest) == S_OK, "guest run failed\n");
    ok(guest.ops[first].result == section_pattern(0x51, 0, 0), "the guest read %#I64x\n", guest.ops[first].result);
    op = first + 1;
    for (page = 0; page < 2; page++)
        for (i = 1; i < 400; i += 57, op++)
            ok(guest.ops[op].result == section_pattern(0x51, page, i), "page %u qword %u: the guest read %#I64x\n",
                    page, i, guest.ops[op].result);
    ok(!mmio.count, "%u accesses reached the emulator\n", mmio.count);
    hr = remote_driver_call(driver, REMOTE_READ_SECTION, 0, 512 + 2, 0, 0, &value);
    ok(hr == S_OK && value == 0x1234, "the driver's section holds %#I64x, hr %#lx\n", value, hr);

    guest_reset_ops(&guest);
    first = add_rings(BAR_A, 1, rings) + 1 - 2 * rings;
    ok(guest_run(&guest) == S_OK, "guest run failed\n");
    ok(count_acked(first, rings) == rings, "%u of %u rings acknowledged\n", count_acked(first, rings), rings);
    ok(!mmio.count, "%u accesses reached the emulator\n", mmio.count);
    value = driver_wakes(driver, rings);
    ok(value == rings, "the driver's event woke %I64u times for %u rings\n", value, rings);

    IVmFiovGuestMmioMappings_QueryInterface(driver, &IID_IVmFiovGuestMemoryFastNotification, (void **)&notification);
    hr = IVmFiovGuestMemoryFastNotification_UnregisterDoorbell(notification, FIOV_BAR0, DOORBELL, 0, DOORBELL_FLAGS);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    IVmFiovGuestMemoryFastNotification_Release(notification);
    probe(BAR_A, DOORBELL, 0, &write_trapped, &read_trapped, &value);
    ok(write_trapped, "a write to an unregistered doorbell did not reach the emulator\n");
    ok(!read_trapped && value == section_pattern(0x51, 0, 0), "the range changed: %#I64x\n", value);
    Sleep(50);
    value = driver_wakes(driver, rings);
    ok(value == rings, "the driver's event woke %I64u times after Unregister\n", value);

    hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(driver, FIOV_BAR0, 0);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    probe(BAR_A, DOORBELL, 0, &write_trapped, &read_trapped, &value);
    ok(read_trapped && value == guest_mmio_read_value(FIOV_BAR0, 0, 8), "a destroyed range still reads %#I64x\n", value);

    IVmFiovGuestMmioMappings_Release(driver);
done:
    done_worker(device);
}

/* Two driver processes serve two devices of one worker; one that exits
 * without a Release loses its range, the other keeps serving. */
static void test_two_drivers(void)
{
    IVmFiovGuestMmioMappings *driver_a, *driver_b;
    IUnknown *device_a, *device_b = NULL;
    BOOL write_trapped, read_trapped;
    unsigned int first_a, first_b;
    struct counting runs = {0};
    LONGLONG start;
    UINT64 value;

    if (!init_worker(&device_a)) return;
    if (!add_device(&instance_b, BAR_B, &device_b)) goto done;
    if (!(driver_a = start_driver(&instance_a))) goto done;
    if (!(driver_b = start_driver(&instance_b)))
    {
        IVmFiovGuestMmioMappings_Release(driver_a);
        goto done;
    }
    serve_device(driver_a, 0xa1);
    serve_device(driver_b, 0xb2);

    guest_reset_ops(&guest);
    first_a = add_rings(BAR_A, 1, 5) - 9;
    first_b = add_rings(BAR_B, 1, 3) - 5;
    guest_add_op(&guest, GUEST_OP_READ, 8, BAR_A + 8, 0);
    guest_add_op(&guest, GUEST_OP_READ, 8, BAR_B + 8, 0);
    mmio_log_reset(&mmio);
    ok(guest_run(&guest) == S_OK, "guest run failed\n");
    ok(count_acked(first_a, 5) == 5, "A: %u of 5 rings acknowledged\n", count_acked(first_a, 5));
    ok(count_acked(first_b, 3) == 3, "B: %u of 3 rings acknowledged\n", count_acked(first_b, 3));
    ok(guest.ops[first_b + 6].result == section_pattern(0xa1, 0, 1), "A reads %#I64x\n", guest.ops[first_b + 6].result);
    ok(guest.ops[first_b + 7].result == section_pattern(0xb2, 0, 1), "B reads %#I64x\n", guest.ops[first_b + 7].result);
    ok(!mmio.count, "%u accesses reached the emulator\n", mmio.count);
    value = driver_wakes(driver_a, 5);
    ok(value == 5, "A's event woke %I64u times\n", value);
    value = driver_wakes(driver_b, 3);
    ok(value == 3, "B's event woke %I64u times\n", value);

    remote_driver_call(driver_b, REMOTE_EXIT, 0, 0, 0, 0, NULL);
    start = now_ms();
    do poll_probe(&runs, BAR_B, DOORBELL, 8, &write_trapped, &read_trapped);
    while (!(write_trapped && read_trapped) && now_ms() - start < TEST_WAIT_MS && (Sleep(10), TRUE));
    check_counting(&runs);
    ok(write_trapped && read_trapped, "B's doorbell and range still there\n");
    trace("a driver that exited without Release lost its doorbell and range within %I64d ms\n", now_ms() - start);

    probe(BAR_A, DOORBELL, 8, &write_trapped, &read_trapped, &value);
    ok(!write_trapped && !read_trapped && value == section_pattern(0xa1, 0, 1), "A changed: %#I64x\n", value);

    IVmFiovGuestMmioMappings_Release(driver_b);
    IVmFiovGuestMmioMappings_Release(driver_a);
done:
    if (device_b) IUnknown_Release(device_b);
    done_worker(device_a);
}

/* A driver process releases its last proxies of the device: its view goes
 * with thousands of ranges, taken out one by one (the highest first).
 * Meanwhile it gets the device again and registers a doorbell: that one
 * belongs to the new view and stays. */
#define BAR_C (GUEST_BAR_BASE + 0x4000000)
#define SUCCESSOR_RANGES 4096

static void test_view_successor(void)
{
    static const GUID instance_c = {0x63726f73, 0x7370, 0x726f, {0x63, 0x43, 0, 0, 0, 0, 0, 3}};
    IVmFiovGuestMmioMappings *driver;
    BOOL write_trapped, read_trapped;
    VMIDL_FLEXIO_DEVICE_DESC desc;
    struct counting runs = {0}, more_runs = {0};
    IUnknown *device, *device_c;
    LONGLONG start;
    UINT64 wakes;
    HRESULT hr;

    if (!init_worker(&device)) return;
    guest_device_desc(&desc, &instance_c, &mmio, BAR_C);
    desc.BarSize[FIOV_BAR0] = SUCCESSOR_RANGES * PAGE;
    desc.BarAddress[FIOV_BAR2] = BAR_C + SUCCESSOR_RANGES * PAGE;
    hr = pVmidlAddFlexIoDevice(guest.partition, &desc, &device_c);
    ok(hr == S_OK, "cannot add a device, hr %#lx\n", hr);
    if (FAILED(hr)) goto done;
    if (!(driver = start_driver(&instance_c))) goto done_c;
    hr = remote_driver_call(driver, REMOTE_MANY_RANGES, FIOV_BAR0, 1, SUCCESSOR_RANGES - 1, 0, NULL);
    ok(hr == S_OK, "got hr %#lx\n", hr);

    hr = remote_driver_call(driver, REMOTE_RELEASE_DEVICE, 0, 0, 0, 0, NULL);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    /* Once the view's removal has begun (its highest range is gone). */
    start = now_ms();
    do poll_probe(&runs, BAR_C, 0, (SUCCESSOR_RANGES - 1) * PAGE, &write_trapped, &read_trapped);
    while (!read_trapped && now_ms() - start < TEST_WAIT_MS);
    check_counting(&runs);
    ok(read_trapped, "the old view's ranges are still there\n");
    hr = remote_driver_call(driver, REMOTE_GET_DEVICE_AGAIN, FIOV_BAR0, 0, 0, 0, NULL);
    ok(hr == S_OK, "the new view's RegisterDoorbell got hr %#lx\n", hr);
    probe(BAR_C, PAGE, PAGE, &write_trapped, &read_trapped, NULL);
    ok(!read_trapped, "the old view's removal ended before the new view came\n");

    /* Once the old view's ranges are all gone, its doorbell still rings. */
    start = now_ms();
    while (!read_trapped && now_ms() - start < TEST_WAIT_MS)
    {
        Sleep(10);
        poll_probe(&more_runs, BAR_C, PAGE, PAGE, &write_trapped, &read_trapped);
    }
    check_counting(&more_runs);
    ok(read_trapped, "the old view's ranges are still there\n");
    Sleep(100);
    probe(BAR_C, 0, PAGE, &write_trapped, &read_trapped, NULL);
    ok(!write_trapped, "the new view's doorbell is gone\n");
    wakes = driver_wakes(driver, 1);
    ok(wakes == 1, "the new view's event woke %I64u times\n", wakes);

    IVmFiovGuestMmioMappings_Release(driver);
done_c:
    IUnknown_Release(device_c);
done:
    done_worker(device);
}

/* Two driver processes on one device: neither may remove what the other
 * registered (E_ACCESSDENIED), while the worker's own device object may. */
static void test_foreign_registrations(void)
{
    IVmFiovGuestMemoryFastNotification *notification_b;
    IVmFiovGuestMmioMappings *driver_a, *driver_b, *mappings;
    BOOL write_trapped, read_trapped;
    IUnknown *device;
    UINT64 value;
    HRESULT hr;

    if (!init_worker(&device)) return;
    if (!(driver_a = start_driver(&instance_a))) goto done;
    if (!(driver_b = start_driver(&instance_a)))
    {
        IVmFiovGuestMmioMappings_Release(driver_a);
        goto done;
    }
    serve_device(driver_a, 0xa1);
    IVmFiovGuestMmioMappings_QueryInterface(driver_b, &IID_IVmFiovGuestMemoryFastNotification, (void **)&notification_b);

    hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(driver_b, FIOV_BAR0, 0);
    ok(hr == E_ACCESSDENIED, "destroying the other process's range: got hr %#lx\n", hr);
    hr = IVmFiovGuestMemoryFastNotification_UnregisterDoorbell(notification_b, FIOV_BAR0, DOORBELL, 0, DOORBELL_FLAGS);
    ok(hr == E_ACCESSDENIED, "unregistering the other process's doorbell: got hr %#lx\n", hr);
    /* What is not there at all is still not found. */
    hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(driver_b, FIOV_BAR0, 4);
    ok(hr == HRESULT_FROM_WIN32(ERROR_NOT_FOUND), "got hr %#lx\n", hr);
    hr = IVmFiovGuestMemoryFastNotification_UnregisterDoorbell(notification_b, FIOV_BAR0, DOORBELL + 8, 0, DOORBELL_FLAGS);
    ok(hr == HRESULT_FROM_WIN32(ERROR_NOT_FOUND), "got hr %#lx\n", hr);
    probe(BAR_A, DOORBELL, 8, &write_trapped, &read_trapped, &value);
    ok(!write_trapped && !read_trapped && value == section_pattern(0xa1, 0, 1), "A's range or doorbell went: %#I64x\n",
            value);

    /* The device's own callers, in the worker, may. */
    mappings = device_interface_of(device, &IID_IVmFiovGuestMmioMappings);
    hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(mappings, FIOV_BAR0, 0);
    ok(hr == S_OK, "the worker destroying a driver's range: got hr %#lx\n", hr);
    IVmFiovGuestMmioMappings_Release(mappings);
    /* And a driver may remove its own. */
    hr = remote_driver_call(driver_a, REMOTE_UNREGISTER_DOORBELL, FIOV_BAR0, DOORBELL, 0, DOORBELL_FLAGS, NULL);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    probe(BAR_A, DOORBELL, 8, &write_trapped, &read_trapped, NULL);
    ok(write_trapped && read_trapped, "the range or the doorbell is still there\n");

    IVmFiovGuestMemoryFastNotification_Release(notification_b);
    IVmFiovGuestMmioMappings_Release(driver_b);
    IVmFiovGuestMmioMappings_Release(driver_a);
done:
    done_worker(device);
}

/* TerminateProcess on a driver while the guest rings it: within 1 s its
 * range traps, its doorbell reaches the emulator and what vmidl held for it
 * is gone; then every count of the worker is back (Wine's RPC threads take
 * their 5 s to go). */
static void test_client_killed(void)
{
    static const unsigned int rings = 10000;
    IVmFiovGuestMemoryFastNotification *notification;
    struct resources baseline, now;
    struct counting counting = {0};
    struct counting runs = {0};
    IVmFiovGuestMmioMappings *driver;
    HANDLE event, section;
    BOOL write_trapped = FALSE, read_trapped = FALSE, released = FALSE;
    unsigned int first;
    LONGLONG start, elapsed;
    HANDLE thread, process;
    IUnknown *device;
    HRESULT hr;

    if (!init_worker(&device)) return;
    if (!init_resource_counting()) goto done;
    get_resources_after_calls(&baseline);
    if (!(driver = start_driver(&instance_a))) goto done;
    serve_device(driver, 0x77);

    /* Handles the worker duplicates for calls that fail must go too. */
    event = CreateEventA(NULL, FALSE, FALSE, NULL);
    section = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, PAGE, NULL);
    hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(driver, FIOV_BAR0, 4, 1, 0, event, 0);
    ok(hr == E_HANDLE, "an event for a section: got hr %#lx\n", hr);
    hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(driver, FIOV_BAR0, 0, 1, 0, section, 0);
    ok(hr == HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS), "over the driver's range: got hr %#lx\n", hr);
    IVmFiovGuestMmioMappings_QueryInterface(driver, &IID_IVmFiovGuestMemoryFastNotification, (void **)&notification);
    hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(notification, FIOV_BAR0, DOORBELL, 0, DOORBELL_FLAGS,
            event);
    ok(hr == HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS), "the driver's doorbell again: got hr %#lx\n", hr);
    hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(notification, FIOV_BAR0, 0x9000, 0, DOORBELL_FLAGS,
            section);
    ok(hr == E_HANDLE, "a section for an event: got hr %#lx\n", hr);
    IVmFiovGuestMemoryFastNotification_Release(notification);
    CloseHandle(event);
    CloseHandle(section);

    guest_reset_ops(&guest);
    first = add_rings(BAR_A, 1, rings) + 1 - 2 * rings;
    thread = CreateThread(NULL, 0, guest_thread, NULL, 0, NULL);
    start = now_ms();
    while (count_acked(first, 50) < 50 && now_ms() - start < TEST_WAIT_MS) Sleep(1);
    ok(count_acked(first, 50) == 50, "the driver does not answer\n");

    start = now_ms();
    process = remote_driver_kill(driver);
    ok(!WaitForSingleObject(process, TEST_WAIT_MS), "the driver process does not end\n");
    /* What this process holds for the driver: its process and pipes. */
    IVmFiovGuestMmioMappings_Release(driver);
    hr = pVmidlCancelRunVirtualProcessor(guest.partition, 0, 0);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    ok(!WaitForSingleObject(thread, TEST_WAIT_MS), "the guest does not stop\n");
    CloseHandle(thread);
    ok(count_acked(first, rings) < rings, "the guest finished before the driver was killed\n");

    do
    {
        poll_probe(&runs, BAR_A, DOORBELL, ACK, &write_trapped, &read_trapped);
        poll_resources(&now, &counting);
        released = now.unix.anon_fds == baseline.unix.anon_fds && now.unix.shared_maps == baseline.unix.shared_maps
                && now.handles <= baseline.handles;
        elapsed = now_ms() - start;
    } while (!(write_trapped && read_trapped && released) && elapsed < TEST_WAIT_MS && (Sleep(10), TRUE));
    check_counting(&runs);
    check_counting(&counting);
    ok(read_trapped, "the killed driver's range is still there\n");
    ok(write_trapped, "the killed driver's doorbell is still there\n");
    ok(released, "eventfds, epoll and KVM fds %u (baseline %u), shared mappings %u (%u), handles %lu (%lu)\n",
            now.unix.anon_fds, baseline.unix.anon_fds, now.unix.shared_maps, baseline.unix.shared_maps,
            now.handles, baseline.handles);
    trace("a killed driver's range, doorbell, fds and handles went within %I64d ms\n", elapsed);

    check_resources(&baseline);
done:
    done_worker(device);
}

struct worker_process
{
    HANDLE process, input, output;
    GUID runtime_id, instance;
};

/* tools/worker's program in the build tree that holds this one (tests/ or
 * tests/sanitize/). */
static BOOL find_worker_program(char *path)
{
    char *p;

    GetModuleFileNameA(NULL, path, MAX_PATH);
    while ((p = strrchr(path, '\\')))
    {
        strcpy(p, "\\tools\\worker\\vmidl-worker.exe");
        if (GetFileAttributesA(path) != INVALID_FILE_ATTRIBUTES) return TRUE;
        *p = 0;
    }
    return FALSE;
}

static void close_worker_program(struct worker_process *worker)
{
    CloseHandle(worker->input);
    ok(!WaitForSingleObject(worker->process, TEST_WAIT_MS), "the worker program does not end\n");
    CloseHandle(worker->output);
    CloseHandle(worker->process);
}

static BOOL start_worker_program(struct worker_process *worker, const char *options)
{
    char path[MAX_PATH + 40], cmdline[MAX_PATH + 100], line[200], runtime_id[64], instance[64];
    DWORD size, length = 0;

    if (!find_worker_program(path))
    {
        ok(0, "no tools\\worker\\vmidl-worker.exe above this program\n");
        return FALSE;
    }
    snprintf(cmdline, sizeof(cmdline), "\"%s\" %s", path, options);
    if (!(worker->process = start_child_process(cmdline, &worker->input, &worker->output)))
    {
        ok(0, "cannot start %s, error %lu\n", cmdline, GetLastError());
        return FALSE;
    }

    while (length < sizeof(line) - 1 && ReadFile(worker->output, line + length, 1, &size, NULL) && size
            && line[length] != '\n')
        length++;
    line[length] = 0;
    if (sscanf(line, "vmidl-worker: VM %63s device %63s", runtime_id, instance) != 2
            || !guid_from_text(runtime_id, &worker->runtime_id) || !guid_from_text(instance, &worker->instance))
    {
        ok(0, "the worker program said \"%s\"\n", line);
        TerminateProcess(worker->process, 1);
        close_worker_program(worker);
        return FALSE;
    }
    return TRUE;
}

/* A unix shell runs the worker program, publishing and waiting for a
 * driver, in a prefix of its own (a copy of this one beside it, on the same
 * file system, whose drive_c is hard links; the server's directory is named after the prefix's device and
 * inode), kills that prefix's wineserver with SIGKILL and writes when the
 * worker ended into a file.  Its threads that wait on objects (COM's,
 * RPC's) never make another server request, which is how a Wine thread
 * learns that its server is gone: vmidl's dispatcher watches the server's
 * socket and ends the process.  (Wine gives a Windows program no handle
 * to a unix process it starts.)  The worker runs under Wine itself
 * ($VMIDL_WINE in check-sanitize, whose $WINE shows a program's output only
 * once it has ended).  The prefix's services.exe and winedevice.exe outlive
 * their server (Wine 8.0): they are ended with the prefix (reap). */
static const char server_death_script[] =
    "worker=\"$1\"; result=\"$2\"; prefix=$(mktemp -d \"${WINEPREFIX%/}.serverdeath.XXXXXX\") || exit 1; "
    "say() { echo \"$*\" >\"$result.tmp\"; mv \"$result.tmp\" \"$result\"; }; "
    "reap() { for p in /proc/[0-9]*; do tr '\\0' '\\n' <$p/environ 2>/dev/null | grep -qxF \"WINEPREFIX=$prefix\" "
    "&& kill -9 ${p#/proc/} 2>/dev/null; done; }; "
    "for f in \"$WINEPREFIX\"/* \"$WINEPREFIX\"/.update-timestamp; do "
    "case $f in */drive_c) cp -al \"$f\" \"$prefix/\" ;; *) cp -a \"$f\" \"$prefix/\" ;; esac 2>\"$prefix.err\" "
    "|| { say cannot copy the prefix: $(cat \"$prefix.err\"); rm -rf \"$prefix\" \"$prefix.err\"; exit 1; }; done; "
    "rm -f \"$prefix.err\"; "
    "export WINEPREFIX=\"$prefix\"; "
    "\"${VMIDL_WINE:-$WINE}\" \"$worker\" </dev/null >\"$prefix/out\" 2>&1 & pid=$!; "
    "for i in $(seq 6000); do grep -q 'waiting for a driver' \"$prefix/out\" && break; sleep 0.1; done; "
    "dir=$(printf 'server-%x-%x' $(stat -c '%d %i' \"$prefix\")); server=; servers=; "
    "for i in $(seq 60); do servers=; for p in /proc/[0-9]*; do c=$(cat $p/comm 2>/dev/null):$(readlink $p/cwd); "
    "case $c in wineserver*:*/$dir) server=${p#/proc/} ;; wineserver*) servers=\"$servers ${p#/proc/}:$c\" ;; esac; done; "
    "[ -n \"$server\" ] && break; sleep 1; done; "
    "if [ -z \"$server\" ]; then say no server in $dir, only$servers, the worker: $(cat \"$prefix/out\"); "
    "kill -9 $pid; reap; rm -rf \"$prefix\"; exit 1; fi; "
    "kill -9 $server; start=$(date +%s%N); "
    "while kill -0 $pid 2>/dev/null && [ $(( ($(date +%s%N) - start) / 1000000 )) -lt 120000 ]; do sleep 0.05; done; "
    "if kill -0 $pid 2>/dev/null; then kill -9 $pid; wait; reap; rm -rf \"$prefix\"; say still running after 120 s; "
    "else ms=$(( ($(date +%s%N) - start) / 1000000 )); wait; reap; rm -rf \"$prefix\"; say ended after $ms ms; fi";

static void test_server_killed(void)
{
    char *(CDECL *p_wine_get_unix_file_name)(const WCHAR *);
    char path[MAX_PATH], result[MAX_PATH], script[MAX_PATH], text[4096], cmdline[3 * MAX_PATH + 64];
    char *unix_path, *unix_result, *unix_script;
    STARTUPINFOA startup = {sizeof(startup)};
    PROCESS_INFORMATION info;
    WCHAR pathW[MAX_PATH];
    LONGLONG start;
    unsigned int ms;
    HANDLE file;
    DWORD size;

    p_wine_get_unix_file_name = (void *)GetProcAddress(GetModuleHandleA("kernel32.dll"), "wine_get_unix_file_name");
    if (!p_wine_get_unix_file_name)
    {
        win_skip("not Wine\n");
        return;
    }
    if (!find_worker_program(path))
    {
        ok(0, "no tools\\worker\\vmidl-worker.exe above this program\n");
        return;
    }
    MultiByteToWideChar(CP_ACP, 0, path, -1, pathW, ARRAYSIZE(pathW));
    unix_path = p_wine_get_unix_file_name(pathW);
    GetTempPathA(ARRAYSIZE(text), text);
    GetTempFileNameA(text, "vmi", 0, result);
    DeleteFileA(result);
    MultiByteToWideChar(CP_ACP, 0, result, -1, pathW, ARRAYSIZE(pathW));
    unix_result = p_wine_get_unix_file_name(pathW);
    GetTempFileNameA(text, "vmi", 0, script);
    file = CreateFileA(script, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    WriteFile(file, server_death_script, sizeof(server_death_script) - 1, &size, NULL);
    CloseHandle(file);
    MultiByteToWideChar(CP_ACP, 0, script, -1, pathW, ARRAYSIZE(pathW));
    unix_script = p_wine_get_unix_file_name(pathW);
    snprintf(cmdline, sizeof(cmdline), "Z:\\bin\\sh \"%s\" \"%s\" \"%s\"", unix_script, unix_path, unix_result);
    ok(CreateProcessA(NULL, cmdline, NULL, NULL, FALSE, 0, NULL, NULL, &startup, &info),
            "cannot start the shell, error %lu\n", GetLastError());
    if (info.hProcess) CloseHandle(info.hProcess);
    if (info.hThread) CloseHandle(info.hThread);

    start = now_ms();
    while ((file = CreateFileA(result, GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL)) == INVALID_HANDLE_VALUE
            && now_ms() - start < 600000)
        Sleep(100);
    text[0] = 0;
    if (file != INVALID_HANDLE_VALUE)
    {
        ReadFile(file, text, sizeof(text) - 1, &size, NULL);
        text[size] = 0;
        CloseHandle(file);
        DeleteFileA(result);
    }
    ok(sscanf(text, "ended after %u ms", &ms) == 1, "the worker program: %s\n", text[0] ? text : "no answer");
    if (winetest_debug > 1) trace("%s", text);
    DeleteFileA(script);
    HeapFree(GetProcessHeap(), 0, unix_path);
    HeapFree(GetProcessHeap(), 0, unix_result);
    HeapFree(GetProcessHeap(), 0, unix_script);
}

/* Whether hr is what a call through a proxy gets once the worker is gone:
 * RPC_S_SERVER_UNAVAILABLE, or RPC_S_CALL_FAILED for a call in flight. */
static BOOL worker_gone(HRESULT hr)
{
    return hr == HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE) || hr == HRESULT_FROM_WIN32(RPC_S_CALL_FAILED);
}

/* The worker dies under a driver (this process): its calls fail at once,
 * the RuntimeId is free again. */
static void test_worker_killed(void)
{
    IVmFiovGuestMemoryFastNotification *notification = NULL;
    IVmFiovGuestMmioMappings *mappings = NULL;
    VMIDL_PARTITION_HANDLE partition;
    struct worker_process worker;
    IVmVirtualDeviceAccess *access;
    HANDLE event, section;
    IUnknown *device;
    LONGLONG start, elapsed;
    HRESULT hr;

    if (!start_worker_program(&worker, "--idle")) return;

    hr = pVmidlCreatePartition(&worker.runtime_id, 1, &partition);
    ok(hr == HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS), "a RuntimeId another process has: got hr %#lx\n", hr);
    if (SUCCEEDED(hr)) pVmidlDeletePartition(partition);

    hr = pGetVmWorkerProcess(&worker.runtime_id, &IID_IVmVirtualDeviceAccess, (IUnknown **)&access);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    if (FAILED(hr)) goto done;
    hr = IVmVirtualDeviceAccess_GetDevice(access, &FLEXIO_DEVICE_ID, &worker.instance, &device);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    IVmVirtualDeviceAccess_Release(access);
    if (FAILED(hr)) goto done;
    IUnknown_QueryInterface(device, &IID_IVmFiovGuestMmioMappings, (void **)&mappings);
    IUnknown_QueryInterface(device, &IID_IVmFiovGuestMemoryFastNotification, (void **)&notification);
    IUnknown_Release(device);

    event = CreateEventA(NULL, FALSE, FALSE, NULL);
    section = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, PAGE, NULL);
    hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(notification, FIOV_BAR0, 0x5000, 0, DOORBELL_FLAGS, event);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, 6, 1, FiovMmioMappingFlagNone,
            section, 0);
    ok(hr == S_OK, "got hr %#lx\n", hr);

    TerminateProcess(worker.process, 1);
    ok(!WaitForSingleObject(worker.process, TEST_WAIT_MS), "the worker does not end\n");
    start = now_ms();
    hr = IVmFiovGuestMemoryFastNotification_UnregisterDoorbell(notification, FIOV_BAR0, 0x5000, 0, DOORBELL_FLAGS);
    ok(worker_gone(hr), "UnregisterDoorbell got hr %#lx\n", hr);
    hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(notification, FIOV_BAR0, 0x5000, 0, DOORBELL_FLAGS, event);
    ok(worker_gone(hr), "RegisterDoorbell got hr %#lx\n", hr);
    hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, 7, 1, FiovMmioMappingFlagNone,
            section, 0);
    ok(worker_gone(hr), "CreateSectionBackedMmioRange got hr %#lx\n", hr);
    hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(mappings, FIOV_BAR0, 6);
    ok(worker_gone(hr), "DestroySectionBackedMmioRange got hr %#lx\n", hr);
    elapsed = now_ms() - start;
    trace("four calls on the proxies of a dead worker failed within %I64d ms\n", elapsed);

    IVmFiovGuestMemoryFastNotification_Release(notification);
    IVmFiovGuestMmioMappings_Release(mappings);
    CloseHandle(event);
    CloseHandle(section);

    access = (void *)0xdeadbeef;
    hr = pGetVmWorkerProcess(&worker.runtime_id, &IID_IVmVirtualDeviceAccess, (IUnknown **)&access);
    ok(hr == HRESULT_FROM_WIN32(ERROR_NOT_FOUND) && !access, "a dead worker: got hr %#lx, %p\n", hr, access);
    hr = pVmidlCreatePartition(&worker.runtime_id, 1, &partition);
    ok(hr == S_OK, "the dead worker's RuntimeId: got hr %#lx\n", hr);
    if (SUCCEEDED(hr)) pVmidlDeletePartition(partition);
done:
    TerminateProcess(worker.process, 1);
    close_worker_program(&worker);
}

/* GetVmWorkerProcess's own answers, and publishing. */
static void test_get_vm_worker_process(void)
{
    static const GUID unknown_id = {0x756e6b6e, 0x6f77, 0x6e21, {1, 2, 3, 4, 5, 6, 7, 8}};
    IVmVirtualDeviceAccess *access;
    IVmFiovGuestMmioMappings *driver;
    IUnknown *device, *unknown, *found;
    GUID runtime_id;
    HRESULT hr;

    if (!create_guest(&guest)) return;
    mmio_log_init(&mmio);
    if (!add_device(&instance_a, BAR_A, &device)) goto done;
    runtime_id = guest.runtime_id;

    hr = pGetVmWorkerProcess(&runtime_id, &IID_IVmVirtualDeviceAccess, NULL);
    ok(hr == E_POINTER, "got hr %#lx\n", hr);
    unknown = (void *)0xdeadbeef;
    hr = pGetVmWorkerProcess(NULL, &IID_IVmVirtualDeviceAccess, &unknown);
    ok(hr == E_INVALIDARG && !unknown, "got hr %#lx, %p\n", hr, unknown);
    unknown = (void *)0xdeadbeef;
    hr = pGetVmWorkerProcess(&runtime_id, NULL, &unknown);
    ok(hr == E_INVALIDARG && !unknown, "got hr %#lx, %p\n", hr, unknown);
    unknown = (void *)0xdeadbeef;
    hr = pGetVmWorkerProcess(&unknown_id, &IID_IVmVirtualDeviceAccess, &unknown);
    ok(hr == HRESULT_FROM_WIN32(ERROR_NOT_FOUND) && !unknown, "an unknown id: got hr %#lx, %p\n", hr, unknown);
    unknown = (void *)0xdeadbeef;
    hr = pGetVmWorkerProcess(&runtime_id, &IID_IVmVirtualDeviceAccess, &unknown);
    ok(hr == HRESULT_FROM_WIN32(ERROR_NOT_FOUND) && !unknown, "not published: got hr %#lx, %p\n", hr, unknown);

    hr = pVmidlPublishPartition(NULL);
    ok(hr == E_INVALIDARG, "got hr %#lx\n", hr);
    hr = pVmidlPublishPartition((VMIDL_PARTITION_HANDLE)(ULONG_PTR)0xdead0);
    ok(hr == E_HANDLE, "got hr %#lx\n", hr);
    hr = pVmidlPublishPartition(guest.partition);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = pVmidlPublishPartition(guest.partition);
    ok(hr == HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS), "published twice: got hr %#lx\n", hr);

    unknown = (void *)0xdeadbeef;
    hr = pGetVmWorkerProcess(&runtime_id, &IID_IStream, &unknown);
    ok(hr == E_NOINTERFACE && !unknown, "got hr %#lx, %p\n", hr, unknown);
    hr = pGetVmWorkerProcess(&runtime_id, &IID_IUnknown, &unknown);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = IUnknown_QueryInterface(unknown, &IID_IVmVirtualDeviceAccess, (void **)&access);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    IUnknown_Release(unknown);

    /* In the worker's own process it is the partition's object, no proxy:
     * the device it gives is the very one the host added. */
    hr = IVmVirtualDeviceAccess_GetDevice(access, &FLEXIO_DEVICE_ID, &instance_a, &found);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    if (SUCCEEDED(hr))
    {
        IUnknown_QueryInterface(found, &IID_IUnknown, (void **)&unknown);
        ok(unknown == device, "got %p, the device is %p\n", unknown, device);
        IUnknown_Release(unknown);
        IUnknown_Release(found);
    }
    IVmVirtualDeviceAccess_Release(access);

    /* In a process without a COM apartment it is what CoUnmarshalInterface says. */
    if ((driver = start_driver(&instance_a)))
    {
        hr = remote_driver_uninitialized_hr(driver);
        ok(hr == CO_E_NOTINITIALIZED, "a driver with no apartment got hr %#lx\n", hr);
        IVmFiovGuestMmioMappings_Release(driver);
    }

    IUnknown_Release(device);
    guest_destroy(&guest);
    unknown = (void *)0xdeadbeef;
    hr = pGetVmWorkerProcess(&runtime_id, &IID_IVmVirtualDeviceAccess, &unknown);
    ok(hr == HRESULT_FROM_WIN32(ERROR_NOT_FOUND) && !unknown, "deleted: got hr %#lx, %p\n", hr, unknown);
    mmio_log_cleanup(&mmio);
    return;
done:
    guest_destroy(&guest);
    mmio_log_cleanup(&mmio);
}

/* A driver that passes a handle value of the worker's gets the object that
 * value names in the driver: never the worker's own.  The value is one
 * the driver cannot have yet: this process holds a few hundred handles. */
static void test_confused_deputy(void)
{
    IVmFiovGuestMmioMappings *driver;
    BOOL write_trapped, read_trapped, names_handle;
    HANDLE fillers[256], event;
    unsigned int i;
    IUnknown *device;
    HRESULT hr;

    if (!init_worker(&device)) return;
    if (!(driver = start_driver(&instance_a))) goto done;
    for (i = 0; i < ARRAYSIZE(fillers); i++) fillers[i] = CreateEventA(NULL, FALSE, FALSE, NULL);
    event = CreateEventA(NULL, FALSE, FALSE, NULL);

    hr = remote_driver_register_raw(driver, FIOV_BAR0, DOORBELL, 0, DOORBELL_FLAGS, event, &names_handle);
    ok(!names_handle, "%p names a handle in the driver\n", event);
    ok(hr == E_HANDLE, "got hr %#lx\n", hr);
    probe(BAR_A, DOORBELL, 0, &write_trapped, &read_trapped, NULL);
    ok(write_trapped, "a doorbell was registered\n");
    ok(WaitForSingleObject(event, 100) == WAIT_TIMEOUT, "the worker's own event was set\n");

    CloseHandle(event);
    for (i = 0; i < ARRAYSIZE(fillers); i++) CloseHandle(fillers[i]);
    IVmFiovGuestMmioMappings_Release(driver);
done:
    done_worker(device);
}

/* A worker that deletes its partition cuts its drivers off: their calls
 * fail with what Wine's COM says for a disconnected object,
 * RPC_S_UNKNOWN_IF (Windows' says RPC_E_DISCONNECTED). */
static BOOL disconnected(HRESULT hr)
{
    return hr == HRESULT_FROM_WIN32(RPC_S_UNKNOWN_IF) || hr == RPC_E_DISCONNECTED;
}

static void test_partition_deleted(void)
{
    IVmFiovGuestMmioMappings *driver;
    IUnknown *device;
    HRESULT hr;

    if (!init_worker(&device)) return;
    if (!(driver = start_driver(&instance_a))) goto done;
    serve_device(driver, 0x33);

    IUnknown_Release(device);
    hr = pVmidlDeletePartition(guest.partition);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    guest.partition = NULL;
    hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(driver, FIOV_BAR0, 0);
    ok(disconnected(hr), "got hr %#lx\n", hr);
    hr = remote_driver_call(driver, REMOTE_OWN_DOORBELL, FIOV_BAR0, 0x9000, 0, DOORBELL_FLAGS, NULL);
    ok(disconnected(hr), "got hr %#lx\n", hr);
    IVmFiovGuestMmioMappings_Release(driver);
    guest_destroy(&guest);
    mmio_log_cleanup(&mmio);
    return;
done:
    done_worker(device);
}

/* Child: "vmidl_test.exe crossproc connect RUNTIME_ID...": reaches each
 * worker, answers each HRESULT on stdout, and lets them go when stdin ends. */
static BOOL connect_child(void)
{
    IUnknown *objects[MAX_CONNECTIONS + 1];
    HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
    int argc, i, count;
    char **argv, byte;
    GUID runtime_id;
    DWORD size;
    HRESULT hr;

    argc = winetest_get_mainargs(&argv);
    if (argc < 3 || strcmp(argv[2], "connect")) return FALSE;
    pGetVmWorkerProcess = (void *)GetProcAddress(LoadLibraryA("vmwpctrl.dll"), "GetVmWorkerProcess");
    enter_mta();
    for (i = 3, count = 0; i < argc && count < (int)ARRAYSIZE(objects); i++, count++)
    {
        objects[count] = NULL;
        if (!guid_from_text(argv[i], &runtime_id)) hr = E_INVALIDARG;
        else hr = pGetVmWorkerProcess(&runtime_id, &IID_IVmVirtualDeviceAccess, &objects[count]);
        WriteFile(out, &hr, sizeof(hr), &size, NULL);
    }
    while (ReadFile(GetStdHandle(STD_INPUT_HANDLE), &byte, 1, &size, NULL) && size) ;
    for (i = 0; i < count; i++) if (objects[i]) IUnknown_Release(objects[i]);
    leave_mta();
    ExitProcess(0);
}

/* Child: "vmidl_test.exe crossproc poll RUNTIME_ID": calls GetVmWorkerProcess
 * for it until its input has something, then answers how often each HRESULT
 * came (struct poll_counts) and waits for its input to end. */
struct poll_counts
{
    UINT32 found, not_found, disconnected, other;
    HRESULT first_other;
};

static BOOL poll_child(void)
{
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE), out = GetStdHandle(STD_OUTPUT_HANDLE);
    struct poll_counts counts = {0};
    IUnknown *object;
    GUID runtime_id;
    DWORD size, avail = 0;
    char **argv, byte;
    HRESULT hr;

    if (winetest_get_mainargs(&argv) < 4 || strcmp(argv[2], "poll")) return FALSE;
    pGetVmWorkerProcess = (void *)GetProcAddress(LoadLibraryA("vmwpctrl.dll"), "GetVmWorkerProcess");
    enter_mta();
    guid_from_text(argv[3], &runtime_id);
    WriteFile(out, &counts, 1, &size, NULL);    /* ready */
    while (PeekNamedPipe(in, NULL, 0, NULL, &avail, NULL) && !avail)
    {
        object = NULL;
        hr = pGetVmWorkerProcess(&runtime_id, &IID_IVmVirtualDeviceAccess, &object);
        if (object) IUnknown_Release(object);
        if (hr == S_OK) counts.found++;
        else if (hr == HRESULT_FROM_WIN32(ERROR_NOT_FOUND)) counts.not_found++;
        else if (hr == HRESULT_FROM_WIN32(RPC_S_UNKNOWN_IF) || hr == RPC_E_DISCONNECTED
                || hr == HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE) || hr == HRESULT_FROM_WIN32(ERROR_DEVICE_REMOVED))
            counts.disconnected++;
        else if (!counts.other++) counts.first_other = hr;
    }
    WriteFile(out, &counts, sizeof(counts), &size, NULL);
    while (ReadFile(in, &byte, 1, &size, NULL) && size) ;
    leave_mta();
    ExitProcess(0);
}

/* What vmidl names a published worker's section (dlls/vmidl/vmidl_names.h). */
static void worker_section_name(char *name, const GUID *id)
{
    sprintf(name, "Local\\vmidl-worker-%08lx-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", (unsigned long)id->Data1,
            id->Data2, id->Data3, id->Data4[0], id->Data4[1], id->Data4[2], id->Data4[3], id->Data4[4], id->Data4[5],
            id->Data4[6], id->Data4[7]);
}

/* A driver that polls GetVmWorkerProcess while its worker publishes and
 * deletes the partition over and over gets the worker or ERROR_NOT_FOUND
 * (or, for a worker it reached just as it went, a disconnected one), and
 * never reads a half-written section; a Connect that was on its way when
 * a partition went keeps nothing of the worker's.  A section of that name
 * that was there first is never trusted. */
static void test_publish_races(void)
{
    struct poll_counts counts = {0};
    struct counting counting = {0};
    HANDLE process, input, output, squatter;
    VMIDL_PARTITION_HANDLE partition;
    char cmdline[MAX_PATH + 64], name[80], **argv;
    unsigned int rounds, processes, held;
    LONGLONG start;
    IUnknown *object;
    UINT32 *data;
    GUID runtime_id;
    DWORD size;
    HRESULT hr;

    guest_new_runtime_id(&runtime_id);
    winetest_get_mainargs(&argv);
    sprintf(cmdline, "\"%s\" %s poll ", argv[0], argv[1]);
    guid_to_text(&runtime_id, cmdline + strlen(cmdline));
    if (!(process = start_child_process(cmdline, &input, &output))) return;
    ReadFile(output, &counts, 1, &size, NULL);
    if (!init_resource_counting()) goto done;
    /* A client the worker keeps holds its process open. */
    processes = count_handles_of_type(L"Process");

    for (rounds = 0; rounds < 200; rounds++)
    {
        if (FAILED(hr = pVmidlCreatePartition(&runtime_id, 1, &partition))) break;
        hr = pVmidlPublishPartition(partition);
        ok(hr == S_OK, "round %u: cannot publish, hr %#lx\n", rounds, hr);
        pVmidlDeletePartition(partition);
    }
    ok(rounds == 200, "round %u: cannot create the partition, hr %#lx\n", rounds, hr);
    WriteFile(input, "x", 1, &size, NULL);
    ReadFile(output, &counts, sizeof(counts), &size, NULL);
    ok(size == sizeof(counts), "the polling driver died\n");
    ok(!counts.other, "%u other answers, the first %#lx\n", counts.other, counts.first_other);
    trace("%u rounds: the driver got %u workers, %u ERROR_NOT_FOUND, %u disconnected\n", rounds, counts.found,
            counts.not_found, counts.disconnected);
    /* The driver lives on: the worker holds nothing for it (the last
     * partition's clients go a moment after its delete). */
    start = now_ms();
    while ((held = poll_handles_of_type(L"Process", &counting)) > processes && now_ms() - start < TEST_WAIT_MS)
        Sleep(10);
    check_counting(&counting);
    ok(held == processes, "%u process handles, %u before\n", held, processes);

    /* A squatter's section, there before the worker publishes: the
     * worker refuses it, and a driver finds no worker in it. */
    worker_section_name(name, &runtime_id);
    squatter = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x1000, name);
    data = MapViewOfFile(squatter, FILE_MAP_WRITE, 0, 0, 0);
    data[0] = 0x6c64696d;   /* the magic */
    data[1] = 0x7fffffff;   /* far more than the section holds */
    hr = pVmidlCreatePartition(&runtime_id, 1, &partition);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = pVmidlPublishPartition(partition);
    ok(hr == HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS), "publishing over a squatter: got hr %#lx\n", hr);
    object = (IUnknown *)0xdeadbeef;
    hr = pGetVmWorkerProcess(&runtime_id, &IID_IVmVirtualDeviceAccess, &object);
    ok(hr == HRESULT_FROM_WIN32(ERROR_NOT_FOUND) && !object, "a squatter's section: got hr %#lx, %p\n", hr, object);
    UnmapViewOfFile(data);
    CloseHandle(squatter);
    hr = pVmidlPublishPartition(partition);
    ok(hr == S_OK, "publishing once the squatter is gone: got hr %#lx\n", hr);
    pVmidlDeletePartition(partition);

done:
    CloseHandle(input);
    ok(!WaitForSingleObject(process, TEST_WAIT_MS), "the child does not end\n");
    CloseHandle(output);
    CloseHandle(process);
}

struct held_section
{
    HANDLE section;
    LONG released;
};

static DWORD WINAPI release_section_later(void *arg)
{
    struct held_section *held = arg;

    Sleep(300);
    InterlockedExchange(&held->released, 1);
    CloseHandle(held->section);
    return 0;
}

/* A driver that looked a worker up holds its section while it copies it.
 * When the partition goes meanwhile, the driver finds no worker there, and
 * the next partition of that RuntimeId publishes once the driver lets go,
 * rather than taking the section for a squatter's. */
static void test_publish_while_read(void)
{
    struct held_section held = {0};
    VMIDL_PARTITION_HANDLE partition;
    IUnknown *object;
    GUID runtime_id;
    HANDLE thread;
    char name[80];
    HRESULT hr;

    guest_new_runtime_id(&runtime_id);
    worker_section_name(name, &runtime_id);
    hr = pVmidlCreatePartition(&runtime_id, 1, &partition);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    if (FAILED(hr)) return;
    hr = pVmidlPublishPartition(partition);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    held.section = OpenFileMappingA(FILE_MAP_READ, FALSE, name);
    ok(!!held.section, "no section %s, error %lu\n", name, GetLastError());
    pVmidlDeletePartition(partition);

    object = (IUnknown *)0xdeadbeef;
    hr = pGetVmWorkerProcess(&runtime_id, &IID_IVmVirtualDeviceAccess, &object);
    ok(hr == HRESULT_FROM_WIN32(ERROR_NOT_FOUND) && !object, "a withdrawn section: got hr %#lx, %p\n", hr, object);

    hr = pVmidlCreatePartition(&runtime_id, 1, &partition);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    if (FAILED(hr))
    {
        CloseHandle(held.section);
        return;
    }
    thread = CreateThread(NULL, 0, release_section_later, &held, 0, NULL);
    hr = pVmidlPublishPartition(partition);
    ok(hr == S_OK, "publishing while a driver holds the last partition's section: got hr %#lx\n", hr);
    ok(ReadAcquire(&held.released), "published before the driver let go\n");
    ok(!WaitForSingleObject(thread, TEST_WAIT_MS), "the thread does not end\n");
    CloseHandle(thread);
    object = NULL;
    hr = pGetVmWorkerProcess(&runtime_id, &IID_IVmVirtualDeviceAccess, &object);
    ok(hr == S_OK && object, "the new worker: got hr %#lx, %p\n", hr, object);
    if (object) IUnknown_Release(object);
    pVmidlDeletePartition(partition);
}

/* The worker waits on each (process, published partition) pair it serves,
 * at most MAX_CONNECTIONS at a time: the next gets ERROR_NO_SYSTEM_RESOURCES
 * until one goes. */
static void test_connection_cap(void)
{
    VMIDL_PARTITION_HANDLE partitions[MAX_CONNECTIONS + 1];
    char *cmdline, **argv;
    HANDLE process, input, output;
    unsigned int i, created;
    GUID runtime_id;
    DWORD size;
    HRESULT hr;

    cmdline = malloc(MAX_PATH + ARRAYSIZE(partitions) * GUID_TEXT_LENGTH);
    winetest_get_mainargs(&argv);
    sprintf(cmdline, "\"%s\" %s connect", argv[0], argv[1]);
    for (created = 0; created < ARRAYSIZE(partitions); created++)
    {
        guest_new_runtime_id(&runtime_id);
        if (FAILED(hr = pVmidlCreatePartition(&runtime_id, 1, &partitions[created]))
                || FAILED(hr = pVmidlPublishPartition(partitions[created])))
            break;
        strcat(cmdline, " ");
        guid_to_text(&runtime_id, cmdline + strlen(cmdline));
    }
    ok(created == ARRAYSIZE(partitions), "partition %u: got hr %#lx\n", created, hr);

    if (created == ARRAYSIZE(partitions) && (process = start_child_process(cmdline, &input, &output)))
    {
        for (i = 0; i < created; i++)
        {
            hr = E_FAIL;
            ReadFile(output, &hr, sizeof(hr), &size, NULL);
            if (i < MAX_CONNECTIONS) ok(hr == S_OK, "connection %u: got hr %#lx\n", i, hr);
            else ok(hr == HRESULT_FROM_WIN32(ERROR_NO_SYSTEM_RESOURCES), "one more: got hr %#lx\n", hr);
        }
        CloseHandle(input);
        ok(!WaitForSingleObject(process, TEST_WAIT_MS), "the child does not end\n");
        CloseHandle(output);
        CloseHandle(process);
    }
    for (i = 0; i < created; i++) pVmidlDeletePartition(partitions[i]);
    free(cmdline);
}

START_TEST(crossproc)
{
    if (connect_child() || poll_child()) return;
    if (!init_guest_test(&guest)) return;
    guest_destroy(&guest);
    pGetVmWorkerProcess = (void *)GetProcAddress(LoadLibraryA("vmwpctrl.dll"), "GetVmWorkerProcess");
    if (!pGetVmWorkerProcess)
    {
        win_skip("vmwpctrl.dll has no GetVmWorkerProcess\n");
        return;
    }
    /* This process is also a driver in test_worker_killed, and sees the
     * partition's own objects in test_get_vm_worker_process. */
    enter_mta();

    test_client_killed();
    test_get_vm_worker_process();
    test_ring_and_section();
    test_two_drivers();
    test_view_successor();
    test_foreign_registrations();
    test_confused_deputy();
    test_partition_deleted();
    test_worker_killed();
    test_server_killed();
    test_connection_cap();
    test_publish_races();
    test_publish_while_read();

    leave_mta();
}
