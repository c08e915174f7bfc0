/*
 * The doorbell dispatcher: one epoll set of eventfds per VM, and the loop
 * that sets each one's Win32 event when KVM signals it.
 *
 * It finds events through slots tagged with a generation: a removal bumps
 * the generation under the lock, so a stale epoll event for a removed
 * doorbell can never set the event of the one that took its slot.  Nothing
 * here assumes how Wine sets an event (a wineserver request, or an NTSync
 * ioctl on Wine 10.16 and later).
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "unix_dispatch.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

#define STOP_TOKEN (~0ull)

NTSTATUS dispatcher_init(struct dispatcher *dispatcher)
{
    struct epoll_event event = {.events = EPOLLIN, .data.u64 = STOP_TOKEN};
    NTSTATUS status;

    memset(dispatcher, 0, sizeof(*dispatcher));
    if ((dispatcher->epoll_fd = epoll_create1(EPOLL_CLOEXEC)) < 0) return status_from_errno(errno);
    if ((dispatcher->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
    {
        status = status_from_errno(errno);
        goto err_close_epoll;
    }
    if (epoll_ctl(dispatcher->epoll_fd, EPOLL_CTL_ADD, dispatcher->stop_fd, &event) < 0)
    {
        status = status_from_errno(errno);
        goto err_close_stop;
    }
    robust_mutex_init(&dispatcher->lock);
    return STATUS_SUCCESS;

err_close_stop:
    close(dispatcher->stop_fd);
err_close_epoll:
    close(dispatcher->epoll_fd);
    return status;
}

static void dispatcher_close(struct dispatcher *dispatcher)
{
    if (dispatcher->epoll_fd < 0) return;
    close(dispatcher->stop_fd);
    close(dispatcher->epoll_fd);
    dispatcher->stop_fd = dispatcher->epoll_fd = -1;
}

void dispatcher_cleanup(struct dispatcher *dispatcher)
{
    dispatcher_close(dispatcher);
    free(dispatcher->events);
    free(dispatcher->generation);
    pthread_mutex_destroy(&dispatcher->lock);
}

/* Doorbell eventfds are edge-triggered in the epoll set: every guest write
 * that KVM signals queues one epoll event (rings before the dispatcher runs
 * fold into one, as they would into one set of the Win32 event), so the
 * counter is never read, which saves a system call per ring.  It only
 * grows, and would take 2^64 rings to fill. */
NTSTATUS dispatcher_run(struct dispatcher *dispatcher)
{
    struct epoll_event events[64];
    NTSTATUS status = STATUS_SUCCESS;
    pid_t self = 0;
    int i, count;

    robust_mutex_lock(&dispatcher->lock);
    if (!dispatcher->stopping) dispatcher->thread = self = current_tid();
    pthread_mutex_unlock(&dispatcher->lock);
    if (!self) return STATUS_SUCCESS;

    TRACE("dispatcher started\n");
    for (;;)
    {
        if ((count = epoll_wait(dispatcher->epoll_fd, events, ARRAY_SIZE(events), -1)) < 0)
        {
            if (errno == EINTR) continue;
            ERR("epoll_wait failed: %s\n", strerror(errno));
            status = status_from_errno(errno);
            break;
        }
        robust_mutex_lock(&dispatcher->lock);
        for (i = 0; i < count; i++)
        {
            uint64_t token = events[i].data.u64;
            uint32_t index = token, generation = token >> 32;

            if (token == STOP_TOKEN) break;
            if (index < dispatcher->capacity && dispatcher->events[index]
                    && dispatcher->generation[index] == generation)
                NtSetEvent((HANDLE)(ULONG_PTR)dispatcher->events[index], NULL);
        }
        pthread_mutex_unlock(&dispatcher->lock);
        if (i < count) break;
    }
    TRACE("dispatcher stopped\n");
    robust_mutex_lock(&dispatcher->lock);
    dispatcher->thread = 0;
    pthread_mutex_unlock(&dispatcher->lock);
    return status;
}

void dispatcher_stop(struct dispatcher *dispatcher)
{
    static const struct timespec pause = {0, 1000000};
    uint64_t one = 1;
    pid_t thread;

    robust_mutex_lock(&dispatcher->lock);
    dispatcher->stopping = 1;
    pthread_mutex_unlock(&dispatcher->lock);
    if (write(dispatcher->stop_fd, &one, sizeof(one)) != sizeof(one))
        ERR("cannot stop the dispatcher: %s\n", strerror(errno));
    /* Waiting for the thread's exit instead would deadlock under the loader
     * lock (DllMain), and at process exit the thread is killed in
     * epoll_wait(). */
    for (;;)
    {
        robust_mutex_lock(&dispatcher->lock);
        thread = dispatcher->thread;
        pthread_mutex_unlock(&dispatcher->lock);
        if (!thread || !thread_is_alive(thread)) break;
        nanosleep(&pause, NULL);
    }
    robust_mutex_lock(&dispatcher->lock);
    dispatcher_close(dispatcher);
    pthread_mutex_unlock(&dispatcher->lock);
}

NTSTATUS dispatcher_add(struct dispatcher *dispatcher, int eventfd, UINT64 event, uint32_t *ret)
{
    struct epoll_event epoll_event = {.events = EPOLLIN | EPOLLET};
    NTSTATUS status = STATUS_SUCCESS;
    uint32_t index;

    robust_mutex_lock(&dispatcher->lock);
    for (index = 0; index < dispatcher->capacity; index++)
        if (!dispatcher->events[index]) break;
    if (index == dispatcher->capacity)
    {
        uint32_t capacity = dispatcher->capacity ? dispatcher->capacity * 2 : 64;
        UINT64 *events = realloc(dispatcher->events, capacity * sizeof(*events));
        uint32_t *generation;

        if (events) dispatcher->events = events;
        if (!events || !(generation = realloc(dispatcher->generation, capacity * sizeof(*generation))))
        {
            pthread_mutex_unlock(&dispatcher->lock);
            return STATUS_NO_MEMORY;
        }
        dispatcher->generation = generation;
        memset(events + dispatcher->capacity, 0, (capacity - dispatcher->capacity) * sizeof(*events));
        memset(generation + dispatcher->capacity, 0, (capacity - dispatcher->capacity) * sizeof(*generation));
        dispatcher->capacity = capacity;
    }
    epoll_event.data.u64 = index | (uint64_t)dispatcher->generation[index] << 32;
    if (dispatcher->epoll_fd < 0) status = STATUS_DEVICE_REMOVED;
    else if (epoll_ctl(dispatcher->epoll_fd, EPOLL_CTL_ADD, eventfd, &epoll_event) < 0) status = status_from_errno(errno);
    else
    {
        dispatcher->events[index] = event;
        *ret = index;
    }
    pthread_mutex_unlock(&dispatcher->lock);
    return status;
}

void dispatcher_remove(struct dispatcher *dispatcher, int eventfd, uint32_t index)
{
    robust_mutex_lock(&dispatcher->lock);
    dispatcher->events[index] = 0;
    dispatcher->generation[index]++;
    if (dispatcher->epoll_fd >= 0) epoll_ctl(dispatcher->epoll_fd, EPOLL_CTL_DEL, eventfd, NULL);
    pthread_mutex_unlock(&dispatcher->lock);
}
