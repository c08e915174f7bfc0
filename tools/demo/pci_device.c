/*
 * The PCI device of the demo and the tests (tools/demo/pci.h): its config
 * space, which the worker's config callback serves, and its engine, which
 * serves its doorbells the way a device host does, in the worker or in a
 * driver process: it interrupts the guest and reads and writes its
 * memory, through copies and through an aperture.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>
#include <stddef.h>

#define COBJMACROS
#include "pci_device.h"

/* --- config space: a vendor capability, power management, then MSI ------- */

#define CAP_VENDOR  0x40
#define CAP_PM      0x48
#define CAP_MSI     0x50

void pci_config_init(struct pci_config *config)
{
    memset(config, 0, sizeof(*config));
    InitializeCriticalSection(&config->cs);
    config->space[0x34] = CAP_VENDOR;
    config->space[CAP_VENDOR] = 0x09;
    config->space[CAP_VENDOR + 1] = CAP_PM;
    config->space[CAP_VENDOR + 2] = 8;          /* its length */
    config->space[CAP_PM] = 0x01;
    config->space[CAP_PM + 1] = CAP_MSI;
    config->space[CAP_PM + 2] = 0x03;           /* PM version 3 */
    config->space[CAP_MSI] = 0x05;
    config->space[CAP_MSI + 1] = 0;
    config->space[CAP_MSI + 2] = 0x80;          /* 64-bit addresses, one vector */
}

void pci_config_cleanup(struct pci_config *config)
{
    DeleteCriticalSection(&config->cs);
}

/* The MSI capability's control (its enable bit alone changes), address
 * and data take writes, nothing else: a write elsewhere is counted and
 * dropped. */
static BOOL config_byte_is_writable(unsigned int offset)
{
    return offset >= CAP_MSI + 2 && offset < CAP_MSI + 14;
}

HRESULT CALLBACK pci_config_callback(void *context, UINT32 offset, UINT32 size, BOOL is_write, UINT32 *data)
{
    struct pci_config *config = context;
    unsigned int i;

    EnterCriticalSection(&config->cs);
    config->accesses++;
    if (offset < 0x34 || (offset > 0x34 && offset < 0x40) || offset + size > sizeof(config->space)
            || (offset & (size - 1)))
        config->misrouted++;
    else if (!is_write)
    {
        *data = 0;
        for (i = 0; i < size; i++) *data |= (UINT32)config->space[offset + i] << i * 8;
    }
    else
    {
        for (i = 0; i < size; i++)
        {
            BYTE value = *data >> i * 8;

            if (!config_byte_is_writable(offset + i)) config->dropped_writes++;
            else if (offset + i == CAP_MSI + 2) config->space[offset + i] = (config->space[offset + i] & ~1) | (value & 1);
            else if (offset + i != CAP_MSI + 3) config->space[offset + i] = value;
        }
    }
    LeaveCriticalSection(&config->cs);
    return S_OK;
}

BOOL pci_config_msi(struct pci_config *config, UINT64 *address, UINT32 *data)
{
    BOOL enabled;

    EnterCriticalSection(&config->cs);
    enabled = config->space[CAP_MSI + 2] & 1;
    *address = *(UINT32 *)&config->space[CAP_MSI + 4] | (UINT64)*(UINT32 *)&config->space[CAP_MSI + 8] << 32;
    *data = *(UINT16 *)&config->space[CAP_MSI + 12];
    LeaveCriticalSection(&config->cs);
    return enabled;
}

/* --- the engine ------------------------------------------------------------ */

#define RAM_SPAN (PCI_GUEST_RAM_END - PCI_GUEST_RING)

static HRESULT read_guest(struct pci_engine *engine, UINT64 gpa, void *buffer, UINT32 size)
{
    return pVmidlReadGuestMemory(engine->device, gpa, buffer, size);
}

/* Waits for the guest's handler to have counted target interrupts. */
static HRESULT wait_for_guest_count(struct pci_engine *engine, UINT64 target)
{
    ULONGLONG start = GetTickCount64();
    UINT64 count;
    HRESULT hr;

    for (;;)
    {
        if (FAILED(hr = read_guest(engine, PCI_GUEST_BLOCK + offsetof(struct pci_guest, irq_count), &count,
                sizeof(count))))
            return hr;
        if (count >= target) return S_OK;
        if (GetTickCount64() - start > engine->timeout_ms) return HRESULT_FROM_WIN32(ERROR_TIMEOUT);
        if (WaitForSingleObject(engine->stop, 0) == WAIT_OBJECT_0) return E_ABORT;
        SwitchToThread();
    }
}

/* One at a time: each waits until the guest took the one before, so none
 * folds into another and the guest counts them all. */
static HRESULT raise_interrupts(struct pci_engine *engine)
{
    struct pci_guest block;
    unsigned int i;
    HRESULT hr;

    if (FAILED(hr = read_guest(engine, PCI_GUEST_BLOCK, &block, sizeof(block)))) return hr;
    for (i = 0; i < block.irq_wanted; i++)
    {
        if (FAILED(hr = pVmidlDeliverMsi(engine->device, engine->msi_address, engine->msi_data))) return hr;
        InterlockedIncrement(&engine->irqs_raised);
        if (FAILED(hr = wait_for_guest_count(engine, block.irq_count + i + 1))) return hr;
    }
    return S_OK;
}

/* Even descriptors go through the copy functions, odd ones through the
 * aperture, and the device interrupts after each completion, as fast as
 * it can: interrupts fold, completions are all in the used ring. */
static HRESULT process_ring(struct pci_engine *engine)
{
    struct pci_used *used = (struct pci_used *)(engine->aperture + (PCI_GUEST_USED - PCI_GUEST_RING));
    struct pci_desc *ring = (struct pci_desc *)engine->aperture;
    BYTE in[0x1000], out[0x1000];
    struct pci_guest block;
    unsigned int i, j;
    HRESULT hr;

    if (FAILED(hr = read_guest(engine, PCI_GUEST_BLOCK, &block, sizeof(block)))) return hr;
    if (block.ring_size > PCI_RING_MAX) return E_INVALIDARG;
    for (i = 0; i < block.ring_size; i++)
    {
        BOOL copy = !(i & 1);
        struct pci_desc desc;
        UINT32 sum = 0, elem[2];

        if (copy && FAILED(hr = read_guest(engine, PCI_GUEST_RING + i * sizeof(desc), &desc, sizeof(desc)))) return hr;
        if (!copy) desc = ring[i];
        if (desc.length > sizeof(in) || desc.in < PCI_GUEST_RING || desc.in + desc.length > PCI_GUEST_RAM_END
                || desc.out < PCI_GUEST_RING || desc.out + desc.length > PCI_GUEST_RAM_END)
            return E_INVALIDARG;
        if (copy && FAILED(hr = read_guest(engine, desc.in, in, desc.length))) return hr;
        if (!copy) memcpy(in, engine->aperture + (desc.in - PCI_GUEST_RING), desc.length);
        for (j = 0; j < desc.length; j++)
        {
            sum += in[j];
            out[j] = PCI_DEV_TRANSFORM(in[j], j, desc.id);
        }
        elem[0] = desc.id;
        elem[1] = sum;
        if (copy)
        {
            if (FAILED(hr = pVmidlWriteGuestMemory(engine->device, desc.out, out, desc.length))) return hr;
            if (FAILED(hr = pVmidlWriteGuestMemory(engine->device,
                    PCI_GUEST_USED + offsetof(struct pci_used, elem[i]), elem, sizeof(elem))))
                return hr;
        }
        else
        {
            memcpy(engine->aperture + (desc.out - PCI_GUEST_RING), out, desc.length);
            memcpy(&used->elem[i], elem, sizeof(elem));
        }
        MemoryBarrier();
        used->index = i + 1;
        InterlockedIncrement(&engine->completed);
        if (FAILED(hr = pVmidlDeliverMsi(engine->device, engine->msi_address, engine->msi_data))) return hr;
        InterlockedIncrement(&engine->irqs_raised);
    }
    return S_OK;
}

static DWORD WINAPI engine_proc(void *arg)
{
    struct pci_engine *engine = arg;
    HANDLE waits[] = {engine->stop, engine->irq_event, engine->ring_event};
    HRESULT hr = S_OK;
    DWORD ret;

    while (SUCCEEDED(hr) && (ret = WaitForMultipleObjects(ARRAYSIZE(waits), waits, FALSE, INFINITE)) != WAIT_OBJECT_0)
        hr = ret == WAIT_OBJECT_0 + 1 ? raise_interrupts(engine) : process_ring(engine);
    if (FAILED(hr) && hr != E_ABORT)
    {
        fprintf(stderr, "pci_device.c: the engine failed, hr %#lx\n", hr);
        engine->error = hr;
    }
    return 0;
}

#define DOORBELL_FLAGS (FIOV_DOORBELL_FLAG_TRIGGER_SIZE_QWORD | FIOV_DOORBELL_FLAG_TRIGGER_ANY_VALUE)

HRESULT pci_engine_start(struct pci_engine *engine, IUnknown *device, UINT64 msi_address, UINT32 msi_data,
        DWORD timeout_ms)
{
    HRESULT hr;

    memset(engine, 0, sizeof(*engine));
    if (!pVmidlDeliverMsi && !guest_load_host_api()) return E_NOTIMPL;     /* in a driver process */
    engine->device = device;
    IUnknown_AddRef(device);
    engine->msi_address = msi_address;
    engine->msi_data = msi_data;
    engine->timeout_ms = timeout_ms;
    engine->stop = CreateEventW(NULL, TRUE, FALSE, NULL);
    engine->irq_event = CreateEventW(NULL, FALSE, FALSE, NULL);
    engine->ring_event = CreateEventW(NULL, FALSE, FALSE, NULL);
    if (FAILED(hr = pVmidlCreateGuestMemoryAperture(device, PCI_GUEST_RING, RAM_SPAN, FALSE, (void **)&engine->aperture)))
        goto err;
    if (FAILED(hr = IUnknown_QueryInterface(device, &IID_IVmFiovGuestMemoryFastNotification,
            (void **)&engine->notification)))
        goto err;
    if (FAILED(hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(engine->notification, FIOV_BAR2,
            PCI_DEV_DOORBELL_IRQS, 0, DOORBELL_FLAGS, engine->irq_event)))
        goto err;
    engine->doorbells = 1;
    if (FAILED(hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(engine->notification, FIOV_BAR2,
            PCI_DEV_DOORBELL_RING, 0, DOORBELL_FLAGS, engine->ring_event)))
        goto err;
    engine->doorbells = 2;
    if (!(engine->thread = CreateThread(NULL, 0, engine_proc, engine, 0, NULL)))
    {
        hr = HRESULT_FROM_WIN32(GetLastError());
        goto err;
    }
    return S_OK;

err:
    pci_engine_stop(engine);
    return hr;
}

void pci_engine_stop(struct pci_engine *engine)
{
    static const UINT64 offsets[] = {PCI_DEV_DOORBELL_IRQS, PCI_DEV_DOORBELL_RING};

    if (engine->thread)
    {
        SetEvent(engine->stop);
        WaitForSingleObject(engine->thread, INFINITE);
        CloseHandle(engine->thread);
    }
    while (engine->doorbells)
        IVmFiovGuestMemoryFastNotification_UnregisterDoorbell(engine->notification, FIOV_BAR2,
                offsets[--engine->doorbells], 0, DOORBELL_FLAGS);
    if (engine->notification) IVmFiovGuestMemoryFastNotification_Release(engine->notification);
    if (engine->aperture) pVmidlDestroyGuestMemoryAperture(engine->device, engine->aperture);
    if (engine->device) IUnknown_Release(engine->device);
    if (engine->stop) CloseHandle(engine->stop);
    if (engine->irq_event) CloseHandle(engine->irq_event);
    if (engine->ring_event) CloseHandle(engine->ring_event);
    engine->thread = engine->stop = engine->irq_event = engine->ring_event = NULL;
    engine->notification = NULL;
    engine->aperture = NULL;
    engine->device = NULL;
}
