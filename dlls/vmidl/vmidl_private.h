/*
 * PE half of vmidl: thin COM objects and the partition host's entry points:
 * partition.c (handles, lifetime, RAM, BAR moves), vp.c (virtual
 * processors), device.c and device_access.c (the COM objects).  The device
 * model itself lives in the unix half (unix_*.c).
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

/* The device object (device.c), for the per-process views of it that a
 * published partition hands out (worker.c): calls on behalf of an owner,
 * whose ranges and doorbells device_release_owner() takes away. */
struct device;
extern struct device *device_from_unknown(IUnknown *unknown);
extern HRESULT device_create_range(struct device *device, UINT64 owner, FIOV_BAR_SELECTOR bar, ULONG64 bar_offset_pages,
        UINT64 page_count, FiovMmioMappingFlags flags, HANDLE section, UINT64 section_offset_pages);
extern HRESULT device_destroy_range(struct device *device, FIOV_BAR_SELECTOR bar, ULONG64 bar_offset_pages);
extern HRESULT device_register_doorbell(struct device *device, UINT64 owner, FIOV_BAR_SELECTOR bar, UINT64 offset,
        UINT64 value, UINT64 flags, HANDLE event);
extern HRESULT device_unregister_doorbell(struct device *device, FIOV_BAR_SELECTOR bar, UINT64 offset,
        UINT64 value, UINT64 flags);
extern void device_release_owner(struct device *device, UINT64 owner);

#endif /* __VMIDL_PRIVATE_H */
