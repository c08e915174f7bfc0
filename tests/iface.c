/*
 * The ABI of the FlexibleIov interfaces as a client compiled against the
 * widl-generated header sees it: IIDs, enum sizes and values, vtable slot
 * order, COM identity and reference counting, and device lookup through
 * IVmVirtualDeviceAccess.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define COBJMACROS
#include <stddef.h>
#include "wine/test.h"
#include "objbase.h"
#include "vmfiov.h"
#include "vmidl_test.h"

static const GUID instance = {0xabcdef01, 0x2345, 0x6789, {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}};

static void test_abi(void)
{
    static const struct
    {
        const GUID *iid;
        GUID expected;
        const char *name;
    }
    iids[] =
    {
        {&IID_IVmFiovGuestMmioMappings, {0x9d416457, 0xabbc, 0x46cf, {0x8b, 0x93, 0x90, 0x1c, 0x68, 0xbe, 0xc6, 0x27}},
                "IVmFiovGuestMmioMappings"},
        {&IID_IVmFiovGuestMemoryFastNotification, {0xf5dfbec1, 0xb9f3, 0x4b26, {0xbf, 0x6f, 0xc2, 0x51, 0x44, 0x8b, 0xcf, 0x7a}},
                "IVmFiovGuestMemoryFastNotification"},
        {&IID_IVmVirtualDeviceAccess, {0x3e57bd3c, 0x5a5d, 0x4bdc, {0xa0, 0xa6, 0x5b, 0x41, 0x93, 0xd4, 0xb7, 0x19}},
                "IVmVirtualDeviceAccess"},
        {&FLEXIO_DEVICE_ID, {0xa8679153, 0x843f, 0x467f, {0xad, 0x7e, 0xf4, 0x29, 0x32, 0x8f, 0x75, 0x68}},
                "FLEXIO_DEVICE_ID"},
    };
    unsigned int i;

    for (i = 0; i < ARRAYSIZE(iids); i++)
        ok(IsEqualGUID(iids[i].iid, &iids[i].expected), "%s has the wrong GUID\n", iids[i].name);

    ok(sizeof(FIOV_BAR_SELECTOR) == 4, "got size %u\n", (unsigned int)sizeof(FIOV_BAR_SELECTOR));
    ok(sizeof(FiovMmioMappingFlags) == 4, "got size %u\n", (unsigned int)sizeof(FiovMmioMappingFlags));
    ok(FIOV_BAR0 == 0 && FIOV_BAR1 == 1 && FIOV_BAR2 == 2 && FIOV_BAR3 == 3 && FIOV_BAR4 == 4 && FIOV_BAR5 == 5
            && FIOV_ROMBAR == 6, "wrong BAR selector values\n");
    ok(FiovMmioMappingFlagNone == 0 && FiovMmioMappingFlagWriteable == 1 && FiovMmioMappingFlagExecutable == 2,
            "wrong mapping flag values\n");
    ok(FIOV_DOORBELL_FLAG_TRIGGER_SIZE_ANY == 0 && FIOV_DOORBELL_FLAG_TRIGGER_SIZE_BYTE == 1
            && FIOV_DOORBELL_FLAG_TRIGGER_SIZE_WORD == 2 && FIOV_DOORBELL_FLAG_TRIGGER_SIZE_DWORD == 3
            && FIOV_DOORBELL_FLAG_TRIGGER_SIZE_QWORD == 4 && FIOV_DOORBELL_FLAG_TRIGGER_ANY_VALUE == 0x80000000,
            "wrong doorbell flag values\n");

    /* IUnknown's three slots, then the methods in declaration order. */
    ok(offsetof(IVmFiovGuestMmioMappingsVtbl, CreateSectionBackedMmioRange) == 3 * sizeof(void *), "wrong slot\n");
    ok(offsetof(IVmFiovGuestMmioMappingsVtbl, DestroySectionBackedMmioRange) == 4 * sizeof(void *), "wrong slot\n");
    ok(sizeof(IVmFiovGuestMmioMappingsVtbl) == 5 * sizeof(void *), "wrong vtable size\n");
    ok(offsetof(IVmFiovGuestMemoryFastNotificationVtbl, RegisterDoorbell) == 3 * sizeof(void *), "wrong slot\n");
    ok(offsetof(IVmFiovGuestMemoryFastNotificationVtbl, UnregisterDoorbell) == 4 * sizeof(void *), "wrong slot\n");
    ok(sizeof(IVmFiovGuestMemoryFastNotificationVtbl) == 5 * sizeof(void *), "wrong vtable size\n");
    ok(offsetof(IVmVirtualDeviceAccessVtbl, GetDevice) == 4 * sizeof(void *), "wrong slot\n");
    ok(sizeof(IVmVirtualDeviceAccessVtbl) == 5 * sizeof(void *), "wrong vtable size\n");
}

typedef HRESULT (STDMETHODCALLTYPE *create_range_slot)(void *, FIOV_BAR_SELECTOR, ULONG64, UINT64,
        FiovMmioMappingFlags, HANDLE, UINT64);
typedef HRESULT (STDMETHODCALLTYPE *destroy_range_slot)(void *, FIOV_BAR_SELECTOR, ULONG64);
typedef HRESULT (STDMETHODCALLTYPE *register_doorbell_slot)(void *, FIOV_BAR_SELECTOR, UINT64, UINT64, UINT64, HANDLE);
typedef HRESULT (STDMETHODCALLTYPE *unregister_doorbell_slot)(void *, FIOV_BAR_SELECTOR, UINT64, UINT64, UINT64);
typedef HRESULT (STDMETHODCALLTYPE *get_device_slot)(void *, REFGUID, REFGUID, IUnknown **);

static void *slot(void *iface, unsigned int index)
{
    return (*(void ***)iface)[index];
}

/* Calls each method through its raw slot number, the way a binary built
 * against Microsoft's headers does, and checks it is the method it should
 * be by its observable behaviour. */
static void test_vtable_slots(IUnknown *device, IVmVirtualDeviceAccess *access)
{
    IVmFiovGuestMemoryFastNotification *notification;
    IVmFiovGuestMmioMappings *mappings;
    HANDLE section, event;
    IUnknown *unk;
    HRESULT hr;

    hr = IUnknown_QueryInterface(device, &IID_IVmFiovGuestMmioMappings, (void **)&mappings);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = IUnknown_QueryInterface(device, &IID_IVmFiovGuestMemoryFastNotification, (void **)&notification);
    ok(hr == S_OK, "got hr %#lx\n", hr);

    section = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x2000, NULL);
    event = CreateEventA(NULL, FALSE, FALSE, NULL);

    hr = ((create_range_slot)slot(mappings, 3))(mappings, FIOV_BAR0, 1, 2, FiovMmioMappingFlagWriteable, section, 0);
    ok(hr == S_OK, "slot 3 (CreateSectionBackedMmioRange): got hr %#lx\n", hr);
    hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(mappings, FIOV_BAR0, 1, 2, FiovMmioMappingFlagWriteable, section, 0);
    ok(hr == HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS), "the range was not created: got hr %#lx\n", hr);
    hr = ((destroy_range_slot)slot(mappings, 4))(mappings, FIOV_BAR0, 1);
    ok(hr == S_OK, "slot 4 (DestroySectionBackedMmioRange): got hr %#lx\n", hr);
    hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(mappings, FIOV_BAR0, 1);
    ok(hr == HRESULT_FROM_WIN32(ERROR_NOT_FOUND), "the range was not destroyed: got hr %#lx\n", hr);

    hr = ((register_doorbell_slot)slot(notification, 3))(notification, FIOV_BAR0, 0x10, 5,
            FIOV_DOORBELL_FLAG_TRIGGER_SIZE_DWORD, event);
    ok(hr == S_OK, "slot 3 (RegisterDoorbell): got hr %#lx\n", hr);
    hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(notification, FIOV_BAR0, 0x10, 5,
            FIOV_DOORBELL_FLAG_TRIGGER_SIZE_DWORD, event);
    ok(hr == HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS), "the doorbell was not registered: got hr %#lx\n", hr);
    hr = ((unregister_doorbell_slot)slot(notification, 4))(notification, FIOV_BAR0, 0x10, 5,
            FIOV_DOORBELL_FLAG_TRIGGER_SIZE_DWORD);
    ok(hr == S_OK, "slot 4 (UnregisterDoorbell): got hr %#lx\n", hr);
    hr = IVmFiovGuestMemoryFastNotification_UnregisterDoorbell(notification, FIOV_BAR0, 0x10, 5,
            FIOV_DOORBELL_FLAG_TRIGGER_SIZE_DWORD);
    ok(hr == HRESULT_FROM_WIN32(ERROR_NOT_FOUND), "the doorbell was not unregistered: got hr %#lx\n", hr);

    hr = ((get_device_slot)slot(access, 4))(access, &FLEXIO_DEVICE_ID, &instance, &unk);
    ok(hr == S_OK, "slot 4 (GetDevice): got hr %#lx\n", hr);
    ok(unk == device, "got %p, expected %p\n", unk, device);
    IUnknown_Release(unk);

    CloseHandle(section);
    CloseHandle(event);
    IVmFiovGuestMmioMappings_Release(mappings);
    IVmFiovGuestMemoryFastNotification_Release(notification);
}

static ULONG get_refcount(IUnknown *unk)
{
    IUnknown_AddRef(unk);
    return IUnknown_Release(unk);
}

static void test_identity(IUnknown *device)
{
    IVmFiovGuestMemoryFastNotification *notification;
    IVmFiovGuestMmioMappings *mappings;
    IUnknown *unk, *unk2;
    ULONG refcount;
    HRESULT hr;

    refcount = get_refcount(device);
    ok(refcount == 1, "got refcount %lu\n", refcount);

    hr = IUnknown_QueryInterface(device, &IID_IVmFiovGuestMemoryFastNotification, (void **)&notification);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = IVmFiovGuestMemoryFastNotification_QueryInterface(notification, &IID_IVmFiovGuestMmioMappings, (void **)&mappings);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = IVmFiovGuestMmioMappings_QueryInterface(mappings, &IID_IUnknown, (void **)&unk);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = IVmFiovGuestMemoryFastNotification_QueryInterface(notification, &IID_IUnknown, (void **)&unk2);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    ok(unk == device && unk2 == device, "IUnknown is not one object: %p, %p, %p\n", unk, unk2, device);
    refcount = get_refcount(device);
    ok(refcount == 5, "got refcount %lu\n", refcount);
    IUnknown_Release(unk);
    IUnknown_Release(unk2);
    IVmFiovGuestMmioMappings_Release(mappings);
    refcount = IVmFiovGuestMemoryFastNotification_Release(notification);
    ok(refcount == 1, "got refcount %lu\n", refcount);

    unk = (IUnknown *)0xdeadbeef;
    hr = IUnknown_QueryInterface(device, &IID_IVmVirtualDeviceAccess, (void **)&unk);
    ok(hr == E_NOINTERFACE, "got hr %#lx\n", hr);
    ok(!unk, "got %p\n", unk);
}

static void test_get_device(VMIDL_PARTITION_HANDLE partition, IUnknown *device)
{
    IVmVirtualDeviceAccess *access;
    IUnknown *unk;
    ULONG refcount;
    HRESULT hr;

    hr = pVmidlGetVirtualDeviceAccess(partition, &access);
    ok(hr == S_OK, "got hr %#lx\n", hr);

    hr = IVmVirtualDeviceAccess_QueryInterface(access, &IID_IUnknown, (void **)&unk);
    ok(hr == S_OK && unk == (IUnknown *)access, "got hr %#lx, %p\n", hr, unk);
    IUnknown_Release(unk);
    hr = IVmVirtualDeviceAccess_QueryInterface(access, &IID_IVmFiovGuestMmioMappings, (void **)&unk);
    ok(hr == E_NOINTERFACE && !unk, "got hr %#lx, %p\n", hr, unk);

    hr = IVmVirtualDeviceAccess_GetDevice(access, &FLEXIO_DEVICE_ID, &instance, &unk);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    ok(unk == device, "got %p, expected %p\n", unk, device);
    refcount = get_refcount(device);
    ok(refcount == 2, "got refcount %lu\n", refcount);
    IUnknown_Release(unk);


    test_vtable_slots(device, access);
    IVmVirtualDeviceAccess_Release(access);
}

START_TEST(iface)
{
    VMIDL_FLEXIO_DEVICE_DESC desc;
    struct mmio_log log;
    struct guest guest;
    IUnknown *device;
    HRESULT hr;

    test_abi();

    if (!init_guest_test(&guest)) return;

    mmio_log_init(&log);
    guest_device_desc(&desc, &instance, &log, GUEST_BAR_BASE);
    hr = pVmidlAddFlexIoDevice(guest.partition, &desc, &device);
    ok(hr == S_OK, "got hr %#lx\n", hr);

    test_identity(device);
    test_get_device(guest.partition, device);

    ok(!IUnknown_Release(device), "device still referenced\n");
    guest_destroy(&guest);
    mmio_log_cleanup(&log);
}
