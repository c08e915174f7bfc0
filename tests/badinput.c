/*
 * Bad-input matrix: every method of every interface, and the partition host
 * API, called with each bad value of each parameter.  Each call returns its
 * documented HRESULT, and a real guest proves that the device is unchanged:
 * it probes every BAR page and every doorbell and non-doorbell address
 * before and after the whole table, and both times sees exactly what the
 * fixed set of ranges and doorbells set up first implies.  Nothing leaks.
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
#define BAR0_PAGES 16
#define SECTION_TAG 5
#define SECTION_PAGES 16

#define ALREADY_EXISTS __HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS)
#define NOT_FOUND      __HRESULT_FROM_WIN32(ERROR_NOT_FOUND)

static const GUID instance = {0x62616469, 0x6e70, 0x7574, {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}};
static const GUID unknown_instance = {0x62616469, 0x6e70, 0x7574, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

static struct guest guest;
static struct mmio_log mmio;
static IUnknown *device;
static IVmFiovGuestMmioMappings *mappings;
static IVmFiovGuestMemoryFastNotification *notification;
static IVmVirtualDeviceAccess *access;
static unsigned int bad_input_count;

/* The state every bad call must leave alone. */
static const struct fixed_range
{
    FIOV_BAR_SELECTOR bar;
    UINT64 page, count;
    FiovMmioMappingFlags flags;
    UINT64 section_page;
}
fixed_ranges[] =
{
    {FIOV_BAR0, 2, 2, FiovMmioMappingFlagWriteable, 1},
    {FIOV_BAR0, 8, 1, FiovMmioMappingFlagNone, 5},
};

static const struct fixed_doorbell
{
    FIOV_BAR_SELECTOR bar;
    UINT64 offset, value, flags;
    UINT32 length;
}
fixed_doorbells[] =
{
    {FIOV_BAR0, 0x500, 1, SIZE_DWORD, 4},
    {FIOV_BAR0, 0x500, 2, SIZE_DWORD, 4},
    {FIOV_BAR0, 0x600, 0, SIZE_QWORD | ANY_VALUE, 8},
    {FIOV_BAR2, 0x10, 9, SIZE_BYTE, 1},
    {FIOV_BAR2, 0xff0, 0, SIZE_DWORD | ANY_VALUE, 4},   /* the sentinel: rung last by every probe pass */
};
#define SENTINEL (ARRAYSIZE(fixed_doorbells) - 1)

static HANDLE fixed_events[ARRAYSIZE(fixed_doorbells)];
/* What every bad RegisterDoorbell is given: a half-registered doorbell
 * would set it. */
static HANDLE bad_event;
static HANDLE section, tiny_section, read_only_section, no_query_section, query_only_section,
        read_only_file_section, read_only_protect_section, closed_handle, invalid_handle, file;
static UINT64 *section_view;
/* What the section must hold: the pattern, and what the guest wrote
 * through the writeable range so far. */
static UINT64 section_model[SECTION_PAGES * PAGE / 8];
static char file_path[MAX_PATH];

static UINT64 bar_address(FIOV_BAR_SELECTOR bar)
{
    return bar == FIOV_BAR2 ? BAR2 : BAR0;
}

/* ---- the model of the fixed state and the guest probes ---- */

struct probe
{
    FIOV_BAR_SELECTOR bar;
    UINT64 offset;
    UINT32 size;
    BOOL is_write;
    UINT64 value;
};

static struct probe probes[256];
static unsigned int probe_count;

static void add_probe(FIOV_BAR_SELECTOR bar, UINT64 offset, UINT32 size, BOOL is_write, UINT64 value)
{
    struct probe *probe = &probes[probe_count++];

    probe->bar = bar;
    probe->offset = offset;
    probe->size = size;
    probe->is_write = is_write;
    probe->value = size < 8 ? value & ((1ull << size * 8) - 1) : value;
}

static const struct fixed_range *range_at(FIOV_BAR_SELECTOR bar, UINT64 offset)
{
    unsigned int i;

    for (i = 0; i < ARRAYSIZE(fixed_ranges); i++)
        if (fixed_ranges[i].bar == bar && offset / PAGE - fixed_ranges[i].page < fixed_ranges[i].count)
            return &fixed_ranges[i];
    return NULL;
}

/* The fixed doorbell a guest write rings, or -1. */
static int doorbell_rung(const struct probe *probe)
{
    unsigned int i;

    for (i = 0; i < ARRAYSIZE(fixed_doorbells); i++)
    {
        const struct fixed_doorbell *d = &fixed_doorbells[i];
        if (d->bar != probe->bar || d->offset != probe->offset || d->length != probe->size) continue;
        if ((d->flags & ANY_VALUE) || d->value == probe->value) return i;
    }
    return -1;
}

/* What the guest must see for a probe: intercepted or not, and for reads
 * the value. */
static BOOL expect_probe(const struct probe *probe, UINT64 *value)
{
    const struct fixed_range *range = range_at(probe->bar, probe->offset);

    if (!probe->is_write)
    {
        if (!range)
        {
            *value = guest_mmio_read_value(probe->bar, probe->offset, probe->size);
            return TRUE;
        }
        memcpy(value, (BYTE *)section_model + (range->section_page - range->page) * PAGE + probe->offset, 8);
        return FALSE;
    }
    if (range) return !(range->flags & FiovMmioMappingFlagWriteable);
    return doorbell_rung(probe) < 0;
}

static void add_write_probe_for(FIOV_BAR_SELECTOR bar, UINT64 offset, UINT64 value, UINT64 flags)
{
    static const UINT32 lengths[] = {4, 1, 2, 4, 8};
    UINT32 size = (flags & 7) < ARRAYSIZE(lengths) ? lengths[flags & 7] : 4;
    UINT64 bar_size = bar == FIOV_BAR0 ? BAR0_PAGES * PAGE : bar == FIOV_BAR2 ? PAGE : 0;

    if (offset >= bar_size || bar_size - offset < size) return;
    /* KVM splits an access across a page boundary; isolation.c covers those. */
    if (offset / PAGE != (offset + size - 1) / PAGE) return;
    /* Keep probes off the sentinel, which is rung once at the end. */
    if (bar == fixed_doorbells[SENTINEL].bar && offset == fixed_doorbells[SENTINEL].offset) return;
    add_probe(bar, offset, size, TRUE, value);
}

#define check_guest_view(a) check_guest_view_(__FILE__, __LINE__, a)
static void check_guest_view_(const char *file, int line, const char *when)
{
    BOOL rung[ARRAYSIZE(fixed_doorbells)] = {0};
    const struct fixed_range *range;
    UINT64 expected_value, value;
    unsigned int i, op;
    BOOL trapped;
    HRESULT hr;
    DWORD ret;
    int d;

    for (i = 0; i < probe_count; i++)
    {
        const struct probe *probe = &probes[i];
        BOOL expect_trap = expect_probe(probe, &expected_value);

        winetest_push_context("%s, %s %u at %u:%#I64x", when, probe->is_write ? "write" : "read",
                probe->size, probe->bar, probe->offset);
        mmio_log_reset(&mmio);
        guest_reset_ops(&guest);
        op = guest_add_op(&guest, probe->is_write ? GUEST_OP_WRITE : GUEST_OP_READ, probe->size,
                bar_address(probe->bar) + probe->offset, probe->value);
        hr = guest_run(&guest);
        ok_(file, line)(hr == S_OK, "guest run failed, hr %#lx, exit %u at %#I64x\n", hr,
                guest.last_exit.ExitReason, guest.last_exit.Address);
        trapped = mmio.count != 0;
        ok_(file, line)(trapped == expect_trap, "intercepted %d, expected %d\n", trapped, expect_trap);
        if (trapped)
            ok_(file, line)(mmio.count == 1 && mmio.accesses[0].bar == probe->bar
                    && mmio.accesses[0].offset == probe->offset && mmio.accesses[0].size == probe->size
                    && mmio.accesses[0].is_write == probe->is_write
                    && (!probe->is_write || mmio.accesses[0].data == probe->value),
                    "emulator saw %u accesses: bar %u offset %#I64x size %u write %d data %#I64x\n", mmio.count,
                    mmio.accesses[0].bar, mmio.accesses[0].offset, mmio.accesses[0].size,
                    mmio.accesses[0].is_write, mmio.accesses[0].data);
        if (!probe->is_write)
        {
            value = guest.ops[op].result;
            ok_(file, line)(value == expected_value, "read %#I64x, expected %#I64x\n", value, expected_value);
        }
        else if ((range = range_at(probe->bar, probe->offset)))
        {
            if (range->flags & FiovMmioMappingFlagWriteable)
                memcpy((BYTE *)section_model + (range->section_page - range->page) * PAGE + probe->offset,
                        &probe->value, probe->size);
        }
        else if ((d = doorbell_rung(probe)) >= 0) rung[d] = TRUE;
        winetest_pop_context();
    }

    /* Doorbell writes signal their eventfds synchronously; once the
     * sentinel rung last is delivered, so are all earlier ones (give the
     * dispatcher's batch a moment). */
    guest_reset_ops(&guest);
    guest_add_op(&guest, GUEST_OP_WRITE, 4, bar_address(fixed_doorbells[SENTINEL].bar)
            + fixed_doorbells[SENTINEL].offset, 0);
    ok_(file, line)(guest_run(&guest) == S_OK, "%s: sentinel run failed\n", when);
    ret = WaitForSingleObject(fixed_events[SENTINEL], TEST_WAIT_MS);
    ok_(file, line)(ret == WAIT_OBJECT_0, "%s: sentinel not delivered: %#lx\n", when, ret);
    for (i = 0; i < SENTINEL; i++)
    {
        ret = WaitForSingleObject(fixed_events[i], rung[i] ? 5000 : 20);
        ok_(file, line)((ret == WAIT_OBJECT_0) == rung[i], "%s: doorbell %u: wait %#lx, expected rung %d\n",
                when, i, ret, rung[i]);
    }
    ret = WaitForSingleObject(bad_event, 0);
    ok_(file, line)(ret == WAIT_TIMEOUT, "%s: a rejected doorbell set its event\n", when);

    for (i = 0; i < ARRAYSIZE(section_model); i++)
        if (section_view[i] != section_model[i]) break;
    if (i < ARRAYSIZE(section_model))
        ok_(file, line)(0, "%s: section qword %#x is %#I64x, expected %#I64x\n", when, i, section_view[i],
                section_model[i]);
}

/* ---- the tables ---- */

struct range_test
{
    FIOV_BAR_SELECTOR bar;
    UINT64 offset, count;
    FiovMmioMappingFlags flags;
    HANDLE *section;
    UINT64 section_offset;
    HRESULT expected;
    const char *what;
};

static const struct range_test range_tests[] =
{
    /* BAR index */
    {7, 4, 1, 0, &section, 0, E_INVALIDARG, "BAR 7"},
    {0x80000000, 4, 1, 0, &section, 0, E_INVALIDARG, "negative BAR"},
    {~0u, 4, 1, 0, &section, 0, E_INVALIDARG, "BAR ~0"},
    {FIOV_BAR1, 0, 1, 0, &section, 0, E_INVALIDARG, "absent BAR1"},
    {FIOV_BAR5, 0, 1, 0, &section, 0, E_INVALIDARG, "absent BAR5"},
    {FIOV_ROMBAR, 0, 1, 0, &section, 0, E_INVALIDARG, "absent ROM BAR"},
    /* place in the BAR */
    {FIOV_BAR0, 16, 1, 0, &section, 0, E_INVALIDARG, "offset at the BAR end"},
    {FIOV_BAR0, 17, 1, 0, &section, 0, E_INVALIDARG, "offset past the BAR end"},
    {FIOV_BAR0, 15, 2, 0, &section, 0, E_INVALIDARG, "range past the BAR end"},
    {FIOV_BAR0, 4, 13, 0, &section, 0, E_INVALIDARG, "range one page past the BAR end"},
    {FIOV_BAR2, 1, 1, 0, &section, 0, E_INVALIDARG, "offset past the one-page BAR2"},
    {FIOV_BAR0, 4, 0, 0, &section, 0, E_INVALIDARG, "PageCount 0"},
    /* page arithmetic */
    {FIOV_BAR0, ~0ull, 2, 0, &section, 0, E_INVALIDARG, "BarOffsetInPages + PageCount wraps"},
    {FIOV_BAR0, 1ull << 52, 1, 0, &section, 0, E_INVALIDARG, "BarOffsetInPages * 4096 wraps"},
    {FIOV_BAR0, (1ull << 52) + 4, 1, 0, &section, 0, E_INVALIDARG, "BarOffsetInPages * 4096 wraps to page 4"},
    {FIOV_BAR0, 4, ~0ull, 0, &section, 0, E_INVALIDARG, "huge PageCount"},
    {FIOV_BAR0, 4, (1ull << 52) + 1, 0, &section, 0, E_INVALIDARG, "PageCount * 4096 wraps to one page"},
    {FIOV_BAR0, 4, 1, 0, &section, ~0ull, E_INVALIDARG, "SectionOffsetInPages + PageCount wraps"},
    {FIOV_BAR0, 4, 1, 0, &section, 1ull << 52, E_INVALIDARG, "SectionOffsetInPages * 4096 wraps"},
    {FIOV_BAR0, 4, 1, 0, &section, (1ull << 51) - 1, E_INVALIDARG, "section offset + count past INT64 bytes"},
    /* flags */
    {FIOV_BAR0, 4, 1, 4, &section, 0, E_INVALIDARG, "unknown flag 4"},
    {FIOV_BAR0, 4, 1, 0x80000000, &section, 0, E_INVALIDARG, "high flag"},
    {FIOV_BAR0, 4, 1, FiovMmioMappingFlagWriteable | 8, &section, 0, E_INVALIDARG, "Writeable and flag 8"},
    /* section size */
    {FIOV_BAR0, 4, 3, 0, &tiny_section, 0, E_INVALIDARG, "section smaller than the count"},
    {FIOV_BAR0, 4, 1, 0, &tiny_section, 2, E_INVALIDARG, "section smaller than offset + count"},
    {FIOV_BAR0, 4, 2, 0, &tiny_section, 1, E_INVALIDARG, "section one page short"},
    {FIOV_BAR0, 4, 1, 0, &tiny_section, 1ull << 40, E_INVALIDARG, "offset far past the section"},
    /* handle */
    {FIOV_BAR0, 4, 1, 0, NULL, 0, E_HANDLE, "NULL handle"},
    {FIOV_BAR0, 4, 1, 0, &closed_handle, 0, E_HANDLE, "closed handle"},
    {FIOV_BAR0, 4, 1, 0, &bad_event, 0, E_HANDLE, "event handle"},
    {FIOV_BAR0, 4, 1, 0, &file, 0, E_HANDLE, "file handle"},
    {FIOV_BAR0, 4, 1, 0, &invalid_handle, 0, E_HANDLE, "INVALID_HANDLE_VALUE"},
    {FIOV_BAR0, 4, 1, FiovMmioMappingFlagWriteable, &invalid_handle, 0, E_HANDLE, "INVALID_HANDLE_VALUE, Writeable"},
    /* access */
    {FIOV_BAR0, 4, 1, FiovMmioMappingFlagWriteable, &read_only_section, 0, E_ACCESSDENIED, "Writeable, no SECTION_MAP_WRITE"},
    {FIOV_BAR0, 4, 1, FiovMmioMappingFlagWriteable | FiovMmioMappingFlagExecutable, &read_only_section, 0,
            E_ACCESSDENIED, "Writeable | Executable, no SECTION_MAP_WRITE"},
    {FIOV_BAR0, 4, 1, 0, &no_query_section, 0, E_ACCESSDENIED, "no SECTION_QUERY"},
    {FIOV_BAR0, 4, 1, 0, &query_only_section, 0, E_ACCESSDENIED, "no SECTION_MAP_READ"},
    {FIOV_BAR0, 4, 1, FiovMmioMappingFlagWriteable, &read_only_file_section, 0, E_ACCESSDENIED,
            "Writeable on a read-only file"},
    {FIOV_BAR0, 4, 1, FiovMmioMappingFlagWriteable, &read_only_protect_section, 0, E_ACCESSDENIED,
            "Writeable on a PAGE_READONLY section, all access"},
    /* several things wrong at once: the same answer in process and through a proxy */
    {FIOV_BAR1, 0, 1, 0, &closed_handle, 0, E_INVALIDARG, "absent BAR1, closed handle"},
    {7, 4, 1, 0, NULL, 0, E_INVALIDARG, "BAR 7, NULL handle"},
    {FIOV_BAR0, 15, 2, 0, &closed_handle, 0, E_INVALIDARG, "range past the BAR end, closed handle"},
    {FIOV_BAR0, 4, 0, 0, &bad_event, 0, E_INVALIDARG, "PageCount 0, event handle"},
    {FIOV_BAR0, 4, 1, 4, &invalid_handle, 0, E_INVALIDARG, "unknown flag 4, INVALID_HANDLE_VALUE"},
    {FIOV_BAR0, 4, 3, 0, &closed_handle, 0, E_HANDLE, "section too small, closed handle: the handle first"},
    {FIOV_BAR0, 2, 1, 0, &closed_handle, 0, E_HANDLE, "over a range, closed handle: the handle first"},
    /* overlap with the fixed ranges and doorbells */
    {FIOV_BAR0, 2, 2, FiovMmioMappingFlagWriteable, &section, 1, ALREADY_EXISTS, "the same range again"},
    {FIOV_BAR0, 2, 1, 0, &section, 0, ALREADY_EXISTS, "same start"},
    {FIOV_BAR0, 3, 1, 0, &section, 0, ALREADY_EXISTS, "inside"},
    {FIOV_BAR0, 1, 2, 0, &section, 0, ALREADY_EXISTS, "overlapping the start"},
    {FIOV_BAR0, 3, 4, 0, &section, 0, ALREADY_EXISTS, "overlapping the end"},
    {FIOV_BAR0, 1, 15, 0, &section, 0, ALREADY_EXISTS, "covering both"},
    {FIOV_BAR0, 8, 1, FiovMmioMappingFlagWriteable, &section, 0, ALREADY_EXISTS, "over the read-only range"},
    {FIOV_BAR0, 0, 1, 0, &section, 0, ALREADY_EXISTS, "over doorbells"},
    {FIOV_BAR2, 0, 1, 0, &section, 0, ALREADY_EXISTS, "over BAR2's doorbells"},
};

struct destroy_test
{
    FIOV_BAR_SELECTOR bar;
    UINT64 offset;
    HRESULT expected;
    const char *what;
};

static const struct destroy_test destroy_tests[] =
{
    {7, 2, E_INVALIDARG, "BAR 7"},
    {0x80000000, 2, E_INVALIDARG, "negative BAR"},
    {FIOV_BAR1, 2, E_INVALIDARG, "absent BAR"},
    {FIOV_ROMBAR, 0, E_INVALIDARG, "absent ROM BAR"},
    {FIOV_BAR0, 16, E_INVALIDARG, "offset at the BAR end"},
    {FIOV_BAR0, ~0ull, E_INVALIDARG, "huge offset"},
    {FIOV_BAR0, (1ull << 52) + 2, E_INVALIDARG, "offset * 4096 wraps to a range"},
    {FIOV_BAR2, 1, E_INVALIDARG, "past BAR2"},
    {FIOV_BAR0, 3, NOT_FOUND, "inside a range"},
    {FIOV_BAR0, 9, NOT_FOUND, "just after a range"},
    {FIOV_BAR0, 1, NOT_FOUND, "just before a range"},
    {FIOV_BAR0, 6, NOT_FOUND, "never created"},
    {FIOV_BAR2, 0, NOT_FOUND, "on another BAR"},
};

struct doorbell_test
{
    FIOV_BAR_SELECTOR bar;
    UINT64 offset, value, flags;
    HANDLE *event;
    HRESULT expected;
    const char *what;
};

static const struct doorbell_test register_tests[] =
{
    /* BAR index and place */
    {7, 0x20, 1, SIZE_DWORD, &bad_event, E_INVALIDARG, "BAR 7"},
    {0x80000000, 0x20, 1, SIZE_DWORD, &bad_event, E_INVALIDARG, "negative BAR"},
    {FIOV_BAR1, 0x20, 1, SIZE_DWORD, &bad_event, E_INVALIDARG, "absent BAR"},
    {FIOV_ROMBAR, 0x20, 1, SIZE_DWORD, &bad_event, E_INVALIDARG, "absent ROM BAR"},
    {FIOV_BAR0, 0x10000, 1, SIZE_BYTE, &bad_event, E_INVALIDARG, "offset at the BAR end"},
    {FIOV_BAR0, 0xfffe, 1, SIZE_DWORD, &bad_event, E_INVALIDARG, "trigger past the BAR end"},
    {FIOV_BAR0, 0xfff9, 0, SIZE_QWORD | ANY_VALUE, &bad_event, E_INVALIDARG, "qword past the BAR end"},
    {FIOV_BAR2, 0xfff, 0, SIZE_WORD | ANY_VALUE, &bad_event, E_INVALIDARG, "word past BAR2's end"},
    {FIOV_BAR0, ~0ull, 1, SIZE_BYTE, &bad_event, E_INVALIDARG, "huge offset"},
    {FIOV_BAR0, ~0ull - 2, 1, SIZE_DWORD, &bad_event, E_INVALIDARG, "offset + length wraps"},
    /* flags */
    {FIOV_BAR0, 0x20, 1, 5, &bad_event, E_INVALIDARG, "size code 5"},
    {FIOV_BAR0, 0x20, 1, 7, &bad_event, E_INVALIDARG, "size code 7"},
    {FIOV_BAR0, 0x20, 1, SIZE_DWORD | 0x8, &bad_event, E_INVALIDARG, "reserved bit 3"},
    {FIOV_BAR0, 0x20, 1, SIZE_DWORD | 0x100, &bad_event, E_INVALIDARG, "reserved bit 8"},
    {FIOV_BAR0, 0x20, 1, SIZE_DWORD | 0x40000000, &bad_event, E_INVALIDARG, "reserved bit 30"},
    {FIOV_BAR0, 0x20, 1, SIZE_DWORD | (1ull << 32), &bad_event, E_INVALIDARG, "reserved bit 32"},
    {FIOV_BAR0, 0x20, 1, SIZE_DWORD | (1ull << 63), &bad_event, E_INVALIDARG, "reserved bit 63"},
    {FIOV_BAR0, 0x20, 0, SIZE_DWORD | ANY_VALUE | 0x10, &bad_event, E_INVALIDARG, "any value and reserved bit 4"},
    /* trigger value */
    {FIOV_BAR0, 0x20, 0x100, SIZE_BYTE, &bad_event, E_INVALIDARG, "value wider than a byte"},
    {FIOV_BAR0, 0x20, 0x10000, SIZE_WORD, &bad_event, E_INVALIDARG, "value wider than a word"},
    {FIOV_BAR0, 0x20, 0x100000000ull, SIZE_DWORD, &bad_event, E_INVALIDARG, "value wider than a dword"},
    {FIOV_BAR0, 0x20, ~0ull, SIZE_BYTE, &bad_event, E_INVALIDARG, "all ones for a byte"},
    {FIOV_BAR0, 0x20, 1, SIZE_ANY, &bad_event, E_INVALIDARG, "any size with a value"},
    /* event */
    {FIOV_BAR0, 0x20, 1, SIZE_DWORD, NULL, E_INVALIDARG, "NULL event"},
    {FIOV_BAR0, 0x20, 1, SIZE_DWORD, &closed_handle, E_HANDLE, "closed event"},
    {FIOV_BAR0, 0x20, 1, SIZE_DWORD, &section, E_HANDLE, "section instead of an event"},
    {FIOV_BAR0, 0x20, 1, SIZE_DWORD, &file, E_HANDLE, "file instead of an event"},
    {FIOV_BAR0, 0x20, 1, SIZE_DWORD, &invalid_handle, E_HANDLE, "INVALID_HANDLE_VALUE (the process)"},
    /* several things wrong at once: the same answer in process and through a proxy */
    {FIOV_BAR1, 0x20, 1, SIZE_DWORD, &closed_handle, E_INVALIDARG, "absent BAR, closed event"},
    {FIOV_BAR0, 0xffe, 1, SIZE_DWORD, &closed_handle, E_INVALIDARG, "straddling a page, closed event"},
    {FIOV_BAR0, 0x10000, 1, SIZE_BYTE, &file, E_INVALIDARG, "offset at the BAR end, file instead of an event"},
    {FIOV_BAR0, 0x20, 1, 5, NULL, E_INVALIDARG, "size code 5, NULL event"},
    {FIOV_BAR0, 0x500, 1, SIZE_DWORD, &closed_handle, E_HANDLE, "same doorbell, closed event: the event first"},
    /* duplicates and conflicts, after WHvRegisterPartitionDoorbellEvent */
    {FIOV_BAR0, 0x500, 1, SIZE_DWORD, &bad_event, ALREADY_EXISTS, "same doorbell"},
    {FIOV_BAR0, 0x500, 2, SIZE_DWORD, &fixed_events[1], ALREADY_EXISTS, "same doorbell, same event"},
    {FIOV_BAR0, 0x500, 3, SIZE_QWORD, &bad_event, ALREADY_EXISTS, "longer length at a shared address"},
    {FIOV_BAR0, 0x500, 3, SIZE_WORD, &bad_event, ALREADY_EXISTS, "shorter length at a shared address"},
    {FIOV_BAR0, 0x500, 0, SIZE_DWORD | ANY_VALUE, &bad_event, ALREADY_EXISTS, "any value over values"},
    {FIOV_BAR0, 0x500, 0, SIZE_ANY | ANY_VALUE, &bad_event, ALREADY_EXISTS, "any size over values"},
    {FIOV_BAR0, 0x600, 5, SIZE_QWORD, &bad_event, ALREADY_EXISTS, "value over any value"},
    {FIOV_BAR0, 0x600, 0, SIZE_QWORD | ANY_VALUE, &bad_event, ALREADY_EXISTS, "any value twice"},
    {FIOV_BAR0, 0x600, 0, SIZE_DWORD | ANY_VALUE, &bad_event, ALREADY_EXISTS, "any value, other length"},
    {FIOV_BAR2, 0x10, 9, SIZE_BYTE, &bad_event, ALREADY_EXISTS, "same doorbell on BAR2"},
    {FIOV_BAR2, 0x10, 9, SIZE_WORD, &bad_event, ALREADY_EXISTS, "other length on BAR2"},
    /* ranges */
    {FIOV_BAR0, 0x2010, 1, SIZE_DWORD, &bad_event, ALREADY_EXISTS, "inside a mapped range"},
    {FIOV_BAR0, 0x8000, 0, SIZE_QWORD | ANY_VALUE, &bad_event, ALREADY_EXISTS, "inside the read-only range"},
    {FIOV_BAR0, 0x1ffc, 0, SIZE_QWORD | ANY_VALUE, &bad_event, E_INVALIDARG, "straddling a page, into a range"},
    {FIOV_BAR0, 0x3ffe, 7, SIZE_WORD, &bad_event, ALREADY_EXISTS, "last bytes of a range"},
};

/* Unregister of something never registered: nothing that matches. */
static const struct doorbell_test unregister_tests[] =
{
    {FIOV_BAR0, 0x500, 3, SIZE_DWORD, NULL, NOT_FOUND, "other value"},
    {FIOV_BAR0, 0x500, 1, SIZE_WORD, NULL, NOT_FOUND, "other length"},
    {FIOV_BAR0, 0x500, 1, SIZE_QWORD, NULL, NOT_FOUND, "longer length"},
    {FIOV_BAR0, 0x500, 0, SIZE_DWORD | ANY_VALUE, NULL, NOT_FOUND, "any value where values are"},
    {FIOV_BAR0, 0x504, 1, SIZE_DWORD, NULL, NOT_FOUND, "next dword"},
    {FIOV_BAR0, 0x600, 5, SIZE_QWORD, NULL, NOT_FOUND, "a value where any value is"},
    {FIOV_BAR0, 0x600, 0, SIZE_DWORD | ANY_VALUE, NULL, NOT_FOUND, "any value, other length"},
    {FIOV_BAR0, 0x600, 0, SIZE_ANY | ANY_VALUE, NULL, NOT_FOUND, "any value, any length"},
    {FIOV_BAR0, 0x10, 9, SIZE_BYTE, NULL, NOT_FOUND, "BAR2's doorbell on BAR0"},
    {FIOV_BAR2, 0x10, 9, SIZE_WORD, NULL, NOT_FOUND, "BAR2, other length"},
    {FIOV_BAR0, 0x20, 1, SIZE_DWORD, NULL, NOT_FOUND, "never registered"},
    {FIOV_BAR0, 0x2010, 1, SIZE_DWORD, NULL, NOT_FOUND, "inside a range"},
};

/* The guest reads two qwords of every BAR page, writes every fixed
 * doorbell with its trigger at every size and with a near miss, both
 * ranges, and every address a bad doorbell in the table names. */
static void build_probes(const struct doorbell_test *tests, unsigned int count)
{
    static const UINT32 sizes[] = {1, 2, 4, 8};
    unsigned int i, s;

    probe_count = 0;
    for (i = 0; i < BAR0_PAGES; i++)
    {
        add_probe(FIOV_BAR0, i * PAGE + 0x18, 8, FALSE, 0);
        add_probe(FIOV_BAR0, i * PAGE + 0xff8, 8, FALSE, 0);
    }
    add_probe(FIOV_BAR2, 0x18, 8, FALSE, 0);
    add_probe(FIOV_BAR2, 0xff8, 8, FALSE, 0);

    /* Both ranges: the writeable one takes it, the read-only one traps. */
    add_probe(FIOV_BAR0, 2 * PAGE + 0x40, 8, TRUE, 0x1122334455667788ull);
    add_probe(FIOV_BAR0, 3 * PAGE + 0xff8, 8, TRUE, 0x8877665544332211ull);
    add_probe(FIOV_BAR0, 8 * PAGE + 0x40, 8, TRUE, 0x5555);

    /* Each fixed doorbell, with its trigger and every other size. */
    for (i = 0; i < SENTINEL; i++)
    {
        const struct fixed_doorbell *d = &fixed_doorbells[i];
        for (s = 0; s < ARRAYSIZE(sizes); s++)
            add_probe(d->bar, d->offset, sizes[s], TRUE, d->value);
        add_probe(d->bar, d->offset, d->length, TRUE, d->value + 0x40);
    }
    /* Every place a bad doorbell named. */
    for (i = 0; i < count; i++)
        add_write_probe_for(tests[i].bar, tests[i].offset, tests[i].value, tests[i].flags);
    ok(probe_count < ARRAYSIZE(probes), "too many probes\n");
}

static void test_range_table(void)
{
    unsigned int i;
    HRESULT hr;

    for (i = 0; i < ARRAYSIZE(range_tests); i++)
    {
        const struct range_test *t = &range_tests[i];

        winetest_push_context("Create, %s", t->what);
        hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, t->bar, t->offset, t->count, t->flags,
                t->section ? *t->section : NULL, t->section_offset);
        ok(hr == t->expected, "got hr %#lx, expected %#lx\n", hr, t->expected);
        bad_input_count++;
        winetest_pop_context();
    }
    for (i = 0; i < ARRAYSIZE(destroy_tests); i++)
    {
        const struct destroy_test *t = &destroy_tests[i];

        winetest_push_context("Destroy, %s", t->what);
        hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(mappings, t->bar, t->offset);
        ok(hr == t->expected, "got hr %#lx, expected %#lx\n", hr, t->expected);
        bad_input_count++;
        winetest_pop_context();
    }
}

static void test_doorbell_table(void)
{
    unsigned int i;
    HRESULT hr;

    for (i = 0; i < ARRAYSIZE(register_tests); i++)
    {
        const struct doorbell_test *t = &register_tests[i];

        winetest_push_context("Register, %s", t->what);
        hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(notification, t->bar, t->offset, t->value,
                t->flags, t->event ? *t->event : NULL);
        ok(hr == t->expected, "got hr %#lx, expected %#lx\n", hr, t->expected);
        bad_input_count++;
        /* What is malformed is malformed for Unregister too. */
        if (t->expected == E_INVALIDARG && t->event)
        {
            hr = IVmFiovGuestMemoryFastNotification_UnregisterDoorbell(notification, t->bar, t->offset,
                    t->value, t->flags);
            ok(hr == E_INVALIDARG, "Unregister: got hr %#lx\n", hr);
            bad_input_count++;
        }
        winetest_pop_context();
    }
    for (i = 0; i < ARRAYSIZE(unregister_tests); i++)
    {
        const struct doorbell_test *t = &unregister_tests[i];

        winetest_push_context("Unregister, %s", t->what);
        hr = IVmFiovGuestMemoryFastNotification_UnregisterDoorbell(notification, t->bar, t->offset, t->value, t->flags);
        ok(hr == t->expected, "got hr %#lx, expected %#lx\n", hr, t->expected);
        bad_input_count++;
        winetest_pop_context();
    }
}

static void test_get_device_table(void)
{
    static const struct
    {
        const GUID *category, *instance;
        BOOL null_out;
        HRESULT expected;
        const char *what;
    }
    tests[] =
    {
        {&instance, &instance, FALSE, E_INVALIDARG, "instance as the category"},
        {&IID_IUnknown, &instance, FALSE, E_INVALIDARG, "IID_IUnknown as the category"},
        {&IID_IVmFiovGuestMmioMappings, &instance, FALSE, E_INVALIDARG, "an IID as the category"},
        {&GUID_NULL, &instance, FALSE, E_INVALIDARG, "GUID_NULL category"},
        {NULL, &instance, FALSE, E_INVALIDARG, "NULL category"},
        {&FLEXIO_DEVICE_ID, NULL, FALSE, E_INVALIDARG, "NULL instance"},
        {&FLEXIO_DEVICE_ID, &unknown_instance, FALSE, NOT_FOUND, "unknown instance"},
        {&FLEXIO_DEVICE_ID, &GUID_NULL, FALSE, NOT_FOUND, "GUID_NULL instance"},
        {&FLEXIO_DEVICE_ID, &FLEXIO_DEVICE_ID, FALSE, NOT_FOUND, "the category as the instance"},
        {&FLEXIO_DEVICE_ID, &instance, TRUE, E_POINTER, "NULL out"},
        {&instance, &unknown_instance, TRUE, E_POINTER, "all wrong"},
    };
    unsigned int i;
    IUnknown *unk;
    HRESULT hr;

    for (i = 0; i < ARRAYSIZE(tests); i++)
    {
        winetest_push_context("GetDevice, %s", tests[i].what);
        unk = (IUnknown *)0xdeadbeef;
        hr = IVmVirtualDeviceAccess_GetDevice(access, tests[i].category, tests[i].instance,
                tests[i].null_out ? NULL : &unk);
        ok(hr == tests[i].expected, "got hr %#lx, expected %#lx\n", hr, tests[i].expected);
        if (!tests[i].null_out) ok(!unk, "got %p\n", unk);
        bad_input_count++;
        winetest_pop_context();
    }
}

static void test_query_interface(void)
{
    void *out;
    HRESULT hr;

    hr = IUnknown_QueryInterface(device, &IID_IUnknown, NULL);
    ok(hr == E_POINTER, "device: got hr %#lx\n", hr);
    hr = IVmFiovGuestMmioMappings_QueryInterface(mappings, &IID_IVmFiovGuestMemoryFastNotification, NULL);
    ok(hr == E_POINTER, "mappings: got hr %#lx\n", hr);
    hr = IVmFiovGuestMemoryFastNotification_QueryInterface(notification, &IID_IVmFiovGuestMmioMappings, NULL);
    ok(hr == E_POINTER, "notification: got hr %#lx\n", hr);
    hr = IVmVirtualDeviceAccess_QueryInterface(access, &IID_IVmVirtualDeviceAccess, NULL);
    ok(hr == E_POINTER, "access: got hr %#lx\n", hr);
    out = (void *)0xdeadbeef;
    hr = IVmFiovGuestMemoryFastNotification_QueryInterface(notification, &IID_IVmVirtualDeviceAccess, &out);
    ok(hr == E_NOINTERFACE && !out, "notification, unknown IID: got hr %#lx, %p\n", hr, out);
    bad_input_count += 5;
}

/* The partition host API, on the partition of the device under test where
 * a partition is needed: a failed call there must not move or add anything
 * the guest could see either. */
static void test_host_api(void)
{
    static const GUID runtime_id = {0x62616469, 0, 0, {1, 2, 3, 4, 5, 6, 7, 8}};
    VMIDL_PARTITION_HANDLE partition = guest.partition, out;
    VMIDL_FLEXIO_DEVICE_DESC desc, good;
    VMIDL_RUN_VP_EXIT_CONTEXT exit;
    IVmVirtualDeviceAccess *access2;
    VMIDL_VP_REGISTERS regs;
    IUnknown *unk;
    unsigned int i;
    HRESULT hr;
    BYTE *ram;
    enum {RAM, RAM_PLUS_1, NO_HOST};
    struct
    {
        int host;
        UINT64 gpa, size;
        UINT32 flags;
        HRESULT expected;
        const char *what;
    }
    map_tests[] =
    {
        {NO_HOST, 0x800000, 0x1000, VMIDL_MAP_GPA_RANGE_FLAG_READ, E_INVALIDARG, "NULL host"},
        {RAM_PLUS_1, 0x800000, 0x1000, VMIDL_MAP_GPA_RANGE_FLAG_READ, E_INVALIDARG, "misaligned host"},
        {RAM, 0x800800, 0x1000, VMIDL_MAP_GPA_RANGE_FLAG_READ, E_INVALIDARG, "misaligned guest address"},
        {RAM, 0x800000, 0, VMIDL_MAP_GPA_RANGE_FLAG_READ, E_INVALIDARG, "empty range"},
        {RAM, 0x800000, 0x1800, VMIDL_MAP_GPA_RANGE_FLAG_READ, E_INVALIDARG, "size not in pages"},
        {RAM, ~0ull & ~0xfffull, 0x2000, VMIDL_MAP_GPA_RANGE_FLAG_READ, E_INVALIDARG, "wrapping range"},
        {RAM, 0x800000, 0x1000, VMIDL_MAP_GPA_RANGE_FLAG_WRITE, E_INVALIDARG, "write without read"},
        {RAM, 0x800000, 0x1000, 0, E_INVALIDARG, "no flags"},
        {RAM, 0x800000, 0x1000, 0x10 | VMIDL_MAP_GPA_RANGE_FLAG_READ, E_INVALIDARG, "unknown flag"},
        {RAM, 0x200000, 0x1000, VMIDL_MAP_GPA_RANGE_FLAG_READ, ALREADY_EXISTS, "over guest RAM"},
        {RAM, BAR0 + 4 * PAGE, 0x1000, VMIDL_MAP_GPA_RANGE_FLAG_READ, ALREADY_EXISTS, "over BAR0"},
        {RAM, BAR2 - PAGE, 0x2000, VMIDL_MAP_GPA_RANGE_FLAG_READ, ALREADY_EXISTS, "over BAR2's start"},
    };
    struct
    {
        FIOV_BAR_SELECTOR bar;
        UINT64 size, address;
        BOOL no_callback;
        const GUID *instance;
        HRESULT expected;
        const char *what;
    }
    device_tests[] =
    {
        {FIOV_BAR0, 0x1000, 0x10000000, TRUE, &unknown_instance, E_INVALIDARG, "no callback"},
        {FIOV_BAR0, 0x1000, 0x10000800, FALSE, &unknown_instance, E_INVALIDARG, "misaligned BAR"},
        {FIOV_BAR1, 0x1800, 0x10000000, FALSE, &unknown_instance, E_INVALIDARG, "BAR size not in pages"},
        {FIOV_BAR1, 0x2000, ~0ull & ~0xfffull, FALSE, &unknown_instance, E_INVALIDARG, "BAR wraps"},
        {FIOV_ROMBAR, 0x1000, 0x100000, FALSE, &unknown_instance, ALREADY_EXISTS, "BAR over RAM"},
        {FIOV_BAR0, 0x1000, 0x10000000, FALSE, &instance, ALREADY_EXISTS, "same instance"},
        {FIOV_BAR3, 0x2000, BAR0 + 0xf000, FALSE, &unknown_instance, ALREADY_EXISTS, "BAR over BAR0"},
        {FIOV_BAR3, 0x1000, BAR2, FALSE, &unknown_instance, ALREADY_EXISTS, "BAR on BAR2"},
    };
    struct
    {
        const GUID *instance;
        FIOV_BAR_SELECTOR bar;
        UINT64 address;
        HRESULT expected;
        const char *what;
    }
    bar_tests[] =
    {
        {NULL, FIOV_BAR0, 0x10000000, E_INVALIDARG, "NULL instance"},
        {&instance, 7, 0x10000000, E_INVALIDARG, "BAR 7"},
        {&instance, FIOV_BAR1, 0x10000000, E_INVALIDARG, "absent BAR"},
        {&instance, FIOV_BAR0, 0x10000800, E_INVALIDARG, "misaligned"},
        {&instance, FIOV_BAR0, ~0ull & ~0xfffull, E_INVALIDARG, "wraps"},
        {&unknown_instance, FIOV_BAR0, 0x10000000, NOT_FOUND, "unknown instance"},
        {&instance, FIOV_BAR0, 0x200000, ALREADY_EXISTS, "onto RAM"},
        {&instance, FIOV_BAR0, BAR2, ALREADY_EXISTS, "onto the device's own BAR2"},
        {&instance, FIOV_BAR2, BAR0 + 0xf000, ALREADY_EXISTS, "BAR2 onto BAR0's end"},
    };

    out = (void *)0xdeadbeef;
    hr = pVmidlCreatePartition(NULL, 1, &out);
    ok(hr == E_INVALIDARG && !out, "NULL runtime id: got hr %#lx, %p\n", hr, out);
    hr = pVmidlCreatePartition(&runtime_id, 0, &out);
    ok(hr == E_INVALIDARG && !out, "no VP: got hr %#lx, %p\n", hr, out);
    hr = pVmidlCreatePartition(&runtime_id, 65, &out);
    ok(hr == E_INVALIDARG && !out, "65 VPs: got hr %#lx, %p\n", hr, out);
    hr = pVmidlCreatePartition(&runtime_id, ~0u, &out);
    ok(hr == E_INVALIDARG && !out, "~0 VPs: got hr %#lx, %p\n", hr, out);
    hr = pVmidlCreatePartition(&runtime_id, 1, NULL);
    ok(hr == E_INVALIDARG, "NULL out: got hr %#lx\n", hr);
    hr = pVmidlDeletePartition(NULL);
    ok(hr == E_INVALIDARG, "Delete NULL: got hr %#lx\n", hr);
    bad_input_count += 6;

    ram = VirtualAlloc(NULL, 0x2000, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    for (i = 0; i < ARRAYSIZE(map_tests); i++)
    {
        void *host = map_tests[i].host == RAM ? ram : map_tests[i].host == RAM_PLUS_1 ? ram + 1 : NULL;

        winetest_push_context("MapGpaRange, %s", map_tests[i].what);
        hr = pVmidlMapGpaRange(partition, host, map_tests[i].gpa, map_tests[i].size, map_tests[i].flags);
        ok(hr == map_tests[i].expected, "got hr %#lx, expected %#lx\n", hr, map_tests[i].expected);
        bad_input_count++;
        winetest_pop_context();
    }
    hr = pVmidlMapGpaRange(NULL, ram, 0x800000, 0x1000, VMIDL_MAP_GPA_RANGE_FLAG_READ);
    ok(hr == E_INVALIDARG, "MapGpaRange, NULL partition: got hr %#lx\n", hr);

    memset(&regs, 0, sizeof(regs));
    hr = pVmidlSetVirtualProcessorRegisters(partition, 1, &regs);
    ok(hr == E_INVALIDARG, "Set, VP 1 of 1: got hr %#lx\n", hr);
    hr = pVmidlSetVirtualProcessorRegisters(partition, ~0u, &regs);
    ok(hr == E_INVALIDARG, "Set, VP ~0: got hr %#lx\n", hr);
    hr = pVmidlSetVirtualProcessorRegisters(partition, 0, NULL);
    ok(hr == E_INVALIDARG, "Set, NULL registers: got hr %#lx\n", hr);
    hr = pVmidlSetVirtualProcessorRegisters(NULL, 0, &regs);
    ok(hr == E_INVALIDARG, "Set, NULL partition: got hr %#lx\n", hr);
    hr = pVmidlGetVirtualProcessorRegisters(partition, 1, &regs);
    ok(hr == E_INVALIDARG, "Get, VP 1 of 1: got hr %#lx\n", hr);
    hr = pVmidlGetVirtualProcessorRegisters(partition, 0, NULL);
    ok(hr == E_INVALIDARG, "Get, NULL registers: got hr %#lx\n", hr);
    hr = pVmidlGetVirtualProcessorRegisters(NULL, 0, &regs);
    ok(hr == E_INVALIDARG, "Get, NULL partition: got hr %#lx\n", hr);
    hr = pVmidlRunVirtualProcessor(partition, 1, &exit);
    ok(hr == E_INVALIDARG, "Run, VP 1 of 1: got hr %#lx\n", hr);
    hr = pVmidlRunVirtualProcessor(partition, 0, NULL);
    ok(hr == E_INVALIDARG, "Run, NULL exit: got hr %#lx\n", hr);
    hr = pVmidlRunVirtualProcessor(NULL, 0, &exit);
    ok(hr == E_INVALIDARG, "Run, NULL partition: got hr %#lx\n", hr);
    bad_input_count += 11;

    guest_device_desc(&good, &unknown_instance, &mmio, 0x10000000);
    for (i = 0; i < ARRAYSIZE(device_tests); i++)
    {
        memset(&desc, 0, sizeof(desc));
        desc.InstanceId = *device_tests[i].instance;
        desc.BarSize[device_tests[i].bar] = device_tests[i].size;
        desc.BarAddress[device_tests[i].bar] = device_tests[i].address;
        if (!device_tests[i].no_callback) desc.MmioCallback = mmio_log_callback;
        desc.MmioCallbackContext = &mmio;
        winetest_push_context("AddFlexIoDevice, %s", device_tests[i].what);
        unk = (IUnknown *)0xdeadbeef;
        hr = pVmidlAddFlexIoDevice(partition, &desc, &unk);
        ok(hr == device_tests[i].expected, "got hr %#lx, expected %#lx\n", hr, device_tests[i].expected);
        ok(!unk, "got %p\n", unk);
        bad_input_count++;
        winetest_pop_context();
    }
    unk = (IUnknown *)0xdeadbeef;
    hr = pVmidlAddFlexIoDevice(partition, NULL, &unk);
    ok(hr == E_INVALIDARG && !unk, "AddFlexIoDevice, NULL desc: got hr %#lx, %p\n", hr, unk);
    hr = pVmidlAddFlexIoDevice(partition, &good, NULL);
    ok(hr == E_INVALIDARG, "AddFlexIoDevice, NULL out: got hr %#lx\n", hr);
    hr = pVmidlAddFlexIoDevice(NULL, &good, &unk);
    ok(hr == E_INVALIDARG && !unk, "AddFlexIoDevice, NULL partition: got hr %#lx, %p\n", hr, unk);
    bad_input_count += 3;

    for (i = 0; i < ARRAYSIZE(bar_tests); i++)
    {
        winetest_push_context("SetBarAddress, %s", bar_tests[i].what);
        hr = pVmidlSetBarAddress(partition, bar_tests[i].instance, bar_tests[i].bar, bar_tests[i].address);
        ok(hr == bar_tests[i].expected, "got hr %#lx, expected %#lx\n", hr, bar_tests[i].expected);
        bad_input_count++;
        winetest_pop_context();
    }
    hr = pVmidlSetBarAddress(NULL, &instance, FIOV_BAR0, 0x10000000);
    ok(hr == E_INVALIDARG, "SetBarAddress, NULL partition: got hr %#lx\n", hr);

    hr = pVmidlGetVirtualDeviceAccess(partition, NULL);
    ok(hr == E_INVALIDARG, "GetVirtualDeviceAccess, NULL out: got hr %#lx\n", hr);
    access2 = (void *)0xdeadbeef;
    hr = pVmidlGetVirtualDeviceAccess(NULL, &access2);
    ok(hr == E_INVALIDARG && !access2, "GetVirtualDeviceAccess, NULL partition: got hr %#lx, %p\n", hr, access2);
    bad_input_count += 4;

    VirtualFree(ram, 0, MEM_RELEASE);
}

/* ---- setup ---- */

/* Created after the resource baseline and closed before the count: Wine
 * caches an fd with a section handle once it has handed one out, even when
 * the access was then refused, and drops it only with the handle. */
static void create_bad_handles(void)
{
    char dir[MAX_PATH];
    DWORD written;
    HANDLE rw;
    void *data;

    tiny_section = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 2 * PAGE, NULL);
    DuplicateHandle(GetCurrentProcess(), section, GetCurrentProcess(), &read_only_section,
            SECTION_QUERY | SECTION_MAP_READ, FALSE, 0);
    DuplicateHandle(GetCurrentProcess(), section, GetCurrentProcess(), &no_query_section,
            SECTION_MAP_READ | SECTION_MAP_WRITE, FALSE, 0);
    DuplicateHandle(GetCurrentProcess(), section, GetCurrentProcess(), &query_only_section, SECTION_QUERY, FALSE, 0);

    /* A file opened read-only, and its section. */
    GetTempPathA(ARRAYSIZE(dir), dir);
    GetTempFileNameA(dir, "vmi", 0, file_path);
    rw = CreateFileA(file_path, GENERIC_READ | GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    ok(rw != INVALID_HANDLE_VALUE, "CreateFile failed, error %lu\n", GetLastError());
    data = calloc(4, PAGE);
    WriteFile(rw, data, 4 * PAGE, &written, NULL);
    free(data);
    CloseHandle(rw);
    file = CreateFileA(file_path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    read_only_file_section = CreateFileMappingA(file, NULL, PAGE_READONLY, 0, 0, NULL);
    ok(!!read_only_file_section, "CreateFileMapping failed, error %lu\n", GetLastError());
    /* Every access on the handle, but the section itself is read-only:
     * MapViewOfFile(FILE_MAP_WRITE) refuses it on Windows. */
    read_only_protect_section = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READONLY, 0, 2 * PAGE, NULL);
    ok(!!read_only_protect_section, "CreateFileMapping failed, error %lu\n", GetLastError());

    invalid_handle = INVALID_HANDLE_VALUE;
}

static void close_bad_handles(void)
{
    CloseHandle(read_only_protect_section);
    CloseHandle(read_only_file_section);
    CloseHandle(file);
    DeleteFileA(file_path);
    CloseHandle(query_only_section);
    CloseHandle(no_query_section);
    CloseHandle(read_only_section);
    CloseHandle(tiny_section);
}

static void set_up_fixed_state(void)
{
    unsigned int i;
    HRESULT hr;

    bad_event = CreateEventA(NULL, FALSE, FALSE, NULL);
    section = create_test_section(SECTION_TAG, SECTION_PAGES, &section_view);
    memcpy(section_model, section_view, sizeof(section_model));

    for (i = 0; i < ARRAYSIZE(fixed_ranges); i++)
    {
        const struct fixed_range *r = &fixed_ranges[i];
        hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, r->bar, r->page, r->count, r->flags,
                section, r->section_page);
        ok(hr == S_OK, "range %u: got hr %#lx\n", i, hr);
    }
    for (i = 0; i < ARRAYSIZE(fixed_doorbells); i++)
    {
        const struct fixed_doorbell *d = &fixed_doorbells[i];
        fixed_events[i] = CreateEventA(NULL, FALSE, FALSE, NULL);
        hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(notification, d->bar, d->offset, d->value,
                d->flags, fixed_events[i]);
        ok(hr == S_OK, "doorbell %u: got hr %#lx\n", i, hr);
    }
}

static void tear_down_fixed_state(void)
{
    unsigned int i;
    HRESULT hr;

    for (i = 0; i < ARRAYSIZE(fixed_doorbells); i++)
    {
        const struct fixed_doorbell *d = &fixed_doorbells[i];
        hr = IVmFiovGuestMemoryFastNotification_UnregisterDoorbell(notification, d->bar, d->offset, d->value, d->flags);
        ok(hr == S_OK, "doorbell %u: got hr %#lx\n", i, hr);
        CloseHandle(fixed_events[i]);
    }
    for (i = 0; i < ARRAYSIZE(fixed_ranges); i++)
    {
        hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(mappings, fixed_ranges[i].bar, fixed_ranges[i].page);
        ok(hr == S_OK, "range %u: got hr %#lx\n", i, hr);
    }
    UnmapViewOfFile(section_view);
    CloseHandle(section);
    CloseHandle(bad_event);
}

START_DEVICE_TEST(badinput)
{
    struct resources before;
    BOOL have_resources;
    HRESULT hr;

    if (!init_device_test(&guest, &mmio, &instance, &IID_IVmFiovGuestMmioMappings, &device, (void **)&mappings))
        return;
    have_resources = init_resource_counting();
    hr = IVmFiovGuestMmioMappings_QueryInterface(mappings, &IID_IVmFiovGuestMemoryFastNotification, (void **)&notification);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = pVmidlGetVirtualDeviceAccess(guest.partition, &access);
    ok(hr == S_OK, "got hr %#lx\n", hr);

    set_up_fixed_state();
    build_probes(register_tests, ARRAYSIZE(register_tests));
    check_guest_view("before");

    if (have_resources && device_test_remote) get_resources_after_calls(&before);
    else if (have_resources) get_resources(&before);
    create_bad_handles();
    /* Last, so that no later handle takes its value. */
    closed_handle = CreateEventA(NULL, FALSE, FALSE, NULL);
    CloseHandle(closed_handle);
    if (device_test_remote) closed_handle = remote_driver_closed_handle();

    test_range_table();
    test_doorbell_table();
    test_get_device_table();
    test_query_interface();
    test_host_api();

    close_bad_handles();
    if (have_resources) check_resources(&before);
    check_guest_view("after");
    trace("%u bad inputs tried, %u guest probes before and after\n", bad_input_count, probe_count);

    tear_down_fixed_state();
    IVmVirtualDeviceAccess_Release(access);
    IVmFiovGuestMemoryFastNotification_Release(notification);
    IVmFiovGuestMmioMappings_Release(mappings);
    ok(!IUnknown_Release(device), "device still referenced\n");
    guest_destroy(&guest);
    mmio_log_cleanup(&mmio);
}
