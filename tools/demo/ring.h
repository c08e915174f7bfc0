/*
 * The demo device's shared ring, in the section-backed first pages of BAR0.
 * tools/demo/ring.S uses the same offsets.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_DEMO_RING_H
#define __VMIDL_DEMO_RING_H

#define RING_PAGES 4
#define RING_SIZE 64
#define RING_VALUES 8
#define RING_DOORBELL_OFFSET 0x4000     /* in BAR0, just past the ring pages */
#define RING_BAR0_SIZE 0x8000
#define RING_READY 0x676e6972796d6964ull /* the driver's "the ring is served" */

/* What the guest tells the VM worker with OUT, eax = the value. */
#define RING_PORT_DONE 0x10             /* finished: how many answers were wrong */
#define RING_PORT_WAITING 0x11          /* no driver yet: let time pass, then resume */
#define RING_PORT_STARTED 0x12          /* the driver is there: the requests start */

struct ring_entry
{
    UINT64 seq;
    UINT64 values[RING_VALUES];
    UINT64 answer;
    UINT64 reserved[6];
};

struct ring
{
    volatile UINT64 produced;           /* written by the guest */
    volatile UINT64 ready;              /* RING_READY, written by the driver before it maps the ring */
    volatile UINT64 done;               /* written by the guest after its last request */
    UINT64 reserved1[5];
    volatile UINT64 consumed;           /* written by the driver */
    UINT64 reserved2[23];
    struct ring_entry entries[RING_SIZE];
};

C_ASSERT(sizeof(struct ring_entry) == 128);
C_ASSERT(FIELD_OFFSET(struct ring, ready) == 0x08);
C_ASSERT(FIELD_OFFSET(struct ring, done) == 0x10);
C_ASSERT(FIELD_OFFSET(struct ring, consumed) == 0x40);
C_ASSERT(FIELD_OFFSET(struct ring, entries) == 0x100);
C_ASSERT(sizeof(struct ring) <= RING_PAGES * 0x1000);

#endif /* __VMIDL_DEMO_RING_H */
