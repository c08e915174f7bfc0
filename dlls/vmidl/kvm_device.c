/*
 * A FlexibleIov device as KVM sees it: where each BAR decodes, and what is
 * registered on it.  Ranges and doorbells are kept as BAR offsets so that a
 * BAR move only has to replay them at the new base.
 */

#include <errno.h>
#include <stdlib.h>
#include <stddef.h>

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
        list_init(&device->bars[i].ranges);
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
        LIST_FOR_EACH_SAFE(cur, next, &device->bars[i].ranges)
            range_free(vm, LIST_ENTRY(cur, struct mmio_range, entry), vm_closing);
    }
    list_remove(&device->entry);
    if (!vm_closing) pthread_mutex_unlock(&vm->lock);
    free(device);
}

/* Whether any range of the BAR overlaps [offset, offset + size).  Called
 * with vm->lock held. */
int bar_has_range_in(const struct bar *bar, uint64_t offset, uint64_t size)
{
    const struct list *cur;

    LIST_FOR_EACH(cur, &bar->ranges)
    {
        const struct mmio_range *range = LIST_ENTRY(cur, struct mmio_range, entry);
        if (ranges_overlap(offset, size, range->bar_offset, range->size)) return 1;
    }
    return 0;
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
    int err;

    *done = 0;
    LIST_FOR_EACH(cur, &bar->ranges)
    {
        struct mmio_range *range = LIST_ENTRY(cur, struct mmio_range, entry);
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
