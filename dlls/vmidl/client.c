/*
 * The processes connected to a published partition (its clients) and the
 * views each holds, so that a process's views can be cut off together when
 * it ends or the partition goes.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vmidl_private.h"
#include "objbase.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

void client_release(struct client *client)
{
    if (InterlockedDecrement(&client->refcount)) return;
    TRACE("client %p of process %04lx freed\n", client, client->pid);
    CloseHandle(client->process);
    broker_release(client->broker);
    free(client);
}

/* In the apartment: the process's views lose their stubs (and with them
 * the references the process held, and each view its ranges and doorbells). */
static void client_disconnect(struct client *client)
{
    IUnknown **views = NULL;
    unsigned int count = 0, i;
    struct view *view;
    BOOL gone;

    AcquireSRWLockExclusive(&client->broker->lock);
    if (!(gone = client->gone))
    {
        client->gone = TRUE;
        list_remove(&client->entry);
        if ((views = calloc(list_count(&client->views), sizeof(*views))))
        {
            LIST_FOR_EACH_ENTRY(view, &client->views, struct view, entry)
                if (addref_if_alive(view->refcount)) views[count++] = view->unknown;
        }
    }
    ReleaseSRWLockExclusive(&client->broker->lock);
    if (gone) return;

    TRACE("client %p of process %04lx: %u views\n", client, client->pid, count);
    if (client->watched)
    {
        mta_unwatch(client);
        client->watched = FALSE;
        client_release(client);
    }
    for (i = 0; i < count; i++)
    {
        CoDisconnectObject(views[i], 0);
        IUnknown_Release(views[i]);
    }
    free(views);
    client_release(client);     /* the broker's list */
}

/* In the apartment, when the client's process has ended. */
static void client_ended(void *context)
{
    struct client *client = context;

    TRACE("process %04lx ended\n", client->pid);
    InterlockedIncrement(&client->refcount);
    client_disconnect(client);
    client_release(client);
}

/* In the apartment: from now on the client's end is noticed at once. */
static void client_watch(void *arg)
{
    struct client *client = arg;

    if (client->gone)
    {
        mta_release_watch();
        client_release(client);
        return;
    }
    mta_watch(client->process, client_ended, client);
    client->watched = TRUE;
}

HRESULT broker_client(struct broker *broker, DWORD pid, struct client **ret)
{
    struct client *client;
    HRESULT hr;

    AcquireSRWLockShared(&broker->lock);
    LIST_FOR_EACH_ENTRY(client, &broker->clients, struct client, entry)
    {
        if (client->pid != pid) continue;
        InterlockedIncrement(&client->refcount);
        ReleaseSRWLockShared(&broker->lock);
        *ret = client;
        return S_OK;
    }
    ReleaseSRWLockShared(&broker->lock);

    if (FAILED(hr = mta_reserve_watch())) return hr;
    if (!(client = calloc(1, sizeof(*client))) || !(client->process = OpenProcess(SYNCHRONIZE | PROCESS_DUP_HANDLE, FALSE, pid)))
    {
        WARN("cannot open process %04lx, error %lu\n", pid, GetLastError());
        mta_release_watch();
        free(client);
        return client ? E_ACCESSDENIED : E_OUTOFMEMORY;
    }
    client->refcount = 3;       /* the list's, the apartment's wait and the caller's */
    client->broker = broker;
    client->pid = pid;
    list_init(&client->views);
    IVmidlWorker_AddRef(&broker->IVmidlWorker_iface);

    /* A Connect that was on its way while the partition went joins nothing:
     * nobody would cut it off again. */
    AcquireSRWLockExclusive(&broker->lock);
    if (!broker->closed) list_add_tail(&broker->clients, &client->entry);
    ReleaseSRWLockExclusive(&broker->lock);
    if (broker->closed)
    {
        mta_release_watch();
        client->refcount = 1;
        client_release(client);
        return HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
    }

    if (FAILED(mta_run(client_watch, client, FALSE)))
    {
        ERR("cannot wait for process %04lx\n", pid);
        mta_release_watch();
        client_release(client);
    }
    TRACE("client %p: process %04lx\n", client, pid);
    *ret = client;
    return S_OK;
}

/* In the apartment, once the partition is unpublished: no process joins
 * any more, and every connected one is cut off. */
void broker_close(struct broker *broker)
{
    struct client *client;

    AcquireSRWLockExclusive(&broker->lock);
    broker->closed = TRUE;
    while (!list_empty(&broker->clients))
    {
        client = LIST_ENTRY(broker->clients.next, struct client, entry);
        InterlockedIncrement(&client->refcount);
        ReleaseSRWLockExclusive(&broker->lock);
        client_disconnect(client);
        client_release(client);
        AcquireSRWLockExclusive(&broker->lock);
    }
    ReleaseSRWLockExclusive(&broker->lock);
}

HRESULT client_add_view(struct client *client, struct view *view, IUnknown *unknown, LONG *refcount,
        struct device *device)
{
    BOOL gone;

    view->unknown = unknown;
    view->refcount = refcount;
    view->device = device;
    AcquireSRWLockExclusive(&client->broker->lock);
    if (!(gone = client->gone)) list_add_tail(&client->views, &view->entry);
    ReleaseSRWLockExclusive(&client->broker->lock);
    if (gone) return HRESULT_FROM_WIN32(ERROR_DEVICE_REMOVED);
    InterlockedIncrement(&client->refcount);
    return S_OK;
}

void client_remove_view(struct client *client, struct view *view)
{
    AcquireSRWLockExclusive(&client->broker->lock);
    list_remove(&view->entry);
    ReleaseSRWLockExclusive(&client->broker->lock);
    client_release(client);
}

struct view *client_find_view(struct client *client, struct device *device)
{
    struct view *view, *found = NULL;

    AcquireSRWLockShared(&client->broker->lock);
    LIST_FOR_EACH_ENTRY(view, &client->views, struct view, entry)
    {
        if (view->device != device || !addref_if_alive(view->refcount)) continue;
        found = view;
        break;
    }
    ReleaseSRWLockShared(&client->broker->lock);
    return found;
}
