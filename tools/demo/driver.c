/*
 * vmidl-ring-driver.exe: the demo's emulation driver as a Windows program
 * of its own, the way a device host runs on Windows.  It reaches the VM
 * worker with vmwpctrl.dll's GetVmWorkerProcess and uses nothing else of
 * vmidl's: no host API, no import library, just vmfiov.h.
 *
 * Usage: vmidl-ring-driver.exe RUNTIME_ID [DEVICE_INSTANCE_ID]
 *
 * It serves the ring of the demo's device (tools/worker/worker.c) until
 * the guest is done, and ends early if the VM worker goes away.
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
#include "initguid.h"      /* this program defines vmfiov.h's GUIDs */
#include "vmfiov.h"
#include "demo/ring_driver.h"

typedef HRESULT (WINAPI *GetVmWorkerProcess_func)(REFGUID runtime_id, REFIID riid, IUnknown **object);

static BOOL parse_guid(const char *string, GUID *guid)
{
    WCHAR buffer[64];

    MultiByteToWideChar(CP_ACP, 0, string, -1, buffer, ARRAYSIZE(buffer));
    return SUCCEEDED(CLSIDFromString(buffer, guid));
}

int main(int argc, char **argv)
{
    GetVmWorkerProcess_func pGetVmWorkerProcess;
    GUID runtime_id, instance = ring_device_instance;
    IVmVirtualDeviceAccess *access;
    struct ring_driver driver;
    IUnknown *device;
    HRESULT hr;

    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc < 2 || !parse_guid(argv[1], &runtime_id) || (argc > 2 && !parse_guid(argv[2], &instance)))
    {
        printf("usage: %s RUNTIME_ID [DEVICE_INSTANCE_ID]\n", argv[0]);
        return 2;
    }
    if (!(pGetVmWorkerProcess = (void *)GetProcAddress(LoadLibraryA("vmwpctrl.dll"), "GetVmWorkerProcess")))
    {
        printf("driver: vmwpctrl.dll has no GetVmWorkerProcess (error %lu)\n", GetLastError());
        return 1;
    }

    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    if (FAILED(hr = pGetVmWorkerProcess(&runtime_id, &IID_IVmVirtualDeviceAccess, (IUnknown **)&access)))
    {
        printf("driver: no VM worker for %s (hr %#lx)\n", argv[1], hr);
        return 1;
    }
    if (FAILED(hr = ring_driver_start(&driver, access, &instance)))
    {
        printf("driver: cannot set up the ring's fast paths (hr %#lx)\n", hr);
        ring_driver_stop(&driver);
        IVmVirtualDeviceAccess_Release(access);
        return 1;
    }
    printf("driver: process %04lx serves the ring of device %s\n", GetCurrentProcessId(),
            argc > 2 ? argv[2] : "(the demo's)");

    /* The worker's end shows as a failed call: Wine's COM does not ping. */
    while (!ring_driver_wait(&driver, 1000))
    {
        if (FAILED(hr = IVmVirtualDeviceAccess_GetDevice(access, &FLEXIO_DEVICE_ID, &instance, &device))) break;
        IUnknown_Release(device);
    }
    ring_driver_print(&driver);
    ring_driver_stop(&driver);
    IVmVirtualDeviceAccess_Release(access);
    CoUninitialize();
    if (FAILED(hr)) printf("driver: the VM worker is gone (hr %#lx)\n", hr);
    return FAILED(hr);
}
