/*
 * Shared by the benchmark's two hosts, bench.exe (the project, a Windows
 * program under Wine) and bench-native (plain Linux C on raw KVM ioctls):
 * the guest physical layout, the control block that drives the bench guest
 * (tools/bench/guest.S; keep the offsets in step), and the device layout.
 *
 * Guest physical layout (same page tables as tools/guest.h):
 *   0x001000 page tables        0x010000 guest code
 *   0x100000 control block      0x200000 samples (u64 each)
 *   0x400000 stack top (end of RAM)
 *   0xc0000000 device D0: BAR0 64 KiB (doorbell at +0, trapped MMIO at +0x1000)
 *   0xc0200000 device D0: BAR2 1 MiB (section-backed range / RAM memslot, P3)
 *   0xc1000000 + k * 0x10000: storm devices k = 0..7, BAR0 64 KiB,
 *              doorbells at +j * 8, j = 0..7 (P6)
 *   0xc2000000 P8: the device released while the guest takes intercepted
 *              MMIO (BAR0 64 KiB, 1,024 doorbells at +j * 8)
 *   0xc3000000 P8: the device whose BAR0 (64 KiB: doorbells on page 0,
 *              ranges on pages 1-4) moves to 0xc3100000 and back meanwhile
 *   0xc4000000 P9: the device of the driver in another process (BAR0
 *              64 KiB): its doorbell at +0, the page of its section that
 *              holds the ack at +0x1000; the timed calls on pages 2-4 and
 *              doorbells at +8 and +16 (see BENCH_P9_*)
 *   0xd0000000 the P4 device's BAR0 (32 MiB), 0xe0000000 the P5 device's BAR0
 *
 * Both hosts give the guest an in-kernel interrupt controller (P10) and
 * start it with interrupts on (IF); the project's guest RAM is a section,
 * which apertures map (P11).
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_BENCH_H
#define __VMIDL_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <x86intrin.h>

#define BENCH_RAM_SIZE      0x400000
#define BENCH_CODE          0x010000
#define BENCH_CTL           0x100000
#define BENCH_SAMPLES       0x200000
#define BENCH_MAX_SAMPLES   ((0x3f0000 - BENCH_SAMPLES) / 8)
#define BENCH_PORT_DONE     0x10

#define BENCH_D0_BAR0       0xc0000000ull
#define BENCH_D0_BAR0_SIZE  0x10000ull
#define BENCH_DOORBELL_OFF  0x0
#define BENCH_TRAP_OFF      0x1000
#define BENCH_D0_BAR2       0xc0200000ull
#define BENCH_BW_SIZE       0x100000ull
#define BENCH_STORM_BASE    0xc1000000ull
#define BENCH_STORM_STRIDE  0x10000ull
#define BENCH_STORM_DEVICES 8
#define BENCH_STORM_PER_DEV 8
#define BENCH_STORM_BELLS   (BENCH_STORM_DEVICES * BENCH_STORM_PER_DEV)
#define BENCH_P4_BAR        0xd0000000ull
#define BENCH_P4_BAR_SIZE   0x2000000ull
#define BENCH_P5_BAR        0xe0000000ull
#define BENCH_P5_BAR_SIZE   0x10000ull
#define BENCH_P8_VICTIM_BAR 0xc2000000ull
#define BENCH_P8_MOVER_BAR  0xc3000000ull
#define BENCH_P8_MOVER_ALT  0xc3100000ull
#define BENCH_P8_BAR_SIZE   0x10000ull
#define BENCH_P9_BAR        0xc4000000ull
#define BENCH_P9_BAR_SIZE   0x10000ull
#define BENCH_P9_ACK_PAGE   1           /* the driver's section: the ack the guest waits for at +0 */
#define BENCH_P9_PAGE_PROXIED 2         /* timed Create/Destroy through the proxies */
#define BENCH_P9_PAGE_LOCAL 3           /* the same in process */
#define BENCH_P9_PAGE_EMPTY 4           /* no range ever: Destroy there is the null call */
#define BENCH_P9_BELL_PROXIED 8         /* timed Register/Unregister through the proxies */
#define BENCH_P9_BELL_LOCAL 16          /* the same in process */
#define BENCH_P9_RESERVED_FLAG 0x100    /* a doorbell flag that RegisterDoorbell refuses */
#define BENCH_TRIGGER       1           /* every doorbell: dword, value 1 */

enum bench_mode
{
    BENCH_MODE_NONE,
    BENCH_MODE_SYNC,        /* clock ping-pong: count rounds */
    BENCH_MODE_WAKE,        /* P1, P9: wait for *ack_address == 0, then count times: rdtsc ->
                             * samples[i], ring, wait for *ack_address == i + 1 */
    BENCH_MODE_WRITES,      /* P2: count dword writes of value to address; result = TSC */
    BENCH_MODE_BANDWIDTH,   /* P3: touch, then reps x (rep stosq, 8-byte reads) */
    BENCH_MODE_STORM,       /* P6: count rings over the 64 storm doorbells */
    BENCH_MODE_ROUNDTRIP,   /* P8: samples[i] = ticks of one intercepted dword read at
                             * address, which the host answers with i + 1; a sample
                             * starts every reps ticks at most; stops after count
                             * samples or once host_seq != 0; guest_seq = samples
                             * taken so far, result = samples taken */
    BENCH_MODE_MSI,         /* P10: set up interrupts at vector value, then take count of
                             * them; the handler counts them in guest_seq */
};

/* At BENCH_CTL.  Lines the guest and the host both write are apart. */
struct bench_ctl
{
    uint64_t mode;          /* 0x00 */
    uint64_t count;         /* 0x08 */
    uint64_t address;       /* 0x10 */
    uint64_t value;         /* 0x18 */
    uint64_t size;          /* 0x20 */
    uint64_t reps;          /* 0x28 */
    uint64_t result;        /* 0x30: TSC ticks (guest) */
    uint64_t failures;      /* 0x38: timeouts seen by the guest */
    volatile uint64_t ack;  /* 0x40: host -> guest */
    uint64_t ack_address;   /* 0x48: where BENCH_MODE_WAKE waits (&ack, or a BAR page) */
    uint64_t pad1[6];
    volatile uint64_t guest_seq;    /* 0x80 */
    volatile uint64_t guest_tsc;    /* 0x88 */
    uint64_t pad2[6];
    volatile uint64_t host_seq;     /* 0xc0 */
    uint64_t pad3[7];
    uint64_t storm_addr[64];        /* 0x100 */
    volatile uint64_t storm_rung[64];   /* 0x300: guest-owned */
    volatile uint64_t storm_ack[64];    /* 0x500: host-owned */
};

/* Samples per round; the driver runs several rounds of each side. */
#define BENCH_SYNC_ROUNDS   400     /* clock ping-pongs, before and after P1 */
#define BENCH_P1_SAMPLES    2000
#define BENCH_WAKE_CHUNKS   8       /* bench.exe runs P1 and P9 in chunks, interleaved; both sides
                                     * first run one chunk that is not recorded, to warm up */
#define BENCH_WAKE_CHUNK    (BENCH_P1_SAMPLES / BENCH_WAKE_CHUNKS)
#define BENCH_P2_BATCHES    20
#define BENCH_P2_DOORBELLS  200     /* doorbell or ioeventfd writes per batch */
#define BENCH_P2_TRAPS      50      /* trapped MMIO writes per batch */
#define BENCH_P3_REPS       10
#define BENCH_P4_SAMPLES    30      /* per live-range count */
#define BENCH_WARMUP        5       /* P4 operations not recorded, per count */
#define BENCH_P5_SAMPLES    16      /* per live-doorbell count: ~8 ms each */
#define BENCH_P6_RUNS       4
#define BENCH_P6_RINGS      3200    /* per run, over the 64 doorbells */
#define BENCH_P8_SAMPLES    2000    /* idle round trips per round */
#define BENCH_P8_PERIOD_US  100     /* at most one round trip started per period */
#define BENCH_P8_WARMUP     50      /* round trips before the disturbance starts */
#define BENCH_P8_DOORBELLS  1024    /* on the device released meanwhile */
#define BENCH_P8_MOVER_RANGES 4     /* and on the device whose BAR moves */
#define BENCH_P8_MOVER_DOORBELLS 4
#define BENCH_REQUEST_SAMPLES 8     /* timed SetEvent calls per P4 iteration */
#define BENCH_P9_CALL_SAMPLES 40    /* of each call, each side (an Unregister takes ~8 ms) */
#define BENCH_P10_SAMPLES   2000    /* MSIs, each after the guest took the one before */
#define BENCH_P10_WARMUP    50
#define BENCH_MSI_ADDRESS   0xfee00000ull       /* APIC ID 0 */
#define BENCH_MSI_VECTOR    0x40
#define BENCH_P11_SIZE      0x100000ull         /* copied from and to guest RAM at BENCH_SAMPLES */
#define BENCH_P11_REPS      20


static const unsigned int bench_p4_counts[] = {0, 100, 1000, 4000};
static const unsigned int bench_p5_counts[] = {0, 100, 1000};

/* The host's TSC, fenced so that it times exactly what lies between two
 * reads; both hosts measure its rate into tsc_hz at start-up. */
static double tsc_hz;

static inline uint64_t bench_tsc(void)
{
    uint64_t t;

    _mm_lfence();
    t = __rdtsc();
    _mm_lfence();
    return t;
}

static inline double bench_ticks_us(double ticks)
{
    return ticks * 1e6 / tsc_hz;
}

static inline void bench_start_mode(struct bench_ctl *ctl, enum bench_mode mode, uint64_t count, uint64_t address)
{
    ctl->result = 0;
    ctl->mode = mode;
    ctl->count = count;
    ctl->address = address;
    ctl->value = BENCH_TRIGGER;
    ctl->ack = 0;
    ctl->ack_address = BENCH_CTL + offsetof(struct bench_ctl, ack);
    ctl->guest_seq = ctl->host_seq = 0;
}

/* The host's half of BENCH_MODE_SYNC, on a thread of its own while the
 * guest runs: bounds[0] <= guest TSC - host TSC <= bounds[1], from the
 * tightest of BENCH_SYNC_ROUNDS ping-pongs.  Returns 0, or -1 when the
 * guest stopped answering. */
static inline int bench_clock_ping_pong(struct bench_ctl *ctl, int64_t *bounds)
{
    int64_t lo = INT64_MIN, hi = INT64_MAX;
    uint64_t i, t0, t2, spin;

    for (i = 1; i <= BENCH_SYNC_ROUNDS; i++)
    {
        t0 = bench_tsc();
        ctl->host_seq = i;
        for (spin = 0; ctl->guest_seq != i; spin++)
            if (spin > 1000000000) return -1;
        t2 = bench_tsc();
        if ((int64_t)(ctl->guest_tsc - t2) > lo) lo = ctl->guest_tsc - t2;
        if ((int64_t)(ctl->guest_tsc - t0) < hi) hi = ctl->guest_tsc - t0;
    }
    bounds[0] = lo;
    bounds[1] = hi;
    return 0;
}

/* P10's host side, the same in both hosts: deliver() raises one MSI; the
 * sample is the TSC ticks until the host sees the guest's handler count it. */
static inline int bench_msi_latencies(struct bench_ctl *ctl, int (*deliver)(void *), void *context, uint64_t *ticks,
        unsigned int count)
{
    uint64_t i, t0, spin;

    for (spin = 0; !*(volatile uint64_t *)&ctl->result; spin++)
        if (spin > 1000000000) return -1;
    for (i = 0; i < count; i++)
    {
        t0 = bench_tsc();
        if (deliver(context)) return -1;
        for (spin = 0; ctl->guest_seq != i + 1; spin++)
            if (spin > 1000000000) return -1;
        ticks[i] = bench_tsc() - t0;
    }
    return 0;
}

#endif /* __VMIDL_BENCH_H */
