/*
 * IVmFiovGuestMmioMappings driven by a real guest: section pages mapped into
 * a BAR are what the guest reads and writes, read-only ranges reject guest
 * writes, destroyed ranges trap again, and bad input changes nothing.
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

static const GUID instance = {0x6d6d696f, 0x0001, 0x0002, {0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a}};

static struct guest guest;
static struct mmio_log mmio;
static IVmFiovGuestMmioMappings *mappings;

/* Page p of a test section holds qwords 0xsection_p_index. */
static UINT64 pattern(unsigned int tag, unsigned int page, unsigned int index)
{
    return (UINT64)tag << 48 | (UINT64)page << 32 | index;
}

static void fill_pattern(void *view, unsigned int tag, unsigned int pages)
{
    UINT64 *q = view;
    unsigned int p, i;

    for (p = 0; p < pages; p++)
        for (i = 0; i < PAGE / 8; i++) q[p * PAGE / 8 + i] = pattern(tag, p, i);
}

/* A pagefile-backed section of the given pages, filled with the pattern. */
static HANDLE create_pattern_section(unsigned int tag, unsigned int pages, UINT64 **view)
{
    HANDLE section = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, pages * PAGE, NULL);

    ok(!!section, "CreateFileMapping failed, error %lu\n", GetLastError());
    *view = MapViewOfFile(section, FILE_MAP_ALL_ACCESS, 0, 0, 0);
    fill_pattern(*view, tag, pages);
    return section;
}

#define run_guest() run_guest_(__FILE__, __LINE__)
static void run_guest_(const char *file, int line)
{
    HRESULT hr = guest_run(&guest);
    ok_(file, line)(hr == S_OK, "guest run failed, hr %#lx, exit reason %u at %#I64x\n", hr,
            guest.last_exit.ExitReason, guest.last_exit.Address);
}

/* Reads qword index of the BAR page through the guest; returns whether
 * the emulator saw it (intercepted) and the value read. */
static BOOL guest_read(UINT64 address, UINT32 size, UINT64 *value)
{
    unsigned int op;

    mmio_log_reset(&mmio);
    guest_reset_ops(&guest);
    op = guest_add_op(&guest, GUEST_OP_READ, size, address, 0);
    run_guest();
    *value = guest.ops[op].result;
    return mmio.count != 0;
}

static BOOL guest_write(UINT64 address, UINT32 size, UINT64 value)
{
    mmio_log_reset(&mmio);
    guest_reset_ops(&guest);
    guest_add_op(&guest, GUEST_OP_WRITE, size, address, value);
    run_guest();
    return mmio.count != 0;
}

#define check_mapped(a, v) check_mapped_(__FILE__, __LINE__, a, v)
static void check_mapped_(const char *file, int line, UINT64 address, UINT64 expected)
{
    UINT64 value;
    BOOL trapped = guest_read(address, 8, &value);
    ok_(file, line)(!trapped, "read at %#I64x was intercepted\n", address);
    ok_(file, line)(value == expected, "at %#I64x got %#I64x, expected %#I64x\n", address, value, expected);
}

#define check_trapped(a) check_trapped_(__FILE__, __LINE__, a)
static void check_trapped_(const char *file, int line, UINT64 address)
{
    UINT64 value;
    BOOL trapped = guest_read(address, 8, &value);
    ok_(file, line)(trapped, "read at %#I64x was not intercepted (got %#I64x)\n", address, value);
    ok_(file, line)(value == guest_mmio_read_value(FIOV_BAR0, address - BAR0, 8) || address >= BAR2,
            "at %#I64x got %#I64x, not the emulator's value\n", address, value);
}

static void test_pagefile_section(void)
{
    UINT64 *view, value;
    HANDLE section;
    HRESULT hr;
    unsigned int i;

    section = create_pattern_section(1, 16, &view);

    /* Three pages from section page 5, at BAR page 2; then the caller lets
     * go of its handle. */
    hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, 2, 3,
            FiovMmioMappingFlagWriteable, section, 5);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    CloseHandle(section);

    for (i = 0; i < 3; i++)
    {
        winetest_push_context("page %u", i);
        check_mapped(BAR0 + (2 + i) * PAGE, pattern(1, 5 + i, 0));
        check_mapped(BAR0 + (2 + i) * PAGE + 0xff8, pattern(1, 5 + i, 0x1ff));
        winetest_pop_context();
    }
    ok(!guest_read(BAR0 + 3 * PAGE + 0x10, 2, &value) && value == (pattern(1, 6, 2) & 0xffff),
            "word read got %#I64x\n", value);

    /* Guest writes land in the section, as the Windows view sees it. */
    ok(!guest_write(BAR0 + 2 * PAGE + 0x40, 8, 0x1122334455667788ull), "write was intercepted\n");
    ok(!guest_write(BAR0 + 4 * PAGE + 0xffc, 4, 0xcafef00d), "write was intercepted\n");
    ok(!guest_write(BAR0 + 3 * PAGE + 1, 1, 0x5a), "write was intercepted\n");
    ok(view[5 * PAGE / 8 + 8] == 0x1122334455667788ull, "got %#I64x\n", view[5 * PAGE / 8 + 8]);
    ok((view[7 * PAGE / 8 + 0x1ff] >> 32) == 0xcafef00d, "got %#I64x\n", view[7 * PAGE / 8 + 0x1ff]);
    ok(((BYTE *)view)[6 * PAGE + 1] == 0x5a, "got %#x\n", ((BYTE *)view)[6 * PAGE + 1]);
    /* ... and host writes are what the guest reads next. */
    view[6 * PAGE / 8 + 100] = 0xfeedfacefeedfaceull;
    check_mapped(BAR0 + 3 * PAGE + 800, 0xfeedfacefeedfaceull);

    /* Neighbouring pages are still intercepted MMIO. */
    check_trapped(BAR0 + 1 * PAGE + 0xff8);
    check_trapped(BAR0 + 5 * PAGE);

    hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(mappings, FIOV_BAR0, 2);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    check_trapped(BAR0 + 2 * PAGE);
    check_trapped(BAR0 + 4 * PAGE + 0xff8);
    ok(guest_write(BAR0 + 2 * PAGE + 0x40, 8, 0x99), "write after Destroy was not intercepted\n");
    ok(view[5 * PAGE / 8 + 8] == 0x1122334455667788ull, "section changed after Destroy: %#I64x\n",
            view[5 * PAGE / 8 + 8]);
    hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(mappings, FIOV_BAR0, 2);
    ok(hr == HRESULT_FROM_WIN32(ERROR_NOT_FOUND), "got hr %#lx\n", hr);

    UnmapViewOfFile(view);
}

static HANDLE create_temp_file(char *path, unsigned int tag, unsigned int pages)
{
    char dir[MAX_PATH];
    DWORD written;
    HANDLE file;
    void *data;

    GetTempPathA(ARRAYSIZE(dir), dir);
    GetTempFileNameA(dir, "vmi", 0, path);
    file = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    ok(file != INVALID_HANDLE_VALUE, "CreateFile failed, error %lu\n", GetLastError());
    data = calloc(pages, PAGE);
    fill_pattern(data, tag, pages);
    WriteFile(file, data, pages * PAGE, &written, NULL);
    free(data);
    return file;
}

static void test_file_section(void)
{
    char path[MAX_PATH];
    HANDLE file, section;
    UINT64 qword = 0;
    DWORD size;
    HRESULT hr;

    file = create_temp_file(path, 2, 8);
    section = CreateFileMappingA(file, NULL, PAGE_READWRITE, 0, 0, NULL);
    ok(!!section, "CreateFileMapping failed, error %lu\n", GetLastError());

    hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, 8, 4,
            FiovMmioMappingFlagWriteable, section, 3);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    CloseHandle(section);
    check_mapped(BAR0 + 8 * PAGE, pattern(2, 3, 0));
    check_mapped(BAR0 + 11 * PAGE + 0x808, pattern(2, 6, 0x101));
    ok(!guest_write(BAR0 + 9 * PAGE + 0x10, 8, 0x0badc0de0badc0deull), "write was intercepted\n");

    hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(mappings, FIOV_BAR0, 8);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    check_trapped(BAR0 + 8 * PAGE);

    /* The guest wrote into the file itself. */
    SetFilePointer(file, 4 * PAGE + 0x10, NULL, FILE_BEGIN);
    ReadFile(file, &qword, sizeof(qword), &size, NULL);
    ok(qword == 0x0badc0de0badc0deull, "file holds %#I64x\n", qword);
    CloseHandle(file);
    DeleteFileA(path);
}

static void test_read_only(void)
{
    static const UINT32 sizes[] = {1, 2, 4, 8};
    HANDLE file, section;
    char path[MAX_PATH];
    UINT64 *view;
    unsigned int i;
    HRESULT hr;

    section = create_pattern_section(3, 4, &view);
    hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, 12, 2,
            FiovMmioMappingFlagNone, section, 1);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    check_mapped(BAR0 + 12 * PAGE + 8, pattern(3, 1, 1));

    /* Writes of every size go to the emulator; the section keeps its data. */
    for (i = 0; i < ARRAYSIZE(sizes); i++)
    {
        UINT64 address = BAR0 + 13 * PAGE + 0x100 + i * 8;

        winetest_push_context("size %u", sizes[i]);
        ok(guest_write(address, sizes[i], 0x7777777777777777ull >> (64 - 8 * sizes[i])),
                "write was not intercepted\n");
        ok(mmio.count == 1 && mmio.accesses[0].is_write && mmio.accesses[0].offset == address - BAR0
                && mmio.accesses[0].size == sizes[i], "emulator saw %u accesses, offset %#I64x size %u\n",
                mmio.count, mmio.accesses[0].offset, mmio.accesses[0].size);
        ok(view[2 * PAGE / 8 + 0x20 + i] == pattern(3, 2, 0x20 + i), "section changed: %#I64x\n",
                view[2 * PAGE / 8 + 0x20 + i]);
        winetest_pop_context();
    }
    check_mapped(BAR0 + 13 * PAGE + 0x100, pattern(3, 2, 0x20));
    hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(mappings, FIOV_BAR0, 12);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    UnmapViewOfFile(view);
    CloseHandle(section);

    /* A file opened read-only maps read-only, never writeable. */
    file = create_temp_file(path, 4, 2);
    CloseHandle(file);
    file = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    section = CreateFileMappingA(file, NULL, PAGE_READONLY, 0, 0, NULL);
    ok(!!section, "CreateFileMapping failed, error %lu\n", GetLastError());
    hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, 12, 2,
            FiovMmioMappingFlagNone, section, 0);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    check_mapped(BAR0 + 13 * PAGE + 0xff8, pattern(4, 1, 0x1ff));
    ok(guest_write(BAR0 + 13 * PAGE + 0xff8, 8, 0), "write was not intercepted\n");
    hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(mappings, FIOV_BAR0, 12);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    CloseHandle(section);
    CloseHandle(file);
    DeleteFileA(path);
}

/* KVM memslots carry no execute permission: ranges are executable by the
 * guest whether or not Executable is given (documented in mmio_mappings.c). */
static void test_executable(void)
{
    static const BYTE code[] = {0xb8, 0x67, 0x45, 0x23, 0x01, 0xc3};  /* mov eax, 0x1234567; ret */
    static const FiovMmioMappingFlags flags[] = {FiovMmioMappingFlagExecutable, FiovMmioMappingFlagNone,
            FiovMmioMappingFlagExecutable | FiovMmioMappingFlagWriteable};
    HANDLE section;
    unsigned int i, op;
    BYTE *view;
    HRESULT hr;

    section = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, PAGE, NULL);
    view = MapViewOfFile(section, FILE_MAP_ALL_ACCESS, 0, 0, 0);
    memcpy(view + 0x80, code, sizeof(code));
    for (i = 0; i < ARRAYSIZE(flags); i++)
    {
        winetest_push_context("flags %#x", flags[i]);
        hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, 15, 1, flags[i], section, 0);
        ok(hr == S_OK, "got hr %#lx\n", hr);
        guest_reset_ops(&guest);
        op = guest_add_op(&guest, GUEST_OP_CALL, 0, BAR0 + 15 * PAGE + 0x80, 0);
        run_guest();
        ok(guest.ops[op].result == 0x1234567, "got %#I64x\n", guest.ops[op].result);
        hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(mappings, FIOV_BAR0, 15);
        ok(hr == S_OK, "got hr %#lx\n", hr);
        winetest_pop_context();
    }
    UnmapViewOfFile(view);
    CloseHandle(section);
}

static void test_bar_move(void)
{
    HANDLE section;
    UINT64 *view;
    HRESULT hr;

    section = create_pattern_section(6, 2, &view);
    hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, 6, 2,
            FiovMmioMappingFlagWriteable, section, 0);
    ok(hr == S_OK, "got hr %#lx\n", hr);

    hr = pVmidlSetBarAddress(guest.partition, &instance, FIOV_BAR0, BAR0 + 0x800000);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    check_mapped(BAR0 + 0x800000 + 7 * PAGE + 8, pattern(6, 1, 1));
    guest_reset_ops(&guest);
    guest_add_op(&guest, GUEST_OP_READ, 8, BAR0 + 7 * PAGE + 8, 0);
    ok(guest_run(&guest) == E_UNEXPECTED, "old address still decodes\n");

    hr = pVmidlSetBarAddress(guest.partition, &instance, FIOV_BAR0, BAR0);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    check_mapped(BAR0 + 6 * PAGE, pattern(6, 0, 0));
    hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(mappings, FIOV_BAR0, 6);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    UnmapViewOfFile(view);
    CloseHandle(section);
}

/* A range keeps its file from shrinking, as a view would, even once the
 * caller has closed its handles; and if the file is cut short anyway,
 * behind Wine's back, the range leaves the guest and its pages trap. */
static void test_truncate(void)
{
    HANDLE file, section;
    char path[MAX_PATH];
    WCHAR pathW[MAX_PATH];
    NTSTATUS status;
    DWORD error;
    HRESULT hr;
    BOOL ret;

    file = create_temp_file(path, 4, 4);
    section = CreateFileMappingA(file, NULL, PAGE_READWRITE, 0, 0, NULL);
    ok(!!section, "CreateFileMapping failed, error %lu\n", GetLastError());
    hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, 12, 2,
            FiovMmioMappingFlagWriteable, section, 2);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    CloseHandle(section);
    CloseHandle(file);

    file = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
            OPEN_EXISTING, 0, NULL);
    ok(file != INVALID_HANDLE_VALUE, "CreateFile failed, error %lu\n", GetLastError());
    SetFilePointer(file, PAGE, NULL, FILE_BEGIN);
    SetLastError(0xdeadbeef);
    ret = SetEndOfFile(file);
    error = GetLastError();
    ok(!ret && error == ERROR_USER_MAPPED_FILE, "SetEndOfFile got %d, error %lu\n", ret, error);
    ok(GetFileSize(file, NULL) == 4 * PAGE, "the file is %lu bytes\n", GetFileSize(file, NULL));
    check_mapped(BAR0 + 13 * PAGE + 8, pattern(4, 3, 1));

    if (pVmidlTestTruncateFile)
    {
        MultiByteToWideChar(CP_ACP, 0, path, -1, pathW, ARRAYSIZE(pathW));
        status = pVmidlTestTruncateFile(pathW, 3 * PAGE);
        ok(!status, "cannot truncate %s, status %#lx\n", path, status);
        /* The guest goes on: the page it lost is intercepted MMIO now, and so
         * is the rest of the range. */
        check_trapped(BAR0 + 13 * PAGE + 8);
        check_trapped(BAR0 + 12 * PAGE + 8);
    }

    hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(mappings, FIOV_BAR0, 12);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    SetFilePointer(file, PAGE, NULL, FILE_BEGIN);
    ok(SetEndOfFile(file), "SetEndOfFile after Destroy failed, error %lu\n", GetLastError());
    CloseHandle(file);
    DeleteFileA(path);
}

START_DEVICE_TEST(mmio)
{
    IUnknown *device;

    if (!init_device_test(&guest, &mmio, &instance, &IID_IVmFiovGuestMmioMappings, &device, (void **)&mappings))
        return;
    init_resource_counting();

    test_pagefile_section();
    test_file_section();
    test_read_only();
    test_executable();
    test_bar_move();
    test_truncate();

    IVmFiovGuestMmioMappings_Release(mappings);
    ok(!IUnknown_Release(device), "device still referenced\n");
    guest_destroy(&guest);
    mmio_log_cleanup(&mmio);
}
