/*
 * Exhaustion: ranges until KVM has no memslot left, doorbells until the
 * per-device cap.  The call that fails returns the documented
 * HRESULT_FROM_WIN32(ERROR_NO_SYSTEM_RESOURCES), leaves nothing
 * half-registered, and everything works again once some are released;
 * releasing the device gives every resource back.
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
#define BIG_BAR_SIZE 0x10000000ull     /* 65536 pages: more than KVM has memslots */
#define MAX_DOORBELLS 1024              /* MAX_DOORBELLS_PER_DEVICE, documented in fast_notification.c */

#define NO_RESOURCES HRESULT_FROM_WIN32(ERROR_NO_SYSTEM_RESOURCES)

static const GUID instance = {0x65786861, 0x7573, 0x7469, {0x6f, 0x6e, 0, 0, 0, 0, 0, 1}};

static BOOL have_resources;

/* Runs one guest access; returns whether the emulator saw it. */
#define guest_access(a, b, c, d, e, f) guest_access_(__FILE__, __LINE__, a, b, c, d, e, f)
static BOOL guest_access_(const char *file, int line, struct guest *guest, struct mmio_log *log, BOOL write,
        UINT64 address, UINT32 size, UINT64 *value)
{
    unsigned int op;
    HRESULT hr;

    mmio_log_reset(log);
    guest_reset_ops(guest);
    op = guest_add_op(guest, write ? GUEST_OP_WRITE : GUEST_OP_READ, size, address, *value);
    hr = guest_run(guest);
    ok_(file, line)(hr == S_OK, "guest run failed, hr %#lx, exit %u at %#I64x\n", hr,
            guest->last_exit.ExitReason, guest->last_exit.Address);
    if (!write) *value = guest->ops[op].result;
    return log->count != 0;
}

/* A guest with one warm-up run behind it (KVM adds a worker thread at a
 * VM's first run), and the resource baseline taken then. */
static BOOL create_warm_guest(struct guest *guest, struct resources *baseline)
{
    if (!create_guest(guest)) return FALSE;
    guest_reset_ops(guest);
    guest_add_op(guest, GUEST_OP_WRITE, 8, GUEST_DATA, 1);
    ok(guest_run(guest) == S_OK, "warm-up run failed\n");
    if (have_resources) get_resources(baseline);
    return TRUE;
}

static void test_memslots(void)
{
    struct resources baseline, one_range, now;
    IVmFiovGuestMmioMappings *mappings;
    VMIDL_FLEXIO_DEVICE_DESC desc;
    UINT64 *view, value, count;
    struct mmio_log log;
    struct guest guest;
    IUnknown *device;
    HANDLE section;
    DWORD start;
    HRESULT hr;

    mmio_log_init(&log);
    if (!create_warm_guest(&guest, &baseline)) return;
    guest_device_desc(&desc, &instance, &log, BAR0);
    desc.BarSize[FIOV_BAR0] = BIG_BAR_SIZE;
    desc.BarAddress[FIOV_BAR2] = BAR0 + BIG_BAR_SIZE;
    hr = pVmidlAddFlexIoDevice(guest.partition, &desc, &device);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = IUnknown_QueryInterface(device, &IID_IVmFiovGuestMmioMappings, (void **)&mappings);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    section = create_test_section(7, 2, &view);

    /* One-page ranges, all of section page 1, until KVM refuses.  Counts
     * are taken from the first range on: the test's own view and the fd
     * Wine caches with the section handle are not the ranges'. */
    start = GetTickCount();
    for (count = 0; count < BIG_BAR_SIZE / PAGE; count++)
    {
        if (FAILED(hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, count, 1,
                FiovMmioMappingFlagWriteable, section, 1)))
            break;
        if (!count && have_resources) get_resources(&one_range);
    }
    trace("%I64u one-page ranges created in %lu ms, then hr %#lx\n", count, GetTickCount() - start, hr);
    ok(hr == NO_RESOURCES, "range %I64u: got hr %#lx\n", count, hr);
    ok(count > 0 && count < BIG_BAR_SIZE / PAGE, "created %I64u ranges\n", count);
    if (count == BIG_BAR_SIZE / PAGE || !count) goto done;
    if (have_resources)
    {
        get_resources(&now);
        /* Each range holds one shared mapping of the section, and no fd. */
        ok(now.unix.shared_maps == one_range.unix.shared_maps + count - 1, "%u shared mappings, %u with one range\n",
                now.unix.shared_maps, one_range.unix.shared_maps);
        ok(now.unix.fds == one_range.unix.fds, "%u fds, %u with one range\n", now.unix.fds, one_range.unix.fds);
    }

    /* Nothing of the failed one is left: not registered, still MMIO. */
    hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(mappings, FIOV_BAR0, count);
    ok(hr == HRESULT_FROM_WIN32(ERROR_NOT_FOUND), "failed range half-registered: got hr %#lx\n", hr);
    value = 0;
    ok(guest_access(&guest, &log, FALSE, BAR0 + count * PAGE, 8, &value), "failed range's page is not MMIO\n");
    /* Ranges on either side of it are intact. */
    value = 0;
    ok(!guest_access(&guest, &log, FALSE, BAR0 + (count - 1) * PAGE + 8, 8, &value) && value == section_pattern(7, 1, 1),
            "last range: intercepted or read %#I64x\n", value);
    hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, count + 1, 1,
            FiovMmioMappingFlagNone, section, 0);
    ok(hr == NO_RESOURCES, "still full: got hr %#lx\n", hr);

    /* Releasing some makes room; the new range works for the guest. */
    hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(mappings, FIOV_BAR0, 0);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(mappings, FIOV_BAR0, 1);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, count, 1,
            FiovMmioMappingFlagWriteable, section, 0);
    ok(hr == S_OK, "after releasing two: got hr %#lx\n", hr);
    value = 0;
    ok(!guest_access(&guest, &log, FALSE, BAR0 + count * PAGE + 0x10, 8, &value) && value == section_pattern(7, 0, 2),
            "new range: intercepted or read %#I64x\n", value);
    value = 0x0123456789abcdefull;
    ok(!guest_access(&guest, &log, TRUE, BAR0 + count * PAGE + 0x18, 8, &value), "write to the new range was intercepted\n");
    ok(view[3] == 0x0123456789abcdefull, "section holds %#I64x\n", view[3]);
    value = 0;
    ok(guest_access(&guest, &log, FALSE, BAR0 + 0 * PAGE, 8, &value), "destroyed range still mapped\n");
    hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, 0, 1,
            FiovMmioMappingFlagNone, section, 0);
    ok(hr == S_OK, "second freed slot: got hr %#lx\n", hr);
    hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, 1, 1,
            FiovMmioMappingFlagNone, section, 0);
    ok(hr == NO_RESOURCES, "full again: got hr %#lx\n", hr);

done:
    UnmapViewOfFile(view);
    CloseHandle(section);
    IVmFiovGuestMmioMappings_Release(mappings);
    start = GetTickCount();
    ok(!IUnknown_Release(device), "device still referenced\n");
    if (winetest_debug > 1) trace("device released in %lu ms\n", GetTickCount() - start);
    if (have_resources) check_resources(&baseline);
    guest_destroy(&guest);
    mmio_log_cleanup(&log);
}

/* A device may hold MAX_DOORBELLS doorbells (as WSL's device host caps
 * them): the next one fails cleanly and the device works on. */
static void test_doorbells(void)
{
    IVmFiovGuestMemoryFastNotification *notification;
    struct resources baseline, now;
    VMIDL_FLEXIO_DEVICE_DESC desc;
    HANDLE event, last_event;
    struct mmio_log log;
    struct guest guest;
    IUnknown *device;
    unsigned int i;
    UINT64 value;
    DWORD start;
    HRESULT hr;

    mmio_log_init(&log);
    if (!create_warm_guest(&guest, &baseline)) return;
    event = CreateEventA(NULL, TRUE, FALSE, NULL);
    last_event = CreateEventA(NULL, FALSE, FALSE, NULL);
    if (have_resources) get_resources(&baseline);
    guest_device_desc(&desc, &instance, &log, BAR0);
    hr = pVmidlAddFlexIoDevice(guest.partition, &desc, &device);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = IUnknown_QueryInterface(device, &IID_IVmFiovGuestMemoryFastNotification, (void **)&notification);
    ok(hr == S_OK, "got hr %#lx\n", hr);

    start = GetTickCount();
    for (i = 0; i < MAX_DOORBELLS; i++)
        if (FAILED(hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(notification, FIOV_BAR0, i * 8, i,
                FIOV_DOORBELL_FLAG_TRIGGER_SIZE_QWORD, event)))
            break;
    ok(hr == S_OK && i == MAX_DOORBELLS, "doorbell %u failed, hr %#lx\n", i, hr);
    hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(notification, FIOV_BAR0, 0x8000, 1,
            FIOV_DOORBELL_FLAG_TRIGGER_SIZE_QWORD, last_event);
    ok(hr == NO_RESOURCES, "doorbell %u: got hr %#lx\n", MAX_DOORBELLS + 1, hr);
    /* Also for a value at an address that already has doorbells. */
    hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(notification, FIOV_BAR0, 8, 2,
            FIOV_DOORBELL_FLAG_TRIGGER_SIZE_QWORD, last_event);
    ok(hr == NO_RESOURCES, "second value at a full device: got hr %#lx\n", hr);
    if (winetest_debug > 1) trace("%u doorbells registered in %lu ms\n", i, GetTickCount() - start);
    if (have_resources)
    {
        get_resources(&now);
        ok(now.unix.fds == baseline.unix.fds + MAX_DOORBELLS, "%u fds, baseline %u\n", now.unix.fds, baseline.unix.fds);
        ok(now.handles == baseline.handles + MAX_DOORBELLS, "%lu handles, baseline %lu\n", now.handles, baseline.handles);
    }

    /* Nothing of the failed one is left. */
    hr = IVmFiovGuestMemoryFastNotification_UnregisterDoorbell(notification, FIOV_BAR0, 0x8000, 1,
            FIOV_DOORBELL_FLAG_TRIGGER_SIZE_QWORD);
    ok(hr == HRESULT_FROM_WIN32(ERROR_NOT_FOUND), "failed doorbell half-registered: got hr %#lx\n", hr);
    value = 1;
    ok(guest_access(&guest, &log, TRUE, BAR0 + 0x8000, 8, &value), "failed doorbell's write was consumed\n");
    ok(log.count == 1 && log.accesses[0].offset == 0x8000 && log.accesses[0].data == 1,
            "emulator saw %u accesses, offset %#I64x\n", log.count, log.accesses[0].offset);
    /* The last registered one rings. */
    value = MAX_DOORBELLS - 1;
    ok(!guest_access(&guest, &log, TRUE, BAR0 + (MAX_DOORBELLS - 1) * 8, 8, &value), "doorbell write intercepted\n");
    ok(WaitForSingleObject(event, TEST_WAIT_MS) == WAIT_OBJECT_0, "last doorbell did not ring\n");
    ok(WaitForSingleObject(last_event, 0) == WAIT_TIMEOUT, "failed doorbell's event was set\n");

    /* Releasing one makes room for exactly one; it rings. */
    hr = IVmFiovGuestMemoryFastNotification_UnregisterDoorbell(notification, FIOV_BAR0, 8, 1,
            FIOV_DOORBELL_FLAG_TRIGGER_SIZE_QWORD);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(notification, FIOV_BAR0, 0x8000, 1,
            FIOV_DOORBELL_FLAG_TRIGGER_SIZE_QWORD, last_event);
    ok(hr == S_OK, "after one was released: got hr %#lx\n", hr);
    hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(notification, FIOV_BAR0, 8, 1,
            FIOV_DOORBELL_FLAG_TRIGGER_SIZE_QWORD, event);
    ok(hr == NO_RESOURCES, "full again: got hr %#lx\n", hr);
    value = 1;
    ok(!guest_access(&guest, &log, TRUE, BAR0 + 0x8000, 8, &value), "new doorbell's write was intercepted\n");
    ok(WaitForSingleObject(last_event, TEST_WAIT_MS) == WAIT_OBJECT_0, "new doorbell did not ring\n");
    value = 1;
    ok(guest_access(&guest, &log, TRUE, BAR0 + 8, 8, &value), "released doorbell's write was consumed\n");

    IVmFiovGuestMemoryFastNotification_Release(notification);
    /* Each doorbell removal waits for a kernel grace period (~8 ms here). */
    start = GetTickCount();
    ok(!IUnknown_Release(device), "device still referenced\n");
    if (winetest_debug > 1) trace("device released in %lu ms\n", GetTickCount() - start);
    if (have_resources) check_resources(&baseline);
    CloseHandle(last_event);
    CloseHandle(event);
    guest_destroy(&guest);
    mmio_log_cleanup(&log);
}

START_TEST(exhaustion)
{
    struct guest guest;

    if (!init_guest_test(&guest)) return;
    guest_destroy(&guest);
    have_resources = init_resource_counting();

    test_memslots();
    test_doorbells();
}
