/*
 * vmidl-worker.exe --pci: a PCI device that the guest of
 * tools/demo/pci_guest.c finds on the bus, sizes, places and sets up for
 * MSI, and that interrupts it and serves its descriptor ring
 * (tools/demo/pci_device.c, on a thread of this process).  Prints what
 * the guest found at each step; PASSED when the guest found everything
 * where it should be and got every byte of the ring right.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define COBJMACROS
#include <stdio.h>
#include "windef.h"
#include "winbase.h"
#include "objbase.h"
#include "vmfiov.h"
#include "guest.h"
#include "demo/pci_device.h"
#include "worker.h"

#define ECAM            0xe0000000ull
#define DEVICE_NUMBER   3
#define VENDOR_ID       0x1af4
#define DEVICE_ID       0x10f0
#define MSI_VECTOR      0x40
#define IRQS            200
#define RING_SIZE       64
#define TIMEOUT_MS      300000

static const GUID pci_instance = {0x70636964, 0x656d, 0x6f00, {'v', 'm', 'i', 'd', 'l', 0, 0, 1}};

static HRESULT CALLBACK bar_mmio(void *context, UINT32 bar, UINT64 offset, UINT32 size, BOOL is_write, UINT64 *data)
{
    if (bar == FIOV_BAR0 && offset == PCI_DEV_REG_MAGIC && !is_write) *data = PCI_DEV_MAGIC;
    return S_OK;
}

/* Runs the guest to the end of the phase it is in; 0 when it did not. */
static UINT32 run_phase(struct guest *guest, struct pci_guest *block)
{
    ULONGLONG start = GetTickCount64();
    VMIDL_RUN_VP_EXIT_CONTEXT exit;

    while (SUCCEEDED(guest_resume(guest, &exit)))
    {
        if (exit.ExitReason == VmidlRunVpExitReasonMemoryAccess) continue;     /* BAR0 read with decoding off */
        if (exit.ExitReason != VmidlRunVpExitReasonX64IoPortAccess) break;
        if (exit.Address == PCI_GUEST_PORT) return exit.Data == PCI_PHASE_FAILED ? 0 : exit.Data;
        if (exit.Address == PCI_GUEST_PORT_WAITING && GetTickCount64() - start > TIMEOUT_MS) block->give_up = TRUE;
    }
    printf("vmidl-worker: FAILED: the guest stopped (exit reason %#x at %#I64x)\n", exit.ExitReason, exit.Address);
    return 0;
}

static BOOL run_guest(struct guest *guest, struct pci_guest *block, struct pci_config *config, IUnknown *device)
{
    LARGE_INTEGER frequency, start, end;
    struct pci_engine engine;
    UINT64 msi_address;
    UINT32 msi_data, i;
    UINT64 irqs = 0;
    HRESULT hr;
    BOOL ok;

    guest->entry_rdi = PCI_GUEST_BLOCK;
    if (FAILED(guest_start(guest)) || run_phase(guest, block) != PCI_PHASE_FOUND) return FALSE;
    printf("  guest: found %04x:%04x at 00:%02x.0, of %u on the bus\n", block->ids & 0xffff, block->ids >> 16,
            block->device_number, block->functions);
    if (run_phase(guest, block) != PCI_PHASE_PLACED) return FALSE;
    for (i = 0; i < 6; i++)
        if (block->bar_size[i])
            printf("  guest: BAR%u: %I64u KiB, %s, placed at %#I64x\n", i, block->bar_size[i] >> 10,
                    block->bar_64bit & (1 << i) ? "64-bit" : "32-bit", block->bar_place[i]);
    if (run_phase(guest, block) != PCI_PHASE_DECODE) return FALSE;
    printf("  guest: BAR0 register read %#I64x with memory decode on, %#I64x with it off, %#I64x on again\n",
            block->decode_reads[0], block->decode_reads[1], block->decode_reads[2]);
    if (run_phase(guest, block) != PCI_PHASE_CAPS) return FALSE;
    printf("  guest: capabilities:");
    for (i = 0; i < block->cap_count; i++) printf(" %#04x", block->cap_ids[i]);
    printf(" (MSI at %#x)\n", block->msi_offset);
    if (run_phase(guest, block) != PCI_PHASE_MSI || !pci_config_msi(config, &msi_address, &msi_data)) return FALSE;
    printf("  guest: MSI on: address %#I64x, data %#x\n", msi_address, msi_data);

    if (FAILED(hr = pci_engine_start(&engine, device, msi_address, msi_data, TIMEOUT_MS)))
    {
        printf("vmidl-worker: the device's engine did not start (hr %#lx)\n", hr);
        return FALSE;
    }
    QueryPerformanceFrequency(&frequency);
    QueryPerformanceCounter(&start);
    ok = run_phase(guest, block) == PCI_PHASE_IRQS;
    QueryPerformanceCounter(&end);
    irqs = block->irq_count;
    if (ok)
        printf("  device: raised %u interrupts, one at a time: the guest's handler counted %I64u, %.1f us each\n",
                block->irq_wanted, block->irq_count,
                (double)(end.QuadPart - start.QuadPart) * 1e6 / frequency.QuadPart / block->irq_wanted);
    ok = ok && run_phase(guest, block) == PCI_PHASE_RING;
    pci_engine_stop(&engine);
    if (!ok) return FALSE;
    printf("  device: served %ld descriptors (even ones with copies, odd ones through an aperture), raising an\n"
           "          interrupt after each: the guest took %u, and found %u bytes or completions wrong\n",
            engine.completed, block->ring_irqs, block->ring_errors);
    return SUCCEEDED(engine.error) && irqs == IRQS && !block->ring_errors
            && block->device_number == DEVICE_NUMBER && block->decode_reads[0] == PCI_DEV_MAGIC
            && block->decode_reads[1] == 0xffffffff && block->decode_reads[2] == PCI_DEV_MAGIC;
}

int pci_demo(const GUID *runtime_id)
{
    VMIDL_FLEXIO_DEVICE_DESC flexio = {0};
    VMIDL_PCI_DEVICE_DESC desc = {0};
    struct pci_config config;
    struct pci_guest *block;
    struct guest guest;
    IUnknown *device;
    HRESULT hr;
    BOOL ok = FALSE;

    if (FAILED(hr = guest_create_ex(&guest, &guest_image_pci, 1, runtime_id, GUEST_INTERRUPTS | GUEST_SECTION_RAM)))
    {
        printf("vmidl-worker: cannot create a KVM partition (hr %#lx)\n", hr);
        return 1;
    }
    pci_config_init(&config);
    flexio.InstanceId = pci_instance;
    flexio.BarSize[FIOV_BAR0] = PCI_DEV_BAR0_SIZE;
    flexio.BarAddress[FIOV_BAR0] = GUEST_BAR_BASE;
    flexio.BarSize[FIOV_BAR2] = PCI_DEV_BAR2_SIZE;
    flexio.BarAddress[FIOV_BAR2] = GUEST_BAR_BASE + 0x100000;
    flexio.MmioCallback = bar_mmio;
    desc.DeviceNumber = DEVICE_NUMBER;
    desc.VendorId = VENDOR_ID;
    desc.DeviceId = DEVICE_ID;
    desc.ClassCode = 0xff0000;
    desc.HasCapabilities = TRUE;
    desc.ConfigCallback = pci_config_callback;
    desc.ConfigCallbackContext = &config;
    if (FAILED(hr = pVmidlSetPciConfigWindow(guest.partition, ECAM))
            || FAILED(hr = pVmidlAddFlexIoDevice(guest.partition, &flexio, &device)))
    {
        printf("vmidl-worker: cannot set up the bus (hr %#lx)\n", hr);
        goto done;
    }
    if (FAILED(hr = pVmidlAttachPciDevice(guest.partition, &pci_instance, &desc)))
        printf("vmidl-worker: cannot put the device on the bus (hr %#lx)\n", hr);
    else
    {
        printf("  bus: ECAM at %#I64x; device %04x:%04x at 00:%02x.0, BARs where the guest puts them\n", ECAM,
                VENDOR_ID, DEVICE_ID, DEVICE_NUMBER);
        block = guest_ram(&guest, PCI_GUEST_BLOCK);
        block->ecam = ECAM;
        block->ids = VENDOR_ID | DEVICE_ID << 16;
        block->vector = MSI_VECTOR;
        block->bar_place[0] = 0xd0000000;
        block->bar_place[2] = 0xd0010000;
        block->irq_wanted = IRQS;
        block->ring_size = RING_SIZE;
        ok = run_guest(&guest, block, &config, device);
    }
    printf("vmidl-worker: %s\n", ok ? "PASSED" : "FAILED");
    IUnknown_Release(device);
done:
    guest_destroy(&guest);
    pci_config_cleanup(&config);
    return !ok;
}
