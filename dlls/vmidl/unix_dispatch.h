/*
 * The doorbell dispatcher: one epoll set of eventfds per VM, and the loop
 * that sets each one's Win32 event when KVM signals it.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_UNIX_DISPATCH_H
#define __VMIDL_UNIX_DISPATCH_H

#include "unix_private.h"

struct dispatcher
{
    /* Held while an event is set, so that once dispatcher_remove() returns
     * that event is never set again. */
    pthread_mutex_t lock;
    UINT64 *events;             /* index -> Win32 event, or 0 when free */
    uint32_t *generation;       /* index -> bumped at every removal */
    uint32_t capacity;
    int epoll_fd;
    int stop_fd;
    pid_t thread;               /* inside dispatcher_run(), or 0 */
    int stopping;
};

extern NTSTATUS dispatcher_init(struct dispatcher *dispatcher);
extern void dispatcher_cleanup(struct dispatcher *dispatcher);
/* Runs on a Win32 thread (it sets Win32 events) until dispatcher_stop();
 * returns at once if that came first. */
extern NTSTATUS dispatcher_run(struct dispatcher *dispatcher);
/* Returns once the dispatcher has left dispatcher_run(), or its thread is
 * gone, and closes its fds; it never waits for the thread itself to exit. */
extern void dispatcher_stop(struct dispatcher *dispatcher);
extern NTSTATUS dispatcher_add(struct dispatcher *dispatcher, int eventfd, UINT64 event, uint32_t *index);
extern void dispatcher_remove(struct dispatcher *dispatcher, int eventfd, uint32_t index);

#endif /* __VMIDL_UNIX_DISPATCH_H */
