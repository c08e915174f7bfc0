/*
 * A FlexibleIov device as KVM sees it: where each BAR decodes, and what is
 * registered on it.  Ranges and doorbells are kept as BAR offsets so that a
 * BAR move only has to replay them at the new base.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "ntstatus.h"
#define WIN32_NO_STATUS
#include "windef.h"
#include "winternl.h"
#include "wine/debug.h"

#include "unix_private.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

int device_add(struct vm *vm, const uint64_t *bar_gpa, const uint64_t *bar_size, struct device **ret)
{
    struct device *device;
    unsigned int i;

    if (!(device = calloc(1, sizeof(*device)))) return -ENOMEM;
    for (i = 0; i < VMIDL_BAR_COUNT; i++)
    {
        device->bars[i].gpa = bar_gpa[i];
        device->bars[i].size = bar_size[i];
        list_init(&device->bars[i].doorbells);
    }

    pthread_mutex_lock(&vm->lock);
    for (i = 0; i < VMIDL_BAR_COUNT; i++)
    {
        if (bar_size[i] && !vm_gpa_range_is_free(vm, bar_gpa[i], bar_size[i], NULL))
        {
            pthread_mutex_unlock(&vm->lock);
            WARN("BAR %u at %#llx overlaps RAM or another BAR\n", i, (unsigned long long)bar_gpa[i]);
            free(device);
            return -EEXIST;
        }
    }
    list_add_tail(&vm->devices, &device->entry);
    pthread_mutex_unlock(&vm->lock);

    TRACE("device %p\n", device);
    *ret = device;
    return 0;
}

/* With vm_closing, the VM fd is about to go and takes the memslots and
 * ioeventfds with it; otherwise each is removed from KVM. */
void device_remove(struct vm *vm, struct device *device, int vm_closing)
{
    struct list *cur, *next;
    unsigned int i;

    TRACE("device %p, vm_closing %d\n", device, vm_closing);

    if (!vm_closing) pthread_mutex_lock(&vm->lock);
    for (i = 0; i < VMIDL_BAR_COUNT; i++)
    {
        LIST_FOR_EACH_SAFE(cur, next, &device->bars[i].doorbells)
            doorbell_free(vm, device, &device->bars[i], LIST_ENTRY(cur, struct doorbell, entry), vm_closing);
        while (device->bars[i].range_count)
            range_free(vm, device->bars[i].range_index[device->bars[i].range_count - 1], vm_closing);
    }
    list_remove(&device->entry);
    if (!vm_closing) pthread_mutex_unlock(&vm->lock);
    for (i = 0; i < VMIDL_BAR_COUNT; i++) free(device->bars[i].range_index);
    free(device);
}

/* The first position in the BAR's range index whose range ends above
 * offset.  Ranges never overlap, so sorting by start sorts by end too. */
static unsigned int bar_range_position(const struct bar *bar, uint64_t offset)
{
    unsigned int low = 0, high = bar->range_count;

    while (low < high)
    {
        unsigned int mid = low + (high - low) / 2;
        const struct mmio_range *range = bar->range_index[mid];

        if (range->bar_offset + range->size <= offset) low = mid + 1;
        else high = mid;
    }
    return low;
}

/* Whether any range of the BAR overlaps [offset, offset + size).  Called
 * with vm->lock held, as are the three functions below. */
int bar_has_range_in(const struct bar *bar, uint64_t offset, uint64_t size)
{
    unsigned int pos = bar_range_position(bar, offset);

    return pos < bar->range_count && ranges_overlap(offset, size, bar->range_index[pos]->bar_offset,
            bar->range_index[pos]->size);
}

/* The range that starts at offset, if any. */
struct mmio_range *bar_find_range(const struct bar *bar, uint64_t offset)
{
    unsigned int pos = bar_range_position(bar, offset);

    if (pos < bar->range_count && bar->range_index[pos]->bar_offset == offset) return bar->range_index[pos];
    return NULL;
}

/* Adds a range that overlaps none of the BAR's to its index. */
int bar_index_range(struct bar *bar, struct mmio_range *range)
{
    unsigned int pos;

    if (bar->range_count == bar->range_capacity)
    {
        unsigned int capacity = bar->range_capacity ? bar->range_capacity * 2 : 16;
        struct mmio_range **index = realloc(bar->range_index, capacity * sizeof(*index));

        if (!index) return -ENOMEM;
        bar->range_index = index;
        bar->range_capacity = capacity;
    }
    pos = bar_range_position(bar, range->bar_offset);
    memmove(&bar->range_index[pos + 1], &bar->range_index[pos], (bar->range_count - pos) * sizeof(*bar->range_index));
    bar->range_index[pos] = range;
    bar->range_count++;
    range->bar = bar;
    return 0;
}

void bar_unindex_range(struct bar *bar, struct mmio_range *range)
{
    unsigned int pos = bar_range_position(bar, range->bar_offset);

    if (pos >= bar->range_count || bar->range_index[pos] != range)
    {
        ERR("range %p is not in the index of BAR %p\n", range, bar);
        return;
    }
    bar->range_count--;
    memmove(&bar->range_index[pos], &bar->range_index[pos + 1], (bar->range_count - pos) * sizeof(*bar->range_index));
}

/* Whether any doorbell of the BAR sits in [offset, offset + size). */
int bar_has_doorbell_in(const struct bar *bar, uint64_t offset, uint64_t size)
{
    const struct list *cur;

    LIST_FOR_EACH(cur, &bar->doorbells)
    {
        const struct doorbell *doorbell = LIST_ENTRY(cur, struct doorbell, entry);
        if (ranges_overlap(offset, size, doorbell->bar_offset, 1)) return 1;
    }
    return 0;
}

/* Detaches (attach = 0) or attaches every range and doorbell of the BAR at
 * its current base.  Returns how many were processed before a failure. */
static int bar_replay(struct vm *vm, struct bar *bar, int attach, unsigned int *done)
{
    struct list *cur;
    unsigned int i;
    int err;

    *done = 0;
    for (i = 0; i < bar->range_count; i++)
    {
        struct mmio_range *range = bar->range_index[i];
        if (attach) err = range_map(vm, bar, range);
        else err = memslot_set(vm, range->slot, bar->gpa + range->bar_offset, 0, NULL, 0);
        if (err) return err;
        ++*done;
    }
    LIST_FOR_EACH(cur, &bar->doorbells)
    {
        if ((err = doorbell_assign(vm, bar, LIST_ENTRY(cur, struct doorbell, entry), attach))) return err;
        ++*done;
    }
    return 0;
}

int device_move_bar(struct vm *vm, struct device *device, unsigned int index, uint64_t gpa)
{
    struct bar *bar = &device->bars[index];
    uint64_t old_gpa = bar->gpa;
    unsigned int done;
    int err;

    pthread_mutex_lock(&vm->lock);
    if (!vm_gpa_range_is_free(vm, gpa, bar->size, bar))
    {
        err = -EEXIST;
        goto done;
    }
    /* Overlapping its own old place is fine: everything is detached first. */
    if ((err = bar_replay(vm, bar, 0, &done))) goto reattach;
    bar->gpa = gpa;
    if (!(err = bar_replay(vm, bar, 1, &done))) goto done;

    ERR("moving BAR %u to %#llx failed (%d), restoring it at %#llx\n", index,
            (unsigned long long)gpa, err, (unsigned long long)old_gpa);
    bar_replay(vm, bar, 0, &done);
    bar->gpa = old_gpa;
reattach:
    bar_replay(vm, bar, 1, &done);
done:
    pthread_mutex_unlock(&vm->lock);
    return err;
}
