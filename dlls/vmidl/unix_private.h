/*
 * What every file of vmidl's unix half shares: Wine's types, the one
 * errno -> NTSTATUS conversion, and small helpers.  Each mechanism has its
 * own header (unix_*.h); a file includes only the headers of what it calls.
 *
 * Unix-side functions return NTSTATUS; a failed system call is turned into
 * one where it happens, with status_from_errno().
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_UNIX_PRIVATE_H
#define __VMIDL_UNIX_PRIVATE_H

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "ntstatus.h"
#define WIN32_NO_STATUS
#include "windef.h"
#include "winternl.h"
#include "wine/debug.h"

#include "unixlib.h"
#include "list.h"

static inline NTSTATUS status_from_errno(int err)
{
    switch (err)
    {
    case 0: return STATUS_SUCCESS;
    case EINVAL: return STATUS_INVALID_PARAMETER;
    case ENOMEM: return STATUS_NO_MEMORY;
    case EEXIST: return STATUS_OBJECT_NAME_COLLISION;
    case ENOENT: return STATUS_NOT_FOUND;
    case ENOSPC:
    case ENOBUFS:
    case EMFILE:
    case ENFILE: return STATUS_INSUFFICIENT_RESOURCES;
    case EBADF: return STATUS_INVALID_HANDLE;
    case EACCES:
    case EPERM: return STATUS_ACCESS_DENIED;
    case EBUSY: return STATUS_DEVICE_BUSY;
    case ENODEV:
    case ENXIO:
    case EOPNOTSUPP: return STATUS_NOT_SUPPORTED;
    default: return STATUS_UNSUCCESSFUL;
    }
}

#define CURRENT_PROCESS ((HANDLE)~(ULONG_PTR)0)

static inline int ranges_overlap(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size)
{
    return a < b + b_size && b < a + a_size;
}

/* The unix thread id of the calling thread. */
static inline pid_t current_tid(void)
{
    return syscall(SYS_gettid);
}

/* Whether a thread of this process still exists: a Win32 thread killed by
 * TerminateThread leaves no one to clean up after it. */
static inline int thread_is_alive(pid_t tid)
{
    return !syscall(SYS_tgkill, getpid(), tid, 0) || errno != ESRCH;
}

/* For locks that a vCPU or dispatcher thread takes: TerminateThread (or
 * process exit) may end such a thread while it holds one. */
static inline void robust_mutex_init(pthread_mutex_t *mutex)
{
    pthread_mutexattr_t attr;

    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(mutex, &attr);
    pthread_mutexattr_destroy(&attr);
}

static inline void robust_mutex_lock(pthread_mutex_t *mutex)
{
    if (pthread_mutex_lock(mutex) == EOWNERDEAD) pthread_mutex_consistent(mutex);
}

#endif /* __VMIDL_UNIX_PRIVATE_H */
