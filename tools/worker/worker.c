/*
 * vmidl-worker.exe: a VM worker, the process that owns a KVM partition on
 * Wine as vmwp.exe owns one on Windows.  It creates the partition, its RAM
 * and the demo's device (a request ring in BAR0, tools/demo/ring.h),
 * publishes it for device hosts in other processes, and runs the guest of
 * tools/demo/ring.S, which waits for a driver to serve its ring, sends it
 * requests and checks every answer.
 *
 * Usage: vmidl-worker.exe [options]
 *   --requests N       requests the guest sends (default 20000)
 *   --runtime-id GUID  the partition's RuntimeId (default: a new one)
 *   --in-process       the driver runs in this process, on a thread
 *   --driver PROGRAM   starts "PROGRAM RUNTIME_ID DEVICE_ID" as the driver
 *   --idle             no guest: stays published until stdin ends
 *   --pci              another guest and device: a PCI device the guest finds
 *                      on the bus and that interrupts it (pci.c)
 * With neither --in-process nor --driver it waits for any driver to start.
 *
 * Its first line says what a driver needs:
 *   vmidl-worker: VM {RUNTIME_ID} device {DEVICE_INSTANCE_ID}
 * It exits 0 when the guest got every answer right through the fast paths.
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
#include "child.h"
#include "demo/ring_driver.h"
#include "worker.h"

#define DRIVER_TIMEOUT_MS 300000

struct options
{
    UINT64 requests;
    GUID runtime_id;
    BOOL has_runtime_id, in_process, idle, pci;
    const char *driver;
};

static LONG intercepted;
static BOOL counting;

/* Until the driver maps the ring, the guest polls its first page here.
 * After that nothing of the ring protocol should come here: it all goes
 * through the fast paths. */
static HRESULT CALLBACK device_mmio(void *context, UINT32 bar, UINT64 offset, UINT32 size,
        BOOL is_write, UINT64 *data)
{
    if (!is_write) *data = 0;
    if (!counting) return S_OK;
    InterlockedIncrement(&intercepted);
    printf("  intercepted MMIO: BAR%u+%#I64x %s (%u bytes)\n", bar, offset, is_write ? "write" : "read", size);
    return S_OK;
}

static BOOL parse_options(int argc, char **argv, struct options *options)
{
    int i;

    memset(options, 0, sizeof(*options));
    options->requests = 20000;
    for (i = 1; i < argc; i++)
    {
        if (!strcmp(argv[i], "--in-process")) options->in_process = TRUE;
        else if (!strcmp(argv[i], "--idle")) options->idle = TRUE;
        else if (!strcmp(argv[i], "--pci")) options->pci = TRUE;
        else if (!strcmp(argv[i], "--requests") && i + 1 < argc) options->requests = _strtoui64(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--driver") && i + 1 < argc) options->driver = argv[++i];
        else if (!strcmp(argv[i], "--runtime-id") && i + 1 < argc)
        {
            if (!guid_from_text(argv[++i], &options->runtime_id)) return FALSE;
            options->has_runtime_id = TRUE;
        }
        else return FALSE;
    }
    return options->in_process + options->idle + options->pci + !!options->driver <= 1;
}

static HANDLE start_driver(const char *program, const char *runtime_id, const char *instance)
{
    STARTUPINFOA startup = {sizeof(startup)};
    PROCESS_INFORMATION info;
    char cmdline[MAX_PATH + 200];

    snprintf(cmdline, sizeof(cmdline), "\"%s\" %s %s", program, runtime_id, instance);
    if (!CreateProcessA(NULL, cmdline, NULL, NULL, FALSE, 0, NULL, NULL, &startup, &info))
    {
        printf("vmidl-worker: cannot start %s (error %lu)\n", program, GetLastError());
        return NULL;
    }
    CloseHandle(info.hThread);
    return info.hProcess;
}

/* Runs the guest to its end; the seconds its requests took, or -1. */
static double run_guest(struct guest *guest, UINT64 requests, HANDLE driver_process, UINT64 *wrong)
{
    LARGE_INTEGER frequency, start = {{0}}, end;
    VMIDL_RUN_VP_EXIT_CONTEXT exit = {0};
    DWORD waited = 0;
    HRESULT hr;

    guest->entry_rdi = requests;
    guest->entry_rsi = GUEST_BAR_BASE;
    QueryPerformanceFrequency(&frequency);
    if (SUCCEEDED(hr = guest_start(guest))) while (SUCCEEDED(hr = guest_resume(guest, &exit)))
    {
        if (exit.ExitReason != VmidlRunVpExitReasonX64IoPortAccess) break;
        if (exit.Address == RING_PORT_STARTED)
        {
            QueryPerformanceCounter(&start);
            counting = TRUE;
        }
        else if (exit.Address == RING_PORT_WAITING)
        {
            if (waited >= DRIVER_TIMEOUT_MS || (driver_process && !WaitForSingleObject(driver_process, 0)))
            {
                printf("vmidl-worker: FAILED: no driver served the ring\n");
                return -1;
            }
            Sleep(10);
            waited += 10;
        }
        else if (exit.Address == RING_PORT_DONE)
        {
            QueryPerformanceCounter(&end);
            *wrong = exit.Data;
            return (double)(end.QuadPart - start.QuadPart) / frequency.QuadPart;
        }
        else break;
    }
    printf("vmidl-worker: FAILED: the guest did not finish (hr %#lx, exit reason %u at %#I64x)\n", hr,
            exit.ExitReason, exit.Address);
    return -1;
}

static void wait_for_stdin_end(void)
{
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
    char buffer[64];
    DWORD size;

    while (ReadFile(in, buffer, sizeof(buffer), &size, NULL) && size) ;
}

int main(int argc, char **argv)
{
    char runtime_id[GUID_TEXT_LENGTH], instance[GUID_TEXT_LENGTH];
    IVmVirtualDeviceAccess *access = NULL;
    VMIDL_FLEXIO_DEVICE_DESC desc;
    struct ring_driver driver = {0};
    HANDLE driver_process = NULL;
    struct options options;
    struct guest guest;
    IUnknown *device;
    double seconds;
    UINT64 wrong = 0;
    DWORD code = 0;
    HRESULT hr;
    int ret = 1;

    setvbuf(stdout, NULL, _IONBF, 0);
    if (!parse_options(argc, argv, &options))
    {
        printf("usage: %s [--requests N] [--runtime-id GUID] [--in-process | --driver PROGRAM | --idle | --pci]\n",
                argv[0]);
        return 2;
    }
    if (!guest_load_host_api())
    {
        printf("vmidl-worker: vmidl.dll with the partition host API is not available\n");
        return 1;
    }
    if (options.pci) return pci_demo(options.has_runtime_id ? &options.runtime_id : NULL);
    if (FAILED(hr = guest_create_as(&guest, &guest_image_ring, 1, options.has_runtime_id ? &options.runtime_id : NULL)))
    {
        printf("vmidl-worker: cannot create a KVM partition (hr %#lx)%s\n", hr,
                guest_hr_is_no_kvm(hr) ? ": /dev/kvm is missing or not accessible" : "");
        return 1;
    }

    memset(&desc, 0, sizeof(desc));
    desc.InstanceId = ring_device_instance;
    desc.BarSize[FIOV_BAR0] = RING_BAR0_SIZE;
    desc.BarAddress[FIOV_BAR0] = GUEST_BAR_BASE;
    desc.MmioCallback = device_mmio;
    if (FAILED(hr = pVmidlAddFlexIoDevice(guest.partition, &desc, &device)))
    {
        printf("vmidl-worker: cannot add the device (hr %#lx)\n", hr);
        goto done;
    }
    if (!options.in_process && FAILED(hr = pVmidlPublishPartition(guest.partition)))
    {
        printf("vmidl-worker: cannot publish the partition (hr %#lx)\n", hr);
        goto release;
    }
    guid_to_text(&guest.runtime_id, runtime_id);
    guid_to_text(&ring_device_instance, instance);
    printf("vmidl-worker: VM %s device %s\n", runtime_id, instance);

    if (options.idle)
    {
        wait_for_stdin_end();
        ret = 0;
        goto release;
    }
    printf("  device: BAR0 at %#I64x; ring in %u section-backed pages; doorbell at BAR0+%#x\n",
            (UINT64)GUEST_BAR_BASE, RING_PAGES, RING_DOORBELL_OFFSET);
    if (options.in_process)
    {
        printf("  driver: on a thread of this process (VmidlGetVirtualDeviceAccess)\n");
        if (FAILED(hr = pVmidlGetVirtualDeviceAccess(guest.partition, &access))
                || FAILED(hr = ring_driver_start(&driver, access, &ring_device_instance)))
        {
            printf("vmidl-worker: the driver could not set up its fast paths (hr %#lx)\n", hr);
            goto release;
        }
    }
    else if (options.driver)
    {
        printf("  driver: %s, a process of its own (GetVmWorkerProcess)\n", options.driver);
        if (!(driver_process = start_driver(options.driver, runtime_id, instance))) goto release;
    }
    else printf("  waiting for a driver: wine vmidl-ring-driver.exe %s\n", runtime_id);

    seconds = run_guest(&guest, options.requests, driver_process, &wrong);
    if (options.in_process)
    {
        ring_driver_wait(&driver, 5000);
        ring_driver_print(&driver);
    }
    if (driver_process)
    {
        if (WaitForSingleObject(driver_process, 20000)) printf("vmidl-worker: the driver does not end\n");
        GetExitCodeProcess(driver_process, &code);
    }
    if (seconds >= 0)
    {
        printf("  %I64u round trips in %.3f s: %.0f round trips/s, %.1f us each\n", options.requests, seconds,
                options.requests / seconds, seconds * 1e6 / max(options.requests, 1));
        printf("  guest checked every answer: %I64u wrong; intercepted MMIO exits: %ld\n", wrong, intercepted);
        ret = wrong || intercepted || code;
        printf("vmidl-worker: %s\n", ret ? "FAILED" : "PASSED");
    }

release:
    ring_driver_stop(&driver);
    if (access) IVmVirtualDeviceAccess_Release(access);
    if (driver_process) CloseHandle(driver_process);
    IUnknown_Release(device);
done:
    guest_destroy(&guest);
    return ret;
}
