/*
 * Concurrency stress: four threads make 10,000 random Create/Destroy and
 * Register/Unregister calls on three devices while a guest rings counted
 * doorbells, probes the pages that come and go and writes the doorbells
 * that come and go, all the time.
 *
 * Each thread owns its own pages and doorbell offsets on every device, so
 * it knows the exact HRESULT each call must return even though the others
 * change the same devices at the same time.  One call in ten is a misuse
 * (a second Create, a Destroy of nothing...) that must fail and change
 * nothing.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define COBJMACROS
#include <stddef.h>
#include "wine/test.h"
#include "objbase.h"
#include "vmfiov.h"
#include "vmidl_test.h"

#define PAGE            0x1000
#define DEVICES         3
#define THREADS         4
#define OPS             10000
#define RANGE_PAGES     12          /* BAR0 pages 0-11 come and go */
#define BELLS           16          /* doorbells that come and go, at BELL_BASE */
#define BELL_BASE       0xc000
#define COUNTED_BASE    0xf000      /* two counted doorbells per device */
#define COUNTED         (2 * DEVICES)
#define CONTROL_GPA     GUEST_DATA
#define SCRATCH_BAR     0x100000000ull  /* for counting free memslots */

static const GUID instance_base = {0x73747265, 0x7373, 0x0000, {1, 2, 3, 4, 5, 6, 7, 0}};

/* Shared with tests/guests/stress.S. */
struct stress_control
{
    volatile UINT64 stop;
    volatile UINT64 loops;
    volatile UINT64 bad_reads;
    UINT32 bell_count;
    UINT32 probe_count;
    UINT32 write_count;
    UINT32 pad;
    struct
    {
        UINT64 address;
        UINT64 value;
        volatile UINT64 rung;       /* by the guest */
        volatile UINT64 acked;      /* by the waiter */
    } bells[16];
    struct
    {
        UINT64 address;
        UINT64 mapped;
        UINT64 trapped;
    } probes[64];
    struct
    {
        UINT64 address;
        UINT64 value;
    } writes[64];
};
C_ASSERT(offsetof(struct stress_control, bells) == 40);
C_ASSERT(offsetof(struct stress_control, probes) == 40 + 16 * 32);
C_ASSERT(offsetof(struct stress_control, writes) == 40 + 16 * 32 + 64 * 24);

struct stress_device
{
    IUnknown *device;
    IVmFiovGuestMmioMappings *mappings;
    IVmFiovGuestMemoryFastNotification *notification;
    BOOL mapped[RANGE_PAGES];       /* page p belongs to thread p % THREADS */
    BOOL registered[BELLS];         /* so does doorbell b, by b % THREADS */
};

struct worker
{
    unsigned int index;
    UINT32 seed;
    HANDLE event;                   /* of this thread's doorbells; manual-reset */
    unsigned int ops, failed_ops;
};

static struct guest guest;
static struct mmio_log mmio;
static struct stress_control *control;
static struct stress_device devices[DEVICES];
static HANDLE section;
static HANDLE counted_events[COUNTED];
static UINT64 wakes[COUNTED];
static HANDLE stop_waiter;

static UINT64 bar0_address(unsigned int device)
{
    return GUEST_BAR_BASE + device * 0x200000;
}

static BOOL counted_is_manual(unsigned int i)
{
    return i & 1;
}

static UINT64 page_pattern(unsigned int page)
{
    return 0x5354524553530000ull | page;
}

static UINT32 next_random(UINT32 *seed)
{
    *seed = *seed * 1103515245 + 12345;
    return *seed >> 8;
}

static void range_op(struct worker *worker, struct stress_device *device, UINT32 r, BOOL misuse)
{
    unsigned int page = worker->index + THREADS * (r % (RANGE_PAGES / THREADS));
    BOOL mapped = device->mapped[page], create = mapped == misuse;
    HRESULT hr, expected;

    if (create)
    {
        FiovMmioMappingFlags flags = (r >> 8) & 1 ? FiovMmioMappingFlagWriteable : FiovMmioMappingFlagNone;
        hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(device->mappings, FIOV_BAR0, page, 1,
                flags, section, page);
        expected = mapped ? HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS) : S_OK;
    }
    else
    {
        hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(device->mappings, FIOV_BAR0, page);
        expected = mapped ? S_OK : HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
    }
    if (hr == S_OK) device->mapped[page] = create;
    if (hr != expected) worker->failed_ops++;
    ok(hr == expected, "thread %u: %s page %u (mapped %d): got hr %#lx, expected %#lx\n", worker->index,
            create ? "Create" : "Destroy", page, mapped, hr, expected);
}

static void doorbell_op(struct worker *worker, struct stress_device *device, UINT32 r, BOOL misuse)
{
    unsigned int bell = worker->index + THREADS * (r % (BELLS / THREADS));
    BOOL registered = device->registered[bell], add = registered == misuse;
    UINT64 offset = BELL_BASE + bell * 8;
    HRESULT hr, expected;

    if (add)
    {
        hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(device->notification, FIOV_BAR0, offset, bell + 1,
                FIOV_DOORBELL_FLAG_TRIGGER_SIZE_QWORD, worker->event);
        expected = registered ? HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS) : S_OK;
    }
    else
    {
        hr = IVmFiovGuestMemoryFastNotification_UnregisterDoorbell(device->notification, FIOV_BAR0, offset, bell + 1,
                FIOV_DOORBELL_FLAG_TRIGGER_SIZE_QWORD);
        expected = registered ? S_OK : HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
    }
    if (hr == S_OK) device->registered[bell] = add;
    if (hr != expected) worker->failed_ops++;
    ok(hr == expected, "thread %u: %s doorbell %u (registered %d): got hr %#lx, expected %#lx\n",
            worker->index, add ? "Register" : "Unregister", bell, registered, hr, expected);
}

/* Gives back what this thread still holds; afterwards none of its
 * doorbells may set its event again, though the guest keeps writing. */
static void worker_cleanup(struct worker *worker)
{
    unsigned int d, i;
    HRESULT hr;

    for (d = 0; d < DEVICES; d++)
    {
        for (i = worker->index; i < RANGE_PAGES; i += THREADS)
        {
            if (!devices[d].mapped[i]) continue;
            hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(devices[d].mappings, FIOV_BAR0, i);
            ok(hr == S_OK, "got hr %#lx\n", hr);
            devices[d].mapped[i] = FALSE;
        }
        for (i = worker->index; i < BELLS; i += THREADS)
        {
            if (!devices[d].registered[i]) continue;
            hr = IVmFiovGuestMemoryFastNotification_UnregisterDoorbell(devices[d].notification, FIOV_BAR0,
                    BELL_BASE + i * 8, i + 1, FIOV_DOORBELL_FLAG_TRIGGER_SIZE_QWORD);
            ok(hr == S_OK, "got hr %#lx\n", hr);
            devices[d].registered[i] = FALSE;
        }
    }
    ResetEvent(worker->event);
    ok(WaitForSingleObject(worker->event, 50) == WAIT_TIMEOUT, "thread %u: event set after Unregister returned\n",
            worker->index);
}

static DWORD WINAPI worker_proc(void *arg)
{
    struct worker *worker = arg;

    for (; worker->ops < OPS / THREADS; worker->ops++)
    {
        UINT32 r = next_random(&worker->seed);
        struct stress_device *device = &devices[r % DEVICES];
        BOOL misuse = (r >> 2) % 10 == 0;

        if ((r >> 6) % 10 < 6) range_op(worker, device, r >> 10, misuse);
        else doorbell_op(worker, device, r >> 10, misuse);
    }
    worker_cleanup(worker);
    return 0;
}

/* Counts the wake-ups of the counted doorbells and acknowledges each one
 * to the guest, which rings a doorbell again only once acknowledged. */
static DWORD WINAPI waiter_proc(void *arg)
{
    HANDLE handles[COUNTED + 1];
    DWORD ret;
    unsigned int i;

    memcpy(handles, counted_events, sizeof(counted_events));
    handles[COUNTED] = stop_waiter;
    for (;;)
    {
        ret = WaitForMultipleObjects(COUNTED + 1, handles, FALSE, INFINITE);
        if (ret >= WAIT_OBJECT_0 + COUNTED) break;
        i = ret - WAIT_OBJECT_0;
        if (counted_is_manual(i)) ResetEvent(handles[i]);
        control->bells[i].acked = ++wakes[i];
    }
    return ret == WAIT_OBJECT_0 + COUNTED ? 0 : ret;
}

static DWORD WINAPI vcpu_proc(void *arg)
{
    VMIDL_RUN_VP_EXIT_CONTEXT *exit = &guest.last_exit;
    HRESULT hr;

    if (FAILED(hr = guest_start(&guest))) return hr;
    if (FAILED(hr = guest_resume(&guest, exit))) return hr;
    if (exit->ExitReason != VmidlRunVpExitReasonX64IoPortAccess || exit->Address != GUEST_PORT_DONE)
        return E_UNEXPECTED;
    return S_OK;
}

static HANDLE create_section(void)
{
    HANDLE mapping = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, RANGE_PAGES * PAGE, NULL);
    UINT64 *view = MapViewOfFile(mapping, FILE_MAP_WRITE, 0, 0, 0);
    unsigned int page;

    for (page = 0; page < RANGE_PAGES; page++) view[page * PAGE / 8] = page_pattern(page);
    UnmapViewOfFile(view);
    return mapping;
}

static BOOL add_devices(void)
{
    VMIDL_FLEXIO_DEVICE_DESC desc;
    unsigned int d, i;
    HRESULT hr;

    for (d = 0; d < DEVICES; d++)
    {
        GUID instance = instance_base;

        instance.Data4[7] = d;
        guest_device_desc(&desc, &instance, &mmio, bar0_address(d));
        hr = pVmidlAddFlexIoDevice(guest.partition, &desc, &devices[d].device);
        ok(hr == S_OK, "got hr %#lx\n", hr);
        if (FAILED(hr)) return FALSE;
        IUnknown_QueryInterface(devices[d].device, &IID_IVmFiovGuestMmioMappings, (void **)&devices[d].mappings);
        IUnknown_QueryInterface(devices[d].device, &IID_IVmFiovGuestMemoryFastNotification,
                (void **)&devices[d].notification);
        for (i = 0; i < 2; i++)
        {
            unsigned int counted = d * 2 + i;

            counted_events[counted] = CreateEventA(NULL, counted_is_manual(counted), FALSE, NULL);
            hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(devices[d].notification, FIOV_BAR0,
                    COUNTED_BASE + i * 8, 0xc0de0000 | counted, FIOV_DOORBELL_FLAG_TRIGGER_SIZE_QWORD,
                    counted_events[counted]);
            ok(hr == S_OK, "got hr %#lx\n", hr);
        }
    }
    return TRUE;
}

static void fill_control(void)
{
    unsigned int d, i, n;

    control = guest_ram(&guest, CONTROL_GPA);
    memset(control, 0, sizeof(*control));
    for (n = 0; n < COUNTED; n++)
    {
        control->bells[n].address = bar0_address(n / 2) + COUNTED_BASE + (n % 2) * 8;
        control->bells[n].value = 0xc0de0000 | n;
    }
    control->bell_count = COUNTED;
    for (d = 0, n = 0; d < DEVICES; d++)
    {
        for (i = 0; i < RANGE_PAGES; i++, n++)
        {
            control->probes[n].address = bar0_address(d) + i * PAGE;
            control->probes[n].mapped = page_pattern(i);
            control->probes[n].trapped = guest_mmio_read_value(FIOV_BAR0, i * PAGE, 8);
        }
    }
    control->probe_count = n;
    for (d = 0, n = 0; d < DEVICES; d++)
    {
        for (i = 0; i < BELLS; i++, n++)
        {
            control->writes[n].address = bar0_address(d) + BELL_BASE + i * 8;
            control->writes[n].value = i + 1;
        }
    }
    control->write_count = n;
    guest.entry_rdi = CONTROL_GPA;
}

/* Lets the waiter catch up with the guest's last rings. */
static BOOL wait_acked(void)
{
    unsigned int i, tries;

    for (tries = 0; tries < 500; tries++)
    {
        for (i = 0; i < COUNTED; i++)
            if (control->bells[i].acked != control->bells[i].rung) break;
        if (i == COUNTED) return TRUE;
        Sleep(10);
    }
    return FALSE;
}

static void test_stress(void)
{
    struct worker workers[THREADS];
    HANDLE threads[THREADS], vcpu, waiter;
    struct resources baseline;
    unsigned int i, ops = 0, failed = 0, free_memslots = 0;
    BOOL count_memslots;
    DWORD start, ret, code;
    UINT64 rings = 0;
    HRESULT hr;

    get_resources(&baseline);
    hr = guest_create(&guest, &guest_image_stress);
    ok(hr == S_OK, "cannot create a guest, hr %#lx\n", hr);
    if (FAILED(hr)) return;
    mmio_log_init(&mmio);
    section = create_section();
    if (!add_devices()) return;
    fill_control();
    /* valgrind gives up past some thousands of mappings (VG_N_SEGMENTS), and
     * counting memslots takes 32,000: that check is for runs without it. */
    count_memslots = !GetEnvironmentVariableA("VMIDL_TEST_VALGRIND", NULL, 0);
    if (count_memslots) free_memslots = count_free_memslots(&guest, SCRATCH_BAR);

    stop_waiter = CreateEventA(NULL, TRUE, FALSE, NULL);
    waiter = CreateThread(NULL, 0, waiter_proc, NULL, 0, NULL);
    vcpu = CreateThread(NULL, 0, vcpu_proc, NULL, 0, NULL);

    start = GetTickCount();
    for (i = 0; i < THREADS; i++)
    {
        workers[i].index = i;
        workers[i].seed = 0x5eed0000 + i;
        workers[i].event = CreateEventA(NULL, TRUE, FALSE, NULL);
        workers[i].ops = workers[i].failed_ops = 0;
        threads[i] = CreateThread(NULL, 0, worker_proc, &workers[i], 0, NULL);
    }
    ret = WaitForMultipleObjects(THREADS, threads, TRUE, TEST_WAIT_MS);
    ok(ret < WAIT_OBJECT_0 + THREADS, "workers still busy after %lu s: deadlock? (%#lx)\n", TEST_WAIT_MS / 1000, ret);
    if (ret >= WAIT_OBJECT_0 + THREADS) return;   /* exiting the process ends it */
    for (i = 0; i < THREADS; i++)
    {
        ops += workers[i].ops;
        failed += workers[i].failed_ops;
        CloseHandle(threads[i]);
        CloseHandle(workers[i].event);
    }
    ok(ops == OPS, "%u operations run\n", ops);
    ok(!failed, "%u of %u operations returned an unexpected HRESULT\n", failed, ops);
    if (count_memslots)
    {
        i = count_free_memslots(&guest, SCRATCH_BAR);
        ok(i == free_memslots, "%u memslots free, %u before\n", i, free_memslots);
    }

    control->stop = 1;
    ret = WaitForSingleObject(vcpu, TEST_WAIT_MS);
    ok(ret == WAIT_OBJECT_0, "guest did not stop: %#lx\n", ret);
    GetExitCodeThread(vcpu, &code);
    ok(code == S_OK, "guest run failed, hr %#lx, exit %u at %#I64x\n", code, guest.last_exit.ExitReason,
            guest.last_exit.Address);
    CloseHandle(vcpu);

    ok(wait_acked(), "the waiter missed a ring\n");
    SetEvent(stop_waiter);
    WaitForSingleObject(waiter, INFINITE);
    CloseHandle(waiter);
    for (i = 0; i < COUNTED; i++)
    {
        ok(control->bells[i].rung > 0, "doorbell %u never rang\n", i);
        ok(wakes[i] == control->bells[i].rung, "%s doorbell %u: %I64u wake-ups for %I64u rings\n",
                counted_is_manual(i) ? "manual-reset" : "auto-reset", i, wakes[i], control->bells[i].rung);
        ok(WaitForSingleObject(counted_events[i], 0) == WAIT_TIMEOUT, "doorbell %u: a wake-up too many\n", i);
        rings += control->bells[i].rung;
    }
    ok(!control->bad_reads, "%I64u probes read neither the section nor the emulator\n", control->bad_reads);
    trace("%u operations in %lu ms; the guest made %I64u loops, %I64u counted rings and %u intercepted accesses\n",
            ops, GetTickCount() - start, control->loops, rings, mmio.count);

    for (i = 0; i < DEVICES; i++)
    {
        IVmFiovGuestMmioMappings_Release(devices[i].mappings);
        IVmFiovGuestMemoryFastNotification_Release(devices[i].notification);
        ok(!IUnknown_Release(devices[i].device), "device %u still referenced\n", i);
    }
    for (i = 0; i < COUNTED; i++) CloseHandle(counted_events[i]);
    CloseHandle(stop_waiter);
    CloseHandle(section);
    guest_destroy(&guest);
    mmio_log_cleanup(&mmio);

    check_resources(&baseline);
}

START_TEST(stress)
{
    struct guest probe;

    if (!init_resource_counting()) return;
    if (!init_guest_test(&probe)) return;
    guest_destroy(&probe);

    test_stress();
}
