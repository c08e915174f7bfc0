/*
 * A device BAR as KVM sees it: where it decodes, and the ranges and
 * doorbells registered on it, kept as BAR offsets so that a move only has
 * to replay them at the new base.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_UNIX_BAR_H
#define __VMIDL_UNIX_BAR_H

#include "unix_doorbell.h"
#include "unix_range.h"

/* What a BAR needs of its VM to put ranges and doorbells into KVM. */
struct bar_host
{
    struct memslot_table *memslots;     /* and the VM fd, memslots->vm_fd */
    struct dispatcher *dispatcher;
    /* Held across each ioeventfd removal outside a BAR move: KVM holds its
     * slots lock for a grace period there, and a BAR move must not meet
     * one while it keeps the vCPUs paused. */
    pthread_mutex_t *removal_lock;
};

struct bar
{
    uint64_t gpa;
    uint64_t size;              /* 0: the device has no such BAR */
    /* Sorted by bar_offset, so that overlap checks and lookups stay
     * O(log n) with thousands of ranges. */
    struct mmio_range **ranges;
    unsigned int range_count, range_capacity;
    struct list doorbells;      /* struct doorbell */
};

extern void bar_init(struct bar *bar, uint64_t gpa, uint64_t size);
extern void bar_cleanup(struct bar *bar);

/* Checks the range against the BAR's ranges and doorbells and attaches it. */
extern NTSTATUS bar_add_range(struct bar *bar, const struct bar_host *host, struct mmio_range *range);
/* The range that starts at offset, out of the BAR and the guest. */
extern struct mmio_range *bar_remove_range(struct bar *bar, const struct bar_host *host, uint64_t offset);
/* Checks the doorbell against the BAR's doorbells and ranges and attaches it. */
extern NTSTATUS bar_add_doorbell(struct bar *bar, const struct bar_host *host, struct doorbell *doorbell);
/* The doorbell registered with these parameters, out of the BAR (still attached). */
extern struct doorbell *bar_take_doorbell(struct bar *bar, const struct doorbell_params *params);
/* For teardown: a range or doorbell still in the BAR (of that owner, or any
 * with BAR_ANY_OWNER), out of it. */
#define BAR_ANY_OWNER (~(uint64_t)0)
extern struct mmio_range *bar_pop_range(struct bar *bar, uint64_t owner);
extern struct doorbell *bar_pop_doorbell(struct bar *bar, uint64_t owner);

/* Moves everything registered on the BAR to a new base, with the vCPUs
 * paused: nothing here waits for a kernel grace period.  On failure the BAR
 * is left exactly where and as it was.  Afterwards, with the vCPUs running
 * again, bar_finish_move() takes the doorbells' old ioeventfds out of KVM;
 * until then a guest write at an old doorbell address is consumed and sets
 * nothing. */
extern NTSTATUS bar_move(struct bar *bar, const struct bar_host *host, uint64_t gpa);
extern void bar_finish_move(struct bar *bar, const struct bar_host *host);
/* Takes ranges whose file was cut short behind Wine's back out of the guest:
 * their pages trap to the device instead.  Returns how many. */
extern unsigned int bar_detach_unbacked(struct bar *bar, const struct bar_host *host);

#endif /* __VMIDL_UNIX_BAR_H */
