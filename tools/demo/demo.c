/*
 * vmidl demo: a real KVM guest drives a FlexibleIov device whose emulation
 * driver is a Windows program running under Wine.
 *
 * Two roles live in this one process, as they must with KVM:
 *  - the VM worker (vmidlhost.h): creates the partition, its RAM and the
 *    device, and runs the guest on the main thread;
 *  - the emulation driver: finds its device through IVmVirtualDeviceAccess
 *    like WSL's device host does, maps a section as the request ring into
 *    BAR0 and registers a doorbell, then answers requests on its own thread.
 *
 * The guest (tools/demo/ring.S) puts eight numbers into a ring entry, rings
 * the doorbell and spins until the driver has written their sum back; it
 * checks every answer itself and reports how many were wrong.
 *
 * Usage: demo.exe [requests]
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define COBJMACROS
#include <stdio.h>
#include <stdarg.h>
#include "windef.h"
#include "winbase.h"
#include "objbase.h"
#include "vmfiov.h"
#include "guest.h"
#include "demo/ring.h"

static const GUID device_instance = {0x73756d73, 0x6465, 0x6d6f, {0x76, 0x6d, 0x69, 0x64, 0x6c, 0x00, 0x00, 0x01}};

#define SAMPLES 3

struct driver
{
    IVmFiovGuestMmioMappings *mappings;
    IVmFiovGuestMemoryFastNotification *notification;
    HANDLE section, doorbell, thread;
    struct ring *ring;
    volatile LONG stop;
    UINT64 answered, wakeups;
    struct ring_entry samples[SAMPLES], last;
};

/* --- the emulation driver ------------------------------------------------ */

static DWORD WINAPI driver_thread(void *arg)
{
    struct driver *driver = arg;
    struct ring *ring = driver->ring;

    while (!driver->stop)
    {
        if (WaitForSingleObject(driver->doorbell, 100) != WAIT_OBJECT_0) continue;
        driver->wakeups++;
        while (ring->consumed != ring->produced)
        {
            struct ring_entry *entry = &ring->entries[ring->consumed % RING_SIZE];
            UINT64 sum = 0;
            unsigned int i;

            for (i = 0; i < RING_VALUES; i++) sum += entry->values[i];
            entry->answer = sum;
            if (driver->answered < SAMPLES) driver->samples[driver->answered] = *entry;
            driver->last = *entry;
            MemoryBarrier();
            ring->consumed++;
            driver->answered++;
        }
    }
    return 0;
}

static HRESULT driver_start(struct driver *driver, IVmVirtualDeviceAccess *access)
{
    IUnknown *device;
    HRESULT hr;

    memset(driver, 0, sizeof(*driver));
    if (FAILED(hr = IVmVirtualDeviceAccess_GetDevice(access, &FLEXIO_DEVICE_ID, &device_instance, &device)))
        return hr;
    hr = IUnknown_QueryInterface(device, &IID_IVmFiovGuestMmioMappings, (void **)&driver->mappings);
    if (SUCCEEDED(hr))
        hr = IUnknown_QueryInterface(device, &IID_IVmFiovGuestMemoryFastNotification, (void **)&driver->notification);
    IUnknown_Release(device);
    if (FAILED(hr)) return hr;

    driver->section = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, RING_PAGES * 0x1000, NULL);
    driver->ring = MapViewOfFile(driver->section, FILE_MAP_ALL_ACCESS, 0, 0, 0);
    driver->doorbell = CreateEventA(NULL, FALSE, FALSE, NULL);
    if (!driver->section || !driver->ring || !driver->doorbell) return HRESULT_FROM_WIN32(GetLastError());

    if (FAILED(hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(driver->mappings, FIOV_BAR0, 0,
            RING_PAGES, FiovMmioMappingFlagWriteable, driver->section, 0)))
        return hr;
    if (FAILED(hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(driver->notification, FIOV_BAR0,
            RING_DOORBELL_OFFSET, 0, FIOV_DOORBELL_FLAG_TRIGGER_SIZE_DWORD | FIOV_DOORBELL_FLAG_TRIGGER_ANY_VALUE,
            driver->doorbell)))
        return hr;
    if (!(driver->thread = CreateThread(NULL, 0, driver_thread, driver, 0, NULL)))
        return HRESULT_FROM_WIN32(GetLastError());
    return S_OK;
}

static void driver_stop(struct driver *driver)
{
    if (driver->thread)
    {
        driver->stop = 1;
        WaitForSingleObject(driver->thread, INFINITE);
        CloseHandle(driver->thread);
    }
    if (driver->notification)
    {
        IVmFiovGuestMemoryFastNotification_UnregisterDoorbell(driver->notification, FIOV_BAR0, RING_DOORBELL_OFFSET,
                0, FIOV_DOORBELL_FLAG_TRIGGER_SIZE_DWORD | FIOV_DOORBELL_FLAG_TRIGGER_ANY_VALUE);
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

/* --- the VM worker ---------------------------------------------------------- */

static LONG intercepted;

/* Nothing of the ring protocol should reach here: it all goes through the
 * fast paths. */
static HRESULT CALLBACK device_mmio(void *context, UINT32 bar, UINT64 offset, UINT32 size,
        BOOL is_write, UINT64 *data)
{
    InterlockedIncrement(&intercepted);
    printf("  intercepted MMIO: BAR%u+%#I64x %s (%u bytes)\n", bar, offset, is_write ? "write" : "read", size);
    return S_OK;
}

static void print_entry(const char *what, const struct ring_entry *entry)
{
    unsigned int i;

    printf("  %s %4I64u: guest sent ", what, entry->seq);
    for (i = 0; i < RING_VALUES; i++) printf("%s%I64u", i ? "+" : "", entry->values[i]);
    printf(", driver answered %I64u\n", entry->answer);
}

int main(int argc, char **argv)
{
    UINT64 requests = argc > 1 ? _strtoui64(argv[1], NULL, 10) : 20000;
    LARGE_INTEGER frequency, start, end;
    VMIDL_RUN_VP_EXIT_CONTEXT exit;
    IVmVirtualDeviceAccess *access;
    VMIDL_FLEXIO_DEVICE_DESC desc;
    struct driver driver;
    struct guest guest;
    IUnknown *device;
    double seconds;
    unsigned int i;
    HRESULT hr;
    int ret = 1;

    setvbuf(stdout, NULL, _IONBF, 0);
    if (!guest_load_host_api())
    {
        printf("demo: vmidl.dll with the partition host API is not available\n");
        return 1;
    }
    if (FAILED(hr = guest_create(&guest, &guest_image_ring)))
    {
        printf("demo: cannot create a KVM partition (hr %#lx)%s\n", hr,
                guest_hr_is_no_kvm(hr) ? ": /dev/kvm is missing or not accessible" : "");
        return 1;
    }

    memset(&desc, 0, sizeof(desc));
    desc.InstanceId = device_instance;
    desc.BarSize[FIOV_BAR0] = RING_BAR0_SIZE;
    desc.BarAddress[FIOV_BAR0] = GUEST_BAR_BASE;
    desc.MmioCallback = device_mmio;
    if (FAILED(hr = pVmidlAddFlexIoDevice(guest.partition, &desc, &device))
            || FAILED(hr = pVmidlGetVirtualDeviceAccess(guest.partition, &access)))
    {
        printf("demo: cannot add the device (hr %#lx)\n", hr);
        goto done;
    }

    printf("vmidl demo: a KVM guest and a Windows emulation driver under Wine\n");
    printf("  device: BAR0 at %#I64x; ring in %u section-backed pages; doorbell at BAR0+%#x\n",
            (UINT64)GUEST_BAR_BASE, RING_PAGES, RING_DOORBELL_OFFSET);
    if (FAILED(hr = driver_start(&driver, access)))
    {
        printf("demo: the emulation driver could not set up its fast paths (hr %#lx)\n", hr);
        driver_stop(&driver);
        goto release;
    }

    guest.entry_rdi = requests;
    guest.entry_rsi = GUEST_BAR_BASE;
    QueryPerformanceFrequency(&frequency);
    QueryPerformanceCounter(&start);
    hr = guest_start(&guest);
    if (SUCCEEDED(hr)) hr = guest_resume(&guest, &exit);
    QueryPerformanceCounter(&end);
    seconds = (double)(end.QuadPart - start.QuadPart) / frequency.QuadPart;
    driver_stop(&driver);

    for (i = 0; i < SAMPLES && i < driver.answered; i++) print_entry("request", &driver.samples[i]);
    if (driver.answered > SAMPLES) print_entry("   ...  ", &driver.last);

    if (FAILED(hr) || exit.ExitReason != VmidlRunVpExitReasonX64IoPortAccess || exit.Address != GUEST_PORT_DONE)
    {
        printf("demo: FAILED: the guest did not finish (hr %#lx, exit reason %u at %#I64x)\n", hr,
                exit.ExitReason, exit.Address);
    }
    else
    {
        printf("  %I64u round trips in %.3f s: %.0f round trips/s, %.1f us each; driver woke %I64u times\n",
                driver.answered, seconds, driver.answered / seconds, seconds * 1e6 / max(driver.answered, 1),
                driver.wakeups);
        printf("  guest checked every answer: %I64u wrong; intercepted MMIO exits: %ld\n", exit.Data, intercepted);
        if (!exit.Data && driver.answered == requests && !intercepted)
        {
            printf("demo: PASSED\n");
            ret = 0;
        }
        else printf("demo: FAILED\n");
    }

release:
    IVmVirtualDeviceAccess_Release(access);
    IUnknown_Release(device);
done:
    guest_destroy(&guest);
    return ret;
}
