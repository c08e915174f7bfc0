/*
 * Doorbells: an eventfd per doorbell, registered with KVM_IOEVENTFD, and
 * one dispatcher that turns eventfd wake-ups into Win32 events.
 *
 * The dispatcher runs on a Win32 thread that blocks in dispatch_run() inside
 * a unix call, so it may call NtSetEvent.  It finds doorbells through
 * dispatch_table slots tagged with a generation: a removal bumps the
 * generation under the table lock, so once doorbell_unregister() has passed
 * that point no stale epoll event can set the event again.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include "ntstatus.h"
#define WIN32_NO_STATUS
#include "windef.h"
#include "winternl.h"
#include "wine/debug.h"

#include "unix_private.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

#define STOP_TOKEN (~0ull)

int dispatch_init(struct dispatch_table *table)
{
    struct epoll_event event = {.events = EPOLLIN, .data.u64 = STOP_TOKEN};
    int err;

    memset(table, 0, sizeof(*table));
    if ((table->epoll_fd = epoll_create1(EPOLL_CLOEXEC)) < 0) return -errno;
    if ((table->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
    {
        err = -errno;
        goto err_close_epoll;
    }
    if (epoll_ctl(table->epoll_fd, EPOLL_CTL_ADD, table->stop_fd, &event) < 0)
    {
        err = -errno;
        goto err_close_stop;
    }
    pthread_mutex_init(&table->lock, NULL);
    return 0;

err_close_stop:
    close(table->stop_fd);
err_close_epoll:
    close(table->epoll_fd);
    return err;
}

void dispatch_cleanup(struct dispatch_table *table)
{
    close(table->stop_fd);
    close(table->epoll_fd);
    free(table->doorbells);
    free(table->generation);
    pthread_mutex_destroy(&table->lock);
}

/* Doorbell eventfds are edge-triggered in the epoll set: every guest write
 * that KVM signals queues one epoll event (rings that come before the
 * dispatcher runs fold into one, as they would into one set of the Win32
 * event), so the counter is never read, which saves a system call per
 * ring.  It only grows, and would take 2^64 rings to fill. */
static void doorbell_ring(struct doorbell *doorbell)
{
    NtSetEvent((HANDLE)(ULONG_PTR)doorbell->event, NULL);
}

int dispatch_run(struct dispatch_table *table)
{
    struct epoll_event events[64];
    int i, count;

    TRACE("dispatcher started\n");
    for (;;)
    {
        if ((count = epoll_wait(table->epoll_fd, events, ARRAY_SIZE(events), -1)) < 0)
        {
            if (errno == EINTR) continue;
            ERR("epoll_wait failed: %s\n", strerror(errno));
            return -errno;
        }
        pthread_mutex_lock(&table->lock);
        for (i = 0; i < count; i++)
        {
            uint64_t token = events[i].data.u64;
            uint32_t index = token, generation = token >> 32;

            if (token == STOP_TOKEN)
            {
                pthread_mutex_unlock(&table->lock);
                TRACE("dispatcher stopped\n");
                return 0;
            }
            if (index < table->capacity && table->doorbells[index] && table->generation[index] == generation)
                doorbell_ring(table->doorbells[index]);
        }
        pthread_mutex_unlock(&table->lock);
    }
}

int dispatch_stop(struct dispatch_table *table)
{
    uint64_t one = 1;
    return write(table->stop_fd, &one, sizeof(one)) == sizeof(one) ? 0 : -errno;
}

static int dispatch_insert(struct dispatch_table *table, struct doorbell *doorbell)
{
    struct epoll_event event = {.events = EPOLLIN | EPOLLET};
    uint32_t index;
    int err = 0;

    pthread_mutex_lock(&table->lock);
    for (index = 0; index < table->capacity; index++)
        if (!table->doorbells[index]) break;
    if (index == table->capacity)
    {
        uint32_t capacity = table->capacity ? table->capacity * 2 : 64;
        struct doorbell **doorbells = realloc(table->doorbells, capacity * sizeof(*doorbells));
        uint32_t *generation;

        if (doorbells) table->doorbells = doorbells;
        if (!doorbells || !(generation = realloc(table->generation, capacity * sizeof(*generation))))
        {
            pthread_mutex_unlock(&table->lock);
            return -ENOMEM;
        }
        table->generation = generation;
        memset(doorbells + table->capacity, 0, (capacity - table->capacity) * sizeof(*doorbells));
        memset(generation + table->capacity, 0, (capacity - table->capacity) * sizeof(*generation));
        table->capacity = capacity;
    }
    event.data.u64 = index | (uint64_t)table->generation[index] << 32;
    if (epoll_ctl(table->epoll_fd, EPOLL_CTL_ADD, doorbell->eventfd, &event) < 0) err = -errno;
    else
    {
        table->doorbells[index] = doorbell;
        doorbell->dispatch_index = index;
    }
    pthread_mutex_unlock(&table->lock);
    return err;
}

/* After this returns the dispatcher never touches the doorbell again. */
static void dispatch_remove(struct dispatch_table *table, struct doorbell *doorbell)
{
    uint32_t index = doorbell->dispatch_index;

    pthread_mutex_lock(&table->lock);
    table->doorbells[index] = NULL;
    table->generation[index]++;
    epoll_ctl(table->epoll_fd, EPOLL_CTL_DEL, doorbell->eventfd, NULL);
    pthread_mutex_unlock(&table->lock);
}

int doorbell_assign(struct vm *vm, const struct bar *bar, const struct doorbell *doorbell, int assign)
{
    struct kvm_ioeventfd ioeventfd =
    {
        .addr = bar->gpa + doorbell->bar_offset,
        .len = doorbell->length,
        .fd = doorbell->eventfd,
        .datamatch = doorbell->value,
    };

    if (!doorbell->any_value) ioeventfd.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
    if (!assign) ioeventfd.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
    if (ioctl(vm->fd, KVM_IOEVENTFD, &ioeventfd) < 0)
    {
        int err = -errno;
        WARN("KVM_IOEVENTFD %s at %#llx failed: %d\n", assign ? "assign" : "deassign",
                (unsigned long long)ioeventfd.addr, err);
        return err == -ENOBUFS ? -ENOSPC : err;
    }
    return 0;
}

/* The Windows hypervisor's rule: values may share an address as long as
 * they have one length and none of them matches any value. */
static int doorbell_conflicts(const struct doorbell *a, const struct doorbell_params *b)
{
    if (a->bar_offset != b->bar_offset) return 0;
    return a->length != b->length || a->any_value || b->any_value || a->value == b->value;
}

static struct doorbell *doorbell_find(struct bar *bar, const struct doorbell_params *params)
{
    struct list *cur;

    LIST_FOR_EACH(cur, &bar->doorbells)
    {
        struct doorbell *doorbell = LIST_ENTRY(cur, struct doorbell, entry);
        if (doorbell->bar_offset == params->bar_offset && doorbell->length == params->length
                && doorbell->any_value == !!params->any_value
                && (doorbell->any_value || doorbell->value == params->value))
            return doorbell;
    }
    return NULL;
}

int doorbell_register(struct vm *vm, struct device *device, const struct doorbell_params *params)
{
    struct bar *bar = &device->bars[params->bar];
    struct doorbell *doorbell;
    struct list *cur;
    int err;

    if (!(doorbell = calloc(1, sizeof(*doorbell)))) return -ENOMEM;
    doorbell->bar_offset = params->bar_offset;
    doorbell->length = params->length;
    doorbell->any_value = !!params->any_value;
    doorbell->value = params->any_value ? 0 : params->value;
    doorbell->event = params->event;
    if ((doorbell->eventfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
    {
        err = -errno;
        goto err_free;
    }

    pthread_mutex_lock(&vm->lock);
    err = -EEXIST;
    LIST_FOR_EACH(cur, &bar->doorbells)
        if (doorbell_conflicts(LIST_ENTRY(cur, struct doorbell, entry), params)) goto err_unlock;
    if (bar_has_range_in(bar, params->bar_offset, max(params->length, 1))) goto err_unlock;
    if (device->doorbell_count >= MAX_DOORBELLS_PER_DEVICE)
    {
        WARN("device %p already has %u doorbells\n", device, device->doorbell_count);
        err = -ENOSPC;
        goto err_unlock;
    }
    if ((err = doorbell_assign(vm, bar, doorbell, 1))) goto err_unlock;
    if ((err = dispatch_insert(&vm->dispatch, doorbell))) goto err_deassign;
    list_add_tail(&bar->doorbells, &doorbell->entry);
    device->doorbell_count++;
    pthread_mutex_unlock(&vm->lock);

    TRACE("doorbell %p: eventfd %d, dispatch index %u\n", doorbell, doorbell->eventfd, doorbell->dispatch_index);
    return 0;

err_deassign:
    doorbell_assign(vm, bar, doorbell, 0);
err_unlock:
    pthread_mutex_unlock(&vm->lock);
    close(doorbell->eventfd);
err_free:
    free(doorbell);
    return err;
}

/* Called with vm->lock held.  The doorbell owns the event handle from
 * registration on. */
void doorbell_free(struct vm *vm, struct device *device, struct bar *bar, struct doorbell *doorbell,
        int vm_closing)
{
    dispatch_remove(&vm->dispatch, doorbell);
    if (!vm_closing) doorbell_assign(vm, bar, doorbell, 0);
    list_remove(&doorbell->entry);
    device->doorbell_count--;
    close(doorbell->eventfd);
    NtClose((HANDLE)(ULONG_PTR)doorbell->event);
    free(doorbell);
}

int doorbell_unregister(struct vm *vm, struct device *device, const struct doorbell_params *params)
{
    struct bar *bar = &device->bars[params->bar];
    struct doorbell *doorbell;
    int err = -ENOENT;

    pthread_mutex_lock(&vm->lock);
    if ((doorbell = doorbell_find(bar, params)))
    {
        doorbell_free(vm, device, bar, doorbell, 0);
        err = 0;
    }
    pthread_mutex_unlock(&vm->lock);
    return err;
}
