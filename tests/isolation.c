/*
 * Guest isolation: a guest reaches the pages of a section that a range
 * maps, and nothing else.  Accesses just outside a range, of every size and
 * straddling its edges, are intercepted MMIO for the bytes outside it; the
 * section pages around the mapped window never change; read-only ranges
 * and destroyed ranges keep guest writes out; a file opened read-only is
 * never written.
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
#define TAG 9
#define SECTION_PAGES 8
/* The window: section pages 3-4 at BAR0 pages 4-5. */
#define WINDOW_SECTION_PAGE 3
#define WINDOW_BAR_PAGE 4
#define WINDOW_PAGES 2
#define WINDOW_START (WINDOW_BAR_PAGE * PAGE)
#define WINDOW_END ((WINDOW_BAR_PAGE + WINDOW_PAGES) * PAGE)

static const GUID instance = {0x69736f6c, 0x6174, 0x696f, {0x6e, 0, 0, 0, 0, 0, 0, 1}};
static const UINT32 sizes[] = {1, 2, 4, 8};

static struct guest guest;
static struct mmio_log mmio;
static IVmFiovGuestMmioMappings *mappings;

static UINT64 size_mask(UINT32 size)
{
    return size < 8 ? (1ull << size * 8) - 1 : ~0ull;
}

/* Runs one guest access; returns the value read (reads) and leaves what
 * the emulator saw in mmio. */
#define guest_access(a, b, c, d) guest_access_(__FILE__, __LINE__, a, b, c, d)
static UINT64 guest_access_(const char *file, int line, BOOL write, UINT64 offset, UINT32 size, UINT64 value)
{
    unsigned int op;
    HRESULT hr;

    mmio_log_reset(&mmio);
    guest_reset_ops(&guest);
    op = guest_add_op(&guest, write ? GUEST_OP_WRITE : GUEST_OP_READ, size, BAR0 + offset, value);
    hr = guest_run(&guest);
    ok_(file, line)(hr == S_OK, "guest run failed, hr %#lx, exit %u at %#I64x\n", hr,
            guest.last_exit.ExitReason, guest.last_exit.Address);
    return write ? 0 : guest.ops[op].result;
}

/* The emulator saw exactly one access, this one. */
#define check_intercepted(a, b, c, d) check_intercepted_(__FILE__, __LINE__, a, b, c, d)
static void check_intercepted_(const char *file, int line, BOOL write, UINT64 offset, UINT32 size, UINT64 data)
{
    const struct mmio_access *a = &mmio.accesses[0];

    ok_(file, line)(mmio.count == 1, "emulator saw %u accesses\n", mmio.count);
    if (!mmio.count) return;
    ok_(file, line)(a->bar == FIOV_BAR0 && a->offset == offset && a->size == size && a->is_write == write
            && (!write || a->data == data), "emulator saw bar %u offset %#I64x size %u write %d data %#I64x, "
            "expected offset %#I64x size %u write %d data %#I64x\n", a->bar, a->offset, a->size, a->is_write,
            a->data, offset, size, write, data);
}

/* A write across a page boundary reaches the emulator as two accesses,
 * split there (KVM emulates it a page at a time). */
#define check_intercepted_split(a, b, c) check_intercepted_split_(__FILE__, __LINE__, a, b, c)
static void check_intercepted_split_(const char *file, int line, UINT64 offset, UINT32 size, UINT64 data)
{
    UINT32 first = PAGE - offset % PAGE;
    const struct mmio_access *a = &mmio.accesses[0], *b = &mmio.accesses[1];

    ok_(file, line)(mmio.count == 2, "emulator saw %u accesses\n", mmio.count);
    if (mmio.count != 2) return;
    ok_(file, line)(a->is_write && a->offset == offset && a->size == first && a->data == (data & size_mask(first)),
            "first part: offset %#I64x size %u data %#I64x\n", a->offset, a->size, a->data);
    ok_(file, line)(b->is_write && b->offset == offset + first && b->size == size - first
            && b->data == data >> (first * 8), "second part: offset %#I64x size %u data %#I64x\n",
            b->offset, b->size, b->data);
}

/* The section matches the model byte for byte; says where it does not. */
#define check_section(a, b, c) check_section_(__FILE__, __LINE__, a, b, c)
static void check_section_(const char *file, int line, const BYTE *view, const BYTE *model, SIZE_T size)
{
    SIZE_T i;

    for (i = 0; i < size; i++) if (view[i] != model[i]) break;
    ok_(file, line)(i == size, "section byte %#Ix (page %Iu) is %#x, expected %#x\n", i, i / PAGE,
            i < size ? view[i] : 0, i < size ? model[i] : 0);
}

static void fill_model(BYTE *model, unsigned int tag, unsigned int pages)
{
    UINT64 *q = (UINT64 *)model;
    unsigned int i;

    for (i = 0; i < pages * PAGE / 8; i++) q[i] = section_pattern(tag, i / (PAGE / 8), i % (PAGE / 8));
}

/* Maps the window: pages WINDOW_SECTION_PAGE on of a new pattern section
 * at BAR page WINDOW_BAR_PAGE; model gets what the section holds. */
static HANDLE map_window(unsigned int tag, FiovMmioMappingFlags flags, BYTE *model, UINT64 **view)
{
    HANDLE section = create_test_section(tag, SECTION_PAGES, view);
    HRESULT hr;

    fill_model(model, tag, SECTION_PAGES);
    hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, WINDOW_BAR_PAGE, WINDOW_PAGES,
            flags, section, WINDOW_SECTION_PAGE);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    return section;
}

static void unmap_window(HANDLE section, UINT64 *view)
{
    HRESULT hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(mappings, FIOV_BAR0, WINDOW_BAR_PAGE);

    ok(hr == S_OK, "got hr %#lx\n", hr);
    UnmapViewOfFile(view);
    CloseHandle(section);
}

/* The value the guest reads at a BAR offset inside the window. */
static UINT64 window_bytes(const BYTE *model, UINT64 offset, UINT32 size)
{
    UINT64 value = 0;
    memcpy(&value, model + (WINDOW_SECTION_PAGE - WINDOW_BAR_PAGE) * PAGE + offset, size);
    return value;
}

static void test_window_edges(void)
{
    static BYTE model[SECTION_PAGES * PAGE];
    unsigned int i, j;
    HANDLE section;
    UINT64 *view, value;

    section = map_window(TAG, FiovMmioMappingFlagWriteable, model, &view);

    for (i = 0; i < ARRAYSIZE(sizes); i++)
    {
        UINT32 size = sizes[i];
        UINT64 before = WINDOW_START - size, after = WINDOW_END, data = 0x8182838485868788ull & size_mask(size);

        winetest_push_context("size %u", size);
        /* Whole accesses just outside: all of them MMIO. */
        value = guest_access(FALSE, before, size, 0);
        check_intercepted(FALSE, before, size, 0);
        ok(value == guest_mmio_read_value(FIOV_BAR0, before, size), "read before got %#I64x\n", value);
        value = guest_access(FALSE, after, size, 0);
        check_intercepted(FALSE, after, size, 0);
        ok(value == guest_mmio_read_value(FIOV_BAR0, after, size), "read after got %#I64x\n", value);
        guest_access(TRUE, before, size, data);
        check_intercepted(TRUE, before, size, data);
        guest_access(TRUE, after, size, data);
        check_intercepted(TRUE, after, size, data);

        /* Whole accesses just inside: all of them section memory. */
        value = guest_access(FALSE, WINDOW_START, size, 0);
        ok(!mmio.count && value == window_bytes(model, WINDOW_START, size), "first bytes: intercepted %u, read %#I64x\n",
                mmio.count, value);
        value = guest_access(FALSE, WINDOW_END - size, size, 0);
        ok(!mmio.count && value == window_bytes(model, WINDOW_END - size, size), "last bytes: intercepted %u, read %#I64x\n",
                mmio.count, value);
        guest_access(TRUE, WINDOW_START, size, data);
        ok(!mmio.count, "write of the first bytes was intercepted\n");
        memcpy(model + WINDOW_SECTION_PAGE * PAGE, &data, size);
        guest_access(TRUE, WINDOW_END - size, size, data);
        ok(!mmio.count, "write of the last bytes was intercepted\n");
        memcpy(model + (WINDOW_SECTION_PAGE + WINDOW_PAGES) * PAGE - size, &data, size);

        /* Straddling an edge: the bytes outside are MMIO, the bytes inside
         * are the section's, and nothing around the window changes. */
        for (j = 1; j < size; j++)
        {
            UINT64 start = WINDOW_START - j, end = WINDOW_END - (size - j);
            UINT64 outside, inside;

            winetest_push_context("straddling by %u", j);
            value = guest_access(FALSE, start, size, 0);
            ok(mmio.count >= 1, "read across the start was not intercepted\n");
            if (mmio.count == 1 && mmio.accesses[0].offset == start && mmio.accesses[0].size == j)
            {
                /* KVM split it at the page boundary. */
                outside = value & size_mask(j);
                inside = value >> (j * 8);
                ok(outside == guest_mmio_read_value(FIOV_BAR0, start, j), "outside part %#I64x\n", outside);
                ok(inside == window_bytes(model, WINDOW_START, size - j), "inside part %#I64x, expected %#I64x\n",
                        inside, window_bytes(model, WINDOW_START, size - j));
            }
            else ok(0, "read across the start: emulator saw %u accesses, offset %#I64x size %u\n", mmio.count,
                    mmio.accesses[0].offset, mmio.accesses[0].size);

            guest_access(TRUE, start, size, data);
            check_intercepted(TRUE, start, j, data & size_mask(j));
            memcpy(model + WINDOW_SECTION_PAGE * PAGE, (BYTE *)&data + j, size - j);

            value = guest_access(FALSE, end, size, 0);
            if (mmio.count == 1 && mmio.accesses[0].offset == WINDOW_END && mmio.accesses[0].size == j)
            {
                inside = value & size_mask(size - j);
                outside = value >> ((size - j) * 8);
                ok(outside == guest_mmio_read_value(FIOV_BAR0, WINDOW_END, j), "outside part %#I64x\n", outside);
                ok(inside == window_bytes(model, end, size - j), "inside part %#I64x, expected %#I64x\n",
                        inside, window_bytes(model, end, size - j));
            }
            else ok(0, "read across the end: emulator saw %u accesses, offset %#I64x size %u\n", mmio.count,
                    mmio.accesses[0].offset, mmio.accesses[0].size);

            guest_access(TRUE, end, size, data);
            check_intercepted(TRUE, WINDOW_END, j, data >> ((size - j) * 8));
            memcpy(model + (WINDOW_SECTION_PAGE + WINDOW_PAGES) * PAGE - (size - j), &data, size - j);
            winetest_pop_context();
        }
        winetest_pop_context();
    }
    /* Pages 0-2 and 5-7 of the section are as they were; the window holds
     * exactly the guest's writes. */
    check_section((BYTE *)view, model, SECTION_PAGES * PAGE);
    unmap_window(section, view);
}

/* Writes of every size at the first, middle (across the page boundary
 * inside the range) and last bytes of a read-only range go to the emulator
 * with their size and data; the section never changes. */
static void test_read_only(void)
{
    static BYTE model[SECTION_PAGES * PAGE];
    UINT64 *view, value;
    unsigned int i, j;
    HANDLE section;

    section = map_window(TAG + 1, FiovMmioMappingFlagNone, model, &view);

    for (i = 0; i < ARRAYSIZE(sizes); i++)
    {
        const UINT64 offsets[] = {WINDOW_START, WINDOW_START + PAGE - sizes[i] / 2, WINDOW_START + 0x7f3,
                WINDOW_END - sizes[i]};

        for (j = 0; j < ARRAYSIZE(offsets); j++)
        {
            UINT64 data = (0xf1e2d3c4b5a69788ull + j) & size_mask(sizes[i]);

            winetest_push_context("size %u at %#I64x", sizes[i], offsets[j]);
            guest_access(TRUE, offsets[j], sizes[i], data);
            if (offsets[j] / PAGE == (offsets[j] + sizes[i] - 1) / PAGE)
                check_intercepted(TRUE, offsets[j], sizes[i], data);
            else
                check_intercepted_split(offsets[j], sizes[i], data);
            value = guest_access(FALSE, offsets[j], sizes[i], 0);
            ok(!mmio.count && value == window_bytes(model, offsets[j], sizes[i]),
                    "read back: intercepted %u, got %#I64x\n", mmio.count, value);
            winetest_pop_context();
        }
    }
    check_section((BYTE *)view, model, SECTION_PAGES * PAGE);
    unmap_window(section, view);
}

/* Once destroyed, the old pages are out of reach: reads return the
 * emulator's values even after the host changes the section, writes go to
 * the emulator and never reach the section. */
static void test_after_destroy(void)
{
    static BYTE model[SECTION_PAGES * PAGE];
    UINT64 *view, value, offset;
    unsigned int i, page;
    HANDLE section;
    HRESULT hr;

    section = map_window(TAG + 2, FiovMmioMappingFlagWriteable, model, &view);
    /* The guest touched every page while mapped: KVM had them all. */
    for (page = 0; page < WINDOW_PAGES; page++)
    {
        value = guest_access(FALSE, WINDOW_START + page * PAGE + 0x100, 8, 0);
        ok(!mmio.count && value == window_bytes(model, WINDOW_START + page * PAGE + 0x100, 8),
                "page %u while mapped: intercepted %u, read %#I64x\n", page, mmio.count, value);
    }
    hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(mappings, FIOV_BAR0, WINDOW_BAR_PAGE);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    view[WINDOW_SECTION_PAGE * PAGE / 8 + 0x20] = 0x5e5e5e5e5e5e5e5eull;
    ((UINT64 *)model)[WINDOW_SECTION_PAGE * PAGE / 8 + 0x20] = 0x5e5e5e5e5e5e5e5eull;

    for (page = 0; page < WINDOW_PAGES; page++)
    {
        for (i = 0; i < ARRAYSIZE(sizes); i++)
        {
            offset = WINDOW_START + page * PAGE + 0x100 - sizes[i] * 0x10;
            winetest_push_context("page %u, size %u", page, sizes[i]);
            value = guest_access(FALSE, offset, sizes[i], 0);
            check_intercepted(FALSE, offset, sizes[i], 0);
            ok(value == guest_mmio_read_value(FIOV_BAR0, offset, sizes[i]), "read %#I64x\n", value);
            guest_access(TRUE, offset, sizes[i], 0x3c3c3c3c3c3c3c3cull & size_mask(sizes[i]));
            check_intercepted(TRUE, offset, sizes[i], 0x3c3c3c3c3c3c3c3cull & size_mask(sizes[i]));
            winetest_pop_context();
        }
    }
    value = guest_access(FALSE, WINDOW_START + 0x100, 8, 0);
    ok(mmio.count == 1 && value != 0x5e5e5e5e5e5e5e5eull, "guest sees the host's write: %#I64x\n", value);
    check_section((BYTE *)view, model, SECTION_PAGES * PAGE);

    UnmapViewOfFile(view);
    CloseHandle(section);
}

static void read_file_data(const char *path, BYTE *data, DWORD size)
{
    HANDLE file = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
    DWORD read = 0;

    ok(file != INVALID_HANDLE_VALUE, "CreateFile failed, error %lu\n", GetLastError());
    ok(ReadFile(file, data, size, &read, NULL) && read == size, "read %lu bytes, error %lu\n", read, GetLastError());
    CloseHandle(file);
}

/* Guest writes to a read-only range of a file opened GENERIC_READ never
 * reach the file, as a fresh handle reads it back. */
static void test_read_only_file(void)
{
    static BYTE model[SECTION_PAGES * PAGE], data[SECTION_PAGES * PAGE];
    HANDLE file, section;
    char dir[MAX_PATH], path[MAX_PATH];
    unsigned int i, page;
    DWORD written;
    UINT64 value;
    HRESULT hr;

    GetTempPathA(ARRAYSIZE(dir), dir);
    GetTempFileNameA(dir, "vmi", 0, path);
    fill_model(model, TAG + 3, SECTION_PAGES);
    file = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    ok(file != INVALID_HANDLE_VALUE, "CreateFile failed, error %lu\n", GetLastError());
    WriteFile(file, model, sizeof(model), &written, NULL);
    CloseHandle(file);

    file = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    section = CreateFileMappingA(file, NULL, PAGE_READONLY, 0, 0, NULL);
    ok(!!section, "CreateFileMapping failed, error %lu\n", GetLastError());
    hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, WINDOW_BAR_PAGE, WINDOW_PAGES,
            FiovMmioMappingFlagNone, section, WINDOW_SECTION_PAGE);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    CloseHandle(section);
    CloseHandle(file);

    for (page = 0; page < WINDOW_PAGES; page++)
        for (i = 0; i < ARRAYSIZE(sizes); i++)
        {
            UINT64 offset = WINDOW_START + page * PAGE + (i ? PAGE - sizes[i] : 0);

            winetest_push_context("page %u, size %u", page, sizes[i]);
            guest_access(TRUE, offset, sizes[i], ~0ull & size_mask(sizes[i]));
            check_intercepted(TRUE, offset, sizes[i], ~0ull & size_mask(sizes[i]));
            value = guest_access(FALSE, offset, sizes[i], 0);
            ok(!mmio.count && value == window_bytes(model, offset, sizes[i]), "read back: intercepted %u, got %#I64x\n",
                    mmio.count, value);
            winetest_pop_context();
        }

    /* While mapped, and after the range is gone. */
    read_file_data(path, data, sizeof(data));
    check_section(data, model, sizeof(data));
    hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(mappings, FIOV_BAR0, WINDOW_BAR_PAGE);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    read_file_data(path, data, sizeof(data));
    check_section(data, model, sizeof(data));
    DeleteFileA(path);
}

START_TEST(isolation)
{
    IUnknown *device;

    if (!init_device_test(&guest, &mmio, &instance, &IID_IVmFiovGuestMmioMappings, &device, (void **)&mappings))
        return;

    test_window_edges();
    test_read_only();
    test_after_destroy();
    test_read_only_file();

    IVmFiovGuestMmioMappings_Release(mappings);
    ok(!IUnknown_Release(device), "device still referenced\n");
    guest_destroy(&guest);
    mmio_log_cleanup(&mmio);
}
