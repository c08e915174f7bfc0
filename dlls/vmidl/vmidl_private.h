/*
 * PE half of vmidl: COM objects and the partition host.
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

/* Declared here because Debian ships no wine/unixlib.h; winecrt0 provides
 * them and __wine_init_unix_call() looks up this module's unix library. */
typedef UINT64 unixlib_handle_t;
extern unixlib_handle_t __wine_unixlib_handle;
extern NTSTATUS (WINAPI *__wine_unix_call_dispatcher)(unixlib_handle_t, unsigned int, void *);
extern NTSTATUS WINAPI __wine_init_unix_call(void);

#define VMIDL_CALL(func, params) __wine_unix_call_dispatcher(__wine_unixlib_handle, unix_ ## func, params)

/* Every params struct of a call on a VM starts with "UINT64 vm". */
C_ASSERT(FIELD_OFFSET(struct range_create_params, vm) == 0);
C_ASSERT(FIELD_OFFSET(struct range_destroy_params, vm) == 0);
C_ASSERT(FIELD_OFFSET(struct doorbell_params, vm) == 0);
C_ASSERT(FIELD_OFFSET(struct vm_map_ram_params, vm) == 0);
C_ASSERT(FIELD_OFFSET(struct vp_registers_params, vm) == 0);
C_ASSERT(FIELD_OFFSET(struct vp_run_params, vm) == 0);

extern HRESULT hresult_from_status(NTSTATUS status);

struct vmidl_partition
{
    LONG refcount;              /* the caller's handle, each device and access object */
    GUID runtime_id;
    UINT64 vm;
    UINT32 vp_count;
    LONG running_vps;
    BOOL deleted;
    HANDLE dispatcher;
    struct list devices;        /* struct device; a device with refcount 0 is on its way out */
    /* Shared by every call that uses the VM; exclusive to change the device
     * list, move a BAR or delete the partition. */
    SRWLOCK lock;
};

struct device
{
    IVmFiovGuestMmioMappings IVmFiovGuestMmioMappings_iface;
    IVmFiovGuestMemoryFastNotification IVmFiovGuestMemoryFastNotification_iface;
    LONG refcount;
    struct list entry;
    struct vmidl_partition *partition;
    UINT64 unix_device;
    VMIDL_FLEXIO_DEVICE_DESC desc;
};

extern void partition_release(struct vmidl_partition *partition);
extern HRESULT partition_unix_call(struct vmidl_partition *partition, enum vmidl_funcs code, UINT64 *params_vm);
extern struct device *partition_find_device(struct vmidl_partition *partition, const GUID *instance_id);

extern HRESULT device_create(struct vmidl_partition *partition, const VMIDL_FLEXIO_DEVICE_DESC *desc, IUnknown **out);
extern BOOL device_addref_if_alive(struct device *device);
extern BOOL device_bar_is_valid(const struct device *device, FIOV_BAR_SELECTOR bar);

extern HRESULT WINAPI device_QueryInterface(IVmFiovGuestMmioMappings *iface, REFIID riid, void **out);
extern ULONG WINAPI device_AddRef(IVmFiovGuestMmioMappings *iface);
extern ULONG WINAPI device_Release(IVmFiovGuestMmioMappings *iface);

extern const IVmFiovGuestMmioMappingsVtbl device_mmio_mappings_vtbl;
extern const IVmFiovGuestMemoryFastNotificationVtbl device_fast_notification_vtbl;

extern HRESULT device_access_create(struct vmidl_partition *partition, IVmVirtualDeviceAccess **out);

#endif /* __VMIDL_PRIVATE_H */
