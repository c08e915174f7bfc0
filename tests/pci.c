/*
 * A device the guest finds on the PCI bus and that reaches the guest: the
 * guest of tools/demo/pci_guest.c scans the ECAM window, sizes and places the
 * BARs, toggles memory decoding, walks the capability list served by the
 * device's config callback and sets up MSI; the device's engine
 * (tools/demo/pci_device.c) interrupts it and serves its descriptor ring through
 * copies and an aperture.  The host API's bad input, and teardown with
 * interrupts in flight and apertures mapped.  As pci_remote, the engine
 * runs in a driver process and reaches the guest through the views.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define COBJMACROS
#include "wine/test.h"
#include "objbase.h"
#include "vmfiov.h"
#include "vmidl_test.h"
#include "demo/pci_device.h"

#define ECAM            0xe0000000ull
#define DEVICE_NUMBER   5
#define OTHER_NUMBER    2
#define VENDOR_ID       0x1af4
#define DEVICE_ID       0x10f0
#define MSI_VECTOR      0x40
#define IRQS            50
#define RING_SIZE       16

/* Where the worker puts the BARs, and where the guest moves them. */
#define WORKER_BAR0     0xc0000000ull
#define WORKER_BAR2     0xc0100000ull
#define WORKER_BAR3     0xc0101000ull
#define GUEST_BAR0      0xd0000000ull
#define GUEST_BAR2      0xd0010000ull
#define GUEST_BAR3      0x100000000ull

static const GUID instance = {0x70636964, 0x0001, 0x0002, {0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a}};
static const GUID other_instance = {0x70636964, 0x0002, 0x0002, {0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a}};

static struct guest guest;

/* BAR0's registers: the magic, and a count of what reached the device. */
static LONG bar0_accesses;

static HRESULT CALLBACK bar_callback(void *context, UINT32 bar, UINT64 offset, UINT32 size, BOOL is_write, UINT64 *data)
{
    InterlockedIncrement(&bar0_accesses);
    if (bar == FIOV_BAR0 && offset == PCI_DEV_REG_MAGIC && !is_write) *data = PCI_DEV_MAGIC;
    return S_OK;
}

static void test_device_desc(VMIDL_FLEXIO_DEVICE_DESC *desc, const GUID *id)
{
    memset(desc, 0, sizeof(*desc));
    desc->InstanceId = *id;
    desc->BarSize[FIOV_BAR0] = PCI_DEV_BAR0_SIZE;
    desc->BarAddress[FIOV_BAR0] = WORKER_BAR0;
    desc->BarSize[FIOV_BAR2] = PCI_DEV_BAR2_SIZE;
    desc->BarAddress[FIOV_BAR2] = WORKER_BAR2;
    desc->BarSize[FIOV_BAR3] = PCI_DEV_BAR3_SIZE;
    desc->BarAddress[FIOV_BAR3] = WORKER_BAR3;
    desc->MmioCallback = bar_callback;
}

static void test_pci_desc(VMIDL_PCI_DEVICE_DESC *desc, struct pci_config *config, UINT32 number, UINT16 device_id)
{
    memset(desc, 0, sizeof(*desc));
    desc->DeviceNumber = number;
    desc->VendorId = VENDOR_ID;
    desc->DeviceId = device_id;
    desc->SubsystemVendorId = VENDOR_ID;
    desc->SubsystemId = 1;
    desc->ClassCode = 0xff0000;
    desc->RevisionId = 1;
    desc->HasCapabilities = TRUE;
    desc->ConfigCallback = pci_config_callback;
    desc->ConfigCallbackContext = config;
}

/* The engine, where the test runs the driver. */
static struct pci_engine engine;
static void *remote_iface;

static HRESULT start_engine(IUnknown *device, UINT64 address, UINT32 data)
{
    if (device_test_remote)
        return remote_driver_call(remote_iface, REMOTE_PCI_ENGINE_START, 0, address, data, 0, NULL);
    return pci_engine_start(&engine, device, address, data, TEST_WAIT_MS);
}

static HRESULT stop_engine(LONG *raised, LONG *completed)
{
    UINT64 value;
    HRESULT hr;

    if (device_test_remote)
    {
        hr = remote_driver_call(remote_iface, REMOTE_PCI_ENGINE_STOP, 0, 0, 0, 0, &value);
        *raised = (UINT32)value;
        *completed = value >> 32;
        return hr;
    }
    pci_engine_stop(&engine);
    *raised = engine.irqs_raised;
    *completed = engine.completed;
    return engine.error;
}

/* Runs the guest to the end of a phase; waits that go on past
 * TEST_WAIT_MS give up.  Counts the exits for MMIO outside every BAR. */
static UINT32 run_to_phase(struct pci_guest *block, unsigned int *unrouted, UINT64 *unrouted_address)
{
    ULONGLONG start = GetTickCount64();
    VMIDL_RUN_VP_EXIT_CONTEXT exit;
    HRESULT hr;

    for (;;)
    {
        if (FAILED(hr = guest_resume(&guest, &exit)))
        {
            ok(0, "run failed, hr %#lx\n", hr);
            return PCI_PHASE_FAILED;
        }
        if (exit.ExitReason == VmidlRunVpExitReasonMemoryAccess)
        {
            (*unrouted)++;
            *unrouted_address = exit.Address;
            continue;
        }
        if (exit.ExitReason != VmidlRunVpExitReasonX64IoPortAccess)
        {
            VMIDL_VP_REGISTERS regs;

            pVmidlGetVirtualProcessorRegisters(guest.partition, 0, &regs);
            ok(0, "unexpected exit %#x at %#I64x, rip %#I64x\n", exit.ExitReason, exit.Address, regs.Rip);
            return PCI_PHASE_FAILED;
        }
        if (exit.Address == PCI_GUEST_PORT) return exit.Data;
        if (exit.Address != PCI_GUEST_PORT_WAITING) continue;
        if (GetTickCount64() - start > TEST_WAIT_MS) block->give_up = TRUE;
    }
}

#define expect_phase(a, b) expect_phase_(__LINE__, a, b)
static BOOL expect_phase_(int line, struct pci_guest *block, UINT32 phase)
{
    unsigned int unrouted = 0;
    UINT64 address = 0;
    UINT32 got = run_to_phase(block, &unrouted, &address);

    ok_(__FILE__, line)(got == phase, "guest reached phase %#x (after %u), expected %u\n", got, block->phase, phase);
    ok_(__FILE__, line)(unrouted == (phase == PCI_PHASE_DECODE), "%u exits outside every BAR, last at %#I64x\n",
            unrouted, address);
    if (phase == PCI_PHASE_DECODE)
        ok_(__FILE__, line)(address == GUEST_BAR0 + PCI_DEV_REG_MAGIC, "the read went to %#I64x\n", address);
    return got == phase;
}

/* The whole driver's life, from the bus scan to the ring. */
static void test_guest_finds_and_drives_device(IUnknown *device, struct pci_config *config)
{
    struct pci_guest *block = guest_ram(&guest, PCI_GUEST_BLOCK);
    static const BYTE cap_ids[] = {0x09, 0x01, 0x05};
    LONG raised, completed;
    UINT64 msi_address;
    UINT32 msi_data;
    BYTE *probe;
    HRESULT hr;

    memset(block, 0, sizeof(*block));
    block->ecam = ECAM;
    block->ids = VENDOR_ID | DEVICE_ID << 16;
    block->vector = MSI_VECTOR;
    block->bar_place[0] = GUEST_BAR0;
    block->bar_place[2] = GUEST_BAR2;
    block->bar_place[3] = GUEST_BAR3;
    block->irq_wanted = IRQS;
    block->ring_size = RING_SIZE;
    guest.entry_rdi = PCI_GUEST_BLOCK;
    hr = guest_start(&guest);
    ok(hr == S_OK, "cannot start the guest, hr %#lx\n", hr);

    if (!expect_phase(block, PCI_PHASE_FOUND)) return;
    ok(block->device_number == DEVICE_NUMBER, "guest found the device at %u\n", block->device_number);
    ok(block->functions == 2, "guest found %u devices\n", block->functions);

    if (!expect_phase(block, PCI_PHASE_PLACED)) return;
    ok(block->bar_size[0] == PCI_DEV_BAR0_SIZE, "BAR0 size %#I64x\n", block->bar_size[0]);
    ok(!block->bar_size[1], "BAR1 size %#I64x\n", block->bar_size[1]);
    ok(block->bar_size[2] == PCI_DEV_BAR2_SIZE, "BAR2 size %#I64x\n", block->bar_size[2]);
    ok(block->bar_size[3] == PCI_DEV_BAR3_SIZE, "BAR3 size %#I64x\n", block->bar_size[3]);
    ok(!block->bar_size[4] && !block->bar_size[5], "BAR4/5 sizes %#I64x %#I64x\n", block->bar_size[4],
            block->bar_size[5]);
    ok(block->bar_64bit == (1 << 0 | 1 << 3), "64-bit BARs %#x\n", block->bar_64bit);
    /* The BARs left the worker's places: RAM fits there now, not at the guest's. */
    probe = VirtualAlloc(NULL, 0x1000, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    hr = pVmidlMapGpaRange(guest.partition, probe, GUEST_BAR3, 0x1000, VMIDL_MAP_GPA_RANGE_FLAG_READ);
    ok(hr == HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS), "RAM at BAR3's new place: hr %#lx\n", hr);
    hr = pVmidlMapGpaRange(guest.partition, probe, WORKER_BAR3, 0x1000, VMIDL_MAP_GPA_RANGE_FLAG_READ);
    ok(hr == S_OK, "RAM at BAR3's old place: hr %#lx\n", hr);
    /* Their places are the guest's now. */
    hr = pVmidlSetBarAddress(guest.partition, &instance, FIOV_BAR0, WORKER_BAR0);
    ok(hr == HRESULT_FROM_WIN32(ERROR_INVALID_STATE), "VmidlSetBarAddress: hr %#lx\n", hr);

    bar0_accesses = 0;
    if (!expect_phase(block, PCI_PHASE_DECODE)) return;
    ok(block->decode_reads[0] == PCI_DEV_MAGIC, "decoding: read %#I64x\n", block->decode_reads[0]);
    ok(block->decode_reads[1] == 0xffffffff, "not decoding: read %#I64x\n", block->decode_reads[1]);
    ok(block->decode_reads[2] == PCI_DEV_MAGIC, "decoding again: read %#I64x\n", block->decode_reads[2]);
    ok(bar0_accesses == 2, "%lu accesses reached the device\n", bar0_accesses);

    if (!expect_phase(block, PCI_PHASE_CAPS)) return;
    ok(block->cap_count == ARRAY_SIZE(cap_ids) && !memcmp(block->cap_ids, cap_ids, sizeof(cap_ids)),
            "capabilities: %u, %02x %02x %02x\n", block->cap_count, block->cap_ids[0], block->cap_ids[1],
            block->cap_ids[2]);
    ok(block->msi_offset == 0x50, "MSI capability at %#x\n", block->msi_offset);

    if (!expect_phase(block, PCI_PHASE_MSI)) return;
    ok(pci_config_msi(config, &msi_address, &msi_data), "MSI not enabled, control %#x\n", block->msi_control);
    ok(msi_address == 0xfee00000 && msi_data == MSI_VECTOR, "MSI address %#I64x, data %#x\n", msi_address, msi_data);
    ok(!config->misrouted, "%u accesses to vmidl's offsets reached the device\n", config->misrouted);
    ok(!config->dropped_writes, "%u writes dropped\n", config->dropped_writes);
    hr = start_engine(device, msi_address, msi_data);
    ok(hr == S_OK, "cannot start the engine, hr %#lx\n", hr);
    if (FAILED(hr)) return;

    if (expect_phase(block, PCI_PHASE_IRQS))
        ok(block->irq_count == IRQS, "guest counted %I64u interrupts\n", block->irq_count);
    if (block->phase == PCI_PHASE_IRQS && expect_phase(block, PCI_PHASE_RING))
    {
        ok(!block->ring_errors, "%u bytes or completions wrong\n", block->ring_errors);
        ok(block->ring_irqs >= 1 && block->ring_irqs <= RING_SIZE, "%u interrupts for the ring\n", block->ring_irqs);
    }
    hr = stop_engine(&raised, &completed);
    ok(hr == S_OK, "engine: hr %#lx\n", hr);
    ok(raised == IRQS + RING_SIZE, "engine raised %lu interrupts\n", raised);
    ok(completed == RING_SIZE, "engine completed %lu\n", completed);
    VirtualFree(probe, 0, MEM_RELEASE);
}

/* RAM right after the guest's, then read-only RAM after that: the
 * worker's own memory, which no aperture can map. */
static BYTE *extra_ram, *readonly_ram;

static void map_more_ram(void)
{
    static const UINT32 rw = VMIDL_MAP_GPA_RANGE_FLAG_READ | VMIDL_MAP_GPA_RANGE_FLAG_WRITE;
    HRESULT hr;

    extra_ram = VirtualAlloc(NULL, 0x2000, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    readonly_ram = VirtualAlloc(NULL, 0x1000, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    memset(readonly_ram, 0x77, 0x1000);
    hr = pVmidlMapGpaRange(guest.partition, extra_ram, GUEST_RAM_SIZE, 0x2000, rw);
    ok(hr == S_OK, "hr %#lx\n", hr);
    hr = pVmidlMapGpaRange(guest.partition, readonly_ram, GUEST_RAM_SIZE + 0x2000, 0x1000,
            VMIDL_MAP_GPA_RANGE_FLAG_READ);
    ok(hr == S_OK, "hr %#lx\n", hr);
}

/* The device services as the driver calls them: here, or in its process. */
static IUnknown *driver_device;

static HRESULT deliver_msi(UINT64 address, UINT32 data)
{
    if (device_test_remote) return remote_driver_call(remote_iface, REMOTE_DELIVER_MSI, 0, address, data, 0, NULL);
    return pVmidlDeliverMsi(driver_device, address, data);
}

/* Writes 0x5a bytes, or reads. */
static HRESULT copy_guest(UINT64 gpa, UINT32 size, BOOL write)
{
    BYTE buffer[0x4000];

    if (device_test_remote)
        return remote_driver_call(remote_iface, REMOTE_COPY_GUEST_MEMORY, 0, gpa, size, write, NULL);
    memset(buffer, 0x5a, sizeof(buffer));
    return write ? pVmidlWriteGuestMemory(driver_device, gpa, buffer, size)
            : pVmidlReadGuestMemory(driver_device, gpa, buffer, size);
}

/* Makes an aperture, reads its first qword, destroys it. */
static HRESULT probe_aperture(UINT64 gpa, UINT32 size, BOOL write_protected, UINT64 *first)
{
    UINT64 *aperture;
    HRESULT hr;

    if (device_test_remote)
        return remote_driver_call(remote_iface, REMOTE_APERTURE, 0, gpa, size, write_protected, first);
    if (FAILED(hr = pVmidlCreateGuestMemoryAperture(driver_device, gpa, size, write_protected, (void **)&aperture)))
        return hr;
    *first = *aperture;
    return pVmidlDestroyGuestMemoryAperture(driver_device, aperture);
}

static void test_services_input(void)
{
    static const struct { UINT64 address; UINT32 data; HRESULT hr; } msis[] =
    {
        {0xfee00000, 0x40, S_OK},
        {0xfee01000, 0x40, S_OK},                   /* APIC ID 1: nobody there, and no error */
        {0xfee00000, 0x140, S_OK},                  /* lowest priority */
        {0xfee00000, 0x0f, E_INVALIDARG},           /* vectors below 16 are exceptions */
        {0xfee00000, 0x8040, E_INVALIDARG},         /* level-triggered */
        {0xfee00000, 0x440, E_INVALIDARG},          /* NMI */
        {0xfee00000, 0x10040, E_INVALIDARG},        /* bits above 15 */
        {0xfed00000, 0x40, E_INVALIDARG},
        {0x1fee00000ull, 0x40, E_INVALIDARG},
        {0, 0, E_INVALIDARG},
    };
    const struct { UINT64 gpa; UINT32 size; BOOL write; HRESULT hr; } copies[] =
    {
        {GUEST_RAM_SIZE - 0x800, 0x2900, FALSE, S_OK},          /* across three ranges */
        {GUEST_RAM_SIZE - 0x800, 0x1800, TRUE, S_OK},           /* across two writable ones */
        {GUEST_RAM_SIZE + 0x1000, 0x1800, TRUE, E_ACCESSDENIED},        /* into read-only RAM */
        {GUEST_RAM_SIZE + 0x2000, 0x1001, FALSE, HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS)},    /* past it: a hole */
        {ECAM, 4, FALSE, HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS)},
        {GUEST_BAR0, 4, TRUE, HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS)},
        {~0ull - 1, 4, FALSE, E_INVALIDARG},                    /* wraps */
        {0, 0, FALSE, E_INVALIDARG},
    };
    const struct { UINT64 gpa; UINT32 size; BOOL write_protected; HRESULT hr; } apertures[] =
    {
        {PCI_GUEST_IN, 0x1000, TRUE, S_OK},
        {PCI_GUEST_IN, 0x1000, FALSE, S_OK},
        {GUEST_RAM_SIZE, 0x1000, FALSE, HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED)},       /* the worker's memory */
        {GUEST_RAM_SIZE - 0x1000, 0x2000, TRUE, HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS)},     /* two ranges */
        {ECAM, 0x1000, TRUE, HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS)},
        {0x800, 0x1000, TRUE, E_INVALIDARG},
        {0, 0x800, TRUE, E_INVALIDARG},
        {0, 0, TRUE, E_INVALIDARG},
    };
    BYTE expect[0x3000];
    unsigned int i;
    UINT64 first;
    HRESULT hr;

    for (i = 0; i < ARRAY_SIZE(msis); i++)
    {
        hr = deliver_msi(msis[i].address, msis[i].data);
        ok(hr == msis[i].hr, "MSI %u: address %#I64x, data %#x: hr %#lx\n", i, msis[i].address, msis[i].data, hr);
    }
    for (i = 0; i < ARRAY_SIZE(copies); i++)
    {
        memcpy(expect, guest.ram + GUEST_RAM_SIZE - 0x1000, 0x1000);
        memcpy(expect + 0x1000, extra_ram, 0x2000);
        hr = copy_guest(copies[i].gpa, copies[i].size, copies[i].write);
        ok(hr == copies[i].hr, "copy %u: %#x bytes at %#I64x: hr %#lx\n", i, copies[i].size, copies[i].gpa, hr);
        if (hr != S_OK || !copies[i].write)
            ok(!memcmp(expect, guest.ram + GUEST_RAM_SIZE - 0x1000, 0x1000) && !memcmp(expect + 0x1000, extra_ram, 0x2000)
                    && readonly_ram[0] == 0x77, "copy %u changed memory\n", i);
    }
    for (i = 0; i < ARRAY_SIZE(apertures); i++)
    {
        first = 0xdead;
        hr = probe_aperture(apertures[i].gpa, apertures[i].size, apertures[i].write_protected, &first);
        ok(hr == apertures[i].hr, "aperture %u: %#x bytes at %#I64x: hr %#lx\n", i, apertures[i].size,
                apertures[i].gpa, hr);
        if (hr == S_OK)
            ok(first == *(UINT64 *)(guest.ram + apertures[i].gpa), "aperture %u reads %#I64x\n", i, first);
    }
}

/* The bytes themselves, in this process. */
static void test_copies(void)
{
    BYTE buffer[0x3000];
    unsigned int i;
    HRESULT hr;

    for (i = 0; i < sizeof(buffer); i++) buffer[i] = i * 13;
    hr = pVmidlWriteGuestMemory(driver_device, GUEST_RAM_SIZE - 0x800, buffer, 0x1800);
    ok(hr == S_OK, "write across the end of the guest's RAM: hr %#lx\n", hr);
    ok(!memcmp(guest.ram + GUEST_RAM_SIZE - 0x800, buffer, 0x800) && !memcmp(extra_ram, buffer + 0x800, 0x1000),
            "the bytes did not land\n");
    memset(buffer, 0xcc, sizeof(buffer));
    hr = pVmidlReadGuestMemory(driver_device, GUEST_RAM_SIZE - 0x800, buffer, 0x2900);
    ok(hr == S_OK, "read across three ranges: hr %#lx\n", hr);
    ok(!memcmp(buffer, guest.ram + GUEST_RAM_SIZE - 0x800, 0x800) && !memcmp(buffer + 0x800, extra_ram, 0x2000)
            && buffer[0x2800] == 0x77 && buffer[0x28ff] == 0x77 && buffer[0x2900] == 0xcc, "read the wrong bytes\n");
    memset(buffer, 0xcc, sizeof(buffer));
    hr = pVmidlReadGuestMemory(driver_device, GUEST_RAM_SIZE + 0x2000, buffer, 0x1001);
    ok(hr == HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS), "read into a hole: hr %#lx\n", hr);
    ok(buffer[0] == 0xcc, "a refused read filled the buffer\n");
    hr = pVmidlReadGuestMemory(driver_device, 0, NULL, 4);
    ok(hr == E_INVALIDARG, "read into NULL: hr %#lx\n", hr);
    hr = pVmidlWriteGuestMemory(NULL, 0, buffer, 4);
    ok(hr == E_INVALIDARG, "write without a device: hr %#lx\n", hr);
    hr = pVmidlDeliverMsi(NULL, 0xfee00000, 0x40);
    ok(hr == E_INVALIDARG, "MSI without a device: hr %#lx\n", hr);
    hr = pVmidlCreateGuestMemoryAperture(driver_device, 0, 0x1000, TRUE, NULL);
    ok(hr == E_INVALIDARG, "aperture to NULL: hr %#lx\n", hr);
    hr = pVmidlDestroyGuestMemoryAperture(driver_device, guest.ram);
    ok(hr == E_INVALIDARG, "destroying what is no aperture: hr %#lx\n", hr);
    hr = pVmidlDestroyGuestMemoryAperture(driver_device, NULL);
    ok(hr == E_INVALIDARG, "destroying NULL: hr %#lx\n", hr);
}

/* Writable and read-only apertures are the guest's RAM itself. */
static void test_apertures(void)
{
    IUnknown *device = driver_device;
    MEMORY_BASIC_INFORMATION info;
    BYTE *writable, *readonly;
    HRESULT hr;

    hr = pVmidlCreateGuestMemoryAperture(device, PCI_GUEST_IN, 0x3000, FALSE, (void **)&writable);
    ok(hr == S_OK, "hr %#lx\n", hr);
    hr = pVmidlCreateGuestMemoryAperture(device, PCI_GUEST_IN + 0x1000, 0x1000, TRUE, (void **)&readonly);
    ok(hr == S_OK, "hr %#lx\n", hr);
    if (FAILED(hr)) return;

    writable[0x1004] = 0x5a;
    ok(guest.ram[PCI_GUEST_IN + 0x1004] == 0x5a, "the guest's RAM did not change\n");
    ok(readonly[4] == 0x5a, "the read-only aperture did not see it\n");
    guest.ram[PCI_GUEST_IN + 0x1008] = 0xa5;
    ok(readonly[8] == 0xa5 && writable[0x1008] == 0xa5, "the apertures did not see the guest's RAM change\n");
    VirtualQuery(readonly, &info, sizeof(info));
    ok(info.Protect == PAGE_READONLY, "read-only aperture's protection %#lx\n", info.Protect);
    VirtualQuery(writable, &info, sizeof(info));
    ok(info.Protect == PAGE_READWRITE, "aperture's protection %#lx\n", info.Protect);

    hr = pVmidlDestroyGuestMemoryAperture(device, readonly);
    ok(hr == S_OK, "hr %#lx\n", hr);
    hr = pVmidlDestroyGuestMemoryAperture(device, readonly);
    ok(hr == E_INVALIDARG, "destroying it twice: hr %#lx\n", hr);
    hr = pVmidlDestroyGuestMemoryAperture(device, writable + 0x1000);
    ok(hr == E_INVALIDARG, "destroying the middle of one: hr %#lx\n", hr);
    hr = pVmidlDestroyGuestMemoryAperture(device, writable);
    ok(hr == S_OK, "hr %#lx\n", hr);
}

/* What only the worker does: bus, window and attach. */
static void test_bus_input(struct pci_config *config)
{
    VMIDL_FLEXIO_DEVICE_DESC flexio;
    VMIDL_PCI_DEVICE_DESC desc;
    IUnknown *unattached;
    HRESULT hr;

    hr = pVmidlSetPciConfigWindow(guest.partition, ECAM);
    ok(hr == HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS), "second window: hr %#lx\n", hr);
    hr = pVmidlSetPciConfigWindow(guest.partition, ECAM + 0x1000);
    ok(hr == E_INVALIDARG, "misaligned window: hr %#lx\n", hr);
    hr = pVmidlSetPciConfigWindow(NULL, ECAM);
    ok(hr == E_INVALIDARG, "no partition: hr %#lx\n", hr);

    test_pci_desc(&desc, config, DEVICE_NUMBER, DEVICE_ID);
    hr = pVmidlAttachPciDevice(guest.partition, &instance, &desc);
    ok(hr == HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS), "attached twice: hr %#lx\n", hr);
    hr = pVmidlAttachPciDevice(guest.partition, &GUID_NULL, &desc);
    ok(hr == HRESULT_FROM_WIN32(ERROR_NOT_FOUND), "unknown instance: hr %#lx\n", hr);

    /* A device whose BARs PCI cannot say: a size that is no power of two,
     * a 32-bit BAR above 4 GiB.  And one that would do, at a taken number. */
    test_device_desc(&flexio, &GUID_NULL);
    flexio.InstanceId.Data1 = 0x1234;
    flexio.BarAddress[FIOV_BAR0] = 0xc1000000;
    flexio.BarAddress[FIOV_BAR2] = 0xc1100000;
    flexio.BarAddress[FIOV_BAR3] = 0xc1101000;
    flexio.BarSize[FIOV_BAR0] = 0x3000;
    hr = pVmidlAddFlexIoDevice(guest.partition, &flexio, &unattached);
    ok(hr == S_OK, "hr %#lx\n", hr);
    desc.DeviceNumber = 7;
    hr = pVmidlAttachPciDevice(guest.partition, &flexio.InstanceId, &desc);
    ok(hr == E_INVALIDARG, "BAR size %#I64x: hr %#lx\n", flexio.BarSize[FIOV_BAR0], hr);
    IUnknown_Release(unattached);
    flexio.BarSize[FIOV_BAR0] = 0x4000;
    flexio.BarAddress[FIOV_BAR2] = 0x200000000ull;
    hr = pVmidlAddFlexIoDevice(guest.partition, &flexio, &unattached);
    ok(hr == S_OK, "hr %#lx\n", hr);
    hr = pVmidlAttachPciDevice(guest.partition, &flexio.InstanceId, &desc);
    ok(hr == E_INVALIDARG, "32-bit BAR above 4 GiB: hr %#lx\n", hr);
    IUnknown_Release(unattached);
    flexio.BarAddress[FIOV_BAR2] = 0xc1100000;
    hr = pVmidlAddFlexIoDevice(guest.partition, &flexio, &unattached);
    ok(hr == S_OK, "hr %#lx\n", hr);
    desc.DeviceNumber = DEVICE_NUMBER;
    hr = pVmidlAttachPciDevice(guest.partition, &flexio.InstanceId, &desc);
    ok(hr == HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS), "taken number: hr %#lx\n", hr);

    desc.DeviceNumber = 32;
    hr = pVmidlAttachPciDevice(guest.partition, &flexio.InstanceId, &desc);
    ok(hr == E_INVALIDARG, "device number 32: hr %#lx\n", hr);
    desc.DeviceNumber = 7;
    desc.Reserved = 1;
    hr = pVmidlAttachPciDevice(guest.partition, &flexio.InstanceId, &desc);
    ok(hr == E_INVALIDARG, "reserved field set: hr %#lx\n", hr);
    desc.Reserved = 0;
    desc.ConfigCallback = NULL;
    hr = pVmidlAttachPciDevice(guest.partition, &flexio.InstanceId, &desc);
    ok(hr == E_INVALIDARG, "no config callback: hr %#lx\n", hr);
    desc.ConfigCallback = pci_config_callback;
    desc.ClassCode = 0x1000000;
    hr = pVmidlAttachPciDevice(guest.partition, &flexio.InstanceId, &desc);
    ok(hr == E_INVALIDARG, "class code of 25 bits: hr %#lx\n", hr);
    hr = pVmidlAttachPciDevice(guest.partition, &flexio.InstanceId, NULL);
    ok(hr == E_INVALIDARG, "no desc: hr %#lx\n", hr);
    IUnknown_Release(unattached);
}

/* Without the interrupt controller, without a window. */
static void test_partition_without_bus(void)
{
    VMIDL_FLEXIO_DEVICE_DESC flexio;
    VMIDL_PCI_DEVICE_DESC desc;
    struct guest bare;
    struct pci_config config;
    IUnknown *device;
    HRESULT hr;

    hr = guest_create_ex(&bare, &guest_image_interp, 1, NULL, GUEST_SECTION_RAM);
    ok(hr == S_OK, "hr %#lx\n", hr);
    if (FAILED(hr)) return;
    pci_config_init(&config);
    test_device_desc(&flexio, &instance);
    hr = pVmidlAddFlexIoDevice(bare.partition, &flexio, &device);
    ok(hr == S_OK, "hr %#lx\n", hr);
    hr = pVmidlDeliverMsi(device, 0xfee00000, 0x40);
    ok(hr == HRESULT_FROM_WIN32(ERROR_INVALID_STATE), "MSI without an interrupt controller: hr %#lx\n", hr);
    test_pci_desc(&desc, &config, 0, DEVICE_ID);
    hr = pVmidlAttachPciDevice(bare.partition, &instance, &desc);
    ok(hr == HRESULT_FROM_WIN32(ERROR_INVALID_STATE), "attach without a window: hr %#lx\n", hr);
    hr = pVmidlSetPciConfigWindow(bare.partition, 0);
    ok(hr == HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS), "window over RAM: hr %#lx\n", hr);
    hr = pVmidlCreatePartitionEx(&GUID_NULL, 1, 2, &bare.partition);
    ok(hr == E_INVALIDARG, "unknown partition flag: hr %#lx\n", hr);
    IUnknown_Release(device);
    guest_destroy(&bare);
    pci_config_cleanup(&config);
}

/* Section RAM: vmidl keeps its own view and handle. */
static void test_section_ram_input(void)
{
    static const UINT32 rw = VMIDL_MAP_GPA_RANGE_FLAG_READ | VMIDL_MAP_GPA_RANGE_FLAG_WRITE;
    HANDLE section = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x10000, NULL);
    HANDLE readonly = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READONLY, 0, 0x10000, NULL);
    HANDLE event = CreateEventW(NULL, FALSE, FALSE, NULL);
    const UINT64 gpa = 0x10000000;
    HRESULT hr;

    hr = pVmidlMapGpaSection(guest.partition, section, 0x1000, gpa, 0x10000, rw);
    ok(hr == HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER), "past the section's end: hr %#lx\n", hr);
    hr = pVmidlMapGpaSection(guest.partition, readonly, 0, gpa, 0x10000, rw);
    ok(hr == E_ACCESSDENIED, "writable RAM of a read-only section: hr %#lx\n", hr);
    hr = pVmidlMapGpaSection(guest.partition, event, 0, gpa, 0x10000, rw);
    ok(hr == HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE), "an event: hr %#lx\n", hr);
    hr = pVmidlMapGpaSection(guest.partition, section, 0x800, gpa, 0x1000, rw);
    ok(hr == E_INVALIDARG, "misaligned offset: hr %#lx\n", hr);
    hr = pVmidlMapGpaSection(guest.partition, NULL, 0, gpa, 0x1000, rw);
    ok(hr == E_INVALIDARG, "no section: hr %#lx\n", hr);
    hr = pVmidlMapGpaSection(guest.partition, section, 0, gpa, 0x1000, VMIDL_MAP_GPA_RANGE_FLAG_WRITE);
    ok(hr == E_INVALIDARG, "without READ: hr %#lx\n", hr);
    hr = pVmidlMapGpaSection(guest.partition, section, 0, 0, 0x1000, rw);
    ok(hr == HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS), "over the guest's RAM: hr %#lx\n", hr);
    hr = pVmidlMapGpaSection(guest.partition, readonly, 0, gpa, 0x10000, VMIDL_MAP_GPA_RANGE_FLAG_READ);
    ok(hr == S_OK, "read-only RAM of a read-only section: hr %#lx\n", hr);
    CloseHandle(readonly);
    {
        IUnknown *device;
        void *aperture;

        if (SUCCEEDED(guest_get_device_interface(guest.partition, &instance, &IID_IUnknown, (void **)&device)))
        {
            hr = pVmidlCreateGuestMemoryAperture(device, gpa, 0x1000, FALSE, &aperture);
            ok(hr == E_ACCESSDENIED, "writable aperture of read-only RAM: hr %#lx\n", hr);
            hr = pVmidlCreateGuestMemoryAperture(device, gpa, 0x1000, TRUE, &aperture);
            ok(hr == S_OK, "read-only aperture of read-only RAM: hr %#lx\n", hr);
            if (SUCCEEDED(hr)) pVmidlDestroyGuestMemoryAperture(device, aperture);
            IUnknown_Release(device);
        }
    }
    CloseHandle(section);
    CloseHandle(event);
}

/* Interrupts in flight and apertures mapped while the partition goes:
 * each call either works or says the device was removed, and the
 * apertures stay readable, the guest's pages no longer. */
struct msi_hammer
{
    IUnknown *device;
    LONG stop;
    LONG delivered, removed, other;
};

static DWORD WINAPI msi_hammer_proc(void *arg)
{
    struct msi_hammer *hammer = arg;
    HRESULT hr;

    while (!ReadAcquire(&hammer->stop))
    {
        hr = pVmidlDeliverMsi(hammer->device, 0xfee00000, MSI_VECTOR);
        if (hr == S_OK) InterlockedIncrement(&hammer->delivered);
        else if (hr == HRESULT_FROM_WIN32(ERROR_DEVICE_REMOVED)) InterlockedIncrement(&hammer->removed);
        else InterlockedIncrement(&hammer->other);
        if (hr != S_OK) Sleep(1);
    }
    return 0;
}

static void test_teardown(void)
{
    struct msi_hammer hammer = {0};
    struct resources before;
    VMIDL_FLEXIO_DEVICE_DESC flexio;
    HANDLE threads[2];
    struct guest doomed;
    BYTE *aperture;
    void *late;
    unsigned int i;
    HRESULT hr;

    get_resources(&before);
    hr = guest_create_ex(&doomed, &guest_image_interp, 1, NULL, GUEST_INTERRUPTS | GUEST_SECTION_RAM);
    ok(hr == S_OK, "hr %#lx\n", hr);
    if (FAILED(hr)) return;
    test_device_desc(&flexio, &instance);
    hr = pVmidlAddFlexIoDevice(doomed.partition, &flexio, &hammer.device);
    ok(hr == S_OK, "hr %#lx\n", hr);
    hr = pVmidlCreateGuestMemoryAperture(hammer.device, PCI_GUEST_IN, 0x2000, FALSE, (void **)&aperture);
    ok(hr == S_OK, "hr %#lx\n", hr);
    for (i = 0; i < ARRAY_SIZE(threads); i++) threads[i] = CreateThread(NULL, 0, msi_hammer_proc, &hammer, 0, NULL);
    while (ReadAcquire(&hammer.delivered) < 100) Sleep(1);

    memset(aperture, 0x3c, 0x2000);
    hr = pVmidlDeletePartition(doomed.partition);
    ok(hr == S_OK, "hr %#lx\n", hr);
    doomed.partition = NULL;
    while (ReadAcquire(&hammer.removed) < 10) Sleep(1);
    WriteRelease(&hammer.stop, 1);
    WaitForMultipleObjects(ARRAY_SIZE(threads), threads, TRUE, INFINITE);
    for (i = 0; i < ARRAY_SIZE(threads); i++) CloseHandle(threads[i]);
    ok(!hammer.other, "%lu interrupts failed otherwise\n", hammer.other);
    trace("%lu interrupts delivered, %lu after the partition went\n", hammer.delivered, hammer.removed);

    ok(aperture[0] == 0x3c && aperture[0x1fff] == 0x3c, "the aperture lost its pages\n");
    hr = pVmidlReadGuestMemory(hammer.device, PCI_GUEST_IN, &i, sizeof(i));
    ok(hr == HRESULT_FROM_WIN32(ERROR_DEVICE_REMOVED), "copy after the partition went: hr %#lx\n", hr);
    hr = pVmidlCreateGuestMemoryAperture(hammer.device, PCI_GUEST_IN, 0x1000, FALSE, &late);
    ok(hr == HRESULT_FROM_WIN32(ERROR_DEVICE_REMOVED), "aperture after the partition went: hr %#lx\n", hr);
    hr = pVmidlDestroyGuestMemoryAperture(hammer.device, aperture);
    ok(hr == S_OK, "hr %#lx\n", hr);
    IUnknown_Release(hammer.device);
    guest_destroy(&doomed);
    check_resources(&before);
}

START_DEVICE_TEST(pci)
{
    VMIDL_FLEXIO_DEVICE_DESC flexio;
    VMIDL_PCI_DEVICE_DESC desc;
    struct pci_config config, other_config;
    IUnknown *device, *other;
    struct resources before;
    HRESULT hr;

    if (!init_guest_test_ex(&guest, &guest_image_pci, GUEST_INTERRUPTS | GUEST_SECTION_RAM)) return;
    init_resource_counting();
    pci_config_init(&config);
    pci_config_init(&other_config);

    hr = pVmidlSetPciConfigWindow(guest.partition, ECAM);
    ok(hr == S_OK, "hr %#lx\n", hr);
    test_device_desc(&flexio, &instance);
    hr = pVmidlAddFlexIoDevice(guest.partition, &flexio, &device);
    ok(hr == S_OK, "hr %#lx\n", hr);
    test_pci_desc(&desc, &config, DEVICE_NUMBER, DEVICE_ID);
    hr = pVmidlAttachPciDevice(guest.partition, &instance, &desc);
    ok(hr == S_OK, "hr %#lx\n", hr);
    /* A second device on the bus, with other IDs and nothing to decode. */
    memset(&flexio, 0, sizeof(flexio));
    flexio.InstanceId = other_instance;
    flexio.MmioCallback = bar_callback;
    hr = pVmidlAddFlexIoDevice(guest.partition, &flexio, &other);
    ok(hr == S_OK, "hr %#lx\n", hr);
    test_pci_desc(&desc, &other_config, OTHER_NUMBER, DEVICE_ID + 1);
    hr = pVmidlAttachPciDevice(guest.partition, &other_instance, &desc);
    ok(hr == S_OK, "hr %#lx\n", hr);

    map_more_ram();
    /* The driver's own way to the device: in this process, or a view of it.
     * A driver process's connections keep threads here while it lives. */
    if (!device_test_remote)
    {
        get_resources(&before);
        hr = guest_get_device_interface(guest.partition, &instance, &IID_IUnknown, (void **)&driver_device);
    }
    else if (SUCCEEDED(hr = pVmidlPublishPartition(guest.partition)))
    {
        get_resources_after_calls(&before);
        hr = remote_driver_start(&guest, &instance, &IID_IVmFiovGuestMmioMappings, &remote_iface);
        driver_device = remote_iface;
    }
    ok(hr == S_OK, "cannot reach the device, hr %#lx\n", hr);
    if (FAILED(hr)) return;

    test_guest_finds_and_drives_device(device, &config);
    test_services_input();
    if (!device_test_remote)
    {
        test_copies();
        test_apertures();
        test_bus_input(&config);
    }
    IUnknown_Release(driver_device);
    /* The engine is gone, with its doorbells, events and apertures. */
    check_resources(&before);
    /* RAM, which stays until the partition goes. */
    if (!device_test_remote) test_section_ram_input();

    IUnknown_Release(other);
    ok(!IUnknown_Release(device), "device still referenced\n");
    guest_destroy(&guest);
    VirtualFree(extra_ram, 0, MEM_RELEASE);
    VirtualFree(readonly_ram, 0, MEM_RELEASE);
    pci_config_cleanup(&config);
    pci_config_cleanup(&other_config);
    if (!device_test_remote)
    {
        test_partition_without_bus();
        test_teardown();
    }
}
