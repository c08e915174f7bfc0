/*
 * The driver-like program of tools/install-check, built only against the
 * installed SDK (pkg-config vmidl): a partition host and an emulation
 * driver in one process, as vmidl runs them, and a real guest.
 *
 * The host creates a partition with guest RAM and one FlexibleIov device;
 * the driver finds the device through IVmVirtualDeviceAccess::GetDevice,
 * maps a read-only section page into BAR0 and registers a doorbell there.
 * A few real-mode instructions of guest code then write the intercepted
 * page (the MMIO callback sees it), ring the doorbell (the event is set
 * with no exit to the host), read the section page and hand the byte read
 * to the host with OUT.  Exits 0 when every step did what it should.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define COBJMACROS
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <windows.h>
#include <vmfiov.h>
#include <vmidlhost.h>

#define RAM_SIZE    0x10000
#define GUEST_CODE  0x1000
#define BAR0_GPA    0x20000     /* real mode: segment 0x2000 */
#define BAR0_SIZE   0x2000      /* page 0 intercepted, page 1 the section */
#define DOORBELL    0x10
#define SECTION_BYTE 0x5a
#define DONE_PORT   0x80

static const GUID runtime_id = {0x1d6f3a52, 0x8c47, 0x4b1e, {0x9f, 0x20, 0x6a, 0x3b, 0xd4, 0x71, 0x05, 0xe8}};
static const GUID instance_id = {0x5e0b9c13, 0x7a26, 0x4d8f, {0xb1, 0x44, 0x2c, 0x9e, 0x60, 0xf7, 0x38, 0xa5}};

/* 16-bit real-mode code, loaded at GUEST_CODE with CS = 0. */
static const BYTE guest_code[] =
{
    0xb8, 0x00, 0x20,                   /* mov ax, 0x2000 */
    0x8e, 0xd8,                         /* mov ds, ax (base BAR0_GPA) */
    0xc6, 0x06, 0x00, 0x00, 0x42,       /* mov byte [0x0000], 0x42: intercepted */
    0xc6, 0x06, DOORBELL, 0x00, 0x01,   /* mov byte [DOORBELL], 1: the doorbell */
    0xa0, 0x00, 0x10,                   /* mov al, [0x1000]: the section page */
    0xe6, DONE_PORT,                    /* out DONE_PORT, al */
    0xf4,                               /* hlt */
};

static unsigned int failures;

#define check(cond, ...) check_(__LINE__, (cond), __VA_ARGS__)
static void check_(int line, BOOL cond, const char *format, ...)
{
    va_list args;

    if (cond) return;
    failures++;
    printf("install-check.c:%d: ", line);
    va_start(args, format);
    vprintf(format, args);
    va_end(args);
    printf("\n");
}

struct mmio_seen
{
    unsigned int count;
    UINT32 bar, size;
    UINT64 offset, data;
    BOOL is_write;
};

static HRESULT CALLBACK mmio_callback(void *context, UINT32 bar, UINT64 offset, UINT32 size,
        BOOL is_write, UINT64 *data)
{
    struct mmio_seen *seen = context;

    seen->count++;
    seen->bar = bar;
    seen->offset = offset;
    seen->size = size;
    seen->is_write = is_write;
    seen->data = *data;
    return S_OK;
}

int main(void)
{
    IVmFiovGuestMemoryFastNotification *notification = NULL;
    IVmFiovGuestMmioMappings *mappings = NULL;
    IVmVirtualDeviceAccess *access = NULL;
    VMIDL_FLEXIO_DEVICE_DESC desc = {0};
    VMIDL_RUN_VP_EXIT_CONTEXT exit_context;
    VMIDL_PARTITION_HANDLE partition;
    struct mmio_seen seen = {0};
    IUnknown *device = NULL, *unk = NULL;
    VMIDL_VP_REGISTERS regs;
    HANDLE section, event;
    BYTE *ram, *view;
    HRESULT hr;

    setvbuf(stdout, NULL, _IONBF, 0);

    /* The host side: a partition, its RAM, a device. */
    hr = VmidlCreatePartition(&runtime_id, 1, &partition);
    if (FAILED(hr))
    {
        printf("VmidlCreatePartition failed: %#lx (E_ACCESSDENIED: no access to /dev/kvm; "
                "ERROR_NOT_SUPPORTED: no usable KVM)\n", hr);
        return 1;
    }
    ram = VirtualAlloc(NULL, RAM_SIZE, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    memcpy(ram + GUEST_CODE, guest_code, sizeof(guest_code));
    hr = VmidlMapGpaRange(partition, ram, 0, RAM_SIZE, VMIDL_MAP_GPA_RANGE_FLAG_READ | VMIDL_MAP_GPA_RANGE_FLAG_WRITE);
    check(hr == S_OK, "VmidlMapGpaRange: %#lx", hr);

    desc.InstanceId = instance_id;
    desc.BarSize[FIOV_BAR0] = BAR0_SIZE;
    desc.BarAddress[FIOV_BAR0] = BAR0_GPA;
    desc.MmioCallback = mmio_callback;
    desc.MmioCallbackContext = &seen;
    hr = VmidlAddFlexIoDevice(partition, &desc, &device);
    check(hr == S_OK, "VmidlAddFlexIoDevice: %#lx", hr);

    /* The emulation driver's side: its device, found as on Windows. */
    hr = VmidlGetVirtualDeviceAccess(partition, &access);
    check(hr == S_OK, "VmidlGetVirtualDeviceAccess: %#lx", hr);
    if (FAILED(hr)) return 1;
    hr = IVmVirtualDeviceAccess_GetDevice(access, &FLEXIO_DEVICE_ID, &instance_id, &unk);
    check(hr == S_OK, "GetDevice: %#lx", hr);
    if (FAILED(hr)) return 1;
    hr = IUnknown_QueryInterface(unk, &IID_IVmFiovGuestMmioMappings, (void **)&mappings);
    check(hr == S_OK, "QueryInterface(IVmFiovGuestMmioMappings): %#lx", hr);
    hr = IUnknown_QueryInterface(unk, &IID_IVmFiovGuestMemoryFastNotification, (void **)&notification);
    check(hr == S_OK, "QueryInterface(IVmFiovGuestMemoryFastNotification): %#lx", hr);
    if (!mappings || !notification) return 1;

    section = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x1000, NULL);
    view = MapViewOfFile(section, FILE_MAP_WRITE, 0, 0, 0x1000);
    view[0] = SECTION_BYTE;
    hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, 1, 1,
            FiovMmioMappingFlagNone, section, 0);
    check(hr == S_OK, "CreateSectionBackedMmioRange: %#lx", hr);

    event = CreateEventW(NULL, FALSE, FALSE, NULL);
    hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(notification, FIOV_BAR0, DOORBELL, 1,
            FIOV_DOORBELL_FLAG_TRIGGER_SIZE_BYTE, event);
    check(hr == S_OK, "RegisterDoorbell: %#lx", hr);

    /* The guest: real mode at GUEST_CODE. */
    hr = VmidlGetVirtualProcessorRegisters(partition, 0, &regs);
    check(hr == S_OK, "VmidlGetVirtualProcessorRegisters: %#lx", hr);
    regs.Cs.Base = 0;
    regs.Cs.Selector = 0;
    regs.Rip = GUEST_CODE;
    hr = VmidlSetVirtualProcessorRegisters(partition, 0, &regs);
    check(hr == S_OK, "VmidlSetVirtualProcessorRegisters: %#lx", hr);
    memset(&exit_context, 0, sizeof(exit_context));
    hr = VmidlRunVirtualProcessor(partition, 0, &exit_context);
    check(hr == S_OK, "VmidlRunVirtualProcessor: %#lx", hr);
    check(exit_context.ExitReason == VmidlRunVpExitReasonX64IoPortAccess && exit_context.Address == DONE_PORT,
            "the guest stopped with exit reason %u at %#llx", exit_context.ExitReason,
            (unsigned long long)exit_context.Address);
    check(seen.count == 1 && seen.bar == FIOV_BAR0 && seen.offset == 0 && seen.size == 1 && seen.is_write
            && seen.data == 0x42, "MMIO callback: %u calls, last BAR%u+%#llx size %u %s %#llx",
            seen.count, seen.bar, (unsigned long long)seen.offset, seen.size, seen.is_write ? "write" : "read",
            (unsigned long long)seen.data);
    check(WaitForSingleObject(event, 5000) == WAIT_OBJECT_0, "the doorbell did not set its event");
    check((exit_context.Data & 0xff) == SECTION_BYTE, "the guest read %#llx from the section, not %#x",
            (unsigned long long)exit_context.Data, SECTION_BYTE);

    hr = IVmFiovGuestMemoryFastNotification_UnregisterDoorbell(notification, FIOV_BAR0, DOORBELL, 1,
            FIOV_DOORBELL_FLAG_TRIGGER_SIZE_BYTE);
    check(hr == S_OK, "UnregisterDoorbell: %#lx", hr);
    hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(mappings, FIOV_BAR0, 1);
    check(hr == S_OK, "DestroySectionBackedMmioRange: %#lx", hr);

    IVmFiovGuestMemoryFastNotification_Release(notification);
    IVmFiovGuestMmioMappings_Release(mappings);
    IUnknown_Release(unk);
    IVmVirtualDeviceAccess_Release(access);
    IUnknown_Release(device);
    hr = VmidlDeletePartition(partition);
    check(hr == S_OK, "VmidlDeletePartition: %#lx", hr);
    UnmapViewOfFile(view);
    CloseHandle(section);
    CloseHandle(event);

    if (failures)
    {
        printf("install-check: %u checks failed\n", failures);
        return 1;
    }
    printf("install-check: a guest wrote the intercepted page, rang the doorbell and read %#x from the section\n",
            SECTION_BYTE);
    return 0;
}
