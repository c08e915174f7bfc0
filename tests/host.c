/*
 * Conformance tests for the partition host (include/vmidlhost.h): partition
 * lifetime, guest RAM, running a real ring-3 guest, and devices whose BARs
 * hand intercepted MMIO to the emulator.  Bad arguments: badinput.c.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define COBJMACROS
#include "wine/test.h"
#include "objbase.h"
#include "vmfiov.h"
#include "vmidl_test.h"

static const GUID instance1 = {0x1, 0x2, 0x3, {0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x00, 0x01}};

/* Partitions with several VPs; bad arguments are in badinput.c. */
static void test_partition_vps(void)
{
    VMIDL_PARTITION_HANDLE partition;
    VMIDL_VP_REGISTERS regs;
    GUID runtime_id;
    HRESULT hr;

    guest_new_runtime_id(&runtime_id);
    hr = pVmidlCreatePartition(&runtime_id, 2, &partition);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    if (FAILED(hr)) return;
    hr = pVmidlGetVirtualProcessorRegisters(partition, 1, &regs);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = pVmidlSetVirtualProcessorRegisters(partition, 1, &regs);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = pVmidlDeletePartition(partition);
    ok(hr == S_OK, "got hr %#lx\n", hr);
}

/* A RuntimeId names one partition in the prefix while it lives (another
 * process: crossproc.c). */
static void test_runtime_id(void)
{
    VMIDL_PARTITION_HANDLE partition, second;
    GUID runtime_id;
    HRESULT hr;

    guest_new_runtime_id(&runtime_id);
    hr = pVmidlCreatePartition(&runtime_id, 1, &partition);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    if (FAILED(hr)) return;
    second = (VMIDL_PARTITION_HANDLE)0xdeadbeef;
    hr = pVmidlCreatePartition(&runtime_id, 1, &second);
    ok(hr == HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS), "a live RuntimeId: got hr %#lx\n", hr);
    ok(!second, "got %p\n", second);
    hr = pVmidlDeletePartition(partition);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = pVmidlCreatePartition(&runtime_id, 1, &partition);
    ok(hr == S_OK, "a deleted partition's RuntimeId: got hr %#lx\n", hr);
    if (SUCCEEDED(hr)) pVmidlDeletePartition(partition);
}

static void test_run_guest(void)
{
    VMIDL_RUN_VP_EXIT_CONTEXT exit;
    VMIDL_VP_REGISTERS regs;
    unsigned int read, unclaimed;
    struct guest guest;
    HRESULT hr;

    if (!create_guest(&guest)) return;

    /* RAM round trip, all in the guest. */
    guest_reset_ops(&guest);
    guest_add_op(&guest, GUEST_OP_WRITE, 8, GUEST_DATA, 0x0123456789abcdefull);
    guest_add_op(&guest, GUEST_OP_WRITE, 1, GUEST_DATA + 8, 0x1ff);
    read = guest_add_op(&guest, GUEST_OP_READ, 4, GUEST_DATA + 4, 0);
    hr = guest_run(&guest);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    ok(guest.ops[read].result == 0x01234567, "got %#I64x\n", guest.ops[read].result);
    ok(*(UINT64 *)guest_ram(&guest, GUEST_DATA) == 0x0123456789abcdefull, "host view of guest RAM wrong\n");
    ok(*(BYTE *)guest_ram(&guest, GUEST_DATA + 8) == 0xff, "got %#x\n", *(BYTE *)guest_ram(&guest, GUEST_DATA + 8));

    hr = pVmidlGetVirtualProcessorRegisters(guest.partition, 0, &regs);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    ok((regs.Cs.Selector & 3) == 3, "guest did not run at CPL3: cs %#x\n", regs.Cs.Selector);
    ok(regs.Efer & 0x400, "guest not in long mode: efer %#I64x\n", regs.Efer);

    /* MMIO where no device decodes: returned to the host; the read then
     * completes with all ones. */
    guest_reset_ops(&guest);
    guest_add_op(&guest, GUEST_OP_WRITE, 2, 0xe0000010, 0xbeef);
    unclaimed = guest_add_op(&guest, GUEST_OP_READ, 4, 0xe0000020, 0);
    guest_add_op(&guest, GUEST_OP_OUT, 4, 0x42, 0x1234);
    hr = guest_start(&guest);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = guest_resume(&guest, &exit);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    ok(exit.ExitReason == VmidlRunVpExitReasonMemoryAccess, "got reason %u\n", exit.ExitReason);
    ok(exit.Address == 0xe0000010 && exit.IsWrite && exit.AccessSize == 2 && exit.Data == 0xbeef,
            "got address %#I64x, write %u, size %u, data %#I64x\n", exit.Address, exit.IsWrite, exit.AccessSize, exit.Data);
    hr = guest_resume(&guest, &exit);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    ok(exit.ExitReason == VmidlRunVpExitReasonMemoryAccess && exit.Address == 0xe0000020 && !exit.IsWrite
            && exit.AccessSize == 4, "got reason %u, address %#I64x, write %u, size %u\n",
            exit.ExitReason, exit.Address, exit.IsWrite, exit.AccessSize);
    hr = guest_resume(&guest, &exit);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    ok(exit.ExitReason == VmidlRunVpExitReasonX64IoPortAccess && exit.Address == 0x42 && exit.IsWrite
            && exit.AccessSize == 4 && exit.Data == 0x1234, "got reason %u, port %#I64x, data %#I64x\n",
            exit.ExitReason, exit.Address, exit.Data);
    ok(guest.ops[unclaimed].result == 0xffffffff, "got %#I64x\n", guest.ops[unclaimed].result);
    hr = guest_resume(&guest, &exit);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    ok(exit.ExitReason == VmidlRunVpExitReasonX64IoPortAccess && exit.Address == GUEST_PORT_DONE,
            "got reason %u, port %#I64x\n", exit.ExitReason, exit.Address);

    guest_destroy(&guest);
}

static void test_device_mmio(void)
{
    static const UINT32 sizes[] = {1, 2, 4, 8};
    VMIDL_FLEXIO_DEVICE_DESC desc;
    IUnknown *device;
    struct mmio_log log;
    unsigned int i, op[4];
    struct guest guest;
    HRESULT hr;

    if (!create_guest(&guest)) return;
    mmio_log_init(&log);

    guest_device_desc(&desc, &instance1, &log, GUEST_BAR_BASE);
    hr = pVmidlAddFlexIoDevice(guest.partition, &desc, &device);
    ok(hr == S_OK, "got hr %#lx\n", hr);

    /* Every size, both directions, reaches the emulator with BAR and offset. */
    guest_reset_ops(&guest);
    for (i = 0; i < ARRAYSIZE(sizes); i++)
    {
        guest_add_op(&guest, GUEST_OP_WRITE, sizes[i], GUEST_BAR_BASE + 0x100 + i * 8, 0x1122334455667788ull >> (64 - sizes[i] * 8));
        op[i] = guest_add_op(&guest, GUEST_OP_READ, sizes[i], GUEST_BAR_BASE + 0x200 + i * 8, 0);
    }
    guest_add_op(&guest, GUEST_OP_READ, 4, GUEST_BAR_BASE + 0x100000 + 0xffc, 0);
    hr = guest_run(&guest);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    ok(log.count == 9, "got %u accesses\n", log.count);
    for (i = 0; i < ARRAYSIZE(sizes) && log.count == 9; i++)
    {
        const struct mmio_access *w = &log.accesses[2 * i], *r = &log.accesses[2 * i + 1];

        winetest_push_context("size %u", sizes[i]);
        ok(w->is_write && w->bar == FIOV_BAR0 && w->offset == 0x100 + i * 8 && w->size == sizes[i]
                && w->data == 0x1122334455667788ull >> (64 - sizes[i] * 8),
                "write: got write %d, bar %u, offset %#I64x, size %u, data %#I64x\n",
                w->is_write, w->bar, w->offset, w->size, w->data);
        ok(!r->is_write && r->bar == FIOV_BAR0 && r->offset == 0x200 + i * 8 && r->size == sizes[i],
                "read: got write %d, bar %u, offset %#I64x, size %u\n", r->is_write, r->bar, r->offset, r->size);
        ok(guest.ops[op[i]].result == guest_mmio_read_value(FIOV_BAR0, 0x200 + i * 8, sizes[i]),
                "guest read %#I64x\n", guest.ops[op[i]].result);
        winetest_pop_context();
    }
    ok(log.accesses[8].bar == FIOV_BAR2 && log.accesses[8].offset == 0xffc, "got bar %u offset %#I64x\n",
            log.accesses[8].bar, log.accesses[8].offset);

    /* Moving a BAR moves what it decodes. */
    hr = pVmidlSetBarAddress(guest.partition, &instance1, FIOV_BAR0, GUEST_BAR_BASE + 0x400000);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    mmio_log_reset(&log);
    guest_reset_ops(&guest);
    guest_add_op(&guest, GUEST_OP_WRITE, 4, GUEST_BAR_BASE + 0x400010, 7);
    hr = guest_run(&guest);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    ok(log.count == 1 && log.accesses[0].offset == 0x10, "got %u accesses, offset %#I64x\n",
            log.count, log.accesses[0].offset);
    guest_reset_ops(&guest);
    guest_add_op(&guest, GUEST_OP_WRITE, 4, GUEST_BAR_BASE + 0x10, 7);
    hr = guest_run(&guest);
    ok(hr == E_UNEXPECTED, "old BAR address still decoded: got hr %#lx\n", hr);

    /* A released device leaves the partition, and its instance is free. */
    ok(!IUnknown_Release(device), "device still referenced\n");
    hr = pVmidlAddFlexIoDevice(guest.partition, &desc, &device);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    IUnknown_Release(device);

    guest_destroy(&guest);
    mmio_log_cleanup(&log);
}

static void test_delete_with_devices(void)
{
    IVmFiovGuestMmioMappings *mappings;
    IVmVirtualDeviceAccess *access;
    VMIDL_FLEXIO_DEVICE_DESC desc;
    IUnknown *device, *unk;
    struct mmio_log log;
    struct guest guest;
    HRESULT hr;

    if (!create_guest(&guest)) return;
    mmio_log_init(&log);
    guest_device_desc(&desc, &instance1, &log, GUEST_BAR_BASE);
    hr = pVmidlAddFlexIoDevice(guest.partition, &desc, &device);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = pVmidlGetVirtualDeviceAccess(guest.partition, &access);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = IUnknown_QueryInterface(device, &IID_IVmFiovGuestMmioMappings, (void **)&mappings);
    ok(hr == S_OK, "got hr %#lx\n", hr);

    /* Objects outlive the partition, and say so. */
    hr = pVmidlDeletePartition(guest.partition);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(mappings, FIOV_BAR0, 0);
    ok(hr == HRESULT_FROM_WIN32(ERROR_DEVICE_REMOVED), "got hr %#lx\n", hr);
    hr = IVmVirtualDeviceAccess_GetDevice(access, &FLEXIO_DEVICE_ID, &instance1, &unk);
    ok(hr == HRESULT_FROM_WIN32(ERROR_DEVICE_REMOVED), "got hr %#lx\n", hr);
    IVmFiovGuestMmioMappings_Release(mappings);
    IUnknown_Release(device);
    IVmVirtualDeviceAccess_Release(access);

    guest.partition = NULL;
    guest_destroy(&guest);
    mmio_log_cleanup(&log);
}

/* A deleted partition's handle, or one never handed out, is refused by
 * every function, without touching freed memory. */
static void test_stale_handle(void)
{
    static const VMIDL_PARTITION_HANDLE made_up = (VMIDL_PARTITION_HANDLE)(ULONG_PTR)0x1234;
    VMIDL_PARTITION_HANDLE handles[2], partition;
    GUID runtime_id;
    VMIDL_FLEXIO_DEVICE_DESC desc;
    VMIDL_RUN_VP_EXIT_CONTEXT exit;
    IVmVirtualDeviceAccess *access;
    VMIDL_VP_REGISTERS regs;
    struct mmio_log log;
    struct guest guest;
    IUnknown *device;
    unsigned int i;
    HRESULT hr;

    if (!create_guest(&guest)) return;
    partition = guest.partition;
    ok(pVmidlDeletePartition(partition) == S_OK, "cannot delete the partition\n");
    guest.partition = NULL;
    /* A new partition must not make the old handle valid again. */
    guest_new_runtime_id(&runtime_id);
    hr = pVmidlCreatePartition(&runtime_id, 1, &guest.partition);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    ok(guest.partition != partition, "the deleted handle was handed out again\n");

    mmio_log_init(&log);
    guest_device_desc(&desc, &instance1, &log, GUEST_BAR_BASE);
    memset(&regs, 0, sizeof(regs));
    handles[0] = partition;
    handles[1] = made_up;
    for (i = 0; i < ARRAYSIZE(handles); i++)
    {
        winetest_push_context(i ? "made up" : "deleted");
        hr = pVmidlDeletePartition(handles[i]);
        ok(hr == E_HANDLE, "delete: got hr %#lx\n", hr);
        hr = pVmidlMapGpaRange(handles[i], guest.ram, 0x800000, 0x1000, VMIDL_MAP_GPA_RANGE_FLAG_READ);
        ok(hr == E_HANDLE, "map: got hr %#lx\n", hr);
        hr = pVmidlSetVirtualProcessorRegisters(handles[i], 0, &regs);
        ok(hr == E_HANDLE, "set registers: got hr %#lx\n", hr);
        hr = pVmidlGetVirtualProcessorRegisters(handles[i], 0, &regs);
        ok(hr == E_HANDLE, "get registers: got hr %#lx\n", hr);
        hr = pVmidlRunVirtualProcessor(handles[i], 0, &exit);
        ok(hr == E_HANDLE, "run: got hr %#lx\n", hr);
        hr = pVmidlCancelRunVirtualProcessor(handles[i], 0, 0);
        ok(hr == E_HANDLE, "cancel: got hr %#lx\n", hr);
        device = (IUnknown *)0xdeadbeef;
        hr = pVmidlAddFlexIoDevice(handles[i], &desc, &device);
        ok(hr == E_HANDLE && !device, "add device: got hr %#lx, device %p\n", hr, device);
        hr = pVmidlSetBarAddress(handles[i], &instance1, FIOV_BAR0, GUEST_BAR_BASE + 0x400000);
        ok(hr == E_HANDLE, "move BAR: got hr %#lx\n", hr);
        access = (IVmVirtualDeviceAccess *)0xdeadbeef;
        hr = pVmidlGetVirtualDeviceAccess(handles[i], &access);
        ok(hr == E_HANDLE && !access, "device access: got hr %#lx, access %p\n", hr, access);
        winetest_pop_context();
    }

    guest_destroy(&guest);
    mmio_log_cleanup(&log);
}

START_TEST(host)
{
    struct guest guest;

    if (!init_guest_test(&guest)) return;
    guest_destroy(&guest);

    test_partition_vps();
    test_runtime_id();
    test_run_guest();
    test_device_mmio();
    test_delete_with_devices();
    test_stale_handle();
}
