/*
 * IVmFiovGuestMemoryFastNotification driven by a real guest: matching
 * guest writes set the event without reaching the emulator, everything else
 * reaches the emulator and sets nothing.  Bad input and conflicts:
 * badinput.c; the doorbell cap: exhaustion.c.
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
#define BAR2 (GUEST_BAR_BASE + 0x100000)
#define SENTINEL_OFFSET 0xff0

static const GUID instance = {0x646f6f72, 0x6265, 0x6c6c, {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}};

static struct guest guest;
static struct mmio_log mmio;
static IVmFiovGuestMemoryFastNotification *notification;
static HANDLE sentinel;

/* Runs one guest write; returns whether the emulator saw it. */
#define guest_write(a, s, v) guest_write_(__FILE__, __LINE__, a, s, v)
static BOOL guest_write_(const char *file, int line, UINT64 address, UINT32 size, UINT64 value)
{
    HRESULT hr;

    mmio_log_reset(&mmio);
    guest_reset_ops(&guest);
    guest_add_op(&guest, GUEST_OP_WRITE, size, address, value);
    hr = guest_run(&guest);
    ok_(file, line)(hr == S_OK, "guest run failed, hr %#lx, exit reason %u at %#I64x\n", hr,
            guest.last_exit.ExitReason, guest.last_exit.Address);
    return mmio.count != 0;
}

/* Whether the event was set by the writes so far.  The guest's doorbell
 * writes signal their eventfds synchronously, so once the sentinel doorbell
 * rung last has been delivered, the dispatcher has seen every earlier one. */
#define event_was_set(e) event_was_set_(__FILE__, __LINE__, e)
static BOOL event_was_set_(const char *file, int line, HANDLE event)
{
    DWORD ret;

    ok_(file, line)(!guest_write_(file, line, BAR2 + SENTINEL_OFFSET, 4, 1), "sentinel write was intercepted\n");
    ret = WaitForSingleObject(sentinel, TEST_WAIT_MS);
    ok_(file, line)(ret == WAIT_OBJECT_0, "sentinel doorbell not delivered: %#lx\n", ret);
    return WaitForSingleObject(event, 20) == WAIT_OBJECT_0;
}

#define register_doorbell(a, b, c, d, e) register_doorbell_(__FILE__, __LINE__, a, b, c, d, e)
static void register_doorbell_(const char *file, int line, FIOV_BAR_SELECTOR bar, UINT64 offset,
        UINT64 value, UINT64 flags, HANDLE event)
{
    HRESULT hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(notification, bar, offset, value, flags, event);
    ok_(file, line)(hr == S_OK, "RegisterDoorbell(%u, %#I64x, %#I64x, %#I64x) got hr %#lx\n", bar, offset, value, flags, hr);
}

#define unregister_doorbell(a, b, c, d) unregister_doorbell_(__FILE__, __LINE__, a, b, c, d)
static void unregister_doorbell_(const char *file, int line, FIOV_BAR_SELECTOR bar, UINT64 offset,
        UINT64 value, UINT64 flags)
{
    HRESULT hr = IVmFiovGuestMemoryFastNotification_UnregisterDoorbell(notification, bar, offset, value, flags);
    ok_(file, line)(hr == S_OK, "UnregisterDoorbell(%u, %#I64x, %#I64x, %#I64x) got hr %#lx\n", bar, offset, value, flags, hr);
}

static void test_value_match(void)
{
    static const struct
    {
        UINT64 flags;
        UINT32 size;
        UINT64 value;
        UINT32 other_size;
    }
    tests[] =
    {
        {SIZE_BYTE, 1, 0xa5, 2},
        {SIZE_WORD, 2, 0xbeef, 4},
        {SIZE_DWORD, 4, 0xdeadbeef, 8},
        {SIZE_QWORD, 8, 0x0123456789abcdefull, 4},
        {SIZE_DWORD, 4, 0, 1},
    };
    HANDLE event = CreateEventA(NULL, FALSE, FALSE, NULL);
    unsigned int i;

    for (i = 0; i < ARRAYSIZE(tests); i++)
    {
        UINT64 address = BAR0 + 0x100 + i * 0x10;

        winetest_push_context("size %u, value %#I64x", tests[i].size, tests[i].value);
        register_doorbell(FIOV_BAR0, address - BAR0, tests[i].value, tests[i].flags, event);

        ok(!guest_write(address, tests[i].size, tests[i].value), "matching write reached the emulator\n");
        ok(event_was_set(event), "matching write did not set the event\n");

        ok(guest_write(address, tests[i].size, tests[i].value ^ 1), "other value did not reach the emulator\n");
        ok(mmio.accesses[0].offset == address - BAR0 && mmio.accesses[0].data == (tests[i].value ^ 1),
                "emulator saw offset %#I64x data %#I64x\n", mmio.accesses[0].offset, mmio.accesses[0].data);
        ok(!event_was_set(event), "other value set the event\n");

        ok(guest_write(address, tests[i].other_size, tests[i].value), "other size did not reach the emulator\n");
        ok(mmio.accesses[0].size == tests[i].other_size, "emulator saw size %u\n", mmio.accesses[0].size);
        ok(!event_was_set(event), "other size set the event\n");

        ok(guest_write(address + 1, tests[i].size, tests[i].value), "other address did not reach the emulator\n");
        ok(!event_was_set(event), "other address set the event\n");

        /* Several writes before the dispatcher runs set the event once or
         * more; it is set in any case. */
        guest_reset_ops(&guest);
        guest_add_op(&guest, GUEST_OP_WRITE, tests[i].size, address, tests[i].value);
        guest_add_op(&guest, GUEST_OP_WRITE, tests[i].size, address, tests[i].value);
        ok(guest_run(&guest) == S_OK, "guest run failed\n");
        ok(event_was_set(event), "repeated write did not set the event\n");

        unregister_doorbell(FIOV_BAR0, address - BAR0, tests[i].value, tests[i].flags);
        ok(guest_write(address, tests[i].size, tests[i].value), "write after Unregister did not reach the emulator\n");
        ok(!event_was_set(event), "write after Unregister set the event\n");
        winetest_pop_context();
    }
    CloseHandle(event);
}

static void test_any_value(void)
{
    static const UINT32 sizes[] = {1, 2, 4, 8};
    HANDLE event = CreateEventA(NULL, TRUE, FALSE, NULL);
    unsigned int i;

    /* TriggerValue is ignored with ANY_VALUE. */
    register_doorbell(FIOV_BAR0, 0x200, 0x12345, SIZE_DWORD | ANY_VALUE, event);
    for (i = 0; i < 3; i++)
    {
        ok(!guest_write(BAR0 + 0x200, 4, i * 0x11111111), "write %u reached the emulator\n", i);
        ok(event_was_set(event), "write %u did not set the event\n", i);
        ResetEvent(event);
    }
    ok(guest_write(BAR0 + 0x200, 2, 1), "word write did not reach the emulator\n");
    ok(!event_was_set(event), "word write set the event\n");
    unregister_doorbell(FIOV_BAR0, 0x200, 0, SIZE_DWORD | ANY_VALUE);

    /* Any size and any value: every write there. */
    register_doorbell(FIOV_BAR0, 0x300, 0, SIZE_ANY | ANY_VALUE, event);
    for (i = 0; i < ARRAYSIZE(sizes); i++)
    {
        winetest_push_context("size %u", sizes[i]);
        ok(!guest_write(BAR0 + 0x300, sizes[i], 0x77), "write reached the emulator\n");
        ok(event_was_set(event), "write did not set the event\n");
        ResetEvent(event);
        winetest_pop_context();
    }
    unregister_doorbell(FIOV_BAR0, 0x300, 0, SIZE_ANY | ANY_VALUE);
    ok(guest_write(BAR0 + 0x300, 4, 0x77), "write after Unregister did not reach the emulator\n");
    ok(!event_was_set(event), "write after Unregister set the event\n");
    CloseHandle(event);
}

static void test_shared_address(void)
{
    HANDLE a = CreateEventA(NULL, FALSE, FALSE, NULL), b = CreateEventA(NULL, FALSE, FALSE, NULL);
    HANDLE caller_copy, c;
    HRESULT hr;

    register_doorbell(FIOV_BAR0, 0x400, 1, SIZE_DWORD, a);
    register_doorbell(FIOV_BAR0, 0x400, 2, SIZE_DWORD, b);

    ok(!guest_write(BAR0 + 0x400, 4, 1), "write reached the emulator\n");
    ok(event_was_set(a), "value 1 did not set event a\n");
    ok(!event_was_set(b), "value 1 set event b\n");
    ok(!guest_write(BAR0 + 0x400, 4, 2), "write reached the emulator\n");
    ok(!event_was_set(a), "value 2 set event a\n");
    ok(event_was_set(b), "value 2 did not set event b\n");
    ok(guest_write(BAR0 + 0x400, 4, 3), "value 3 did not reach the emulator\n");
    ok(!event_was_set(a) && !event_was_set(b), "value 3 set an event\n");

    /* Unregister removes exactly one. */
    unregister_doorbell(FIOV_BAR0, 0x400, 1, SIZE_DWORD);
    ok(guest_write(BAR0 + 0x400, 4, 1), "value 1 did not reach the emulator\n");
    ok(!event_was_set(a), "value 1 set event a after Unregister\n");
    ok(!guest_write(BAR0 + 0x400, 4, 2), "value 2 reached the emulator\n");
    ok(event_was_set(b), "value 2 no longer sets event b\n");
    hr = IVmFiovGuestMemoryFastNotification_UnregisterDoorbell(notification, FIOV_BAR0, 0x400, 1, SIZE_DWORD);
    ok(hr == HRESULT_FROM_WIN32(ERROR_NOT_FOUND), "second Unregister: got hr %#lx\n", hr);
    unregister_doorbell(FIOV_BAR0, 0x400, 2, SIZE_DWORD);

    /* The event is duplicated: the caller may close its handle. */
    c = CreateEventA(NULL, FALSE, FALSE, NULL);
    DuplicateHandle(GetCurrentProcess(), c, GetCurrentProcess(), &caller_copy, 0, FALSE, DUPLICATE_SAME_ACCESS);
    register_doorbell(FIOV_BAR2, 0x10, 9, SIZE_BYTE, c);
    CloseHandle(c);
    ok(!guest_write(BAR2 + 0x10, 1, 9), "write reached the emulator\n");
    ok(event_was_set(caller_copy), "event not set after the caller closed its handle\n");
    unregister_doorbell(FIOV_BAR2, 0x10, 9, SIZE_BYTE);
    CloseHandle(caller_copy);

    CloseHandle(a);
    CloseHandle(b);
}

static void test_bar_move(void)
{
    HANDLE event = CreateEventA(NULL, FALSE, FALSE, NULL);
    HRESULT hr;

    register_doorbell(FIOV_BAR0, 0x600, 0x42, SIZE_WORD, event);
    hr = pVmidlSetBarAddress(guest.partition, &instance, FIOV_BAR0, BAR0 + 0x800000);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    ok(!guest_write(BAR0 + 0x800600, 2, 0x42), "write at the new address reached the emulator\n");
    ok(event_was_set(event), "doorbell did not move with its BAR\n");
    hr = pVmidlSetBarAddress(guest.partition, &instance, FIOV_BAR0, BAR0);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    ok(!guest_write(BAR0 + 0x600, 2, 0x42), "write reached the emulator\n");
    ok(event_was_set(event), "doorbell did not move back\n");
    unregister_doorbell(FIOV_BAR0, 0x600, 0x42, SIZE_WORD);
    CloseHandle(event);
}

static DWORD WINAPI guest_thread(void *arg)
{
    return guest_run(&guest);
}

/* Unregister while the guest rings as fast as it can: every write is either
 * consumed by the doorbell or reaches the emulator, and once Unregister has
 * returned the event stays clear.  The guest makes enough writes (a second
 * or so) that Unregister comes before the last even on a loaded machine. */
static void test_unregister_while_ringing(void)
{
    HANDLE event = CreateEventA(NULL, TRUE, FALSE, NULL), thread;
    const unsigned int writes = 30000;
    unsigned int i, intercepted;
    DWORD ret, exit_code, start;

    register_doorbell(FIOV_BAR0, 0x700, 0, SIZE_QWORD | ANY_VALUE, event);
    mmio_log_reset(&mmio);
    guest_reset_ops(&guest);
    for (i = 0; i < writes; i++) guest_add_op(&guest, GUEST_OP_WRITE, 8, BAR0 + 0x700, i);
    thread = CreateThread(NULL, 0, guest_thread, NULL, 0, NULL);

    ret = WaitForSingleObject(event, TEST_WAIT_MS);
    ok(ret == WAIT_OBJECT_0, "doorbell never rang: %#lx\n", ret);
    start = GetTickCount();
    unregister_doorbell(FIOV_BAR0, 0x700, 0, SIZE_QWORD | ANY_VALUE);
    ResetEvent(event);
    if (winetest_debug > 1) trace("Unregister took %lu ms\n", GetTickCount() - start);

    ret = WaitForSingleObject(thread, TEST_WAIT_MS);
    ok(ret == WAIT_OBJECT_0, "guest did not finish: %#lx\n", ret);
    GetExitCodeThread(thread, &exit_code);
    ok(exit_code == S_OK, "guest run failed, hr %#lx\n", exit_code);
    CloseHandle(thread);
    intercepted = mmio.count;
    ok(intercepted > 0 && intercepted < writes, "%u of %u writes reached the emulator\n", intercepted, writes);
    ok(!event_was_set(event), "event set after Unregister returned\n");
    if (winetest_debug > 1) trace("%u of %u writes rang the doorbell\n", writes - intercepted, writes);
    CloseHandle(event);
}

/* A doorbell occupies the bytes its trigger writes (one for size "any") and
 * may not straddle a page; a range conflicts with it when it covers one of
 * those bytes.  The answer does not depend on which came first. */
static void test_range_rule(void)
{
    static const struct
    {
        UINT64 offset;
        UINT64 flags;
        UINT64 range_page;
        HRESULT doorbell_hr, range_hr;
    }
    tests[] =
    {
        /* A dword in the last bytes of page 10. */
        {10 * PAGE + 0xffc, SIZE_DWORD, 11, S_OK, S_OK},
        {10 * PAGE + 0xffc, SIZE_DWORD, 10, S_OK, __HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS)},
        {10 * PAGE + 0xffc, SIZE_DWORD, 9, S_OK, S_OK},
        /* A qword there would straddle into page 11. */
        {10 * PAGE + 0xffc, SIZE_QWORD, 11, E_INVALIDARG, S_OK},
        {10 * PAGE + 0xffc, SIZE_QWORD, 10, E_INVALIDARG, S_OK},
        {10 * PAGE + 0xffe, SIZE_DWORD, 11, E_INVALIDARG, S_OK},
        /* Any size: the byte at the offset. */
        {12 * PAGE + 0xfff, SIZE_ANY | ANY_VALUE, 12, S_OK, __HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS)},
        {12 * PAGE + 0xfff, SIZE_ANY | ANY_VALUE, 13, S_OK, S_OK},
        {13 * PAGE, SIZE_BYTE | ANY_VALUE, 12, S_OK, S_OK},
        {13 * PAGE, SIZE_BYTE | ANY_VALUE, 13, S_OK, __HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS)},
    };
    IVmFiovGuestMmioMappings *mappings;
    HANDLE event, section;
    unsigned int i, order;
    UINT64 *view;
    HRESULT hr;

    IVmFiovGuestMemoryFastNotification_QueryInterface(notification, &IID_IVmFiovGuestMmioMappings, (void **)&mappings);
    event = CreateEventA(NULL, FALSE, FALSE, NULL);
    section = create_test_section(3, 1, &view);

    for (i = 0; i < ARRAYSIZE(tests); i++)
    {
        for (order = 0; order < 2; order++)
        {
            HRESULT doorbell_hr = tests[i].doorbell_hr, range_hr = tests[i].range_hr, expected;
            BOOL doorbell, range;

            winetest_push_context("test %u, %s first", i, order ? "range" : "doorbell");
            if (!order)
            {
                hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(notification, FIOV_BAR0,
                        tests[i].offset, 1, tests[i].flags, event);
                ok(hr == doorbell_hr, "register: got hr %#lx, expected %#lx\n", hr, doorbell_hr);
                doorbell = SUCCEEDED(hr);
                hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, tests[i].range_page, 1,
                        FiovMmioMappingFlagNone, section, 0);
                ok(hr == range_hr, "create: got hr %#lx, expected %#lx\n", hr, range_hr);
                range = SUCCEEDED(hr);
            }
            else
            {
                hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, tests[i].range_page, 1,
                        FiovMmioMappingFlagNone, section, 0);
                ok(hr == S_OK, "create: got hr %#lx\n", hr);
                range = SUCCEEDED(hr);
                /* The doorbell now meets the range: whatever refused the
                 * pair the other way round refuses it this way. */
                expected = FAILED(doorbell_hr) ? doorbell_hr : range_hr;
                hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(notification, FIOV_BAR0,
                        tests[i].offset, 1, tests[i].flags, event);
                ok(hr == expected, "register: got hr %#lx, expected %#lx\n", hr, expected);
                doorbell = SUCCEEDED(hr);
            }

            /* What was accepted works for the guest. */
            if (range)
            {
                UINT64 read;
                guest_reset_ops(&guest);
                read = guest_add_op(&guest, GUEST_OP_READ, 8, BAR0 + tests[i].range_page * PAGE + 0x10, 0);
                ok(guest_run(&guest) == S_OK && guest.ops[read].result == section_pattern(3, 0, 2),
                        "range reads %#I64x\n", guest.ops[read].result);
            }
            if (doorbell)
            {
                ok(!guest_write(BAR0 + tests[i].offset, (tests[i].flags & SIZE_QWORD) == SIZE_QWORD ? 8
                        : (tests[i].flags & 7) == SIZE_DWORD ? 4 : 1, 1), "doorbell write reached the emulator\n");
                ok(event_was_set(event), "the doorbell did not ring\n");
                unregister_doorbell(FIOV_BAR0, tests[i].offset, 1, tests[i].flags);
            }
            if (range)
            {
                hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(mappings, FIOV_BAR0, tests[i].range_page);
                ok(hr == S_OK, "destroy: got hr %#lx\n", hr);
            }
            winetest_pop_context();
        }
    }

    UnmapViewOfFile(view);
    CloseHandle(section);
    CloseHandle(event);
    IVmFiovGuestMmioMappings_Release(mappings);
}

START_DEVICE_TEST(doorbell)
{
    IUnknown *device;

    if (!init_device_test(&guest, &mmio, &instance, &IID_IVmFiovGuestMemoryFastNotification, &device,
            (void **)&notification))
        return;

    sentinel = CreateEventA(NULL, FALSE, FALSE, NULL);
    register_doorbell(FIOV_BAR2, SENTINEL_OFFSET, 0, SIZE_DWORD | ANY_VALUE, sentinel);

    test_value_match();
    test_any_value();
    test_shared_address();
    test_bar_move();
    test_unregister_while_ringing();
    test_range_rule();

    unregister_doorbell(FIOV_BAR2, SENTINEL_OFFSET, 0, SIZE_DWORD | ANY_VALUE);
    CloseHandle(sentinel);
    IVmFiovGuestMemoryFastNotification_Release(notification);
    ok(!IUnknown_Release(device), "device still referenced\n");
    guest_destroy(&guest);
    mmio_log_cleanup(&mmio);
}
