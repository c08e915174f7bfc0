/*
 * Changes to the guest physical layout while a guest runs: a BAR move is
 * atomic for the guest, a failed one leaves the BAR exactly as it was,
 * intercepted MMIO never waits for another device's teardown or a BAR
 * move, and a section handle that changes under a range creation is never
 * half-checked.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define COBJMACROS
#include <intrin.h>
#include "wine/test.h"
#include "objbase.h"
#include "vmfiov.h"
#include "vmidl_test.h"

#define PAGE 0x1000
#define BAR0 GUEST_BAR_BASE

static const GUID instance_a = {0x6c617900, 0x1, 0x2, {0x6c, 0x61, 0x79, 0x6f, 0x75, 0x74, 0, 1}};
static const GUID instance_b = {0x6c617900, 0x1, 0x2, {0x6c, 0x61, 0x79, 0x6f, 0x75, 0x74, 0, 2}};
static const GUID instance_c = {0x6c617900, 0x1, 0x2, {0x6c, 0x61, 0x79, 0x6f, 0x75, 0x74, 0, 3}};

/* A guest run on its own thread that goes on past accesses no device
 * decodes (reads of them get all ones). */
struct runner
{
    struct guest *guest;
    HANDLE thread;
    HRESULT hr;
    unsigned int unclaimed;
};

static DWORD WINAPI runner_proc(void *arg)
{
    struct runner *runner = arg;
    VMIDL_RUN_VP_EXIT_CONTEXT exit;

    if (FAILED(runner->hr = guest_start(runner->guest))) return 0;
    for (;;)
    {
        if (FAILED(runner->hr = guest_resume(runner->guest, &exit))) break;
        if (exit.ExitReason != VmidlRunVpExitReasonMemoryAccess) break;
        runner->unclaimed++;
    }
    if (SUCCEEDED(runner->hr) && (exit.ExitReason != VmidlRunVpExitReasonX64IoPortAccess
            || exit.Address != GUEST_PORT_DONE || exit.Data != runner->guest->op_count))
        runner->hr = E_UNEXPECTED;
    return 0;
}

static void start_runner(struct runner *runner, struct guest *guest)
{
    memset(runner, 0, sizeof(*runner));
    runner->guest = guest;
    runner->thread = CreateThread(NULL, 0, runner_proc, runner, 0, NULL);
}

#define finish_runner(a) finish_runner_(__FILE__, __LINE__, a)
static void finish_runner_(const char *file, int line, struct runner *runner)
{
    DWORD ret = WaitForSingleObject(runner->thread, TEST_WAIT_MS);

    ok_(file, line)(!ret, "the guest hangs: %#lx\n", ret);
    ok_(file, line)(runner->hr == S_OK, "guest run failed, hr %#lx\n", runner->hr);
    CloseHandle(runner->thread);
}

static IUnknown *add_device(struct guest *guest, const GUID *instance, struct mmio_log *log, UINT64 base)
{
    VMIDL_FLEXIO_DEVICE_DESC desc;
    IUnknown *device = NULL;
    HRESULT hr;

    guest_device_desc(&desc, instance, log, base);
    hr = pVmidlAddFlexIoDevice(guest->partition, &desc, &device);
    ok(hr == S_OK, "cannot add the device, hr %#lx\n", hr);
    return device;
}

static void *device_interface(IUnknown *device, REFIID iid)
{
    void *iface = NULL;
    IUnknown_QueryInterface(device, iid, &iface);
    return iface;
}

/* The guest sweeps the BAR's eight mapped pages, again and again, at the
 * place the BAR moves to.  Before the move nothing decodes there, after it
 * the sections do: once a sweep has seen a mapped page, every later read
 * must see one too, or the guest saw a torn layout. */
#define SWEEP_PAGES 8
#define SWEEPS 300

static void test_move_atomic(void)
{
    UINT64 places[2] = {BAR0, BAR0 + 0x400000};
    IVmFiovGuestMmioMappings *mappings;
    UINT64 *views[SWEEP_PAGES];
    HANDLE sections[SWEEP_PAGES];
    unsigned int trial, i, first_mapped, torn, wrong;
    struct runner runner;
    struct mmio_log log;
    struct guest guest;
    IUnknown *device;
    HRESULT hr;

    if (!create_guest(&guest)) return;
    mmio_log_init(&log);
    device = add_device(&guest, &instance_a, &log, places[0]);
    mappings = device_interface(device, &IID_IVmFiovGuestMmioMappings);
    for (i = 0; i < SWEEP_PAGES; i++)
    {
        sections[i] = create_test_section(i + 1, 1, &views[i]);
        hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, i, 1,
                FiovMmioMappingFlagNone, sections[i], 0);
        ok(hr == S_OK, "page %u: got hr %#lx\n", i, hr);
    }

    for (trial = 0; trial < 10; trial++)
    {
        UINT64 to = places[(trial + 1) % 2];

        winetest_push_context("move %u", trial);
        guest_reset_ops(&guest);
        for (i = 0; i < SWEEPS * SWEEP_PAGES; i++) guest_add_op(&guest, GUEST_OP_READ, 8, to + (i % SWEEP_PAGES) * PAGE, 0);
        start_runner(&runner, &guest);
        Sleep(20 + trial * 3);
        hr = pVmidlSetBarAddress(guest.partition, &instance_a, FIOV_BAR0, to);
        ok(hr == S_OK, "got hr %#lx\n", hr);
        finish_runner(&runner);

        first_mapped = SWEEPS * SWEEP_PAGES;
        torn = wrong = 0;
        for (i = 0; i < SWEEPS * SWEEP_PAGES; i++)
        {
            UINT64 result = guest.ops[i].result;

            if (result == ~0ull)
            {
                if (i > first_mapped) torn++;
            }
            else
            {
                if (first_mapped > i) first_mapped = i;
                if (result != section_pattern(i % SWEEP_PAGES + 1, 0, 0)) wrong++;
            }
        }
        ok(!torn, "%u reads found the BAR gone after the sweep %u saw it\n", torn, first_mapped / SWEEP_PAGES);
        ok(!wrong, "%u reads got neither all ones nor the section\n", wrong);
        ok(!log.count, "%u accesses reached the emulator\n", log.count);
        if (winetest_debug > 1)
            trace("the move became visible at read %u; %u unclaimed exits\n", first_mapped, runner.unclaimed);
        winetest_pop_context();
    }

    for (i = 0; i < SWEEP_PAGES; i++)
    {
        UnmapViewOfFile(views[i]);
        CloseHandle(sections[i]);
    }
    IVmFiovGuestMmioMappings_Release(mappings);
    IUnknown_Release(device);
    guest_destroy(&guest);
    mmio_log_cleanup(&log);
}

/* Whether the guest reaches the device at base as it was set up: two
 * mapped pages, a ringing doorbell, and intercepted MMIO routed to it. */
static void check_device_at(struct guest *guest, struct mmio_log *log, UINT64 base, HANDLE event)
{
    unsigned int page0, page1, trapped;

    mmio_log_reset(log);
    guest_reset_ops(guest);
    page0 = guest_add_op(guest, GUEST_OP_READ, 8, base + 0x18, 0);
    page1 = guest_add_op(guest, GUEST_OP_READ, 8, base + PAGE + 0x18, 0);
    guest_add_op(guest, GUEST_OP_WRITE, 4, base + 0x8000, 7);
    trapped = guest_add_op(guest, GUEST_OP_READ, 4, base + 0x9000, 0);
    ok(guest_run(guest) == S_OK, "guest run failed, exit %u at %#I64x\n", guest->last_exit.ExitReason,
            guest->last_exit.Address);
    ok(guest->ops[page0].result == section_pattern(9, 0, 3) && guest->ops[page1].result == section_pattern(9, 1, 3),
            "pages read %#I64x, %#I64x\n", guest->ops[page0].result, guest->ops[page1].result);
    ok(!WaitForSingleObject(event, TEST_WAIT_MS), "the doorbell did not ring\n");
    ok(log->count == 1 && log->accesses[0].offset == 0x9000 && !log->accesses[0].is_write,
            "%u accesses, offset %#I64x\n", log->count, log->accesses[0].offset);
    ok(guest->ops[trapped].result == guest_mmio_read_value(FIOV_BAR0, 0x9000, 4), "trapped read got %#I64x\n",
            guest->ops[trapped].result);
}

/* Device A at BAR0 with both its interfaces, and a two-page test section. */
static IUnknown *add_device_with_section(struct guest *guest, struct mmio_log *log, IVmFiovGuestMmioMappings **mappings,
        IVmFiovGuestMemoryFastNotification **notification, HANDLE *section, UINT64 **view)
{
    IUnknown *device = add_device(guest, &instance_a, log, BAR0);

    *mappings = device_interface(device, &IID_IVmFiovGuestMmioMappings);
    *notification = device_interface(device, &IID_IVmFiovGuestMemoryFastNotification);
    *section = create_test_section(9, 2, view);
    return device;
}

static unsigned int physical_address_bits(void)
{
    int regs[4];

    __cpuid(regs, 0x80000008);
    return regs[0] & 0xff;
}

/* A move KVM refuses half-way leaves the BAR where and as it was.  KVM
 * refuses memslots beyond the guest physical addresses its MMU can map:
 * the host's physical address width with two-dimensional paging, 52 bits
 * with shadow paging.  At one of those edges the BAR's first page fits and
 * its second does not. */
static void test_move_failure(void)
{
    IVmFiovGuestMemoryFastNotification *notification;
    IVmFiovGuestMmioMappings *mappings;
    unsigned int edges[] = {0, 52}, i, bit = 0;
    HRESULT hr, back_hr = S_OK;
    struct mmio_log log;
    struct guest guest;
    HANDLE section, event;
    IUnknown *device;
    UINT64 *view;

    if (!create_guest(&guest)) return;
    mmio_log_init(&log);
    device = add_device_with_section(&guest, &log, &mappings, &notification, &section, &view);
    event = CreateEventA(NULL, FALSE, FALSE, NULL);
    hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, 0, 1, FiovMmioMappingFlagNone, section, 0);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, 1, 1, FiovMmioMappingFlagNone, section, 1);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(notification, FIOV_BAR0, 0x8000, 7, SIZE_DWORD, event);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    check_device_at(&guest, &log, BAR0, event);

    /* Which edge KVM refuses depends on the machine: the same checks
     * whichever it is. */
    edges[0] = physical_address_bits();
    for (i = 0; i < ARRAYSIZE(edges); i++)
    {
        bit = edges[i];
        hr = pVmidlSetBarAddress(guest.partition, &instance_a, FIOV_BAR0, (1ull << bit) - PAGE);
        if (hr != S_OK) break;
        /* KVM took it there: back to its place, for the next edge. */
        if ((back_hr = pVmidlSetBarAddress(guest.partition, &instance_a, FIOV_BAR0, BAR0)) != S_OK) break;
    }
    winetest_push_context("edge at bit %u", bit);
    ok(back_hr == S_OK, "cannot move the BAR back, hr %#lx\n", back_hr);
    ok(i < ARRAYSIZE(edges), "KVM took the BAR at every edge\n");
    ok(hr == E_INVALIDARG, "got hr %#lx\n", hr);
    check_device_at(&guest, &log, BAR0, event);
    winetest_pop_context();

    /* ... and it still moves where KVM can map it. */
    hr = pVmidlSetBarAddress(guest.partition, &instance_a, FIOV_BAR0, BAR0 + 0x800000);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    check_device_at(&guest, &log, BAR0 + 0x800000, event);

    IVmFiovGuestMemoryFastNotification_Release(notification);
    IVmFiovGuestMmioMappings_Release(mappings);
    IUnknown_Release(device);
    CloseHandle(event);
    UnmapViewOfFile(view);
    CloseHandle(section);
    guest_destroy(&guest);
    mmio_log_cleanup(&log);
}

/* A BAR moved to where it is changes nothing; moved onto part of its old
 * place, one doorbell lands where another of the same length and value
 * was, which KVM takes for the same ioeventfd until the old one is gone. */
static void test_move_onto_itself(void)
{
    IVmFiovGuestMemoryFastNotification *notification;
    IVmFiovGuestMmioMappings *mappings;
    HANDLE section, event, other;
    unsigned int i;
    struct mmio_log log;
    struct guest guest;
    IUnknown *device;
    UINT64 *view, base;
    HRESULT hr;

    if (!create_guest(&guest)) return;
    mmio_log_init(&log);
    device = add_device_with_section(&guest, &log, &mappings, &notification, &section, &view);
    event = CreateEventA(NULL, FALSE, FALSE, NULL);
    other = CreateEventA(NULL, FALSE, FALSE, NULL);
    hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, 0, 2, FiovMmioMappingFlagNone, section, 0);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(notification, FIOV_BAR0, 0x8000, 7, SIZE_DWORD, event);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(notification, FIOV_BAR0, 0xa000, 7, SIZE_DWORD, other);
    ok(hr == S_OK, "got hr %#lx\n", hr);

    hr = pVmidlSetBarAddress(guest.partition, &instance_a, FIOV_BAR0, BAR0);
    ok(hr == S_OK, "moving the BAR to its own address: got hr %#lx\n", hr);
    check_device_at(&guest, &log, BAR0, event);

    /* Twice in each direction: each time the doorbell at 0xa000 lands where
     * the one at 0x8000 was, or the other way round. */
    for (i = 0, base = BAR0; i < 4; i++)
    {
        base = i < 2 ? base + 0x2000 : base - 0x2000;
        winetest_push_context("move %u to %#I64x", i, base);
        hr = pVmidlSetBarAddress(guest.partition, &instance_a, FIOV_BAR0, base);
        ok(hr == S_OK, "got hr %#lx\n", hr);
        check_device_at(&guest, &log, base, event);
        guest_reset_ops(&guest);
        guest_add_op(&guest, GUEST_OP_WRITE, 4, base + 0xa000, 7);
        ok(guest_run(&guest) == S_OK, "guest run failed, exit %u at %#I64x\n", guest.last_exit.ExitReason,
                guest.last_exit.Address);
        ok(!WaitForSingleObject(other, TEST_WAIT_MS), "the other doorbell did not ring\n");
        ok(WaitForSingleObject(event, 0) == WAIT_TIMEOUT, "the first doorbell rang too\n");
        winetest_pop_context();
    }

    IVmFiovGuestMemoryFastNotification_Release(notification);
    IVmFiovGuestMmioMappings_Release(mappings);
    IUnknown_Release(device);
    CloseHandle(event);
    CloseHandle(other);
    UnmapViewOfFile(view);
    CloseHandle(section);
    guest_destroy(&guest);
    mmio_log_cleanup(&log);
}

/* Intercepted MMIO on one device goes on while another device with many
 * doorbells is being released and a third device's BAR moves (before,
 * the vCPU queued behind the move, which queued behind the release).  A
 * second VP spins in the guest meanwhile. */
#define TEARDOWN_DOORBELLS 1024

struct window_emulator
{
    LONG calls;
    LONG in_window;
    LONG window;            /* set by the test while the release and the move are both going on */
};

static HRESULT CALLBACK window_emulator_callback(void *context, UINT32 bar, UINT64 offset, UINT32 size,
        BOOL is_write, UINT64 *data)
{
    struct window_emulator *emulator = context;

    if (!is_write) *data = guest_mmio_read_value(bar, offset, size);
    InterlockedIncrement(&emulator->calls);
    if (emulator->window) InterlockedIncrement(&emulator->in_window);
    return S_OK;
}

static DWORD WINAPI spin_proc(void *arg)
{
    struct guest *guest = arg;
    VMIDL_RUN_VP_EXIT_CONTEXT exit;

    return pVmidlRunVirtualProcessor(guest->partition, 1, &exit);
}

struct releaser
{
    IUnknown *device;
    LONG releasing;
    LONG *window;           /* closed the moment the release returns */
};

static DWORD WINAPI releaser_proc(void *arg)
{
    struct releaser *releaser = arg;

    IUnknown_Release(releaser->device);
    InterlockedExchange(releaser->window, 0);
    InterlockedExchange(&releaser->releasing, 0);
    return 0;
}

static void test_mmio_during_teardown(void)
{
    struct window_emulator emulator = {0};
    IVmFiovGuestMemoryFastNotification *notification;
    struct guest_op *spin;
    HANDLE spinner;
    VMIDL_FLEXIO_DEVICE_DESC desc;
    struct releaser releaser;
    IUnknown *device_b, *device_c;
    struct runner runner;
    struct mmio_log log;
    struct guest guest;
    HANDLE event, thread;
    unsigned int i, fds, remaining;
    HRESULT hr;

    if (FAILED(hr = guest_create_vps(&guest, &guest_image_interp, 2)))
    {
        ok(0, "cannot create a guest, hr %#lx\n", hr);
        return;
    }
    mmio_log_init(&log);
    fds = count_fds();
    releaser.device = add_device(&guest, &instance_a, &log, BAR0);
    notification = device_interface(releaser.device, &IID_IVmFiovGuestMemoryFastNotification);
    event = CreateEventA(NULL, FALSE, FALSE, NULL);
    for (i = 0; i < TEARDOWN_DOORBELLS; i++)
    {
        hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(notification, FIOV_BAR0, 0x8000, i, SIZE_DWORD, event);
        if (FAILED(hr)) break;
    }
    ok(hr == S_OK, "doorbell %u: got hr %#lx\n", i, hr);
    IVmFiovGuestMemoryFastNotification_Release(notification);

    guest_device_desc(&desc, &instance_b, NULL, BAR0 + 0x400000);
    desc.MmioCallback = window_emulator_callback;
    desc.MmioCallbackContext = &emulator;
    hr = pVmidlAddFlexIoDevice(guest.partition, &desc, &device_b);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    device_c = add_device(&guest, &instance_c, &log, BAR0 + 0x800000);

    spin = guest_ram(&guest, GUEST_VP1_OPS);
    spin[0] = (struct guest_op){GUEST_OP_WAIT, ~0u, GUEST_DATA, 1, 0};
    memset(&spin[1], 0, sizeof(spin[1]));
    *(volatile UINT64 *)guest_ram(&guest, GUEST_DATA) = 0;
    ok(guest_start_vp(&guest, 1, GUEST_VP1_OPS, 0, GUEST_VP1_STACK) == S_OK, "cannot start VP 1\n");
    spinner = CreateThread(NULL, 0, spin_proc, &guest, 0, NULL);

    guest_reset_ops(&guest);
    for (i = 0; i < 20000; i++) guest_add_op(&guest, GUEST_OP_READ, 4, BAR0 + 0x400000 + (i % 16) * 4, 0);
    start_runner(&runner, &guest);
    while (emulator.calls < 100 && WaitForSingleObject(runner.thread, 10) == WAIT_TIMEOUT);

    /* Once the release has closed some of the doorbells' eventfds, it is in
     * its teardown: move a BAR then. */
    releaser.releasing = 1;
    releaser.window = &emulator.window;
    thread = CreateThread(NULL, 0, releaser_proc, &releaser, 0, NULL);
    while (releaser.releasing && count_fds() > fds + TEARDOWN_DOORBELLS - 16) Sleep(0);
    remaining = count_fds() - fds;
    InterlockedExchange(&emulator.window, releaser.releasing);
    hr = pVmidlSetBarAddress(guest.partition, &instance_c, FIOV_BAR0, BAR0 + 0xc00000);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    ok(!WaitForSingleObject(thread, TEST_WAIT_MS), "the release hangs\n");
    CloseHandle(thread);

    /* The window: from the move's start to the release's end.  One access
     * may have been on its way when it opened. */
    ok(remaining < TEARDOWN_DOORBELLS / 4 || emulator.in_window > 1,
            "%ld intercepted accesses completed while the release and the move went on\n", emulator.in_window);
    if (remaining < TEARDOWN_DOORBELLS / 4) trace("the release was nearly over when the BAR move started\n");
    if (winetest_debug > 1)
        trace("%u doorbells left; %ld of %ld accesses in the window\n", remaining, emulator.in_window, emulator.calls);

    finish_runner(&runner);
    ok(emulator.calls == 20000, "%ld intercepted accesses\n", emulator.calls);
    *(volatile UINT64 *)guest_ram(&guest, GUEST_DATA) = 1;
    ok(!WaitForSingleObject(spinner, TEST_WAIT_MS), "VP 1 hangs\n");
    CloseHandle(spinner);

    IUnknown_Release(device_b);
    IUnknown_Release(device_c);
    CloseHandle(event);
    guest_destroy(&guest);
    mmio_log_cleanup(&log);
}

/* While a range is being created, another thread closes the section handle
 * and the value comes back naming an image section: whatever the guest
 * then sees is the data section, never the image file. */
struct swapper
{
    HANDLE data_section;
    HANDLE image_file;
    volatile HANDLE current;
    volatile LONG stop;
};

static DWORD WINAPI swapper_proc(void *arg)
{
    struct swapper *swapper = arg;
    unsigned int i;

    for (i = 0; !swapper->stop; i++)
    {
        HANDLE old = swapper->current, new;

        CloseHandle(old);
        if (i % 2) DuplicateHandle(GetCurrentProcess(), swapper->data_section, GetCurrentProcess(), &new, 0, FALSE,
                DUPLICATE_SAME_ACCESS);
        else new = CreateFileMappingA(swapper->image_file, NULL, PAGE_READONLY | SEC_IMAGE, 0, 0, NULL);
        swapper->current = new;
    }
    CloseHandle(swapper->current);
    return 0;
}

static void test_section_swap(void)
{
    unsigned int i, created = 0, image = 0, refused = 0, bad_refusals = 0, failed_runs = 0, failed_destroys = 0;
    HRESULT bad_refusal = S_OK, failed_run = S_OK, failed_destroy = S_OK;
    IVmFiovGuestMmioMappings *mappings;
    struct swapper swapper;
    char path[MAX_PATH];
    struct mmio_log log;
    struct guest guest;
    IUnknown *device;
    HANDLE thread;
    UINT64 *view;
    HRESULT hr;

    if (!create_guest(&guest)) return;
    mmio_log_init(&log);
    device = add_device(&guest, &instance_a, &log, BAR0);
    mappings = device_interface(device, &IID_IVmFiovGuestMmioMappings);

    GetModuleFileNameA(GetModuleHandleA("vmidltest.dll"), path, ARRAYSIZE(path));
    swapper.image_file = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    ok(swapper.image_file != INVALID_HANDLE_VALUE, "cannot open %s, error %lu\n", path, GetLastError());
    swapper.data_section = create_test_section(5, 1, &view);
    DuplicateHandle(GetCurrentProcess(), swapper.data_section, GetCurrentProcess(), (HANDLE *)&swapper.current, 0,
            FALSE, DUPLICATE_SAME_ACCESS);
    swapper.stop = 0;
    thread = CreateThread(NULL, 0, swapper_proc, &swapper, 0, NULL);

    /* Which creations succeed is the swapper's timing: each one is checked,
     * and each check reported once. */
    for (i = 0; i < 3000; i++)
    {
        hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, 2, 1,
                FiovMmioMappingFlagNone, swapper.current, 0);
        if (FAILED(hr))
        {
            refused++;
            if (hr != E_HANDLE && hr != E_INVALIDARG && hr != E_ACCESSDENIED && !bad_refusals++) bad_refusal = hr;
            continue;
        }
        created++;
        guest_reset_ops(&guest);
        guest_add_op(&guest, GUEST_OP_READ, 8, BAR0 + 2 * PAGE, 0);
        if ((hr = guest_run(&guest)) != S_OK && !failed_runs++) failed_run = hr;
        if (guest.ops[0].result != section_pattern(5, 0, 0)) image++;
        hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(mappings, FIOV_BAR0, 2);
        if (hr != S_OK && !failed_destroys++) failed_destroy = hr;
    }
    swapper.stop = 1;
    WaitForSingleObject(thread, INFINITE);
    CloseHandle(thread);
    ok(!bad_refusals, "%u of %u refused creations got another hr than E_HANDLE, E_INVALIDARG or E_ACCESSDENIED, "
            "the first %#lx\n", bad_refusals, refused, bad_refusal);
    ok(!failed_runs, "%u of %u guest runs failed, the first: hr %#lx\n", failed_runs, created, failed_run);
    ok(!failed_destroys, "%u of %u ranges could not be destroyed, the first: hr %#lx\n", failed_destroys, created,
            failed_destroy);
    ok(!image, "%u of %u ranges mapped something else than the data section\n", image, created);
    if (winetest_debug > 1) trace("%u of 3000 creations succeeded\n", created);

    UnmapViewOfFile(view);
    CloseHandle(swapper.data_section);
    CloseHandle(swapper.image_file);
    IVmFiovGuestMmioMappings_Release(mappings);
    IUnknown_Release(device);
    guest_destroy(&guest);
    mmio_log_cleanup(&log);
}

START_TEST(layout)
{
    struct guest guest;

    if (!init_guest_test(&guest)) return;
    guest_destroy(&guest);
    init_resource_counting();

    test_move_atomic();
    test_move_failure();
    test_move_onto_itself();
    test_mmio_during_teardown();
    test_section_swap();
}
