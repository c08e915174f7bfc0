/*
 * PE half of vmidl: thin COM objects and the partition host's entry points:
 * partition.c (handles, lifetime, RAM, BAR moves), vp.c (virtual
 * processors), device.c and device_access.c (the COM objects), and for a
 * published partition publish.c (the front door), client.c (connected
 * processes), view.c (their views) and mta.c (vmidl's thread in COM's
 * multithreaded apartment).  What KVM sees lives in the unix half
 * (unix_*.c).
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_PRIVATE_H
#define __VMIDL_PRIVATE_H

#include <stdarg.h>

#define COBJMACROS
#include "ntstatus.h"
#define WIN32_NO_STATUS
#include "windef.h"
#include "winbase.h"
#include "winternl.h"

#include "vmfiov.h"
#include "vmidlhost.h"
#include "unixlib.h"
#include "list.h"
#include "vmidl_worker.h"

/* Declared here because Debian ships no wine/unixlib.h; winecrt0 provides
 * them and __wine_init_unix_call() looks up this module's unix library. */
typedef UINT64 unixlib_handle_t;
extern unixlib_handle_t __wine_unixlib_handle;
extern NTSTATUS (WINAPI *__wine_unix_call_dispatcher)(unixlib_handle_t, unsigned int, void *);
extern NTSTATUS WINAPI __wine_init_unix_call(void);

#define PAGE_MASK_4K (FIOV_PAGE_SIZE - 1)

#define VMIDL_CALL(func, params) __wine_unix_call_dispatcher(__wine_unixlib_handle, unix_ ## func, params)

/* The one conversion of a unix call's NTSTATUS into an HRESULT. */
extern HRESULT hresult_from_status(NTSTATUS status);

struct broker;

/* Takes a reference unless the count already reached 0. */
static inline BOOL addref_if_alive(LONG *refcount)
{
    LONG old = ReadNoFence(refcount);

    while (old)
    {
        LONG found = InterlockedCompareExchange(refcount, old + 1, old);
        if (found == old) return TRUE;
        old = found;
    }
    return FALSE;
}

struct partition
{
    /* Held by its handle, the dispatcher thread, each device and device
     * access object, its published front door, and each call in progress. */
    LONG refcount;
    UINT64 unix_vm;
    UINT32 vp_count;
    GUID runtime_id;
    HANDLE runtime_id_name;     /* the named object that reserves the RuntimeId in the prefix */
    LONG deleting;
    LONG deleted;
    HANDLE dispatcher;
    LONG dispatcher_started;
    /* Its devices by instance, for GetDevice and VmidlSetBarAddress. */
    SRWLOCK devices_lock;
    struct list devices;
    /* Set by VmidlPublishPartition (worker.c); undone on delete. */
    LONG publishing;
    struct broker *broker;
    void (*unpublish)(struct partition *partition);
};

/* Whether this thread holds the loader lock (runs a DllMain, say): then it
 * must not wait for another thread. */
extern BOOL holding_loader_lock(void);

/* A new reference to the partition behind a live handle, or NULL. */
extern struct partition *partition_from_handle(VMIDL_PARTITION_HANDLE handle);
extern void partition_addref(struct partition *partition);
extern void partition_release(struct partition *partition);

extern HRESULT device_access_create(struct partition *partition, IVmVirtualDeviceAccess **out);

/* The device object (device.c), and the calls the per-process views of it
 * that a published partition hands out (worker.c) make on behalf of an
 * owner: 0 for the device's own callers, who may remove anything, else a
 * view, which may only remove what it registered, and whose registrations
 * device_release_owner() takes away.  Handles are values in process. */
struct device;
extern struct device *device_from_unknown(IUnknown *unknown);
/* The device added with that instance, with a new reference, or NULL. */
extern struct device *device_find(struct partition *partition, const GUID *instance_id);
extern IUnknown *device_unknown(struct device *device);
extern HRESULT device_create_range(struct device *device, UINT64 owner, FIOV_BAR_SELECTOR bar, ULONG64 bar_offset_pages,
        UINT64 page_count, FiovMmioMappingFlags flags, HANDLE process, UINT64 section, UINT64 section_offset_pages);
extern HRESULT device_destroy_range(struct device *device, UINT64 owner, FIOV_BAR_SELECTOR bar, ULONG64 bar_offset_pages);
extern HRESULT device_register_doorbell(struct device *device, UINT64 owner, FIOV_BAR_SELECTOR bar, UINT64 offset,
        UINT64 value, UINT64 flags, HANDLE process, UINT64 event);
extern HRESULT device_unregister_doorbell(struct device *device, UINT64 owner, FIOV_BAR_SELECTOR bar, UINT64 offset,
        UINT64 value, UINT64 flags);
extern HRESULT device_move_bar(struct device *device, UINT32 bar, UINT64 gpa);
extern HRESULT device_attach_pci(struct device *device, const VMIDL_PCI_DEVICE_DESC *desc);
extern HRESULT device_deliver_msi(struct device *device, UINT64 address, UINT32 data);
extern HRESULT device_guest_memory(struct device *device, UINT64 gpa, void *buffer, UINT32 size, BOOL write);
/* A handle in process to the section behind guest RAM at gpa, and where
 * in it gpa is. */
extern HRESULT device_share_guest_memory(struct device *device, HANDLE process, UINT64 gpa, UINT64 size,
        BOOL writable, ULONG64 *section, UINT64 *section_offset);
extern void device_release_owner(struct device *device, UINT64 owner);

/* --- mta.c: vmidl's thread in COM's multithreaded apartment -------------- */

/* Runs func(arg) there, and waits for it unless wait is FALSE. */
extern HRESULT mta_run(void (*func)(void *arg), void *arg, BOOL wait);
extern BOOL mta_is_current(void);
/* Processes the thread waits for: a place is reserved first (at most
 * MTA_MAX_WATCHED: ERROR_NO_SYSTEM_RESOURCES), then, in the apartment,
 * mta_watch() calls ended(context) there when the process ends, until
 * mta_unwatch(context), which gives the place back. */
#define MTA_MAX_WATCHED (MAXIMUM_WAIT_OBJECTS - 1)
extern HRESULT mta_reserve_watch(void);
extern void mta_release_watch(void);
extern void mta_watch(HANDLE process, void (*ended)(void *context), void *context);
extern void mta_unwatch(void *context);

/* --- publish.c and client.c: a published partition and its clients ------- */

struct broker
{
    IVmidlWorker IVmidlWorker_iface;
    LONG refcount;
    struct partition *partition;
    SRWLOCK lock;               /* clients, their views, closed */
    struct list clients;        /* struct client */
    BOOL closed;                /* unpublished: no process joins any more */
    IStream *marshal_data;
    HANDLE section;             /* the marshaled front door, named by the RuntimeId */
    HANDLE system_section;      /* the RuntimeId, named by the compute system Id */
};

/* A process connected to a broker. */
struct client
{
    struct list entry;          /* broker->clients */
    LONG refcount;              /* the broker's list, each view, the apartment's wait, work in flight */
    struct broker *broker;
    DWORD pid;
    HANDLE process;             /* to wait for its end, and to share sections with it */
    BOOL gone;                  /* ended, or the partition went: under the broker's lock */
    BOOL watched;               /* in the apartment's waits: the apartment's thread only */
    struct list views;          /* struct view */
};

/* What a client's views share: a place in its list, for disconnecting. */
struct view
{
    struct list entry;          /* client->views */
    IUnknown *unknown;
    LONG *refcount;
    struct device *device;      /* a device view's device, NULL for an access view */
};

extern void broker_release(struct broker *broker);
/* The record of the calling process, new or found, with a reference;
 * ERROR_NOT_FOUND once the broker is closed. */
extern HRESULT broker_client(struct broker *broker, DWORD pid, struct client **client);
extern void broker_close(struct broker *broker);
extern void client_release(struct client *client);
/* ERROR_DEVICE_REMOVED once the client is cut off. */
extern HRESULT client_add_view(struct client *client, struct view *view, IUnknown *unknown, LONG *refcount,
        struct device *device);
extern void client_remove_view(struct client *client, struct view *view);
/* The client's live view of the device, with a new reference, or NULL. */
extern struct view *client_find_view(struct client *client, struct device *device);

/* --- view.c --- */
extern HRESULT access_view_create(struct client *client, REFIID riid, IUnknown **out);

#endif /* __VMIDL_PRIVATE_H */
