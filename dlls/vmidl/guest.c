/*
 * What a device's emulator does to the guest: interrupts, copies of guest
 * memory and apertures.  The same calls serve a device object of the
 * worker and a device's view in another process, through
 * IVmidlDeviceServices; an aperture is mapped here, in the calling
 * process, from the section handle that the device shares with it.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>

#include "vmidl_private.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

/* The apertures of this process, so that destroying one never unmaps
 * what vmidl did not map. */
struct aperture
{
    struct list entry;
    void *address;              /* what the caller got */
    void *view;                 /* the view it lies in */
};

static SRWLOCK apertures_lock = SRWLOCK_INIT;
static struct list apertures = LIST_INIT(apertures);

static HRESULT get_services(IUnknown *device, IVmidlDeviceServices **services)
{
    if (!device) return E_INVALIDARG;
    if (FAILED(IUnknown_QueryInterface(device, &IID_IVmidlDeviceServices, (void **)services)))
    {
        WARN("%p is not a device of vmidl's\n", device);
        return E_INVALIDARG;
    }
    return S_OK;
}

HRESULT WINAPI VmidlDeliverMsi(IUnknown *device, UINT64 address, UINT32 data)
{
    IVmidlDeviceServices *services;
    HRESULT hr;

    TRACE("device %p, address %#I64x, data %#x\n", device, address, data);

    if (FAILED(hr = get_services(device, &services))) return hr;
    hr = IVmidlDeviceServices_DeliverMsi(services, address, data);
    IVmidlDeviceServices_Release(services);
    return hr;
}

HRESULT WINAPI VmidlReadGuestMemory(IUnknown *device, UINT64 gpa, void *buffer, UINT32 size)
{
    IVmidlDeviceServices *services;
    HRESULT hr;

    TRACE("device %p, gpa %#I64x, buffer %p, size %#x\n", device, gpa, buffer, size);

    if (!buffer || !size) return E_INVALIDARG;
    if (FAILED(hr = get_services(device, &services))) return hr;
    hr = IVmidlDeviceServices_ReadGuestMemory(services, gpa, size, buffer);
    IVmidlDeviceServices_Release(services);
    return hr;
}

HRESULT WINAPI VmidlWriteGuestMemory(IUnknown *device, UINT64 gpa, const void *buffer, UINT32 size)
{
    IVmidlDeviceServices *services;
    HRESULT hr;

    TRACE("device %p, gpa %#I64x, buffer %p, size %#x\n", device, gpa, buffer, size);

    if (!buffer || !size) return E_INVALIDARG;
    if (FAILED(hr = get_services(device, &services))) return hr;
    hr = IVmidlDeviceServices_WriteGuestMemory(services, gpa, size, buffer);
    IVmidlDeviceServices_Release(services);
    return hr;
}

/* Views start at the allocation granularity: the aperture is where gpa
 * lands in a view from the boundary below it. */
static HRESULT map_aperture(HANDLE section, UINT64 offset, UINT32 size, BOOL write_protected, void **address)
{
    UINT64 start = offset & ~(UINT64)0xffff;
    struct aperture *aperture;
    void *view;

    if (!(aperture = malloc(sizeof(*aperture)))) return E_OUTOFMEMORY;
    if (!(view = MapViewOfFile(section, write_protected ? FILE_MAP_READ : FILE_MAP_WRITE, start >> 32, (DWORD)start,
            offset - start + size)))
    {
        HRESULT hr = HRESULT_FROM_WIN32(GetLastError());
        WARN("cannot map the guest's memory, hr %#lx\n", hr);
        free(aperture);
        return hr;
    }
    aperture->view = view;
    aperture->address = *address = (BYTE *)view + (offset - start);
    AcquireSRWLockExclusive(&apertures_lock);
    list_add_tail(&apertures, &aperture->entry);
    ReleaseSRWLockExclusive(&apertures_lock);
    return S_OK;
}

HRESULT WINAPI VmidlCreateGuestMemoryAperture(IUnknown *device, UINT64 gpa, UINT32 size, BOOL write_protected,
        void **address)
{
    IVmidlDeviceServices *services;
    ULONG64 section;
    UINT64 offset;
    HRESULT hr;

    TRACE("device %p, gpa %#I64x, size %#x, write_protected %d, address %p\n", device, gpa, size, write_protected,
            address);

    if (!address) return E_INVALIDARG;
    *address = NULL;
    if (FAILED(hr = get_services(device, &services))) return hr;
    hr = IVmidlDeviceServices_ShareGuestMemory(services, gpa, size, !write_protected, &section, &offset);
    IVmidlDeviceServices_Release(services);
    if (FAILED(hr)) return hr;
    hr = map_aperture((HANDLE)(ULONG_PTR)section, offset, size, write_protected, address);
    CloseHandle((HANDLE)(ULONG_PTR)section);
    return hr;
}

HRESULT WINAPI VmidlDestroyGuestMemoryAperture(IUnknown *device, void *address)
{
    struct aperture *aperture, *found = NULL;

    TRACE("device %p, address %p\n", device, address);

    if (!device || !address) return E_INVALIDARG;
    AcquireSRWLockExclusive(&apertures_lock);
    LIST_FOR_EACH_ENTRY(aperture, &apertures, struct aperture, entry)
    {
        if (aperture->address != address) continue;
        list_remove(&aperture->entry);
        found = aperture;
        break;
    }
    ReleaseSRWLockExclusive(&apertures_lock);
    if (!found)
    {
        WARN("%p is no aperture\n", address);
        return E_INVALIDARG;
    }
    UnmapViewOfFile(found->view);
    free(found);
    return S_OK;
}
