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
    UINT64 reserved1[7];
    volatile UINT64 consumed;           /* written by the driver */
    UINT64 reserved2[23];
    struct ring_entry entries[RING_SIZE];
};

C_ASSERT(sizeof(struct ring_entry) == 128);
C_ASSERT(FIELD_OFFSET(struct ring, consumed) == 0x40);
C_ASSERT(FIELD_OFFSET(struct ring, entries) == 0x100);
C_ASSERT(sizeof(struct ring) <= RING_PAGES * 0x1000);

#endif /* __VMIDL_DEMO_RING_H */
