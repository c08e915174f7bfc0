/*
 * IVmFiovGuestMemoryFastNotification: doorbells.  A guest write of the
 * trigger value and size at the BAR offset sets the Win32 event, through a
 * KVM ioeventfd and the partition's dispatcher thread, without an exit to
 * the device's MMIO callback.
 *
 * Flags: FIOV_DOORBELL_FLAG_TRIGGER_SIZE_* in the low bits,
 * FIOV_DOORBELL_FLAG_TRIGGER_ANY_VALUE to ignore TriggerValue.
 *
 * Errors, besides those of every call (E_OUTOFMEMORY, ERROR_DEVICE_REMOVED):
 *   E_INVALIDARG   unknown BAR or one the device lacks; reserved Flags bits or
 *                  size code; the trigger does not fit in the BAR, or
 *                  straddles a page (as WHvRegisterPartitionDoorbellEvent
 *                  rules); a TriggerValue wider than the trigger size; size
 *                  "any" without "any value" (KVM only matches values of a
 *                  known size); NULL NotificationEvent.
 *   E_HANDLE       NotificationEvent is not a valid event handle.
 *   HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS)  the same doorbell exists, or
 *                  it conflicts with one at that offset (another length, or
 *                  either matches any value), or a mapped range covers one
 *                  of the bytes its trigger writes (one for size "any").
 *   HRESULT_FROM_WIN32(ERROR_NO_SYSTEM_RESOURCES)  the device already has
 *                  1024 doorbells, or KVM's I/O bus is full.
 *   HRESULT_FROM_WIN32(ERROR_NOT_FOUND)  Unregister: no such doorbell.
 *
 * The event handle is duplicated: the caller may close its own.  Once
 * UnregisterDoorbell returns, the doorbell never sets the event again.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vmidl_private.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

static inline struct device *impl_from_IVmFiovGuestMemoryFastNotification(IVmFiovGuestMemoryFastNotification *iface)
{
    return CONTAINING_RECORD(iface, struct device, IVmFiovGuestMemoryFastNotification_iface);
}

static HRESULT WINAPI fast_notification_QueryInterface(IVmFiovGuestMemoryFastNotification *iface,
        REFIID riid, void **out)
{
    struct device *device = impl_from_IVmFiovGuestMemoryFastNotification(iface);
    return IVmFiovGuestMmioMappings_QueryInterface(&device->IVmFiovGuestMmioMappings_iface, riid, out);
}

static ULONG WINAPI fast_notification_AddRef(IVmFiovGuestMemoryFastNotification *iface)
{
    struct device *device = impl_from_IVmFiovGuestMemoryFastNotification(iface);
    return IVmFiovGuestMmioMappings_AddRef(&device->IVmFiovGuestMmioMappings_iface);
}

static ULONG WINAPI fast_notification_Release(IVmFiovGuestMemoryFastNotification *iface)
{
    struct device *device = impl_from_IVmFiovGuestMemoryFastNotification(iface);
    return IVmFiovGuestMmioMappings_Release(&device->IVmFiovGuestMmioMappings_iface);
}

/* Fills params from the COM arguments; the unix half checks them against
 * the BAR. */
static BOOL doorbell_params_init(const struct device *device, FIOV_BAR_SELECTOR bar, UINT64 offset,
        UINT64 value, UINT64 flags, struct doorbell_params *params)
{
    static const UINT32 lengths[] = {0, 1, 2, 4, 8};
    UINT64 size_code = flags & FIOV_DOORBELL_FLAG_TRIGGER_SIZE_MASK;
    UINT32 length;

    if (flags & ~(UINT64)(FIOV_DOORBELL_FLAG_TRIGGER_SIZE_MASK | FIOV_DOORBELL_FLAG_TRIGGER_ANY_VALUE)) return FALSE;
    if (size_code >= ARRAY_SIZE(lengths)) return FALSE;
    length = lengths[size_code];
    if ((offset & (FIOV_PAGE_SIZE - 1)) + max(length, 1) > FIOV_PAGE_SIZE) return FALSE;

    params->any_value = !!(flags & FIOV_DOORBELL_FLAG_TRIGGER_ANY_VALUE);
    if (!params->any_value && (!length || (length < 8 && value >> (length * 8)))) return FALSE;

    params->vm = device->partition->unix_vm;
    params->device = device->unix_device;
    params->bar = bar;
    params->length = length;
    params->bar_offset = offset;
    params->value = params->any_value ? 0 : value;
    params->event = 0;
    return TRUE;
}

static HRESULT WINAPI fast_notification_RegisterDoorbell(IVmFiovGuestMemoryFastNotification *iface,
        FIOV_BAR_SELECTOR bar, UINT64 offset, UINT64 value, UINT64 flags, HANDLE event)
{
    struct device *device = impl_from_IVmFiovGuestMemoryFastNotification(iface);
    struct doorbell_params params;

    TRACE("device %p, bar %u, offset %#I64x, value %#I64x, flags %#I64x, event %p\n",
            device, bar, offset, value, flags, event);

    if (!doorbell_params_init(device, bar, offset, value, flags, &params) || !event)
    {
        WARN("invalid arguments\n");
        return E_INVALIDARG;
    }
    params.event = (ULONG_PTR)event;
    return hresult_from_status(VMIDL_CALL(doorbell_register, &params));
}

static HRESULT WINAPI fast_notification_UnregisterDoorbell(IVmFiovGuestMemoryFastNotification *iface,
        FIOV_BAR_SELECTOR bar, UINT64 offset, UINT64 value, UINT64 flags)
{
    struct device *device = impl_from_IVmFiovGuestMemoryFastNotification(iface);
    struct doorbell_params params;

    TRACE("device %p, bar %u, offset %#I64x, value %#I64x, flags %#I64x\n", device, bar, offset, value, flags);

    if (!doorbell_params_init(device, bar, offset, value, flags, &params))
    {
        WARN("invalid arguments\n");
        return E_INVALIDARG;
    }
    return hresult_from_status(VMIDL_CALL(doorbell_unregister, &params));
}

const IVmFiovGuestMemoryFastNotificationVtbl device_fast_notification_vtbl =
{
    fast_notification_QueryInterface,
    fast_notification_AddRef,
    fast_notification_Release,
    fast_notification_RegisterDoorbell,
    fast_notification_UnregisterDoorbell,
};
