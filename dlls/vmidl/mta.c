/*
 * vmidl's thread in COM's multithreaded apartment: it runs the COM work of
 * published partitions (objects marshaled there take calls on RPC threads
 * without a message loop), and it waits for the end of every process
 * connected to this one, since Wine has no DCOM ping to notice it.
 *
 * ole32 is a delay import: a host that never publishes never loads it
 * (it brings user32 and gdi32 along).
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vmidl_private.h"
#include "objbase.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

struct mta_work
{
    struct list entry;
    void (*func)(void *arg);
    void *arg;
    HANDLE done;            /* NULL: nobody waits, the thread frees the work */
};

static SRWLOCK mta_lock = SRWLOCK_INIT;
static struct list mta_queue = {&mta_queue, &mta_queue};
static INIT_ONCE mta_once = INIT_ONCE_STATIC_INIT;
static HRESULT mta_status;
static DWORD mta_thread_id;

/* waits[0] is the work queue's; the others are watched processes.  Only
 * the thread touches them; other threads reserve a place first. */
static HANDLE mta_waits[MAXIMUM_WAIT_OBJECTS];
static void (*mta_ended[MAXIMUM_WAIT_OBJECTS])(void *context);
static void *mta_contexts[MAXIMUM_WAIT_OBJECTS];
static DWORD mta_wait_count;
static LONG watch_reservations;

static void mta_run_queue(void)
{
    struct mta_work *work;

    for (;;)
    {
        AcquireSRWLockExclusive(&mta_lock);
        if (list_empty(&mta_queue))
        {
            ReleaseSRWLockExclusive(&mta_lock);
            return;
        }
        work = LIST_ENTRY(mta_queue.next, struct mta_work, entry);
        list_remove(&work->entry);
        ReleaseSRWLockExclusive(&mta_lock);

        work->func(work->arg);
        if (work->done) SetEvent(work->done);
        else free(work);
    }
}

/* Never ends: it keeps the apartment, and the objects marshaled in it,
 * alive for the life of the process. */
static DWORD WINAPI mta_thread_proc(void *arg)
{
    HANDLE ready = arg;
    DWORD ret, index;

    mta_thread_id = GetCurrentThreadId();
    mta_status = CoInitializeEx(NULL, COINIT_MULTITHREADED);
    SetEvent(ready);
    if (FAILED(mta_status)) return 0;

    for (;;)
    {
        mta_run_queue();
        ret = WaitForMultipleObjects(mta_wait_count, mta_waits, FALSE, INFINITE);
        index = ret - WAIT_OBJECT_0;
        if (index > 0 && index < mta_wait_count) mta_ended[index](mta_contexts[index]);
        else if (index) ERR("wait failed, error %lu\n", GetLastError());
    }
}

static BOOL WINAPI mta_start(INIT_ONCE *once, void *param, void **context)
{
    HMODULE module;
    HANDLE ready, thread;

    GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
            (const WCHAR *)mta_thread_proc, &module);
    if (!(ready = CreateEventW(NULL, TRUE, FALSE, NULL)) || !(mta_waits[0] = CreateEventW(NULL, FALSE, FALSE, NULL))
            || !(thread = CreateThread(NULL, 0, mta_thread_proc, ready, 0, NULL)))
    {
        mta_status = HRESULT_FROM_WIN32(GetLastError());
        if (ready) CloseHandle(ready);
        return TRUE;
    }
    mta_wait_count = 1;
    WaitForSingleObject(ready, INFINITE);
    CloseHandle(ready);
    CloseHandle(thread);
    return TRUE;
}

BOOL mta_is_current(void)
{
    return GetCurrentThreadId() == mta_thread_id;
}

HRESULT mta_run(void (*func)(void *arg), void *arg, BOOL wait)
{
    struct mta_work *work;

    InitOnceExecuteOnce(&mta_once, mta_start, NULL, NULL);
    if (FAILED(mta_status)) return mta_status;
    if (!(work = calloc(1, sizeof(*work)))) return E_OUTOFMEMORY;
    work->func = func;
    work->arg = arg;
    if (wait && !(work->done = CreateEventW(NULL, TRUE, FALSE, NULL)))
    {
        free(work);
        return HRESULT_FROM_WIN32(GetLastError());
    }

    AcquireSRWLockExclusive(&mta_lock);
    list_add_tail(&mta_queue, &work->entry);
    ReleaseSRWLockExclusive(&mta_lock);
    SetEvent(mta_waits[0]);

    if (wait)
    {
        WaitForSingleObject(work->done, INFINITE);
        CloseHandle(work->done);
        free(work);
    }
    return S_OK;
}

HRESULT mta_reserve_watch(void)
{
    if (InterlockedIncrement(&watch_reservations) <= MTA_MAX_WATCHED) return S_OK;
    WARN("already %u processes watched\n", MTA_MAX_WATCHED);
    InterlockedDecrement(&watch_reservations);
    return HRESULT_FROM_WIN32(ERROR_NO_SYSTEM_RESOURCES);
}

void mta_release_watch(void)
{
    InterlockedDecrement(&watch_reservations);
}

void mta_watch(HANDLE process, void (*ended)(void *context), void *context)
{
    mta_waits[mta_wait_count] = process;
    mta_ended[mta_wait_count] = ended;
    mta_contexts[mta_wait_count++] = context;
}

void mta_unwatch(void *context)
{
    DWORD i;

    for (i = 1; i < mta_wait_count; i++)
    {
        if (mta_contexts[i] != context) continue;
        mta_wait_count--;
        mta_waits[i] = mta_waits[mta_wait_count];
        mta_ended[i] = mta_ended[mta_wait_count];
        mta_contexts[i] = mta_contexts[mta_wait_count];
        break;
    }
    mta_release_watch();
}
