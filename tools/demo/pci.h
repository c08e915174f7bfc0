/*
 * What the PCI test guest (tools/demo/pci_guest.c) and its host (tests/pci.c,
 * tests/pci_device.c) share: where things are in guest RAM, the block
 * the host fills in and the guest reports in, and the device's
 * registers.  Included by the freestanding guest and by PE code alike.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_DEMO_PCI_H
#define __VMIDL_DEMO_PCI_H

#define PCI_GUEST_BLOCK     0x200000    /* struct pci_guest */
#define PCI_GUEST_RING      0x210000    /* struct pci_desc[PCI_RING_MAX] */
#define PCI_GUEST_USED      0x211000    /* struct pci_used */
#define PCI_GUEST_IN        0x220000    /* a page of input per descriptor */
#define PCI_GUEST_OUT       0x260000    /* a page of output per descriptor */
#define PCI_GUEST_RAM_END   0x2a0000    /* the device reaches [PCI_GUEST_RING, PCI_GUEST_RAM_END) */
#define PCI_RING_MAX        64

/* The guest's OUT to this port says which phase it finished; to the
 * next, that it is still waiting (the host then sets give_up if the wait
 * has gone on too long). */
#define PCI_GUEST_PORT      0x20
#define PCI_GUEST_PORT_WAITING 0x21

enum pci_guest_phase
{
    PCI_PHASE_FOUND = 1,        /* scanned the bus */
    PCI_PHASE_PLACED,           /* sized and placed the BARs, decoding */
    PCI_PHASE_DECODE,           /* read BAR0 with decoding on, off, on */
    PCI_PHASE_CAPS,             /* walked the capability list */
    PCI_PHASE_MSI,              /* set up MSI and took interrupts on */
    PCI_PHASE_IRQS,             /* counted the interrupts it asked for */
    PCI_PHASE_RING,             /* checked the ring's completions */
    PCI_PHASE_FAILED = 0xff,    /* a wait ran out; phase says where */
};

/* The test device's BARs: BAR0 64 KiB, a 64-bit BAR (no BAR1); BAR2 and
 * BAR3 one page each, BAR2 32-bit (BAR3 follows it), BAR3 64-bit. */
#define PCI_DEV_BAR0_SIZE   0x10000
#define PCI_DEV_BAR2_SIZE   0x1000
#define PCI_DEV_BAR3_SIZE   0x1000
/* BAR0 registers, answered by the worker's MMIO callback. */
#define PCI_DEV_REG_MAGIC   0x10        /* reads PCI_DEV_MAGIC */
#define PCI_DEV_MAGIC       0x44494350  /* "PCID" */
/* BAR2 doorbells, served by the device's engine (any value, qword). */
#define PCI_DEV_DOORBELL_IRQS 0x0       /* raise irq_wanted interrupts, one at a time */
#define PCI_DEV_DOORBELL_RING 0x8       /* process ring_size descriptors */

struct pci_desc
{
    unsigned long long in;      /* guest address of the input */
    unsigned long long out;     /* ... of where the output goes */
    unsigned int length;        /* bytes, at most a page */
    unsigned int id;
};

struct pci_used
{
    volatile unsigned int index;        /* completions written so far */
    unsigned int pad;
    struct
    {
        unsigned int id;
        unsigned int sum;       /* of the input's bytes */
    } elem[PCI_RING_MAX];
};

/* What the device writes for input byte b at position i of descriptor id. */
#define PCI_DEV_TRANSFORM(b, i, id) ((unsigned char)((b) ^ (id) ^ ((i) >> 8)))

struct pci_guest
{
    /* From the host. */
    unsigned long long ecam;
    unsigned int ids;           /* vendor ID | device ID << 16 */
    unsigned int vector;
    unsigned long long bar_place[6];    /* where the guest puts each BAR */
    unsigned int irq_wanted;
    unsigned int ring_size;
    volatile unsigned int give_up;
    unsigned int pad;
    /* From the guest. */
    unsigned int phase;
    unsigned int device_number; /* ~0: not found */
    unsigned int functions;     /* how many devices answered on the bus */
    unsigned int bar_64bit;     /* bit i: BAR i is a 64-bit BAR */
    unsigned long long bar_size[6];
    unsigned long long decode_reads[3];     /* BAR0 magic: decoding on, off, on again */
    unsigned int cap_count;
    unsigned char cap_ids[16];
    unsigned int msi_offset;
    unsigned int msi_control;
    volatile unsigned long long irq_count;  /* the interrupt handler's */
    unsigned int ring_errors;   /* bytes or completions that were wrong */
    unsigned int ring_irqs;     /* interrupts taken while the ring ran */
};

#endif /* __VMIDL_DEMO_PCI_H */
