/*
 * A FlexibleIov device: its BARs and what is registered on them, and the
 * emulator that takes its intercepted MMIO.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>

#include "unix_private.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

NTSTATUS device_create(const struct device_create_params *params, struct device **ret)
{
    struct device *device;
    unsigned int i;

    if (!(device = calloc(1, sizeof(*device)))) return STATUS_NO_MEMORY;
    device->mmio_callback = params->mmio_callback;
    device->mmio_context = params->mmio_context;
    robust_mutex_init(&device->lock);
    for (i = 0; i < VMIDL_BAR_COUNT; i++) bar_init(&device->bars[i], params->bar_address[i], params->bar_size[i]);
    *ret = device;
    return STATUS_SUCCESS;
}

void device_free(struct device *device)
{
    unsigned int i;

    pci_function_free(device->pci);
    for (i = 0; i < VMIDL_BAR_COUNT; i++) bar_cleanup(&device->bars[i]);
    pthread_mutex_destroy(&device->lock);
    free(device);
}

static void detach_doorbell(const struct bar_host *host, struct doorbell *doorbell)
{
    robust_mutex_lock(host->removal_lock);
    doorbell_detach(host->memslots->vm_fd, doorbell);
    pthread_mutex_unlock(host->removal_lock);
}

/* The BAR, if the device has it and [offset, offset + size) lies in it. */
static struct bar *device_bar(struct device *device, UINT32 index, uint64_t offset, uint64_t size)
{
    struct bar *bar;

    if (index >= VMIDL_BAR_COUNT) return NULL;
    bar = &device->bars[index];
    if (!bar->size || offset >= bar->size || size > bar->size - offset) return NULL;
    return bar;
}

NTSTATUS device_create_range(struct device *device, const struct bar_host *host, const struct range_create_params *params)
{
    struct mmio_range *range;
    struct bar *bar;
    NTSTATUS status;

    if (!(bar = device_bar(device, params->bar, params->bar_offset, params->size)))
    {
        WARN("no room for %#llx bytes at offset %#llx of BAR %u\n", (unsigned long long)params->size,
                (unsigned long long)params->bar_offset, params->bar);
        return STATUS_INVALID_PARAMETER;
    }
    /* Mapping the section takes wineserver requests: not under the lock. */
    if ((status = range_create(host->memslots, params, &range))) return status;

    robust_mutex_lock(&device->lock);
    status = device->dead ? STATUS_DEVICE_REMOVED : bar_add_range(bar, host, range);
    pthread_mutex_unlock(&device->lock);

    if (status) range_free(host->memslots, range);
    return status;
}

NTSTATUS device_destroy_range(struct device *device, const struct bar_host *host, const struct range_destroy_params *params)
{
    struct mmio_range *range = NULL;
    struct bar *bar;
    NTSTATUS status;

    if (!(bar = device_bar(device, params->bar, params->bar_offset, 1))) return STATUS_INVALID_PARAMETER;

    robust_mutex_lock(&device->lock);
    if (device->dead) status = STATUS_DEVICE_REMOVED;
    else status = bar_remove_range(bar, host, params->bar_offset, params->owner, &range);
    pthread_mutex_unlock(&device->lock);

    if (range) range_free(host->memslots, range);
    return status;
}

NTSTATUS device_register_doorbell(struct device *device, const struct bar_host *host, const struct doorbell_params *params)
{
    struct doorbell *doorbell;
    struct bar *bar;
    NTSTATUS status;

    if (!(bar = device_bar(device, params->bar, params->bar_offset, params->length ? params->length : 1)))
        return STATUS_INVALID_PARAMETER;
    if ((status = doorbell_create(host->dispatcher, params, &doorbell))) return status;

    robust_mutex_lock(&device->lock);
    if (device->dead) status = STATUS_DEVICE_REMOVED;
    else if (device->doorbell_count >= MAX_DOORBELLS_PER_DEVICE)
    {
        WARN("device %p already has %u doorbells\n", device, device->doorbell_count);
        status = STATUS_INSUFFICIENT_RESOURCES;
    }
    else if (!(status = bar_add_doorbell(bar, host, doorbell))) device->doorbell_count++;
    pthread_mutex_unlock(&device->lock);

    if (status) doorbell_free(host->dispatcher, host->memslots->vm_fd, doorbell);
    return status;
}

/* Silenced and detached under the lock, so that the same doorbell can be
 * registered again as soon as this returns. */
NTSTATUS device_unregister_doorbell(struct device *device, const struct bar_host *host, const struct doorbell_params *params)
{
    struct doorbell *doorbell = NULL;
    struct bar *bar;
    NTSTATUS status;

    if (!(bar = device_bar(device, params->bar, params->bar_offset, params->length ? params->length : 1)))
        return STATUS_INVALID_PARAMETER;

    robust_mutex_lock(&device->lock);
    if (device->dead) status = STATUS_DEVICE_REMOVED;
    else if (!(status = bar_take_doorbell(bar, params, &doorbell)))
    {
        doorbell_silence(host->dispatcher, doorbell);
        detach_doorbell(host, doorbell);
        device->doorbell_count--;
    }
    pthread_mutex_unlock(&device->lock);

    if (doorbell) doorbell_free(host->dispatcher, host->memslots->vm_fd, doorbell);
    return status;
}

/* Takes one doorbell or range out of KVM, then out of the device; FALSE
 * when there is nothing left (or the device died meanwhile). */
BOOL device_clear_step(struct device *device, const struct bar_host *host, uint64_t owner)
{
    struct mmio_range *range = NULL;
    struct doorbell *doorbell = NULL;
    struct bar *bar = NULL;
    unsigned int i;

    robust_mutex_lock(&device->lock);
    /* Ranges first: each goes in microseconds, while a doorbell costs a
     * grace period. */
    for (i = 0; !device->dead && !range && i < VMIDL_BAR_COUNT; i++) range = bar_next_range(bar = &device->bars[i], owner);
    for (i = 0; !device->dead && !range && !doorbell && i < VMIDL_BAR_COUNT; i++)
        doorbell = bar_next_doorbell(bar = &device->bars[i], owner);
    if (doorbell)
    {
        doorbell_silence(host->dispatcher, doorbell);
        detach_doorbell(host, doorbell);
        bar_forget_doorbell(bar, doorbell);
        device->doorbell_count--;
    }
    if (range)
    {
        range_detach(host->memslots, range);
        bar_forget_range(bar, range);
    }
    pthread_mutex_unlock(&device->lock);

    if (doorbell) doorbell_free(host->dispatcher, host->memslots->vm_fd, doorbell);
    if (range) range_free(host->memslots, range);
    return doorbell || range;
}

void device_clear(struct device *device, const struct bar_host *host, uint64_t owner)
{
    while (device_clear_step(device, host, owner));
}

void device_silence(struct device *device, const struct bar_host *host)
{
    struct list *cur;
    unsigned int i;

    robust_mutex_lock(&device->lock);
    for (i = 0; i < VMIDL_BAR_COUNT; i++)
        LIST_FOR_EACH(cur, &device->bars[i].doorbells)
            doorbell_silence(host->dispatcher, LIST_ENTRY(cur, struct doorbell, entry));
    pthread_mutex_unlock(&device->lock);
}

void device_kill(struct device *device)
{
    robust_mutex_lock(&device->lock);
    device->dead = 1;
    pthread_mutex_unlock(&device->lock);
}

void device_release_contents(struct device *device, const struct bar_host *host)
{
    struct mmio_range *range;
    struct doorbell *doorbell;
    unsigned int i;

    for (i = 0; i < VMIDL_BAR_COUNT; i++)
    {
        while ((doorbell = bar_next_doorbell(&device->bars[i], BAR_ANY_OWNER)))
        {
            bar_forget_doorbell(&device->bars[i], doorbell);
            doorbell_free(host->dispatcher, host->memslots->vm_fd, doorbell);
        }
        while ((range = bar_next_range(&device->bars[i], BAR_ANY_OWNER)))
        {
            bar_forget_range(&device->bars[i], range);
            range_free(host->memslots, range);
        }
    }
    device->doorbell_count = 0;
}
