/*
 * bench.exe: the project side of the benchmark, a Windows program run under
 * Wine.  It plays both roles a real deployment has: the VM worker (through
 * vmidlhost.h) and an emulation driver that finds its devices through
 * IVmVirtualDeviceAccess and uses IVmFiovGuestMmioMappings and
 * IVmFiovGuestMemoryFastNotification, waiting on Win32 events.  It runs the
 * same guest as the native baseline (tools/bench/guest.S, embedded by
 * tools/guest_images.S) and measures the same figures; see bench.h.
 *
 * Usage: bench.exe [--trace] OUT.TXT ROUND [FIGURES]
 * Appends "project ROUND FIGURE VARIANT VALUE" lines to OUT.TXT.
 *
 * --trace: the instrumented pass, run under a wineserver that traces every
 * request (WINEDEBUG=+server).  It runs P1, P4, P6 and P9 (unless FIGURES
 * says otherwise) and brackets each phase whose requests are counted with
 * markers that tools/bench/requests.c finds in the trace; its timings are
 * not used.
 *
 * For P9, bench.exe starts itself again in another process as an emulation
 * driver that reaches the partition through GetVmWorkerProcess:
 * "bench.exe [--trace] p9-driver RUNTIME_ID INSTANCE_ID" (see p9_driver()).
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define COBJMACROS
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include "windef.h"
#include "winbase.h"
#include "winternl.h"
#include "psapi.h"
#include "objbase.h"
#include "vmfiov.h"
#include "guest.h"
#include "child.h"
#include "vmidltest/vmidltest.h"
#include "bench/bench.h"

static FILE *out;
static int round_number;
static struct guest guest;
static struct bench_ctl *ctl;
static UINT64 *samples;
static NTSTATUS (WINAPI *pVmidlTestGetResources)(struct vmidltest_resources *);
static BOOL tracing;

static void die(const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    fprintf(stderr, "bench.exe: ");
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
    exit(1);
}

#define CHECK(expr) do { HRESULT hr_ = (expr); if (FAILED(hr_)) die("%s failed, hr %#lx (line %d)", #expr, hr_, __LINE__); } while (0)

static void emit(const char *figure, const char *variant, double value)
{
    fprintf(out, "project %d %s %s %.6g\n", round_number, figure, variant, value);
}

/* In the instrumented pass, a phase boundary: exactly one wineserver
 * request (open_event) naming "vmidl-bench-mark BEGIN FIGURE VARIANT" or
 * "vmidl-bench-mark END FIGURE VARIANT UNITS", which the trace parser reads;
 * it counts every request the process's threads make between the two and
 * divides by UNITS (rings, calls).  No such event exists. */
static void mark(const char *fmt, ...)
{
    char name[128];
    va_list args;
    int len;

    if (!tracing) return;
    len = snprintf(name, sizeof(name), "vmidl-bench-mark ");
    va_start(args, fmt);
    vsnprintf(name + len, sizeof(name) - len, fmt, args);
    va_end(args);
    if (OpenEventA(SYNCHRONIZE, FALSE, name)) die("event \"%s\" exists", name);
}

static void measure_tsc(void)
{
    LARGE_INTEGER freq, t0, t1;
    UINT64 c0, c1;

    QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&t0);
    c0 = bench_tsc();
    do QueryPerformanceCounter(&t1); while (t1.QuadPart - t0.QuadPart < freq.QuadPart / 10);
    c1 = bench_tsc();
    tsc_hz = (c1 - c0) / ((double)(t1.QuadPart - t0.QuadPart) / freq.QuadPart);
    emit("P0", "tsc_mhz", tsc_hz / 1e6);
}

static double rss_kib(void)
{
    PROCESS_MEMORY_COUNTERS counters = {sizeof(counters)};

    /* Wine reads VmRSS from the process's own /proc/self/status. */
    if (!K32GetProcessMemoryInfo(GetCurrentProcess(), &counters, sizeof(counters))) die("GetProcessMemoryInfo");
    return counters.WorkingSetSize / 1024.0;
}

static unsigned int count_threads(void)
{
    struct vmidltest_resources resources;

    /* Z:\proc\self is wineserver's: count from the unix side. */
    if (!pVmidlTestGetResources || pVmidlTestGetResources(&resources)) return 0;
    return resources.threads;
}

/* --- the device emulator: trapped MMIO -------------------------------------- */

static LONG trapped_writes;
static UINT32 roundtrip_reads;

/* Context: the device number + 1.  Writes are counted; a dword read of the
 * trapped page of D0's BAR0 (P8) gets the number of such reads so far, as
 * the guest expects; any other read all ones. */
static HRESULT CALLBACK device_mmio(void *context, UINT32 bar, UINT64 offset, UINT32 size,
        BOOL is_write, UINT64 *data)
{
    if (is_write) trapped_writes++;
    else if ((ULONG_PTR)context == 1 && bar == FIOV_BAR0 && offset == BENCH_TRAP_OFF && size == 4)
        *data = ++roundtrip_reads;
    else *data = ~0ull;
    return S_OK;
}

static const GUID d0_instance = {0x62656e63, 0x6800, 0x4430, {0x76, 0x6d, 0x69, 0x64, 0x6c, 0, 0, 0}};

static GUID instance(unsigned int n)
{
    GUID id = d0_instance;
    id.Data4[7] = n;
    return id;
}

static void add_device(VMIDL_PARTITION_HANDLE partition, unsigned int n, UINT64 bar0, UINT64 bar0_size,
        UINT64 bar2, UINT64 bar2_size, IUnknown **device)
{
    VMIDL_FLEXIO_DEVICE_DESC desc;

    memset(&desc, 0, sizeof(desc));
    desc.InstanceId = instance(n);
    desc.BarSize[FIOV_BAR0] = bar0_size;
    desc.BarAddress[FIOV_BAR0] = bar0;
    desc.BarSize[FIOV_BAR2] = bar2_size;
    desc.BarAddress[FIOV_BAR2] = bar2;
    desc.MmioCallback = device_mmio;
    desc.MmioCallbackContext = (void *)(ULONG_PTR)(n + 1);
    CHECK(pVmidlAddFlexIoDevice(partition, &desc, device));
}

/* What an emulation driver does: GetDevice, then QueryInterface. */
static void get_interface(VMIDL_PARTITION_HANDLE partition, unsigned int n, REFIID iid, void **out_iface)
{
    GUID id = instance(n);
    CHECK(guest_get_device_interface(partition, &id, iid, out_iface));
}

static HRESULT register_doorbell(IVmFiovGuestMemoryFastNotification *notification, UINT64 offset, HANDLE event)
{
    return IVmFiovGuestMemoryFastNotification_RegisterDoorbell(notification, FIOV_BAR0, offset, BENCH_TRIGGER,
            FIOV_DOORBELL_FLAG_TRIGGER_SIZE_DWORD, event);
}

static HRESULT unregister_doorbell(IVmFiovGuestMemoryFastNotification *notification, UINT64 offset)
{
    return IVmFiovGuestMemoryFastNotification_UnregisterDoorbell(notification, FIOV_BAR0, offset, BENCH_TRIGGER,
            FIOV_DOORBELL_FLAG_TRIGGER_SIZE_DWORD);
}

/* --- running the guest --------------------------------------------------------- */

/* Resumes the guest until it reports on the done port; its failures. */
static UINT64 run_guest(void)
{
    VMIDL_RUN_VP_EXIT_CONTEXT exit;

    CHECK(guest_resume(&guest, &exit));
    if (exit.ExitReason != VmidlRunVpExitReasonX64IoPortAccess || exit.Address != BENCH_PORT_DONE)
        die("unexpected guest exit %u at %#I64x", exit.ExitReason, exit.Address);
    return exit.Data;
}

static HANDLE start_thread(LPTHREAD_START_ROUTINE proc, void *arg)
{
    HANDLE thread = CreateThread(NULL, 0, proc, arg, 0, NULL);
    if (!thread) die("CreateThread failed");
    return thread;
}

static void join_thread(HANDLE thread)
{
    WaitForSingleObject(thread, INFINITE);
    CloseHandle(thread);
}

/* --- clocks ----------------------------------------------------------------- */

static INT64 clock_offset;      /* guest TSC - host TSC */
static volatile LONG host_failed;

static DWORD WINAPI sync_proc(void *arg)
{
    if (bench_clock_ping_pong(ctl, arg)) host_failed = 1;
    return 0;
}

static void clock_sync(const char *when)
{
    INT64 bounds[2];
    char name[64];
    HANDLE thread;

    bench_start_mode(ctl, BENCH_MODE_SYNC, BENCH_SYNC_ROUNDS, 0);
    thread = start_thread(sync_proc, bounds);
    if (run_guest() || host_failed) die("clock sync failed");
    join_thread(thread);
    clock_offset = bounds[0] / 2 + bounds[1] / 2;
    sprintf(name, "clock_uncertainty_us_%s", when);
    emit("P1", name, bench_ticks_us(bounds[1] - bounds[0]) / 2);
    sprintf(name, "clock_offset_ms_%s", when);
    emit("P1", name, bench_ticks_us(clock_offset) / 1e3);
}

/* --- P1: doorbell -> WaitForSingleObject returns ---------------------------- */

static HANDLE doorbell_event;
static volatile LONG waiter_ready;

/* The host thread a figure starts before the guest: the guest runs only
 * once it is about to wait. */
static HANDLE start_waiter(LPTHREAD_START_ROUTINE proc)
{
    HANDLE thread;

    waiter_ready = 0;
    thread = start_thread(proc, NULL);
    while (!waiter_ready) SwitchToThread();
    return thread;
}

static HANDLE wake_go;          /* the waiter may take the next chunk */

/* One thread waits through all of P1's chunks, as the driver's thread does
 * through P9's; the first chunk warms up.  The ring phase the instrumented
 * pass counts opens on this thread before its first wait of a chunk, so
 * before the guest rings, and closes after the last ring was handled but
 * before it is acked, so before the guest can finish and the main thread
 * go on: inside are the rings and nothing else. */
static DWORD WINAPI wake_proc(void *arg)
{
    unsigned int chunk;
    UINT64 i, now;

    /* Between its chunks this thread only waits for its turn, which can
     * come after the driver's phase of a P9 chunk has opened. */
    mark("ASIDE");
    for (chunk = 0; chunk <= BENCH_WAKE_CHUNKS; chunk++)
    {
        BOOL record = chunk > 0;

        WaitForSingleObject(wake_go, INFINITE);
        if (record) mark("BEGIN P1 ring");
        waiter_ready = 1;
        for (i = 0; i < BENCH_WAKE_CHUNK; i++)
        {
            if (WaitForSingleObject(doorbell_event, 2000)) { host_failed = 1; return 1; }
            now = bench_tsc();
            if (record) emit("P1", "wake_us", bench_ticks_us((double)now - (double)(samples[i] - clock_offset)));
            if (record && i + 1 == BENCH_WAKE_CHUNK) mark("END P1 ring %u", BENCH_WAKE_CHUNK);
            ctl->ack = i + 1;
        }
    }
    return 0;
}

static void p1_wake_chunk(void)
{
    bench_start_mode(ctl, BENCH_MODE_WAKE, BENCH_WAKE_CHUNK, BENCH_D0_BAR0 + BENCH_DOORBELL_OFF);
    waiter_ready = 0;
    SetEvent(wake_go);
    while (!waiter_ready) SwitchToThread();
    if (run_guest() || host_failed) die("P1: lost a doorbell");
}

struct p9_driver;
static void p9_wake_chunk(struct p9_driver *driver, BOOL record);

/* P1, and with a driver process P9's wake (the same with the waiter in
 * that process) as well: one chunk of each to warm up, then chunks in the
 * order P1 P9 P9 P1 P1 P9 ..., so that the disturbances of a process's
 * first moments, and drift, fall on both alike. */
static void bench_p1(struct p9_driver *driver)
{
    unsigned int i;
    HANDLE thread;
    INT64 before;

    clock_sync("before");
    before = clock_offset;
    if (!(wake_go = CreateEventA(NULL, FALSE, FALSE, NULL))) die("CreateEvent failed");
    thread = start_thread(wake_proc, NULL);
    for (i = 0; i <= BENCH_WAKE_CHUNKS; i++)
    {
        BOOL p9_first = i % 2;

        if (driver && p9_first) p9_wake_chunk(driver, i > 0);
        p1_wake_chunk();
        if (driver && !p9_first) p9_wake_chunk(driver, i > 0);
    }
    join_thread(thread);
    CloseHandle(wake_go);
    clock_sync("after");
    emit("P1", "clock_drift_us", bench_ticks_us(clock_offset - before));
}

/* --- P2: vCPU cost of a doorbell write, and of a trapped write ------------- */

static volatile LONG counting;
static UINT64 counted;

static DWORD WINAPI count_proc(void *arg)
{
    while (counting) if (!WaitForSingleObject(doorbell_event, 50)) counted++;
    return 0;
}

static void bench_p2(void)
{
    HANDLE thread;
    unsigned int i;

    counting = 1;
    thread = start_thread(count_proc, NULL);
    for (i = 0; i < BENCH_P2_BATCHES; i++)
    {
        bench_start_mode(ctl, BENCH_MODE_WRITES, BENCH_P2_DOORBELLS, BENCH_D0_BAR0 + BENCH_DOORBELL_OFF);
        if (run_guest()) die("P2 failed");
        emit("P2", "doorbell_write_us", bench_ticks_us(ctl->result) / BENCH_P2_DOORBELLS);
        bench_start_mode(ctl, BENCH_MODE_WRITES, BENCH_P2_TRAPS, BENCH_D0_BAR0 + BENCH_TRAP_OFF);
        trapped_writes = 0;
        if (run_guest() || trapped_writes != BENCH_P2_TRAPS) die("P2 trapped writes failed");
        emit("P2", "trapped_write_us", bench_ticks_us(ctl->result) / BENCH_P2_TRAPS);
    }
    counting = 0;
    join_thread(thread);
}

/* --- P3: bandwidth over a section-backed BAR range ------------------------- */

static void bench_p3(IVmFiovGuestMmioMappings *mappings)
{
    HANDLE section = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, BENCH_BW_SIZE, NULL);
    unsigned int i;

    if (!section) die("CreateFileMapping failed");
    CHECK(IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR2, 0, BENCH_BW_SIZE / 4096,
            FiovMmioMappingFlagWriteable, section, 0));
    CloseHandle(section);
    bench_start_mode(ctl, BENCH_MODE_BANDWIDTH, 0, BENCH_D0_BAR2);
    ctl->size = BENCH_BW_SIZE;
    ctl->reps = BENCH_P3_REPS;
    trapped_writes = 0;
    if (run_guest() || trapped_writes) die("P3 failed");
    for (i = 0; i < BENCH_P3_REPS; i++)
    {
        emit("P3", "write_gib_s", BENCH_BW_SIZE / (samples[2 * i] / tsc_hz) / (1 << 30));
        emit("P3", "read_gib_s", BENCH_BW_SIZE / (samples[2 * i + 1] / tsc_hz) / (1 << 30));
    }
    CHECK(IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(mappings, FIOV_BAR2, 0));
}

/* --- P8: intercepted MMIO round trip ------------------------------------------ */

static UINT32 count_fds(void)
{
    struct vmidltest_resources resources;

    if (!pVmidlTestGetResources || pVmidlTestGetResources(&resources)) die("P8 needs vmidltest.dll");
    return resources.fds;
}

/* Runs BENCH_MODE_ROUNDTRIP on D0's trapped page for at most count
 * samples while proc (if any) runs on another thread; checks that the
 * device's callback answered every access, and answered it right. */
static void run_roundtrips(UINT64 count, LPTHREAD_START_ROUTINE proc, void *arg)
{
    HANDLE thread = NULL;
    UINT64 failures;

    bench_start_mode(ctl, BENCH_MODE_ROUNDTRIP, count, BENCH_D0_BAR0 + BENCH_TRAP_OFF);
    ctl->reps = BENCH_P8_PERIOD_US * tsc_hz / 1e6;
    roundtrip_reads = 0;
    if (proc) thread = start_thread(proc, arg);
    failures = run_guest();
    if (thread) join_thread(thread);
    if (failures) die("P8: %I64u intercepted reads got a wrong answer", failures);
    if (roundtrip_reads != ctl->result) die("P8: %I64u samples, %u reads answered", ctl->result, roundtrip_reads);
}

static void bench_p8_idle(void)
{
    unsigned int i;

    run_roundtrips(BENCH_P8_SAMPLES, NULL, NULL);
    if (ctl->result != BENCH_P8_SAMPLES) die("P8: %I64u samples taken", ctl->result);
    for (i = 0; i < BENCH_P8_SAMPLES; i++) emit("P8", "roundtrip_us", bench_ticks_us(samples[i]));
}

static const GUID *p8_mover_id(void)
{
    static GUID id;
    id = instance(0x81);
    return &id;
}

/* While the guest takes round trips: one thread releases the victim (a
 * device with 1,024 doorbells: the last reference, so its teardown), and
 * another moves the mover's BAR back and forth from the moment the release
 * starts until it has returned, ending where it began. */
struct p8_disturbance
{
    IUnknown *victim;
    HANDLE start;
    volatile LONG released;
    unsigned int moves;
    UINT32 fds_before;          /* before the victim's doorbells */
    UINT64 first, last;         /* guest_seq when the window opened and closed */
    UINT64 t_open, t_released, t_close;
};

static DWORD WINAPI p8_mover_proc(void *arg)
{
    struct p8_disturbance *d = arg;

    WaitForSingleObject(d->start, INFINITE);
    do
    {
        CHECK(pVmidlSetBarAddress(guest.partition, p8_mover_id(), FIOV_BAR0,
                d->moves % 2 ? BENCH_P8_MOVER_BAR : BENCH_P8_MOVER_ALT));
        d->moves++;
    } while (!d->released || d->moves % 2);
    return 0;
}

static DWORD WINAPI p8_disturb_proc(void *arg)
{
    struct p8_disturbance *d = arg;
    HANDLE mover = start_thread(p8_mover_proc, d);
    UINT64 deadline;

    while (ctl->guest_seq < BENCH_P8_WARMUP) Sleep(1);
    d->first = ctl->guest_seq;
    d->t_open = bench_tsc();
    SetEvent(d->start);
    IUnknown_Release(d->victim);
    d->t_released = bench_tsc();
    d->released = 1;
    join_thread(mover);
    /* Work that Release handed to another thread still falls inside the
     * window: it closes only once the fds the victim's doorbells added
     * (an eventfd each) are closed; an ioeventfd cannot be deassigned
     * without its eventfd. */
    deadline = bench_tsc() + 60 * tsc_hz;
    while (count_fds() > d->fds_before + 16)
    {
        if (bench_tsc() > deadline) die("P8: the released device's eventfds are still open a minute later");
        Sleep(1);
    }
    d->last = ctl->guest_seq;
    d->t_close = bench_tsc();
    ctl->host_seq = 1;          /* the guest stops */
    return 0;
}

static void bench_p8_contended(void)
{
    IVmFiovGuestMemoryFastNotification *notification, *mover_notification;
    HANDLE section, event, mover_events[BENCH_P8_MOVER_DOORBELLS];
    IVmFiovGuestMmioMappings *mover_mappings;
    struct p8_disturbance d;
    IUnknown *mover;
    UINT64 i, last;

    memset(&d, 0, sizeof(d));
    add_device(guest.partition, 0x81, BENCH_P8_MOVER_BAR, BENCH_P8_BAR_SIZE, 0, 0, &mover);
    get_interface(guest.partition, 0x81, &IID_IVmFiovGuestMmioMappings, (void **)&mover_mappings);
    get_interface(guest.partition, 0x81, &IID_IVmFiovGuestMemoryFastNotification, (void **)&mover_notification);
    if (!(section = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
            BENCH_P8_MOVER_RANGES * 4096, NULL)))
        die("CreateFileMapping failed");
    for (i = 0; i < BENCH_P8_MOVER_RANGES; i++)
        CHECK(IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mover_mappings, FIOV_BAR0, 1 + i, 1,
                FiovMmioMappingFlagWriteable, section, i));
    for (i = 0; i < BENCH_P8_MOVER_DOORBELLS; i++)
    {
        mover_events[i] = CreateEventA(NULL, FALSE, FALSE, NULL);
        CHECK(register_doorbell(mover_notification, i * 8, mover_events[i]));
    }

    d.fds_before = count_fds();
    add_device(guest.partition, 0x80, BENCH_P8_VICTIM_BAR, BENCH_P8_BAR_SIZE, 0, 0, &d.victim);
    get_interface(guest.partition, 0x80, &IID_IVmFiovGuestMemoryFastNotification, (void **)&notification);
    for (i = 0; i < BENCH_P8_DOORBELLS; i++)
    {
        event = CreateEventA(NULL, FALSE, FALSE, NULL);    /* vmidl keeps a duplicate */
        CHECK(register_doorbell(notification, i * 8, event));
        CloseHandle(event);
    }
    IVmFiovGuestMemoryFastNotification_Release(notification);
    emit("P8", "victim_fds", count_fds() - d.fds_before);
    d.start = CreateEventA(NULL, TRUE, FALSE, NULL);

    run_roundtrips(BENCH_MAX_SAMPLES, p8_disturb_proc, &d);
    if (ctl->result == BENCH_MAX_SAMPLES) die("P8: the disturbance outlasted the sample buffer");
    /* Sample d.first was under way when the window opened, sample d.last
     * when it closed (if the guest started it). */
    last = min(d.last, ctl->result - 1);
    for (i = d.first; i <= last; i++) emit("P8", "contended_us", bench_ticks_us(samples[i]));
    emit("P8", "contended_samples", last + 1 - d.first);
    emit("P8", "contended_window_ms", bench_ticks_us(d.t_close - d.t_open) / 1e3);
    emit("P8", "victim_release_ms", bench_ticks_us(d.t_released - d.t_open) / 1e3);
    emit("P8", "bar_moves", d.moves);

    CloseHandle(d.start);
    IVmFiovGuestMmioMappings_Release(mover_mappings);
    IVmFiovGuestMemoryFastNotification_Release(mover_notification);
    IUnknown_Release(mover);
    CloseHandle(section);
    for (i = 0; i < BENCH_P8_MOVER_DOORBELLS; i++) CloseHandle(mover_events[i]);
}

/* --- P6: doorbell storm -------------------------------------------------------- */

static IUnknown *storm_devices[BENCH_STORM_DEVICES];
static HANDLE storm_events[BENCH_STORM_BELLS];
static UINT64 storm_count[BENCH_STORM_BELLS];

/* The counted ring phase as in wake_proc(). */
static DWORD WINAPI storm_proc(void *arg)
{
    UINT64 total = 0;
    DWORD ret;

    mark("BEGIN P6 ring");
    waiter_ready = 1;
    while (total < BENCH_P6_RINGS)
    {
        ret = WaitForMultipleObjects(BENCH_STORM_BELLS, storm_events, FALSE, 2000);
        if (ret >= WAIT_OBJECT_0 + BENCH_STORM_BELLS) { host_failed = 1; return 1; }
        ret -= WAIT_OBJECT_0;
        storm_count[ret]++;
        total++;
        if (total == BENCH_P6_RINGS) mark("END P6 ring %u", BENCH_P6_RINGS);
        ctl->storm_ack[ret] = storm_count[ret];
    }
    return 0;
}

static void bench_p6(void)
{
    IVmFiovGuestMemoryFastNotification *notification[BENCH_STORM_DEVICES];
    unsigned int i, j, lost;
    HANDLE thread;

    for (i = 0; i < BENCH_STORM_DEVICES; i++)
    {
        add_device(guest.partition, 1 + i, BENCH_STORM_BASE + i * BENCH_STORM_STRIDE, BENCH_STORM_STRIDE, 0, 0,
                &storm_devices[i]);
        get_interface(guest.partition, 1 + i, &IID_IVmFiovGuestMemoryFastNotification, (void **)&notification[i]);
    }
    for (i = 0; i < BENCH_STORM_BELLS; i++)
    {
        storm_events[i] = CreateEventA(NULL, FALSE, FALSE, NULL);
        ctl->storm_addr[i] = BENCH_STORM_BASE + (i / BENCH_STORM_PER_DEV) * BENCH_STORM_STRIDE
                + (i % BENCH_STORM_PER_DEV) * 8;
        CHECK(register_doorbell(notification[i / BENCH_STORM_PER_DEV], (i % BENCH_STORM_PER_DEV) * 8,
                storm_events[i]));
    }
    for (j = 0; j < BENCH_P6_RUNS; j++)
    {
        memset(storm_count, 0, sizeof(storm_count));
        for (i = 0; i < BENCH_STORM_BELLS; i++) ctl->storm_rung[i] = ctl->storm_ack[i] = 0;
        bench_start_mode(ctl, BENCH_MODE_STORM, BENCH_P6_RINGS, 0);
        thread = start_waiter(storm_proc);
        if (run_guest() || host_failed) die("P6: lost a doorbell");
        join_thread(thread);
        for (i = lost = 0; i < BENCH_STORM_BELLS; i++)
            if (ctl->storm_rung[i] != storm_count[i] || ctl->storm_ack[i] != storm_count[i]) lost++;
        emit("P6", "events_per_s", BENCH_P6_RINGS / (ctl->result / tsc_hz));
        emit("P6", "doorbells_mismatched", lost);
    }
    /* The devices stay until the partition goes: deleting it drops the
     * ioeventfds without a grace period each. */
    for (i = 0; i < BENCH_STORM_DEVICES; i++) IVmFiovGuestMemoryFastNotification_Release(notification[i]);
}

/* --- P4: CreateSectionBackedMmioRange + Destroy ---------------------------- */

/* One partition per live count, so that samples at every count interleave
 * and drifting machine load cannot pass for a dependence on the count. */
struct counted_partition
{
    VMIDL_PARTITION_HANDLE partition;
    IUnknown *device;
    IVmFiovGuestMmioMappings *mappings;
    IVmFiovGuestMemoryFastNotification *notification;
};

static void create_counted_partition(struct counted_partition *p, unsigned int n, UINT64 bar, UINT64 size)
{
    GUID runtime = instance(n);

    CHECK(pVmidlCreatePartition(&runtime, 1, &p->partition));
    add_device(p->partition, n, bar, size, 0, 0, &p->device);
    get_interface(p->partition, n, &IID_IVmFiovGuestMmioMappings, (void **)&p->mappings);
    get_interface(p->partition, n, &IID_IVmFiovGuestMemoryFastNotification, (void **)&p->notification);
}

/* Deleting the partition drops every memslot and ioeventfd at once. */
static void delete_counted_partition(struct counted_partition *p)
{
    IVmFiovGuestMmioMappings_Release(p->mappings);
    IVmFiovGuestMemoryFastNotification_Release(p->notification);
    CHECK(pVmidlDeletePartition(p->partition));
    IUnknown_Release(p->device);
}

static void bench_p4(void)
{
    struct counted_partition parts[ARRAYSIZE(bench_p4_counts)];
    double request_us[BENCH_REQUEST_SAMPLES];
    unsigned int c, i, k, live;
    HANDLE section, idle_event;
    char name[64];

    if (!(section = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 4096, NULL)))
        die("CreateFileMapping failed");
    for (c = 0; c < ARRAYSIZE(bench_p4_counts); c++)
    {
        double rss;

        create_counted_partition(&parts[c], 0x40 + c, BENCH_P4_BAR, BENCH_P4_BAR_SIZE);
        rss = rss_kib();
        for (live = 0; live < bench_p4_counts[c]; live++)
        {
            CHECK(IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(parts[c].mappings, FIOV_BAR0, 1 + live, 1,
                    FiovMmioMappingFlagWriteable, section, 0));
            /* P7: the first 1000 (with one-time heap growth), then the next 1000. */
            if (live + 1 == 1000 && bench_p4_counts[c] >= 2000)
            {
                emit("P7", "rss_kib_first_1000_ranges", rss_kib() - rss);
                rss = rss_kib();
            }
            if (live + 1 == 2000) emit("P7", "rss_kib_per_1000_ranges", rss_kib() - rss);
        }
    }
    /* The cost of one wineserver request: SetEvent on an event nobody
     * waits for (the instrumented pass counts the requests it makes). */
    idle_event = CreateEventA(NULL, FALSE, FALSE, NULL);
    for (i = 0; i < BENCH_WARMUP + BENCH_P4_SAMPLES; i++)
    {
        BOOL record = i >= BENCH_WARMUP;

        for (c = 0; c < ARRAYSIZE(bench_p4_counts); c++)
        {
            UINT64 t0 = bench_tsc(), t1;

            /* The instrumented pass counts the requests of each call. */
            if (record) mark("BEGIN P4 create_%u", bench_p4_counts[c]);
            CHECK(IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(parts[c].mappings, FIOV_BAR0, 0, 1,
                    FiovMmioMappingFlagWriteable, section, 0));
            if (record) mark("END P4 create_%u 1", bench_p4_counts[c]);
            if (record) mark("BEGIN P4 destroy_%u", bench_p4_counts[c]);
            CHECK(IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(parts[c].mappings, FIOV_BAR0, 0));
            if (record) mark("END P4 destroy_%u 1", bench_p4_counts[c]);
            t1 = bench_tsc();
            sprintf(name, "create_destroy_us_%u", bench_p4_counts[c]);
            if (record) emit("P4", name, bench_ticks_us(t1 - t0));
        }
        if (record) mark("BEGIN P4 setevent");
        for (k = 0; k < BENCH_REQUEST_SAMPLES; k++)
        {
            UINT64 t0 = bench_tsc();

            if (!SetEvent(idle_event)) die("SetEvent failed");
            request_us[k] = bench_ticks_us(bench_tsc() - t0);
        }
        if (record) mark("END P4 setevent %u", BENCH_REQUEST_SAMPLES);
        for (k = 0; record && k < BENCH_REQUEST_SAMPLES; k++) emit("P4", "request_us", request_us[k]);
    }
    CloseHandle(idle_event);
    for (c = 0; c < ARRAYSIZE(bench_p4_counts); c++) delete_counted_partition(&parts[c]);
    CloseHandle(section);
}

/* --- P5: RegisterDoorbell + UnregisterDoorbell -------------------------------- */

/* P7: RSS for a second 1000 doorbells, on a second device of a partition
 * that already has 1000 (one device takes at most 1024). */
static void bench_p7_doorbells(HANDLE *events)
{
    struct counted_partition p;
    IVmFiovGuestMemoryFastNotification *second;
    IUnknown *device;
    unsigned int i;
    double rss;

    create_counted_partition(&p, 0x70, BENCH_P5_BAR, BENCH_P5_BAR_SIZE);
    add_device(p.partition, 0x71, BENCH_P5_BAR + BENCH_P5_BAR_SIZE, BENCH_P5_BAR_SIZE, 0, 0, &device);
    get_interface(p.partition, 0x71, &IID_IVmFiovGuestMemoryFastNotification, (void **)&second);
    for (i = 0; i < 1000; i++) CHECK(register_doorbell(p.notification, (1 + i) * 8, events[i]));
    rss = rss_kib();
    for (i = 0; i < 1000; i++) CHECK(register_doorbell(second, (1 + i) * 8, events[i]));
    emit("P7", "rss_kib_per_1000_doorbells", rss_kib() - rss);
    IVmFiovGuestMemoryFastNotification_Release(second);
    delete_counted_partition(&p);
    IUnknown_Release(device);
}

static void bench_p5(void)
{
    struct counted_partition parts[ARRAYSIZE(bench_p5_counts)];
    HANDLE event, live_events[1000];
    unsigned int c, i, live;
    char name[64];

    event = CreateEventA(NULL, FALSE, FALSE, NULL);
    for (i = 0; i < ARRAYSIZE(live_events); i++) live_events[i] = CreateEventA(NULL, FALSE, FALSE, NULL);
    for (c = 0; c < ARRAYSIZE(bench_p5_counts); c++)
    {
        double rss;

        create_counted_partition(&parts[c], 0x50 + c, BENCH_P5_BAR, BENCH_P5_BAR_SIZE);
        if (bench_p5_counts[c] == 1000) emit("P7", "threads_with_0_doorbells", count_threads());
        rss = rss_kib();
        /* A driver's doorbells have events of their own. */
        for (live = 0; live < bench_p5_counts[c]; live++)
            CHECK(register_doorbell(parts[c].notification, (1 + live) * 8, live_events[live]));
        if (bench_p5_counts[c] == 1000)
        {
            emit("P7", "rss_kib_first_1000_doorbells", rss_kib() - rss);
            emit("P7", "threads_with_1000_doorbells", count_threads());
        }
    }
    bench_p7_doorbells(live_events);
    for (i = 0; i < BENCH_P5_SAMPLES; i++)
    {
        for (c = 0; c < ARRAYSIZE(bench_p5_counts); c++)
        {
            UINT64 t0 = bench_tsc();

            CHECK(register_doorbell(parts[c].notification, 0, event));
            CHECK(unregister_doorbell(parts[c].notification, 0));
            sprintf(name, "register_unregister_us_%u", bench_p5_counts[c]);
            emit("P5", name, bench_ticks_us(bench_tsc() - t0));
        }
    }
    for (c = 0; c < ARRAYSIZE(bench_p5_counts); c++) delete_counted_partition(&parts[c]);
    CloseHandle(event);
    for (i = 0; i < ARRAYSIZE(live_events); i++) CloseHandle(live_events[i]);
}

/* --- P9: the emulation driver in another process ------------------------------ */

/* bench.exe started again as "bench.exe [--trace] p9-driver RUNTIME_ID
 * INSTANCE_ID" is a driver of its own, in another process of the prefix:
 * it reaches the partition as WSL's device hosts do (GetVmWorkerProcess,
 * GetDevice, QueryInterface: proxies), maps a section of its own into the
 * P9 device's BAR and registers the doorbell with an event of its own.
 * Then it obeys struct p9_command on stdin and answers on stdout. */

enum p9_call
{
    P9_CREATE,
    P9_DESTROY,
    P9_NULL,            /* no handle, next to no work: a Destroy where no range is */
    P9_NULL_HANDLE,     /* the same with a handle: a Register with a reserved flag */
    P9_REGISTER,
    P9_UNREGISTER,
    P9_WAKE,            /* a command only: the driver's half of the wake run */
};

static const char * const p9_call_names[] = {"create", "destroy", "null", "null_handle", "register", "unregister"};

struct p9_command
{
    UINT32 code;        /* enum p9_call: the driver answers the call's ticks, or the wake run's TSCs */
    UINT32 record;      /* not a warm-up: mark it in the instrumented pass */
};

/* A driver's interfaces to the P9 device, in process or proxies, and what
 * its timed calls use (a one-page section, an auto-reset event). */
struct p9_side
{
    const char *name;
    IVmFiovGuestMmioMappings *mappings;
    IVmFiovGuestMemoryFastNotification *notification;
    HANDLE section, event;
    UINT64 page, bell;
};

static void p9_side_init(struct p9_side *side, const char *name, UINT64 page, UINT64 bell)
{
    side->name = name;
    side->page = page;
    side->bell = bell;
    if (!(side->section = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 4096, NULL)))
        die("CreateFileMapping failed");
    if (!(side->event = CreateEventA(NULL, FALSE, FALSE, NULL))) die("CreateEvent failed");
}

static void p9_side_cleanup(struct p9_side *side)
{
    IVmFiovGuestMmioMappings_Release(side->mappings);
    IVmFiovGuestMemoryFastNotification_Release(side->notification);
    CloseHandle(side->section);
    CloseHandle(side->event);
}

/* Either side runs the same code for a call, marked for the instrumented
 * pass as "P9 CALL_SIDE". */
static UINT64 p9_time_call(const struct p9_side *side, enum p9_call call, BOOL record)
{
    HRESULT hr = E_FAIL;
    UINT64 t0, t1;

    if (record) mark("BEGIN P9 %s_%s", p9_call_names[call], side->name);
    t0 = bench_tsc();
    switch (call)
    {
    case P9_CREATE:
        hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(side->mappings, FIOV_BAR0, side->page, 1,
                FiovMmioMappingFlagWriteable, side->section, 0);
        break;
    case P9_DESTROY:
        hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(side->mappings, FIOV_BAR0, side->page);
        break;
    case P9_NULL:
        hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(side->mappings, FIOV_BAR0, BENCH_P9_PAGE_EMPTY);
        if (hr == HRESULT_FROM_WIN32(ERROR_NOT_FOUND)) hr = S_OK;
        break;
    case P9_NULL_HANDLE:    /* refused before the event is used; the stub has taken the handle by then */
        hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(side->notification, FIOV_BAR0, side->bell,
                BENCH_TRIGGER, FIOV_DOORBELL_FLAG_TRIGGER_SIZE_DWORD | BENCH_P9_RESERVED_FLAG, side->event);
        if (hr == E_INVALIDARG) hr = S_OK;
        break;
    case P9_REGISTER:
        hr = register_doorbell(side->notification, side->bell, side->event);
        break;
    case P9_UNREGISTER:
        hr = unregister_doorbell(side->notification, side->bell);
        break;
    case P9_WAKE:
        break;
    }
    t1 = bench_tsc();
    if (record) mark("END P9 %s_%s 1", p9_call_names[call], side->name);
    if (FAILED(hr)) die("P9: %s (%s) failed, hr %#lx", p9_call_names[call], side->name, hr);
    return t1 - t0;
}

static void write_all(HANDLE file, const void *data, DWORD size)
{
    DWORD done;

    if (!WriteFile(file, data, size, &done, NULL) || done != size) die("P9: the other process is gone");
}

/* FALSE when the other end has gone (or goes before size bytes came). */
static BOOL read_all(HANDLE file, void *data, DWORD size)
{
    DWORD done;

    for (; size; size -= done, data = (char *)data + done)
        if (!ReadFile(file, data, size, &done, NULL) || !done) return FALSE;
    return TRUE;
}

/* The driver's half of a wake chunk, the counterpart of wake_proc(): the
 * guest waits until the ack in the driver's section reads 0, so the counted
 * phase opens before the first ring without a word to the worker; the
 * driver notes the TSC at each wake, then acks.  The TSCs go to the worker
 * once the guest is done. */
static void p9_driver_wake(HANDLE event, volatile UINT64 *ack, BOOL record, HANDLE out)
{
    UINT64 wakes[BENCH_WAKE_CHUNK];
    unsigned int i;

    if (record) mark("BEGIN P9 ring");
    *ack = 0;
    for (i = 0; i < BENCH_WAKE_CHUNK; i++)
    {
        if (WaitForSingleObject(event, 2000)) die("P9 driver: the doorbell did not ring");
        wakes[i] = bench_tsc();
        if (record && i + 1 == BENCH_WAKE_CHUNK) mark("END P9 ring %u", BENCH_WAKE_CHUNK);
        *ack = i + 1;
    }
    write_all(out, wakes, sizeof(wakes));
}

static GUID p9_guid(const char *text)
{
    GUID guid;

    if (!guid_from_text(text, &guid)) die("P9 driver: bad GUID %s", text);
    return guid;
}

static int p9_driver(const char *runtime_text, const char *instance_text)
{
    HRESULT (WINAPI *pGetVmWorkerProcess)(REFGUID, REFIID, IUnknown **);
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE), out = GetStdHandle(STD_OUTPUT_HANDLE);
    GUID runtime_id = p9_guid(runtime_text), instance_id = p9_guid(instance_text);
    IVmVirtualDeviceAccess *access;
    struct p9_command command;
    struct p9_side side;
    volatile UINT64 *ack;
    IUnknown *device;
    UINT64 value;

    mark("INIT");
    CHECK(CoInitializeEx(NULL, COINIT_MULTITHREADED));
    if (!(pGetVmWorkerProcess = (void *)GetProcAddress(LoadLibraryA("vmwpctrl.dll"), "GetVmWorkerProcess")))
        die("P9 driver: no GetVmWorkerProcess in vmwpctrl.dll");
    CHECK(pGetVmWorkerProcess(&runtime_id, &IID_IVmVirtualDeviceAccess, (IUnknown **)&access));
    CHECK(IVmVirtualDeviceAccess_GetDevice(access, &FLEXIO_DEVICE_ID, &instance_id, &device));
    CHECK(IUnknown_QueryInterface(device, &IID_IVmFiovGuestMmioMappings, (void **)&side.mappings));
    CHECK(IUnknown_QueryInterface(device, &IID_IVmFiovGuestMemoryFastNotification, (void **)&side.notification));
    IUnknown_Release(device);

    /* One section and one event serve the wake run and the timed calls. */
    p9_side_init(&side, "proxied", BENCH_P9_PAGE_PROXIED, BENCH_P9_BELL_PROXIED);
    if (!(ack = MapViewOfFile(side.section, FILE_MAP_WRITE, 0, 0, 4096))) die("MapViewOfFile failed");
    *ack = ~0ull;                   /* not ready */
    CHECK(IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(side.mappings, FIOV_BAR0, BENCH_P9_ACK_PAGE, 1,
            FiovMmioMappingFlagWriteable, side.section, 0));
    CHECK(register_doorbell(side.notification, BENCH_DOORBELL_OFF, side.event));

    value = 0;                      /* ready */
    write_all(out, &value, sizeof(value));
    while (read_all(in, &command, sizeof(command)))
    {
        if (command.code == P9_WAKE)
        {
            p9_driver_wake(side.event, ack, command.record, out);
            continue;
        }
        if (command.code > P9_WAKE) die("P9 driver: unknown command %u", command.code);
        value = p9_time_call(&side, command.code, command.record);
        write_all(out, &value, sizeof(value));
    }

    CHECK(unregister_doorbell(side.notification, BENCH_DOORBELL_OFF));
    CHECK(IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(side.mappings, FIOV_BAR0, BENCH_P9_ACK_PAGE));
    UnmapViewOfFile((void *)ack);
    p9_side_cleanup(&side);
    IVmVirtualDeviceAccess_Release(access);
    CoUninitialize();
    return 0;
}

/* The worker's end of the driver process. */
struct p9_driver
{
    HANDLE process, requests, answers;
};

static void p9_start_driver(struct p9_driver *driver, const GUID *instance_id)
{
    char cmdline[MAX_PATH + 200], exe[MAX_PATH], runtime_text[GUID_TEXT_LENGTH], instance_text[GUID_TEXT_LENGTH];
    UINT64 ready;

    CHECK(pVmidlPublishPartition(guest.partition));
    GetModuleFileNameA(NULL, exe, sizeof(exe));
    guid_to_text(&guest.runtime_id, runtime_text);
    guid_to_text(instance_id, instance_text);
    sprintf(cmdline, "\"%s\"%s p9-driver %s %s", exe, tracing ? " --trace" : "", runtime_text, instance_text);
    if (!(driver->process = start_child_process(cmdline, &driver->requests, &driver->answers)))
        die("cannot start the P9 driver process, error %lu", GetLastError());
    if (!read_all(driver->answers, &ready, sizeof(ready))) die("the P9 driver process failed to start");
}

/* The driver undoes what it did and ends when its stdin does. */
static void p9_stop_driver(struct p9_driver *driver)
{
    DWORD code = ~0u;

    CloseHandle(driver->requests);
    if (WaitForSingleObject(driver->process, 30000) || !GetExitCodeProcess(driver->process, &code) || code)
        die("the P9 driver process did not end well (exit code %#lx)", code);
    CloseHandle(driver->answers);
    CloseHandle(driver->process);
}

static UINT64 p9_remote_call(struct p9_driver *driver, enum p9_call call, BOOL record)
{
    struct p9_command command = {call, record};
    UINT64 ticks;

    write_all(driver->requests, &command, sizeof(command));
    if (!read_all(driver->answers, &ticks, sizeof(ticks))) die("P9: the driver process is gone");
    return ticks;
}

/* Calls first..last in process, then through the driver, or the other way
 * round on odd iterations: each side makes the same sequence of calls, so
 * that each sees the kernel in the same state (a KVM_IOEVENTFD deassign
 * right after another is much faster than one after an assign).  Emits
 * each call, and the pair when there are two. */
static void p9_sample(struct p9_driver *driver, const struct p9_side *local, enum p9_call first,
        enum p9_call last, unsigned int iteration, BOOL record)
{
    static const char * const sides[] = {"local", "proxied"};
    unsigned int call, side, k;
    UINT64 sum, ticks;
    char name[64];

    for (k = 0; k < 2; k++)
    {
        side = (iteration + k) % 2;
        for (call = first, sum = 0; call <= last; call++)
        {
            ticks = side ? p9_remote_call(driver, call, record) : p9_time_call(local, call, record);
            sum += ticks;
            sprintf(name, "%s_us_%s", p9_call_names[call], sides[side]);
            if (record) emit("P9", name, bench_ticks_us(ticks));
        }
        sprintf(name, "%s_%s_us_%s", p9_call_names[first], p9_call_names[last], sides[side]);
        if (record && last > first) emit("P9", name, bench_ticks_us(sum));
    }
}

/* A chunk of P1's wake run with the waiter in the driver process, which
 * acks in its section, mapped into the BAR, where the guest waits. */
static void p9_wake_chunk(struct p9_driver *driver, BOOL record)
{
    struct p9_command command = {P9_WAKE, record};
    UINT64 wakes[BENCH_WAKE_CHUNK];
    unsigned int i;

    bench_start_mode(ctl, BENCH_MODE_WAKE, BENCH_WAKE_CHUNK, BENCH_P9_BAR + BENCH_DOORBELL_OFF);
    ctl->ack_address = BENCH_P9_BAR + BENCH_P9_ACK_PAGE * 4096;
    write_all(driver->requests, &command, sizeof(command));
    if (run_guest()) die("P9: lost a doorbell");
    if (!read_all(driver->answers, wakes, sizeof(wakes))) die("P9: the driver process is gone");
    for (i = 0; record && i < BENCH_WAKE_CHUNK; i++)
        emit("P9", "wake_us", bench_ticks_us((double)wakes[i] - (double)(samples[i] - clock_offset)));
}

/* The P9 device, the worker's own interfaces to it and the driver process. */
struct p9
{
    IUnknown *device;
    struct p9_side local;
    struct p9_driver driver;
};

static void p9_start(struct p9 *p9)
{
    GUID id = instance(0x90);

    add_device(guest.partition, 0x90, BENCH_P9_BAR, BENCH_P9_BAR_SIZE, 0, 0, &p9->device);
    get_interface(guest.partition, 0x90, &IID_IVmFiovGuestMmioMappings, (void **)&p9->local.mappings);
    get_interface(guest.partition, 0x90, &IID_IVmFiovGuestMemoryFastNotification, (void **)&p9->local.notification);
    p9_side_init(&p9->local, "local", BENCH_P9_PAGE_LOCAL, BENCH_P9_BELL_LOCAL);
    p9_start_driver(&p9->driver, &id);
    /* This thread only commands the driver and waits for its answers:
     * the instrumented pass leaves it out of the driver's phases. */
    mark("ASIDE");
}

/* The calls, after the wake (in bench_p1()), all in one loop: the null
 * calls that split the others' cost see what they see (an Unregister
 * leaves the machine idle for milliseconds, and a call after that costs
 * what it costs then). */
static void bench_p9(struct p9 *p9)
{
    unsigned int i;

    for (i = 0; i < BENCH_WARMUP + BENCH_P9_CALL_SAMPLES; i++)
    {
        BOOL record = i >= BENCH_WARMUP;

        p9_sample(&p9->driver, &p9->local, P9_CREATE, P9_DESTROY, i, record);
        p9_sample(&p9->driver, &p9->local, P9_NULL, P9_NULL, i, record);
        p9_sample(&p9->driver, &p9->local, P9_NULL_HANDLE, P9_NULL_HANDLE, i, record);
        p9_sample(&p9->driver, &p9->local, P9_REGISTER, P9_UNREGISTER, i, record);
    }

    p9_stop_driver(&p9->driver);
    p9_side_cleanup(&p9->local);
    IUnknown_Release(p9->device);
}

/* --- P10: MSI -> the guest's handler; P11: aperture bandwidth --------------- */

static int deliver_msi(void *device)
{
    return FAILED(pVmidlDeliverMsi(device, BENCH_MSI_ADDRESS, BENCH_MSI_VECTOR));
}

struct msi_run
{
    IUnknown *device;
    UINT64 ticks[BENCH_P10_WARMUP + BENCH_P10_SAMPLES];
    BOOL failed;
};

static DWORD WINAPI msi_proc(void *arg)
{
    struct msi_run *run = arg;

    run->failed = bench_msi_latencies(ctl, deliver_msi, run->device, run->ticks, ARRAYSIZE(run->ticks));
    return 0;
}

/* VmidlDeliverMsi from a thread of the device's, as a device host raises
 * them, while the guest runs. */
static void bench_p10(IUnknown *device)
{
    static struct msi_run run;
    HANDLE thread;
    unsigned int i;

    run.device = device;
    bench_start_mode(ctl, BENCH_MODE_MSI, ARRAYSIZE(run.ticks), 0);
    ctl->value = BENCH_MSI_VECTOR;
    thread = start_thread(msi_proc, &run);
    if (run_guest()) die("P10: the guest gave up on an interrupt");
    join_thread(thread);
    if (run.failed) die("P10: an interrupt did not reach the guest");
    for (i = BENCH_P10_WARMUP; i < ARRAYSIZE(run.ticks); i++) emit("P10", "msi_us", bench_ticks_us(run.ticks[i]));
}

static double copy_gib_s(void *dst, const void *src, size_t size)
{
    UINT64 t0 = bench_tsc(), t1;

    memcpy(dst, src, size);
    t1 = bench_tsc();
    return size / ((t1 - t0) / tsc_hz) / (1 << 30);
}

/* The same memcpy to and from guest RAM through an aperture and through
 * the worker's own view of the RAM's section; and the copy functions. */
static void bench_p11(IUnknown *device)
{
    BYTE *ram = guest_ram(&guest, BENCH_SAMPLES), *buffer = malloc(BENCH_P11_SIZE), *aperture;
    unsigned int i;
    UINT64 t0;

    CHECK(pVmidlCreateGuestMemoryAperture(device, BENCH_SAMPLES, BENCH_P11_SIZE, FALSE, (void **)&aperture));
    memset(buffer, 0x5a, BENCH_P11_SIZE);
    memcpy(ram, buffer, BENCH_P11_SIZE);
    memcpy(buffer, aperture, BENCH_P11_SIZE);
    for (i = 0; i < BENCH_P11_REPS; i++)
    {
        /* Either order in turn: neither always finds the caches warm. */
        if (i & 1) emit("P11", "ram_read_gib_s", copy_gib_s(buffer, ram, BENCH_P11_SIZE));
        emit("P11", "aperture_read_gib_s", copy_gib_s(buffer, aperture, BENCH_P11_SIZE));
        if (!(i & 1)) emit("P11", "ram_read_gib_s", copy_gib_s(buffer, ram, BENCH_P11_SIZE));
        if (i & 1) emit("P11", "ram_write_gib_s", copy_gib_s(ram, buffer, BENCH_P11_SIZE));
        emit("P11", "aperture_write_gib_s", copy_gib_s(aperture, buffer, BENCH_P11_SIZE));
        if (!(i & 1)) emit("P11", "ram_write_gib_s", copy_gib_s(ram, buffer, BENCH_P11_SIZE));
        t0 = bench_tsc();
        CHECK(pVmidlReadGuestMemory(device, BENCH_SAMPLES, buffer, BENCH_P11_SIZE));
        emit("P11", "copy_read_gib_s", BENCH_P11_SIZE / ((bench_tsc() - t0) / tsc_hz) / (1 << 30));
        t0 = bench_tsc();
        CHECK(pVmidlWriteGuestMemory(device, BENCH_SAMPLES, buffer, BENCH_P11_SIZE));
        emit("P11", "copy_write_gib_s", BENCH_P11_SIZE / ((bench_tsc() - t0) / tsc_hz) / (1 << 30));
    }
    CHECK(pVmidlDestroyGuestMemoryAperture(device, aperture));
    free(buffer);
}

/* Which figures to run: all, or those named in the optional third argument
 * (e.g. "P4P6"), for investigating one of them. */
static const char *only;

static BOOL wanted(const char *figure)
{
    const char *found;

    if (!only) return TRUE;
    /* P1 is not P10. */
    for (found = strstr(only, figure); found; found = strstr(found + 1, figure))
        if (found[strlen(figure)] < '0' || found[strlen(figure)] > '9') return TRUE;
    return FALSE;
}

int main(int argc, char **argv)
{
    IVmFiovGuestMemoryFastNotification *notification;
    struct p9 p9;
    IVmFiovGuestMmioMappings *mappings;
    IUnknown *device;
    HMODULE module;
    unsigned int i;
    HRESULT hr;

    if (argc > 1 && !strcmp(argv[1], "--trace"))
    {
        tracing = TRUE;
        only = "P1P4P6P9";
        argc--;
        argv++;
    }
    if (argc == 4 && !strcmp(argv[1], "p9-driver")) return p9_driver(argv[2], argv[3]);
    if (argc != 3 && argc != 4)
    {
        fprintf(stderr, "usage: bench.exe [--trace] OUT.TXT ROUND [FIGURES]\n");
        return 2;
    }
    if (!(out = fopen(argv[1], "ab"))) die("cannot open %s", argv[1]);
    round_number = atoi(argv[2]);
    if (argc == 4) only = argv[3];
    /* The first marker also opens the named-object directory: here,
     * outside every counted phase. */
    mark("INIT");
    if (!guest_load_host_api()) die("vmidl.dll with the partition host API is not available");
    if ((module = LoadLibraryA("vmidltest.dll")))
        pVmidlTestGetResources = (void *)GetProcAddress(module, "VmidlTestGetResources");
    if (!pVmidlTestGetResources) fprintf(stderr, "bench.exe: vmidltest.dll missing: no thread counts\n");

    measure_tsc();
    fflush(out);    /* the file's first write (Wine then caches its fd) precedes every counted phase */
    if (FAILED(hr = guest_create_ex(&guest, &guest_image_bench, 1, NULL, GUEST_INTERRUPTS | GUEST_SECTION_RAM)))
        die("cannot create a KVM partition (hr %#lx)%s", hr,
                guest_hr_is_no_kvm(hr) ? ": /dev/kvm is missing or not accessible" : "");
    ctl = guest_ram(&guest, BENCH_CTL);
    samples = guest_ram(&guest, BENCH_SAMPLES);
    guest.entry_rdi = BENCH_CTL;
    CHECK(guest_start(&guest));

    add_device(guest.partition, 0, BENCH_D0_BAR0, BENCH_D0_BAR0_SIZE, BENCH_D0_BAR2, BENCH_BW_SIZE, &device);
    get_interface(guest.partition, 0, &IID_IVmFiovGuestMemoryFastNotification, (void **)&notification);
    get_interface(guest.partition, 0, &IID_IVmFiovGuestMmioMappings, (void **)&mappings);
    doorbell_event = CreateEventA(NULL, FALSE, FALSE, NULL);
    CHECK(register_doorbell(notification, BENCH_DOORBELL_OFF, doorbell_event));

    /* The driver process starts before the wake runs that it shares. */
    if (wanted("P9")) p9_start(&p9);
    if (wanted("P1") || wanted("P9")) bench_p1(wanted("P9") ? &p9.driver : NULL);
    if (wanted("P9")) bench_p9(&p9);
    if (wanted("P2")) bench_p2();
    if (wanted("P3")) bench_p3(mappings);
    if (wanted("P8"))
    {
        bench_p8_idle();
        bench_p8_contended();
    }
    if (wanted("P6")) bench_p6();
    if (wanted("P10")) bench_p10(device);
    if (wanted("P11")) bench_p11(device);

    IVmFiovGuestMemoryFastNotification_Release(notification);
    IVmFiovGuestMmioMappings_Release(mappings);
    guest_destroy(&guest);
    IUnknown_Release(device);
    for (i = 0; i < BENCH_STORM_DEVICES; i++) if (storm_devices[i]) IUnknown_Release(storm_devices[i]);
    for (i = 0; i < BENCH_STORM_BELLS; i++) if (storm_events[i]) CloseHandle(storm_events[i]);
    CloseHandle(doorbell_event);

    if (wanted("P4") || wanted("P7")) bench_p4();
    if (wanted("P5") || wanted("P7")) bench_p5();
    fclose(out);
    return 0;
}
