/*
 * A device BAR as KVM sees it: where it decodes, and the ranges and
 * doorbells registered on it.
 *
 * The overlap rule: a doorbell occupies the bytes a matching write covers,
 * [offset, offset + length), one byte for "any length"; doorbells never
 * straddle a page (the PE half refuses them, as WHv does).  A range and a
 * doorbell conflict when the range covers any of those bytes, whichever was
 * registered first.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <string.h>

#include "unix_private.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

static uint64_t doorbell_span(const struct doorbell *doorbell)
{
    return doorbell->length ? doorbell->length : 1;
}

void bar_init(struct bar *bar, uint64_t gpa, uint64_t size)
{
    memset(bar, 0, sizeof(*bar));
    bar->gpa = gpa;
    bar->size = size;
    list_init(&bar->doorbells);
}

void bar_cleanup(struct bar *bar)
{
    free(bar->ranges);
}

/* The first position in the index whose range ends above offset.  Ranges
 * never overlap, so sorting by start sorts by end too. */
static unsigned int range_position(const struct bar *bar, uint64_t offset)
{
    unsigned int low = 0, high = bar->range_count;

    while (low < high)
    {
        unsigned int mid = low + (high - low) / 2;
        const struct mmio_range *range = bar->ranges[mid];

        if (range->bar_offset + range->size <= offset) low = mid + 1;
        else high = mid;
    }
    return low;
}

static int bar_has_range_in(const struct bar *bar, uint64_t offset, uint64_t size)
{
    unsigned int pos = range_position(bar, offset);

    return pos < bar->range_count && ranges_overlap(offset, size, bar->ranges[pos]->bar_offset,
            bar->ranges[pos]->size);
}

static int bar_has_doorbell_in(const struct bar *bar, uint64_t offset, uint64_t size)
{
    const struct list *cur;

    LIST_FOR_EACH(cur, &bar->doorbells)
    {
        const struct doorbell *doorbell = LIST_ENTRY(cur, struct doorbell, entry);
        if (ranges_overlap(offset, size, doorbell->bar_offset, doorbell_span(doorbell))) return 1;
    }
    return 0;
}

NTSTATUS bar_add_range(struct bar *bar, const struct bar_host *host, struct mmio_range *range)
{
    unsigned int pos;
    NTSTATUS status;

    if (bar_has_range_in(bar, range->bar_offset, range->size) || bar_has_doorbell_in(bar, range->bar_offset, range->size))
        return STATUS_OBJECT_NAME_COLLISION;
    if (bar->range_count == bar->range_capacity)
    {
        unsigned int capacity = bar->range_capacity ? bar->range_capacity * 2 : 16;
        struct mmio_range **ranges = realloc(bar->ranges, capacity * sizeof(*ranges));

        if (!ranges) return STATUS_NO_MEMORY;
        bar->ranges = ranges;
        bar->range_capacity = capacity;
    }
    if (!bar->undecoded && (status = range_attach(host->memslots, range, bar->gpa + range->bar_offset))) return status;
    pos = range_position(bar, range->bar_offset);
    memmove(&bar->ranges[pos + 1], &bar->ranges[pos], (bar->range_count - pos) * sizeof(*bar->ranges));
    bar->ranges[pos] = range;
    bar->range_count++;
    return STATUS_SUCCESS;
}

static void bar_unindex(struct bar *bar, unsigned int pos)
{
    bar->range_count--;
    memmove(&bar->ranges[pos], &bar->ranges[pos + 1], (bar->range_count - pos) * sizeof(*bar->ranges));
}

/* Whether the owner may remove what other registered: the device's own
 * callers (owner 0) may remove anything, a view only its own. */
static int owner_may_remove(uint64_t owner, uint64_t registered_by)
{
    return !owner || owner == registered_by;
}

NTSTATUS bar_remove_range(struct bar *bar, const struct bar_host *host, uint64_t offset, uint64_t owner,
        struct mmio_range **ret)
{
    unsigned int pos = range_position(bar, offset);
    struct mmio_range *range;

    if (pos >= bar->range_count || bar->ranges[pos]->bar_offset != offset) return STATUS_NOT_FOUND;
    range = bar->ranges[pos];
    if (!owner_may_remove(owner, range->owner)) return STATUS_ACCESS_DENIED;
    bar_unindex(bar, pos);
    range_detach(host->memslots, range);
    *ret = range;
    return STATUS_SUCCESS;
}

NTSTATUS bar_add_doorbell(struct bar *bar, const struct bar_host *host, struct doorbell *doorbell)
{
    struct list *cur;
    NTSTATUS status;

    LIST_FOR_EACH(cur, &bar->doorbells)
        if (doorbell_conflicts(LIST_ENTRY(cur, struct doorbell, entry), doorbell)) return STATUS_OBJECT_NAME_COLLISION;
    if (bar_has_range_in(bar, doorbell->bar_offset, doorbell_span(doorbell))) return STATUS_OBJECT_NAME_COLLISION;
    if (!bar->undecoded && (status = doorbell_attach(host->memslots->vm_fd, doorbell, bar->gpa + doorbell->bar_offset)))
        return status;
    list_add_tail(&bar->doorbells, &doorbell->entry);
    return STATUS_SUCCESS;
}

NTSTATUS bar_take_doorbell(struct bar *bar, const struct doorbell_params *params, struct doorbell **ret)
{
    struct list *cur;

    LIST_FOR_EACH(cur, &bar->doorbells)
    {
        struct doorbell *doorbell = LIST_ENTRY(cur, struct doorbell, entry);

        if (!doorbell_matches(doorbell, params)) continue;
        if (!owner_may_remove(params->owner, doorbell->owner)) return STATUS_ACCESS_DENIED;
        list_remove(&doorbell->entry);
        *ret = doorbell;
        return STATUS_SUCCESS;
    }
    return STATUS_NOT_FOUND;
}

struct mmio_range *bar_next_range(struct bar *bar, uint64_t owner)
{
    unsigned int i = bar->range_count;

    while (i--)
        if (owner == BAR_ANY_OWNER || bar->ranges[i]->owner == owner) return bar->ranges[i];
    return NULL;
}

void bar_forget_range(struct bar *bar, struct mmio_range *range)
{
    unsigned int pos = range_position(bar, range->bar_offset);

    if (pos < bar->range_count && bar->ranges[pos] == range) bar_unindex(bar, pos);
}

struct doorbell *bar_next_doorbell(struct bar *bar, uint64_t owner)
{
    struct list *cur;

    LIST_FOR_EACH(cur, &bar->doorbells)
    {
        struct doorbell *doorbell = LIST_ENTRY(cur, struct doorbell, entry);
        if (owner == BAR_ANY_OWNER || doorbell->owner == owner) return doorbell;
    }
    return NULL;
}

void bar_forget_doorbell(struct bar *bar, struct doorbell *doorbell)
{
    list_remove(&doorbell->entry);
}

static void bar_detach_ranges(struct bar *bar, const struct bar_host *host)
{
    unsigned int i;

    for (i = 0; i < bar->range_count; i++) range_detach(host->memslots, bar->ranges[i]);
}

/* Stops at the first failure, unless every range is to be tried: a range
 * that cannot be attached stays out of the guest (its pages trap to the
 * device) and is tried again at the next move. */
static NTSTATUS bar_attach_ranges(struct bar *bar, const struct bar_host *host, BOOL try_all)
{
    NTSTATUS status, first = STATUS_SUCCESS;
    unsigned int i;

    for (i = 0; i < bar->range_count; i++)
    {
        struct mmio_range *range = bar->ranges[i];

        if (range->unbacked) continue;
        if (!(status = range_attach(host->memslots, range, bar->gpa + range->bar_offset))) continue;
        if (!try_all) return status;
        if (!first) first = status;
    }
    return first;
}

/* The ranges' memslots go from the old place to the new one; each doorbell
 * gets a second ioeventfd at the new place, and keeps its old one, silent,
 * until bar_finish_move().  Every attached range is detached on failure,
 * whatever its place in the index, and every second ioeventfd goes. */
NTSTATUS bar_move(struct bar *bar, const struct bar_host *host, uint64_t gpa)
{
    int vm_fd = host->memslots->vm_fd;
    uint64_t old_gpa = bar->gpa;
    struct list *cur;
    NTSTATUS status;

    bar_detach_ranges(bar, host);
    bar->gpa = gpa;
    if ((status = bar_attach_ranges(bar, host, FALSE))) goto undo_ranges;
    LIST_FOR_EACH(cur, &bar->doorbells)
    {
        struct doorbell *doorbell = LIST_ENTRY(cur, struct doorbell, entry);
        uint64_t new_gpa = gpa + doorbell->bar_offset;
        struct list *other;

        LIST_FOR_EACH(other, &bar->doorbells) doorbell_vacate(vm_fd, LIST_ENTRY(other, struct doorbell, entry), doorbell, new_gpa);
        if ((status = doorbell_prepare_move(host->dispatcher, vm_fd, doorbell, new_gpa))) goto undo_doorbells;
    }
    LIST_FOR_EACH(cur, &bar->doorbells) doorbell_commit_move(host->dispatcher, LIST_ENTRY(cur, struct doorbell, entry));
    bar->undecoded = 0;
    return STATUS_SUCCESS;

undo_doorbells:
    LIST_FOR_EACH(cur, &bar->doorbells) doorbell_cancel_move(host->dispatcher, vm_fd, LIST_ENTRY(cur, struct doorbell, entry));
undo_ranges:
    WARN("cannot move the BAR to %#llx, status %#x; it stays at %#llx\n", (unsigned long long)gpa,
            (unsigned int)status, (unsigned long long)old_gpa);
    bar_detach_ranges(bar, host);
    bar->gpa = old_gpa;
    if (!bar->undecoded && bar_attach_ranges(bar, host, TRUE))
        WARN("some ranges could not go back to %#llx: their pages trap until the next move\n",
                (unsigned long long)old_gpa);
    return status;
}

void bar_undecode(struct bar *bar, const struct bar_host *host)
{
    struct list *cur;

    bar_detach_ranges(bar, host);
    LIST_FOR_EACH(cur, &bar->doorbells) doorbell_leave(host->dispatcher, LIST_ENTRY(cur, struct doorbell, entry));
    bar->undecoded = 1;
}

void bar_finish_move(struct bar *bar, const struct bar_host *host)
{
    struct list *cur;

    LIST_FOR_EACH(cur, &bar->doorbells)
    {
        robust_mutex_lock(host->removal_lock);
        doorbell_release_old(host->memslots->vm_fd, LIST_ENTRY(cur, struct doorbell, entry));
        pthread_mutex_unlock(host->removal_lock);
    }
}

unsigned int bar_detach_unbacked(struct bar *bar, const struct bar_host *host)
{
    unsigned int i, count = 0;

    for (i = 0; i < bar->range_count; i++)
    {
        struct mmio_range *range = bar->ranges[i];

        if (!range->attached || section_view_is_backed(&range->view)) continue;
        WARN("range at BAR offset %#llx lost its file pages; its accesses trap from now on\n",
                (unsigned long long)range->bar_offset);
        range_detach(host->memslots, range);
        range->unbacked = 1;
        count++;
    }
    return count;
}
