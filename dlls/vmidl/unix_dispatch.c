/*
 * The doorbell dispatcher: one epoll set of eventfds per VM, and the loop
 * that sets each one's Win32 event when KVM signals it.
 *
 * It finds events through slots tagged with a generation: a removal bumps
 * the generation under the lock, so a stale epoll event for a removed
 * doorbell can never set the event of the one that took its slot.  Nothing
 * here assumes how Wine sets an event (a wineserver request, or an NTSync
 * ioctl on Wine 10.16 and later).  The same epoll set watches the
 * process's wineserver connection.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE     /* struct ucred */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "unix_private.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

#define STOP_TOKEN (~0ull)
#define WORK_TOKEN (~0ull - 1)
#define SERVER_TOKEN (~0ull - 2)

static NTSTATUS add_token_fd(int epoll_fd, uint64_t token, int *fd)
{
    struct epoll_event event = {.events = EPOLLIN, .data.u64 = token};

    if ((*fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) return status_from_errno(errno);
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, *fd, &event) >= 0) return STATUS_SUCCESS;
    close(*fd);
    return status_from_errno(errno);
}

/* The process's connection to its wineserver: the one unix socket whose
 * peer is a wineserver process. */
static int find_server_socket(void)
{
    char path[64], comm[32];
    struct ucred peer;
    socklen_t size;
    struct dirent *entry;
    int fd, found = -1, domain;
    FILE *file;
    DIR *dir;

    if (!(dir = opendir("/proc/self/fd"))) return -1;
    while (found < 0 && (entry = readdir(dir)))
    {
        fd = atoi(entry->d_name);
        size = sizeof(domain);
        if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &size) || domain != AF_UNIX) continue;
        size = sizeof(peer);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &size) || peer.pid <= 0 || peer.pid == getpid()) continue;
        snprintf(path, sizeof(path), "/proc/%d/comm", peer.pid);
        if (!(file = fopen(path, "r"))) continue;
        if (fgets(comm, sizeof(comm), file) && !strncmp(comm, "wineserver", 10)) found = fd;
        fclose(file);
    }
    closedir(dir);
    return found;
}

/* When the wineserver dies, the threads of a Wine process end at their
 * next server request, and the process with the last of them; but a
 * thread waiting on an object (COM's, RPC's, vmidl's own) never makes
 * another one, since the wait pipe's other end is the process's own, nor
 * does this thread in epoll_wait.  So the dispatcher watches the server's
 * socket, and ends the process itself, with the status Wine gives it. */
static void watch_server(int epoll_fd)
{
    struct epoll_event event = {.events = EPOLLRDHUP | EPOLLET, .data.u64 = SERVER_TOKEN};
    int fd;

    if ((fd = find_server_socket()) < 0 || epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0)
        WARN("cannot watch the wineserver connection: a partition's process outlives its wineserver\n");
}

static void server_gone(void)
{
    MESSAGE("vmidl: the wineserver is gone; ending the process\n");
    _exit(0);
}

NTSTATUS dispatcher_init(struct dispatcher *dispatcher, int (*work)(void *context), void *work_context)
{
    NTSTATUS status;

    memset(dispatcher, 0, sizeof(*dispatcher));
    dispatcher->work = work;
    dispatcher->work_context = work_context;
    if ((dispatcher->epoll_fd = epoll_create1(EPOLL_CLOEXEC)) < 0) return status_from_errno(errno);
    if ((status = add_token_fd(dispatcher->epoll_fd, STOP_TOKEN, &dispatcher->stop_fd))) goto err_close_epoll;
    if ((status = add_token_fd(dispatcher->epoll_fd, WORK_TOKEN, &dispatcher->work_fd))) goto err_close_stop;
    watch_server(dispatcher->epoll_fd);
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
    close(dispatcher->work_fd);
    close(dispatcher->stop_fd);
    close(dispatcher->epoll_fd);
    dispatcher->work_fd = dispatcher->stop_fd = dispatcher->epoll_fd = -1;
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
    int i, count, stop = 0, work = 0;
    uint64_t drained;
    pid_t self = 0;

    robust_mutex_lock(&dispatcher->lock);
    if (!dispatcher->stopping) dispatcher->thread = self = current_tid();
    pthread_mutex_unlock(&dispatcher->lock);
    if (!self) return STATUS_SUCCESS;

    TRACE("dispatcher started\n");
    while (!stop)
    {
        /* With work left, only look for doorbells between its steps. */
        if ((count = epoll_wait(dispatcher->epoll_fd, events, ARRAY_SIZE(events), work ? 0 : -1)) < 0)
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

            if (token == STOP_TOKEN) stop = 1;
            else if (token == SERVER_TOKEN) server_gone();
            else if (token == WORK_TOKEN)
            {
                if (read(dispatcher->work_fd, &drained, sizeof(drained)) < 0 && errno != EAGAIN)
                    ERR("cannot read the work eventfd: %s\n", strerror(errno));
                work = 1;
            }
            else if (index < dispatcher->capacity && dispatcher->events[index]
                    && dispatcher->generation[index] == generation)
                NtSetEvent((HANDLE)(ULONG_PTR)dispatcher->events[index], NULL);
        }
        pthread_mutex_unlock(&dispatcher->lock);
        if (work && !stop) work = dispatcher->work(dispatcher->work_context);
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

void dispatcher_wake(struct dispatcher *dispatcher)
{
    uint64_t one = 1;

    robust_mutex_lock(&dispatcher->lock);
    if (dispatcher->work_fd >= 0 && write(dispatcher->work_fd, &one, sizeof(one)) != sizeof(one))
        ERR("cannot wake the dispatcher: %s\n", strerror(errno));
    pthread_mutex_unlock(&dispatcher->lock);
}

void dispatcher_remove(struct dispatcher *dispatcher, int eventfd, uint32_t index)
{
    robust_mutex_lock(&dispatcher->lock);
    dispatcher->events[index] = 0;
    dispatcher->generation[index]++;
    if (dispatcher->epoll_fd >= 0) epoll_ctl(dispatcher->epoll_fd, EPOLL_CTL_DEL, eventfd, NULL);
    pthread_mutex_unlock(&dispatcher->lock);
}
