/*
 * The demo's emulation driver (see ring_driver.h).
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define COBJMACROS
#include <stdarg.h>
#include <stdio.h>
#include "windef.h"
#include "winbase.h"
#include "objbase.h"
#include "vmfiov.h"
#include "demo/ring_driver.h"

const GUID ring_device_instance = {0x73756d73, 0x6465, 0x6d6f, {0x76, 0x6d, 0x69, 0x64, 0x6c, 0x00, 0x00, 0x01}};

#define DOORBELL_FLAGS (FIOV_DOORBELL_FLAG_TRIGGER_SIZE_DWORD | FIOV_DOORBELL_FLAG_TRIGGER_ANY_VALUE)

static DWORD WINAPI ring_driver_proc(void *arg)
{
    struct ring_driver *driver = arg;
    struct ring *ring = driver->ring;

    for (;;)
    {
        WaitForSingleObject(driver->doorbell, INFINITE);
        driver->wakeups++;
        while (ring->consumed != ring->produced)
        {
            struct ring_entry *entry = &ring->entries[ring->consumed % RING_SIZE];
            UINT64 sum = 0;
            unsigned int i;

            for (i = 0; i < RING_VALUES; i++) sum += entry->values[i];
            entry->answer = sum;
            if (driver->answered < RING_DRIVER_SAMPLES) driver->samples[driver->answered] = *entry;
            driver->last = *entry;
            MemoryBarrier();
            ring->consumed++;
            driver->answered++;
        }
        /* The guest's last ring, or ring_driver_stop()'s. */
        if (ring->done) return 0;
    }
}

HRESULT ring_driver_start(struct ring_driver *driver, IVmVirtualDeviceAccess *access, const GUID *instance)
{
    IUnknown *device;
    HRESULT hr;

    memset(driver, 0, sizeof(*driver));
    if (FAILED(hr = IVmVirtualDeviceAccess_GetDevice(access, &FLEXIO_DEVICE_ID, instance, &device)))
        return hr;
    hr = IUnknown_QueryInterface(device, &IID_IVmFiovGuestMmioMappings, (void **)&driver->mappings);
    if (SUCCEEDED(hr))
        hr = IUnknown_QueryInterface(device, &IID_IVmFiovGuestMemoryFastNotification, (void **)&driver->notification);
    IUnknown_Release(device);
    if (FAILED(hr)) return hr;

    driver->section = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, RING_PAGES * 0x1000, NULL);
    if (!driver->section || !(driver->ring = MapViewOfFile(driver->section, FILE_MAP_ALL_ACCESS, 0, 0, 0))
            || !(driver->doorbell = CreateEventA(NULL, FALSE, FALSE, NULL)))
        return HRESULT_FROM_WIN32(GetLastError());

    /* The guest starts once it reads RING_READY through the range, so the
     * doorbell must be there before. */
    if (FAILED(hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(driver->notification, FIOV_BAR0,
            RING_DOORBELL_OFFSET, 0, DOORBELL_FLAGS, driver->doorbell)))
        return hr;
    if (!(driver->thread = CreateThread(NULL, 0, ring_driver_proc, driver, 0, NULL)))
        return HRESULT_FROM_WIN32(GetLastError());
    driver->ring->ready = RING_READY;
    return IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(driver->mappings, FIOV_BAR0, 0, RING_PAGES,
            FiovMmioMappingFlagWriteable, driver->section, 0);
}

BOOL ring_driver_wait(struct ring_driver *driver, DWORD timeout)
{
    return !WaitForSingleObject(driver->thread, timeout);
}

void ring_driver_stop(struct ring_driver *driver)
{
    if (driver->thread)
    {
        driver->ring->done = 1;
        SetEvent(driver->doorbell);
        WaitForSingleObject(driver->thread, INFINITE);
        CloseHandle(driver->thread);
    }
    if (driver->notification)
    {
        IVmFiovGuestMemoryFastNotification_UnregisterDoorbell(driver->notification, FIOV_BAR0, RING_DOORBELL_OFFSET,
                0, DOORBELL_FLAGS);
        IVmFiovGuestMemoryFastNotification_Release(driver->notification);
    }
    if (driver->mappings)
    {
        IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(driver->mappings, FIOV_BAR0, 0);
        IVmFiovGuestMmioMappings_Release(driver->mappings);
    }
    if (driver->ring) UnmapViewOfFile(driver->ring);
    if (driver->section) CloseHandle(driver->section);
    if (driver->doorbell) CloseHandle(driver->doorbell);
}

static void print_entry(const char *what, const struct ring_entry *entry)
{
    unsigned int i;

    printf("  %s %4I64u: guest sent ", what, entry->seq);
    for (i = 0; i < RING_VALUES; i++) printf("%s%I64u", i ? "+" : "", entry->values[i]);
    printf(", driver answered %I64u\n", entry->answer);
}

void ring_driver_print(const struct ring_driver *driver)
{
    unsigned int i;

    for (i = 0; i < RING_DRIVER_SAMPLES && i < driver->answered; i++) print_entry("request", &driver->samples[i]);
    if (driver->answered > RING_DRIVER_SAMPLES) print_entry("   ...  ", &driver->last);
    printf("  driver: answered %I64u requests, woke %I64u times\n", driver->answered, driver->wakeups);
}
