/*
 * The PCI guest: a small driver for the device.  It finds the
 * device on the ECAM bus by its IDs, sizes and places its BARs, checks
 * that memory decoding takes them away and brings them back, walks the
 * capability list, sets up MSI and counts interrupts, and hands the
 * device a descriptor ring whose results it checks byte by byte.  After
 * each phase it reports to the host on PCI_GUEST_PORT.  Freestanding,
 * at CPL3, with the page tables of tools/guest.h (0-4 GiB identity).  The
 * host starts it with interrupts on (IF, tools/guest.c).
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "pci.h"

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define PCI_COMMAND         0x04
#define PCI_COMMAND_MEMORY  0x2
#define PCI_STATUS          0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_BAR0            0x10
#define PCI_CAP_POINTER     0x34
#define PCI_CAP_ID_MSI      0x05
#define PCI_MSI_64BIT       0x80
#define PCI_MSI_ENABLE      0x1

#define LAPIC_SVR           0xfee000f0ull

extern void pci_irq_entry(void);
extern volatile u64 *pci_irq_counter;

static struct pci_guest *block;
static u64 function_base;       /* ECAM address of the device's config space */

static void out32(u16 port, u32 value)
{
    __asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port) : "memory");
}

static void report(u32 phase)
{
    block->phase = phase;
    out32(PCI_GUEST_PORT, phase);
}

static void fail(void)
{
    out32(PCI_GUEST_PORT, PCI_PHASE_FAILED);
    for (;;) __asm__ volatile("pause");
}

/* For each turn of a wait: now and then tells the host that the guest
 * still waits, and gives up (fails) when the host says so. */
static void keep_waiting(u32 *spins)
{
    __asm__ volatile("pause");
    if (++*spins & 0xfffff) return;
    out32(PCI_GUEST_PORT_WAITING, block->phase);
    if (block->give_up) fail();
}

static void wait_for(volatile const u64 *value, u64 target)
{
    u32 spins = 0;

    while (*value < target) keep_waiting(&spins);
}

static u32 cfg_read(u64 base, u32 offset, u32 size)
{
    volatile void *p = (volatile void *)(base + offset);

    if (size == 1) return *(volatile u8 *)p;
    if (size == 2) return *(volatile u16 *)p;
    return *(volatile u32 *)p;
}

static void cfg_write(u64 base, u32 offset, u32 size, u32 value)
{
    volatile void *p = (volatile void *)(base + offset);

    if (size == 1) *(volatile u8 *)p = value;
    else if (size == 2) *(volatile u16 *)p = value;
    else *(volatile u32 *)p = value;
}

static void set_memory_decode(int on)
{
    u16 command = cfg_read(function_base, PCI_COMMAND, 2);

    command = on ? command | PCI_COMMAND_MEMORY : command & ~PCI_COMMAND_MEMORY;
    cfg_write(function_base, PCI_COMMAND, 2, command);
}

static void scan(void)
{
    u32 number;

    block->device_number = ~0u;
    for (number = 0; number < 32; number++)
    {
        u64 base = block->ecam + ((u64)number << 15);
        u32 ids = cfg_read(base, 0, 4);

        if ((ids & 0xffff) == 0xffff) continue;
        block->functions++;
        if (ids != block->ids) continue;
        block->device_number = number;
        function_base = base;
    }
    report(PCI_PHASE_FOUND);
    if (block->device_number == ~0u) fail();
}

/* Sizing with all ones, with decoding off as a driver does it. */
static void size_and_place(void)
{
    u32 i;

    set_memory_decode(0);
    for (i = 0; i < 6; i++)
    {
        u32 reg = PCI_BAR0 + i * 4, low = cfg_read(function_base, reg, 4), high = 0, mask_high = 0, mask_low;
        int is_64bit = (low & 0x6) == 0x4;

        cfg_write(function_base, reg, 4, ~0u);
        mask_low = cfg_read(function_base, reg, 4);
        cfg_write(function_base, reg, 4, low);
        if (is_64bit)
        {
            high = cfg_read(function_base, reg + 4, 4);
            cfg_write(function_base, reg + 4, 4, ~0u);
            mask_high = cfg_read(function_base, reg + 4, 4);
            cfg_write(function_base, reg + 4, 4, high);
        }
        if (!mask_low) continue;
        block->bar_size[i] = ~(((u64)mask_high << 32 | (mask_low & ~0xfu)) | (is_64bit ? 0 : 0xffffffff00000000ull)) + 1;
        if (is_64bit) block->bar_64bit |= 1u << i;
        if (block->bar_place[i])
        {
            cfg_write(function_base, reg, 4, (u32)block->bar_place[i]);
            if (is_64bit) cfg_write(function_base, reg + 4, 4, block->bar_place[i] >> 32);
        }
        if (is_64bit) i++;
    }
    set_memory_decode(1);
    report(PCI_PHASE_PLACED);
}

/* With decoding off the read leaves the device: the host sees it and it
 * reads all ones. */
static void toggle_decode(void)
{
    volatile u32 *magic = (volatile u32 *)(block->bar_place[0] + PCI_DEV_REG_MAGIC);

    block->decode_reads[0] = *magic;
    set_memory_decode(0);
    block->decode_reads[1] = *magic;
    set_memory_decode(1);
    block->decode_reads[2] = *magic;
    report(PCI_PHASE_DECODE);
}

static void walk_capabilities(void)
{
    u32 offset;

    if (cfg_read(function_base, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST)
    {
        for (offset = cfg_read(function_base, PCI_CAP_POINTER, 1) & ~3u; offset && block->cap_count < 16;
                offset = cfg_read(function_base, offset + 1, 1) & ~3u)
        {
            u32 id = cfg_read(function_base, offset, 1);

            block->cap_ids[block->cap_count++] = id;
            if (id == PCI_CAP_ID_MSI && !block->msi_offset) block->msi_offset = offset;
        }
    }
    report(PCI_PHASE_CAPS);
}

/* The IDT and GDT are at linear address 0 (VMIDL_VP_REGISTERS): a DPL-3
 * trap gate to the CPL3 handler, and the CPL3 code and data descriptors
 * that the interrupt and iretq use, whose selectors the guest runs with. */
static void set_up_interrupts(void)
{
    u64 tables = 0, handler = (u64)pci_irq_entry;
    volatile u64 *gdt, *gate;

    __asm__("" : "+r"(tables));         /* address 0 is where they are, not a null pointer */
    gdt = (volatile u64 *)tables;
    gate = (volatile u64 *)(tables + block->vector * 16);

    gdt[3] = 0x00affa000000ffffull;     /* 0x1b: 64-bit code, DPL 3 */
    gdt[4] = 0x00cff2000000ffffull;     /* 0x23: data, DPL 3 */
    gate[0] = (handler & 0xffff) | (u64)0x1b << 16 | (u64)0xef << 40 | (handler >> 16 & 0xffff) << 48;
    gate[1] = handler >> 32;
    pci_irq_counter = &block->irq_count;
    *(volatile u32 *)LAPIC_SVR = 0x1ff;        /* software-enabled, spurious vector 0xff */
}

static void set_up_msi(void)
{
    u32 control, data_offset;

    if (!block->msi_offset) fail();
    set_up_interrupts();
    control = cfg_read(function_base, block->msi_offset + 2, 2);
    cfg_write(function_base, block->msi_offset + 4, 4, 0xfee00000);      /* APIC ID 0, physical */
    data_offset = 8;
    if (control & PCI_MSI_64BIT)
    {
        cfg_write(function_base, block->msi_offset + 8, 4, 0);
        data_offset = 12;
    }
    cfg_write(function_base, block->msi_offset + data_offset, 2, block->vector);
    cfg_write(function_base, block->msi_offset + 2, 2, control | PCI_MSI_ENABLE);
    block->msi_control = cfg_read(function_base, block->msi_offset + 2, 2);
    report(PCI_PHASE_MSI);
}

static void count_interrupts(void)
{
    volatile u64 *doorbell = (volatile u64 *)(block->bar_place[2] + PCI_DEV_DOORBELL_IRQS);

    *doorbell = 1;
    wait_for(&block->irq_count, block->irq_wanted);
    report(PCI_PHASE_IRQS);
}

static void run_ring(void)
{
    struct pci_desc *ring = (struct pci_desc *)PCI_GUEST_RING;
    struct pci_used *used = (struct pci_used *)PCI_GUEST_USED;
    volatile u64 *doorbell = (volatile u64 *)(block->bar_place[2] + PCI_DEV_DOORBELL_RING);
    u64 irqs_before = block->irq_count;
    u32 i, j, index, spins = 0;

    for (i = 0; i < block->ring_size; i++)
    {
        u8 *in = (u8 *)(PCI_GUEST_IN + (u64)i * 0x1000), *out = (u8 *)(PCI_GUEST_OUT + (u64)i * 0x1000);

        ring[i].in = (u64)in;
        ring[i].out = (u64)out;
        ring[i].length = 0x1000 - i * 8;
        ring[i].id = 0x100 + i;
        for (j = 0; j < 0x1000; j++)
        {
            in[j] = (u8)(i * 31 + j * 7);
            out[j] = 0xee;
        }
    }
    used->index = 0;
    *doorbell = block->ring_size;

    while (used->index < block->ring_size) keep_waiting(&spins);
    /* The device interrupts after it completes. */
    wait_for(&block->irq_count, irqs_before + 1);
    block->ring_irqs = block->irq_count - irqs_before;

    for (index = 0; index < block->ring_size; index++)
    {
        u32 id = used->elem[index].id, sum = 0;
        const u8 *in, *out;

        i = id - 0x100;
        if (i >= block->ring_size)
        {
            block->ring_errors++;
            continue;
        }
        in = (const u8 *)ring[i].in;
        out = (const u8 *)ring[i].out;
        for (j = 0; j < 0x1000; j++)
        {
            if (j < ring[i].length)
            {
                sum += in[j];
                if (out[j] != PCI_DEV_TRANSFORM(in[j], j, id)) block->ring_errors++;
            }
            else if (out[j] != 0xee) block->ring_errors++;     /* past the length: untouched */
        }
        if (sum != used->elem[index].sum) block->ring_errors++;
    }
    report(PCI_PHASE_RING);
}

void pci_main(struct pci_guest *guest)
{
    block = guest;
    scan();
    size_and_place();
    toggle_decode();
    walk_capabilities();
    set_up_msi();
    count_interrupts();
    run_ring();
    for (;;) __asm__ volatile("pause");
}
