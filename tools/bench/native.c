/*
 * bench-native: the benchmark's baseline.  A plain Linux program on raw KVM
 * ioctls, no Wine, doing what vmidl does the straightforward way: the same
 * guest (tools/bench/guest.bin), page tables and register state, an
 * ioeventfd + eventfd + epoll dispatcher thread that wakes a second thread
 * through a condition variable, memslots over mmap()ed memfds.
 *
 * Usage: bench-native GUEST.BIN OUT.TXT ROUND
 * Appends "native ROUND FIGURE VARIANT VALUE" lines to OUT.TXT.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>

#include "bench.h"

static FILE *out;
static int round_number;

static int kvm_fd, vm_fd, vcpu_fd;
static struct kvm_run *run;
static unsigned char *ram;
static struct bench_ctl *ctl;
static uint64_t *samples;

static void die(const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    fprintf(stderr, "bench-native: ");
    vfprintf(stderr, fmt, args);
    if (errno) fprintf(stderr, ": %s", strerror(errno));
    fputc('\n', stderr);
    va_end(args);
    exit(1);
}

static void emit(const char *figure, const char *variant, double value)
{
    fprintf(out, "native %d %s %s %.6g\n", round_number, figure, variant, value);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void measure_tsc(void)
{
    double t0 = now_s(), t1;
    uint64_t c0 = bench_tsc(), c1;

    do t1 = now_s(); while (t1 - t0 < 0.1);
    c1 = bench_tsc();
    tsc_hz = (c1 - c0) / (t1 - t0);
    emit("P0", "tsc_mhz", tsc_hz / 1e6);
}

/* --- the VM ----------------------------------------------------------------- */

static void set_memslot(int fd, unsigned int slot, uint64_t gpa, uint64_t size, void *host)
{
    struct kvm_userspace_memory_region region =
    {
        .slot = slot, .guest_phys_addr = gpa, .memory_size = size, .userspace_addr = (uintptr_t)host,
    };
    if (ioctl(fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) die("KVM_SET_USER_MEMORY_REGION slot %u", slot);
}

static void ioeventfd(int fd, uint64_t gpa, int efd, int assign)
{
    struct kvm_ioeventfd io =
    {
        .addr = gpa, .len = 4, .fd = efd, .datamatch = BENCH_TRIGGER,
        .flags = KVM_IOEVENTFD_FLAG_DATAMATCH | (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
    };
    if (ioctl(fd, KVM_IOEVENTFD, &io) < 0) die("KVM_IOEVENTFD %s %#llx", assign ? "assign" : "deassign",
            (unsigned long long)gpa);
}

static int create_vm(void)
{
    int fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
    if (fd < 0) die("KVM_CREATE_VM");
    return fd;
}

/* The page tables of tools/guest.c: 0-4 GiB identity mapped, 2 MiB user pages. */
static void build_page_tables(unsigned char *mem)
{
    uint64_t *pml4 = (uint64_t *)(mem + 0x1000), *pdpt = (uint64_t *)(mem + 0x2000), *pd = (uint64_t *)(mem + 0x3000);
    unsigned int i;

    pml4[0] = 0x2000 | 7;
    for (i = 0; i < 4; i++) pdpt[i] = (0x3000 + i * 0x1000) | 7;
    for (i = 0; i < 4 * 512; i++) pd[i] = ((uint64_t)i << 21) | 7 | 0x80;
}

static void set_segment(struct kvm_segment *seg, uint16_t selector, unsigned int type)
{
    memset(seg, 0, sizeof(*seg));
    seg->limit = 0xffffffff;
    seg->selector = selector;
    seg->type = type;
    seg->s = 1;
    seg->dpl = 3;
    seg->present = 1;
    seg->g = 1;
    if (type == 0xb) seg->l = 1;
    else seg->db = 1;
}

static void create_guest(const char *image)
{
    struct kvm_cpuid2 *cpuid;
    struct kvm_sregs sregs;
    struct kvm_regs regs;
    int size, fd;
    ssize_t len;

    vm_fd = create_vm();
    /* Before the vCPU, which gets its local APIC with it (P10). */
    if (ioctl(vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) die("KVM_CREATE_IRQCHIP");
    ram = mmap(NULL, BENCH_RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ram == MAP_FAILED) die("mmap RAM");
    build_page_tables(ram);
    if ((fd = open(image, O_RDONLY)) < 0) die("open %s", image);
    if ((len = read(fd, ram + BENCH_CODE, BENCH_CTL - BENCH_CODE)) <= 0) die("read %s", image);
    close(fd);
    ctl = (struct bench_ctl *)(ram + BENCH_CTL);
    samples = (uint64_t *)(ram + BENCH_SAMPLES);
    set_memslot(vm_fd, 0, 0, BENCH_RAM_SIZE, ram);

    if ((vcpu_fd = ioctl(vm_fd, KVM_CREATE_VCPU, 0)) < 0) die("KVM_CREATE_VCPU");
    size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd, 0);
    if (run == MAP_FAILED) die("mmap kvm_run");
    cpuid = calloc(1, sizeof(*cpuid) + 256 * sizeof(cpuid->entries[0]));
    cpuid->nent = 256;
    if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) die("KVM_GET_SUPPORTED_CPUID");
    if (ioctl(vcpu_fd, KVM_SET_CPUID2, cpuid) < 0) die("KVM_SET_CPUID2");
    free(cpuid);

    if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0) die("KVM_GET_SREGS");
    set_segment(&sregs.cs, 0x1b, 0xb);
    set_segment(&sregs.ds, 0x23, 0x3);
    sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
    memset(&sregs.tr, 0, sizeof(sregs.tr));
    sregs.tr.limit = 0x67;
    sregs.tr.type = 11;
    sregs.tr.present = 1;
    memset(&sregs.ldt, 0, sizeof(sregs.ldt));
    sregs.ldt.unusable = 1;
    sregs.cr0 = 0x80010033;
    sregs.cr3 = 0x1000;
    sregs.cr4 = 0x20;
    sregs.efer = 0x500;
    if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0) die("KVM_SET_SREGS");
    memset(&regs, 0, sizeof(regs));
    regs.rsp = BENCH_RAM_SIZE;
    regs.rdi = BENCH_CTL;
    regs.rip = BENCH_CODE;
    regs.rflags = 0x3202;     /* IOPL 3, interrupts on */
    if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0) die("KVM_SET_REGS");
}

static uint64_t trapped_writes, roundtrip_reads;

/* Runs the guest until it reports on the done port; returns its failures.
 * Trapped MMIO is handled here, in user mode, and the guest goes on: writes
 * are counted; a dword read of the trapped page of D0's BAR0 (P8) gets the
 * number of such reads so far, any other read all ones. */
static uint64_t run_guest(void)
{
    for (;;)
    {
        if (ioctl(vcpu_fd, KVM_RUN, 0) < 0)
        {
            if (errno == EINTR || errno == EAGAIN) continue;
            die("KVM_RUN");
        }
        switch (run->exit_reason)
        {
        case KVM_EXIT_MMIO:
            if (run->mmio.is_write) trapped_writes++;
            else if (run->mmio.phys_addr == BENCH_D0_BAR0 + BENCH_TRAP_OFF && run->mmio.len == 4)
            {
                uint32_t value = ++roundtrip_reads;
                memcpy(run->mmio.data, &value, sizeof(value));
            }
            else memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
            continue;
        case KVM_EXIT_IO:
            if (run->io.port == BENCH_PORT_DONE && run->io.direction == KVM_EXIT_IO_OUT)
                return *(uint32_t *)((unsigned char *)run + run->io.data_offset);
            continue;
        case KVM_EXIT_INTR:
            continue;
        default:
            errno = 0;
            die("unexpected exit %u", run->exit_reason);
        }
    }
}

/* --- an auto-reset event: what the dispatcher wakes ------------------------ */

struct event
{
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    int signaled;
};

static void event_set(struct event *event)
{
    pthread_mutex_lock(&event->mutex);
    event->signaled = 1;
    pthread_cond_signal(&event->cond);
    pthread_mutex_unlock(&event->mutex);
}

/* 0 when woken, -1 on timeout (timeout_ms). */
static int event_wait(struct event *event, int timeout_ms)
{
    struct timespec deadline;
    int ret = 0;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += (long)timeout_ms * 1000000;
    deadline.tv_sec += deadline.tv_nsec / 1000000000;
    deadline.tv_nsec %= 1000000000;
    pthread_mutex_lock(&event->mutex);
    while (!event->signaled && !ret)
        if (pthread_cond_timedwait(&event->cond, &event->mutex, &deadline) == ETIMEDOUT) ret = -1;
    if (event->signaled) ret = 0;
    event->signaled = 0;
    pthread_mutex_unlock(&event->mutex);
    return ret;
}

/* --- the dispatcher: ioeventfd -> eventfd -> epoll -> event ---------------- */

static int doorbell_fd, dispatch_epoll, dispatch_stop_fd;
static struct event doorbell_event = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
static pthread_t dispatcher;

static void *dispatcher_proc(void *arg)
{
    struct epoll_event events[8];
    int i, count;
    uint64_t value;

    for (;;)
    {
        if ((count = epoll_wait(dispatch_epoll, events, 8, -1)) < 0)
        {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (i = 0; i < count; i++)
        {
            if (events[i].data.fd == dispatch_stop_fd) return NULL;
            if (read(events[i].data.fd, &value, sizeof(value)) == sizeof(value)) event_set(&doorbell_event);
        }
    }
}

static void dispatcher_start(void)
{
    struct epoll_event event = {.events = EPOLLIN};

    if ((doorbell_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) die("eventfd");
    if ((dispatch_stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) die("eventfd");
    ioeventfd(vm_fd, BENCH_D0_BAR0 + BENCH_DOORBELL_OFF, doorbell_fd, 1);
    if ((dispatch_epoll = epoll_create1(EPOLL_CLOEXEC)) < 0) die("epoll_create1");
    event.data.fd = doorbell_fd;
    if (epoll_ctl(dispatch_epoll, EPOLL_CTL_ADD, doorbell_fd, &event) < 0) die("epoll_ctl");
    event.data.fd = dispatch_stop_fd;
    if (epoll_ctl(dispatch_epoll, EPOLL_CTL_ADD, dispatch_stop_fd, &event) < 0) die("epoll_ctl");
    pthread_create(&dispatcher, NULL, dispatcher_proc, NULL);
}

static void dispatcher_stop(void)
{
    uint64_t one = 1;

    if (write(dispatch_stop_fd, &one, sizeof(one)) != sizeof(one)) die("write");
    pthread_join(dispatcher, NULL);
}

/* --- clocks ----------------------------------------------------------------- */

static int64_t clock_offset;    /* guest TSC - host TSC */

static volatile int host_failed;

static void *sync_proc(void *arg)
{
    if (bench_clock_ping_pong(ctl, arg)) host_failed = 1;
    return NULL;
}

static void clock_sync(const char *when)
{
    int64_t bounds[2];
    char name[64];
    pthread_t thread;

    bench_start_mode(ctl, BENCH_MODE_SYNC, BENCH_SYNC_ROUNDS, 0);
    pthread_create(&thread, NULL, sync_proc, bounds);
    if (run_guest() || host_failed) { errno = 0; die("clock sync failed"); }
    pthread_join(thread, NULL);
    clock_offset = bounds[0] / 2 + bounds[1] / 2;
    snprintf(name, sizeof(name), "clock_uncertainty_us_%s", when);
    emit("P1", name, bench_ticks_us(bounds[1] - bounds[0]) / 2);
    snprintf(name, sizeof(name), "clock_offset_ms_%s", when);
    emit("P1", name, bench_ticks_us(clock_offset) / 1e3);
}

/* --- P1 ------------------------------------------------------------------- */

/* arg: NULL for the warm-up, as bench.exe warms up (BENCH_WAKE_CHUNK samples, not recorded). */
static void *wake_proc(void *arg)
{
    uint64_t i, now, count = arg ? BENCH_P1_SAMPLES : BENCH_WAKE_CHUNK;

    for (i = 0; i < count; i++)
    {
        if (event_wait(&doorbell_event, 2000)) { host_failed = 1; return NULL; }
        now = bench_tsc();
        if (arg) emit("P1", "wake_us", bench_ticks_us(now - (samples[i] - clock_offset)));
        ctl->ack = i + 1;
    }
    return NULL;
}

static void bench_p1(void)
{
    pthread_t thread;
    int64_t before;
    int record;

    clock_sync("before");
    before = clock_offset;
    for (record = 0; record < 2; record++)
    {
        bench_start_mode(ctl, BENCH_MODE_WAKE, record ? BENCH_P1_SAMPLES : BENCH_WAKE_CHUNK,
                BENCH_D0_BAR0 + BENCH_DOORBELL_OFF);
        pthread_create(&thread, NULL, wake_proc, record ? (void *)1 : NULL);
        if (run_guest() || host_failed) { errno = 0; die("P1: lost a doorbell"); }
        pthread_join(thread, NULL);
    }
    clock_sync("after");
    emit("P1", "clock_drift_us", bench_ticks_us(clock_offset - before));
}

/* --- P2 ------------------------------------------------------------------- */

static volatile int counting;
static uint64_t counted;

static void *count_proc(void *arg)
{
    while (counting) if (!event_wait(&doorbell_event, 50)) counted++;
    return NULL;
}

static void bench_p2(void)
{
    pthread_t thread;
    unsigned int i;

    counting = 1;
    pthread_create(&thread, NULL, count_proc, NULL);
    for (i = 0; i < BENCH_P2_BATCHES; i++)
    {
        bench_start_mode(ctl, BENCH_MODE_WRITES, BENCH_P2_DOORBELLS, BENCH_D0_BAR0 + BENCH_DOORBELL_OFF);
        if (run_guest()) { errno = 0; die("P2 failed"); }
        emit("P2", "doorbell_write_us", bench_ticks_us(ctl->result) / BENCH_P2_DOORBELLS);
        bench_start_mode(ctl, BENCH_MODE_WRITES, BENCH_P2_TRAPS, BENCH_D0_BAR0 + BENCH_TRAP_OFF);
        trapped_writes = 0;
        if (run_guest() || trapped_writes != BENCH_P2_TRAPS) { errno = 0; die("P2 trapped writes failed"); }
        emit("P2", "trapped_write_us", bench_ticks_us(ctl->result) / BENCH_P2_TRAPS);
    }
    counting = 0;
    pthread_join(thread, NULL);
}

/* --- P3 ------------------------------------------------------------------- */

static void bench_p3(void)
{
    void *mem = mmap(NULL, BENCH_BW_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned int i;

    if (mem == MAP_FAILED) die("mmap");
    set_memslot(vm_fd, 1, BENCH_D0_BAR2, BENCH_BW_SIZE, mem);
    bench_start_mode(ctl, BENCH_MODE_BANDWIDTH, 0, BENCH_D0_BAR2);
    ctl->size = BENCH_BW_SIZE;
    ctl->reps = BENCH_P3_REPS;
    if (run_guest()) { errno = 0; die("P3 failed"); }
    for (i = 0; i < BENCH_P3_REPS; i++)
    {
        emit("P3", "write_gib_s", BENCH_BW_SIZE / (samples[2 * i] / tsc_hz) / (1 << 30));
        emit("P3", "read_gib_s", BENCH_BW_SIZE / (samples[2 * i + 1] / tsc_hz) / (1 << 30));
    }
    set_memslot(vm_fd, 1, BENCH_D0_BAR2, 0, mem);
    munmap(mem, BENCH_BW_SIZE);
}

/* --- P6 ------------------------------------------------------------------- */

static int storm_fds[BENCH_STORM_BELLS], storm_epoll;
static uint64_t storm_count[BENCH_STORM_BELLS];

static void *storm_proc(void *arg)
{
    struct epoll_event events[BENCH_STORM_BELLS];
    uint64_t total = 0, value;
    int i, count;

    while (total < BENCH_P6_RINGS)
    {
        if ((count = epoll_wait(storm_epoll, events, BENCH_STORM_BELLS, 2000)) <= 0)
        {
            if (count < 0 && errno == EINTR) continue;
            host_failed = 1;
            return NULL;
        }
        for (i = 0; i < count; i++)
        {
            unsigned int j = events[i].data.u32;
            if (read(storm_fds[j], &value, sizeof(value)) != sizeof(value)) continue;
            storm_count[j] += value;
            total += value;
            ctl->storm_ack[j] = storm_count[j];
        }
    }
    return NULL;
}

static void bench_p6(void)
{
    struct epoll_event event = {.events = EPOLLIN};
    unsigned int i, j, lost;
    pthread_t thread;

    if ((storm_epoll = epoll_create1(EPOLL_CLOEXEC)) < 0) die("epoll_create1");
    for (i = 0; i < BENCH_STORM_BELLS; i++)
    {
        if ((storm_fds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) die("eventfd");
        ctl->storm_addr[i] = BENCH_STORM_BASE + (i / BENCH_STORM_PER_DEV) * BENCH_STORM_STRIDE
                + (i % BENCH_STORM_PER_DEV) * 8;
        ioeventfd(vm_fd, ctl->storm_addr[i], storm_fds[i], 1);
        event.data.u32 = i;
        if (epoll_ctl(storm_epoll, EPOLL_CTL_ADD, storm_fds[i], &event) < 0) die("epoll_ctl");
    }
    for (j = 0; j < BENCH_P6_RUNS; j++)
    {
        memset(storm_count, 0, sizeof(storm_count));
        for (i = 0; i < BENCH_STORM_BELLS; i++) ctl->storm_rung[i] = ctl->storm_ack[i] = 0;
        bench_start_mode(ctl, BENCH_MODE_STORM, BENCH_P6_RINGS, 0);
        pthread_create(&thread, NULL, storm_proc, NULL);
        if (run_guest() || host_failed) { errno = 0; die("P6: lost a doorbell"); }
        pthread_join(thread, NULL);
        for (i = lost = 0; i < BENCH_STORM_BELLS; i++)
            if (ctl->storm_rung[i] != storm_count[i] || ctl->storm_ack[i] != storm_count[i]) lost++;
        emit("P6", "events_per_s", BENCH_P6_RINGS / (ctl->result / tsc_hz));
        emit("P6", "doorbells_mismatched", lost);
    }
    for (i = 0; i < BENCH_STORM_BELLS; i++) close(storm_fds[i]);   /* the VM goes with them at exit */
    close(storm_epoll);
}

/* --- P8 ------------------------------------------------------------------- */

/* Intercepted MMIO round trips, answered by run_guest() on this thread. */
static void bench_p8(void)
{
    uint64_t i;

    bench_start_mode(ctl, BENCH_MODE_ROUNDTRIP, BENCH_P8_SAMPLES, BENCH_D0_BAR0 + BENCH_TRAP_OFF);
    ctl->reps = BENCH_P8_PERIOD_US * tsc_hz / 1e6;
    roundtrip_reads = 0;
    errno = 0;
    if (run_guest()) die("P8: an intercepted read got a wrong answer");
    if (ctl->result != BENCH_P8_SAMPLES || roundtrip_reads != BENCH_P8_SAMPLES)
        die("P8: %llu samples, %llu reads answered", (unsigned long long)ctl->result,
                (unsigned long long)roundtrip_reads);
    for (i = 0; i < BENCH_P8_SAMPLES; i++) emit("P8", "roundtrip_us", bench_ticks_us(samples[i]));
}

/* --- P4: memslots ------------------------------------------------------------ */

static unsigned int count_threads(void)
{
    struct dirent *entry;
    unsigned int count = 0;
    DIR *dir = opendir("/proc/self/task");

    while (dir && (entry = readdir(dir))) if (entry->d_name[0] != '.') count++;
    if (dir) closedir(dir);
    return count;
}

static double rss_kib(void)
{
    char line[256];
    double kib = 0;
    FILE *status = fopen("/proc/self/status", "r");

    while (status && fgets(line, sizeof(line), status))
        if (!strncmp(line, "VmRSS:", 6)) kib = atof(line + 6);
    if (status) fclose(status);
    return kib;
}

/* One VM per live count, so that samples at every count interleave and
 * drifting machine load cannot pass for a dependence on the count.  Each
 * VM has one vCPU that never runs, as the project's partitions do. */
static int create_vm_with_vcpu(void)
{
    int fd = create_vm();
    if (ioctl(fd, KVM_CREATE_VCPU, 0) < 0) die("KVM_CREATE_VCPU");
    return fd;
}

#define P4_COUNTS (sizeof(bench_p4_counts) / sizeof(bench_p4_counts[0]))
#define P5_COUNTS (sizeof(bench_p5_counts) / sizeof(bench_p5_counts[0]))

static void bench_p4(void)
{
    int memfd = memfd_create("bench-range", MFD_CLOEXEC), fds[P4_COUNTS];
    unsigned int c, i, live;
    char name[64];
    void *page;

    if (memfd < 0 || ftruncate(memfd, 4096) < 0) die("memfd");
    for (c = 0; c < P4_COUNTS; c++)
    {
        double rss = rss_kib();

        fds[c] = create_vm_with_vcpu();
        for (live = 0; live < bench_p4_counts[c]; live++)
        {
            if ((page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0)) == MAP_FAILED) die("mmap");
            set_memslot(fds[c], 1 + live, BENCH_P4_BAR + (1 + live) * 4096ull, 4096, page);
            if (live + 1 == 1000 && bench_p4_counts[c] >= 2000)
            {
                emit("P7", "rss_kib_first_1000_ranges", rss_kib() - rss);
                rss = rss_kib();
            }
            if (live + 1 == 2000) emit("P7", "rss_kib_per_1000_ranges", rss_kib() - rss);
        }
    }
    for (i = 0; i < BENCH_WARMUP + BENCH_P4_SAMPLES; i++)
    {
        for (c = 0; c < P4_COUNTS; c++)
        {
            uint64_t t0 = bench_tsc(), t1;

            /* The straightforward way to map a file into a guest. */
            if ((page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0)) == MAP_FAILED) die("mmap");
            set_memslot(fds[c], 30000, BENCH_P4_BAR, 4096, page);
            set_memslot(fds[c], 30000, BENCH_P4_BAR, 0, page);
            munmap(page, 4096);
            t1 = bench_tsc();
            snprintf(name, sizeof(name), "create_destroy_us_%u", bench_p4_counts[c]);
            if (i >= BENCH_WARMUP) emit("P4", name, bench_ticks_us(t1 - t0));

            /* The memslot ioctls alone, on a mapping made beforehand. */
            if ((page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0)) == MAP_FAILED) die("mmap");
            t0 = bench_tsc();
            set_memslot(fds[c], 30000, BENCH_P4_BAR, 4096, page);
            set_memslot(fds[c], 30000, BENCH_P4_BAR, 0, page);
            t1 = bench_tsc();
            munmap(page, 4096);
            snprintf(name, sizeof(name), "ioctls_only_us_%u", bench_p4_counts[c]);
            if (i >= BENCH_WARMUP) emit("P4", name, bench_ticks_us(t1 - t0));
        }
    }
    for (c = 0; c < P4_COUNTS; c++) close(fds[c]);  /* drops every memslot; the mappings go at exit */
    close(memfd);
}

/* --- P5: ioeventfds ----------------------------------------------------------- */

static void bench_p5(void)
{
    unsigned int c, i, live;
    int fds[P5_COUNTS], efd;
    char name[64];

    for (c = 0; c < P5_COUNTS; c++)
    {
        double rss;

        fds[c] = create_vm_with_vcpu();
        if (bench_p5_counts[c] == 1000) emit("P7", "threads_with_0_doorbells", count_threads());
        rss = rss_kib();
        for (live = 0; live < bench_p5_counts[c]; live++)
        {
            if ((efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) die("eventfd");
            ioeventfd(fds[c], BENCH_P5_BAR + (1 + live) * 8ull, efd, 1);
        }
        if (bench_p5_counts[c] == 1000)
        {
            emit("P7", "rss_kib_first_1000_doorbells", rss_kib() - rss);
            emit("P7", "threads_with_1000_doorbells", count_threads());
            rss = rss_kib();
            for (live = 0; live < 1000; live++)
            {
                if ((efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) die("eventfd");
                ioeventfd(fds[c], BENCH_P5_BAR + BENCH_P5_BAR_SIZE + (1 + live) * 8ull, efd, 1);
            }
            emit("P7", "rss_kib_per_1000_doorbells", rss_kib() - rss);
        }
    }
    for (i = 0; i < BENCH_P5_SAMPLES; i++)
    {
        for (c = 0; c < P5_COUNTS; c++)
        {
            uint64_t t0 = bench_tsc();

            if ((efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) die("eventfd");
            ioeventfd(fds[c], BENCH_P5_BAR, efd, 1);
            ioeventfd(fds[c], BENCH_P5_BAR, efd, 0);
            close(efd);
            snprintf(name, sizeof(name), "register_unregister_us_%u", bench_p5_counts[c]);
            emit("P5", name, bench_ticks_us(bench_tsc() - t0));
        }
    }
    for (c = 0; c < P5_COUNTS; c++) close(fds[c]);  /* no grace period per ioeventfd */
}

/* --- P10: MSIs --------------------------------------------------------------- */

static int signal_msi(void *context)
{
    struct kvm_msi msi = {.address_lo = (uint32_t)BENCH_MSI_ADDRESS, .data = BENCH_MSI_VECTOR};

    return ioctl(vm_fd, KVM_SIGNAL_MSI, &msi) < 0;
}

static uint64_t msi_ticks[BENCH_P10_WARMUP + BENCH_P10_SAMPLES];
static int msi_failed;

static void *msi_proc(void *arg)
{
    msi_failed = bench_msi_latencies(ctl, signal_msi, NULL, msi_ticks, BENCH_P10_WARMUP + BENCH_P10_SAMPLES);
    return NULL;
}

static void bench_p10(void)
{
    pthread_t thread;
    unsigned int i;

    bench_start_mode(ctl, BENCH_MODE_MSI, BENCH_P10_WARMUP + BENCH_P10_SAMPLES, 0);
    ctl->value = BENCH_MSI_VECTOR;
    if (pthread_create(&thread, NULL, msi_proc, NULL)) die("pthread_create");
    if (run_guest()) die("P10: the guest gave up on an interrupt");
    pthread_join(thread, NULL);
    if (msi_failed) die("P10: an interrupt did not reach the guest");
    for (i = BENCH_P10_WARMUP; i < BENCH_P10_WARMUP + BENCH_P10_SAMPLES; i++)
        emit("P10", "msi_us", bench_ticks_us(msi_ticks[i]));
}

int main(int argc, char **argv)
{
    if (argc != 4)
    {
        fprintf(stderr, "usage: bench-native GUEST.BIN OUT.TXT ROUND\n");
        return 2;
    }
    if (!(out = fopen(argv[2], "a"))) die("open %s", argv[2]);
    round_number = atoi(argv[3]);
    if ((kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC)) < 0) die("open /dev/kvm");

    measure_tsc();
    create_guest(argv[1]);
    dispatcher_start();
    bench_p1();
    bench_p2();
    bench_p3();
    bench_p8();
    bench_p6();
    bench_p10();
    dispatcher_stop();
    bench_p4();
    bench_p5();
    fclose(out);
    return 0;
}
