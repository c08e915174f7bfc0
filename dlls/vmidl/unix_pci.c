/*
 * A device's PCI function on bus 0: the type-0 header that vmidl owns.
 *
 * vmidl answers 0x00-0x33 and 0x35-0x3f: the IDs, command and status, the
 * BAR registers (sizing with all ones, placement by the guest), the
 * expansion ROM BAR (the device's FIOV_ROMBAR), the subsystem IDs and the
 * interrupt line and pin.  The capabilities pointer (0x34) and everything
 * from 0x40 on are the device's, answered by its config callback, as
 * Hyper-V's virtual PCI keeps the BARs and hands the rest to the device.
 *
 * A BAR i with no BAR i + 1 is a 64-bit memory BAR, which takes register
 * i + 1 for its high half; one followed by another BAR is a 32-bit one.
 * The registers hold what the guest programmed; what KVM decodes follows
 * them while memory decode is on (unix_vm.c moves the BARs).
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <string.h>

#include "unix_private.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

#define PCI_COMMAND_MEMORY  0x0002
#define PCI_COMMAND_MASK    0x0547      /* I/O, memory, bus master, parity, SERR, INTx disable */
#define PCI_STATUS_CAP_LIST 0x0010
#define PCI_BAR_MEM_64      0x4
#define PCI_ROM_ENABLE      0x1
#define PCI_ROM_BAR         (VMIDL_BAR_COUNT - 1)   /* FIOV_ROMBAR */

static int bar_is_64bit(const struct bar *bars, unsigned int i)
{
    return i < 5 && !bars[i + 1].size;
}

/* What a BAR register can say: a power-of-two size, an address aligned
 * to it, and for a 32-bit BAR one below 4 GiB. */
static int bar_fits_pci(const struct bar *bars, unsigned int i)
{
    const struct bar *bar = &bars[i];

    if (!bar->size) return 1;
    if ((bar->size & (bar->size - 1)) || (bar->gpa & (bar->size - 1))) return 0;
    if (i == PCI_ROM_BAR || !bar_is_64bit(bars, i)) return bar->gpa + bar->size <= 0x100000000ull;
    return 1;
}

NTSTATUS pci_function_create(const struct device_pci_params *params, const struct bar *bars,
        struct pci_function **ret)
{
    struct pci_function *pci;
    unsigned int i;

    for (i = 0; i < VMIDL_BAR_COUNT; i++) if (!bar_fits_pci(bars, i)) return STATUS_INVALID_PARAMETER;
    if (!(pci = calloc(1, sizeof(*pci)))) return STATUS_NO_MEMORY;
    pci->number = params->device_number;
    pci->vendor_id = params->vendor_id;
    pci->device_id = params->device_id;
    pci->subsystem_vendor_id = params->subsystem_vendor_id;
    pci->subsystem_id = params->subsystem_id;
    pci->class_code = params->class_code & 0xffffff;
    pci->revision_id = params->revision_id;
    pci->has_capabilities = params->has_capabilities;
    pci->config_callback = params->config_callback;
    pci->config_context = params->config_context;
    /* Decoding where the worker placed the BARs, until the guest says otherwise. */
    pci->command = PCI_COMMAND_MEMORY;
    for (i = 0; i < VMIDL_BAR_COUNT; i++) pci->bar_address[i] = bars[i].gpa;
    pci->rom_enabled = 1;
    robust_mutex_init(&pci->lock);
    *ret = pci;
    return STATUS_SUCCESS;
}

void pci_function_free(struct pci_function *pci)
{
    if (!pci) return;
    pthread_mutex_destroy(&pci->lock);
    free(pci);
}

/* The BAR whose high half register i is, or -1. */
static int high_half_of(const struct bar *bars, unsigned int i)
{
    return i && !bars[i].size && bars[i - 1].size && bar_is_64bit(bars, i - 1) ? (int)i - 1 : -1;
}

/* Register i (0-5) as the guest reads it. */
static uint32_t bar_register(const struct pci_function *pci, const struct bar *bars, unsigned int i)
{
    int low = high_half_of(bars, i);
    uint64_t value;

    if (low >= 0)
    {
        value = pci->sizing[low] ? ~(bars[low].size - 1) : pci->bar_address[low];
        return value >> 32;
    }
    if (!bars[i].size) return 0;
    value = pci->sizing[i] ? ~(bars[i].size - 1) : pci->bar_address[i];
    return (value & ~0xfull) | (bar_is_64bit(bars, i) ? PCI_BAR_MEM_64 : 0);
}

static uint32_t rom_register(const struct pci_function *pci, const struct bar *rom)
{
    uint64_t value;

    if (!rom->size) return 0;
    value = pci->sizing[PCI_ROM_BAR] ? ~(rom->size - 1) : pci->bar_address[PCI_ROM_BAR];
    return (value & ~0x7ffull) | pci->rom_enabled;
}

static uint32_t header_dword(const struct pci_function *pci, const struct bar *bars, unsigned int offset)
{
    switch (offset)
    {
    case 0x00: return pci->vendor_id | (uint32_t)pci->device_id << 16;
    case 0x04: return pci->command | (uint32_t)(pci->has_capabilities ? PCI_STATUS_CAP_LIST : 0) << 16;
    case 0x08: return pci->revision_id | pci->class_code << 8;
    case 0x0c: return pci->cache_line_size;    /* latency timer 0, header type 0 (one function), no BIST */
    case 0x10: case 0x14: case 0x18: case 0x1c: case 0x20: case 0x24:
        return bar_register(pci, bars, (offset - 0x10) / 4);
    case 0x2c: return pci->subsystem_vendor_id | (uint32_t)pci->subsystem_id << 16;
    case 0x30: return rom_register(pci, &bars[PCI_ROM_BAR]);
    case 0x3c: return pci->interrupt_line;     /* no INTx pin: MSI only */
    default: return 0;
    }
}

int pci_offset_is_device_owned(unsigned int offset)
{
    return offset >= PCI_HEADER_SIZE || offset == 0x34;
}

uint32_t pci_read(struct pci_function *pci, const struct bar *bars, unsigned int offset, unsigned int size)
{
    uint32_t value;

    robust_mutex_lock(&pci->lock);
    value = header_dword(pci, bars, offset & ~3u) >> (offset & 3) * 8;
    pthread_mutex_unlock(&pci->lock);
    return size == 4 ? value : value & ((1u << size * 8) - 1);
}

/* Merges a write of size bytes at offset into the dword it falls in. */
static uint32_t merge(uint32_t old, unsigned int offset, unsigned int size, uint32_t value)
{
    uint32_t mask = size == 4 ? ~0u : ((1u << size * 8) - 1) << (offset & 3) * 8;

    return (old & ~mask) | ((value << (offset & 3) * 8) & mask);
}

/* What a BAR register write sets: all ones starts sizing, anything else
 * places the BAR (or its high half).  Returns the BAR it concerns, or -1. */
static int write_bar(struct pci_function *pci, const struct bar *bars, unsigned int i, uint32_t value)
{
    int low = high_half_of(bars, i);

    if (low >= 0)
    {
        if (value != ~0u) pci->sizing[low] = 0;
        pci->bar_address[low] = (pci->bar_address[low] & 0xffffffffull) | (uint64_t)value << 32;
        pci->bar_address[low] &= ~(bars[low].size - 1);
        return low;
    }
    if (!bars[i].size) return -1;
    if (value == ~0u)
    {
        pci->sizing[i] = 1;
        return -1;
    }
    pci->sizing[i] = 0;
    pci->bar_address[i] = ((pci->bar_address[i] & ~0xffffffffull) | (value & ~0xfu)) & ~(bars[i].size - 1);
    return i;
}

int pci_write(struct pci_function *pci, const struct bar *bars, unsigned int offset, unsigned int size, uint32_t value)
{
    unsigned int base = offset & ~3u;
    int changed = 0;
    uint32_t dword;
    uint16_t command;

    robust_mutex_lock(&pci->lock);
    dword = merge(header_dword(pci, bars, base), offset, size, value);
    switch (base)
    {
    case 0x04:
        /* Only the command register is writable; status bits are RW1C
         * and vmidl reports none. */
        if (offset < 0x06)
        {
            command = dword & PCI_COMMAND_MASK;
            changed = !!((command ^ pci->command) & PCI_COMMAND_MEMORY);
            pci->command = command;
        }
        break;
    case 0x0c:
        pci->cache_line_size = dword & 0xff;
        break;
    case 0x10: case 0x14: case 0x18: case 0x1c: case 0x20: case 0x24:
        changed = write_bar(pci, bars, (base - 0x10) / 4, dword) >= 0;
        break;
    case 0x30:
        if (!bars[PCI_ROM_BAR].size) break;
        if ((dword | 0x7ff) == ~0u) pci->sizing[PCI_ROM_BAR] = 1;
        else
        {
            pci->sizing[PCI_ROM_BAR] = 0;
            pci->bar_address[PCI_ROM_BAR] = (dword & ~0x7ffu) & ~(bars[PCI_ROM_BAR].size - 1);
        }
        pci->rom_enabled = dword & PCI_ROM_ENABLE;
        changed = 1;
        break;
    case 0x3c:
        pci->interrupt_line = dword & 0xff;
        break;
    }
    pthread_mutex_unlock(&pci->lock);
    return changed;
}

/* Memory decode, and for the ROM its own enable bit too. */
int pci_bar_decodes(struct pci_function *pci, unsigned int bar)
{
    int on;

    robust_mutex_lock(&pci->lock);
    on = (pci->command & PCI_COMMAND_MEMORY) && (bar != PCI_ROM_BAR || pci->rom_enabled);
    pthread_mutex_unlock(&pci->lock);
    return on;
}

uint64_t pci_bar_address(struct pci_function *pci, unsigned int bar)
{
    uint64_t address;

    robust_mutex_lock(&pci->lock);
    address = pci->bar_address[bar];
    pthread_mutex_unlock(&pci->lock);
    return address;
}

/* --- the bus: ECAM decoding and what header writes do to the BARs ---------- */

NTSTATUS vm_set_pci_window(struct vm *vm, uint64_t gpa)
{
    NTSTATUS status;

    robust_mutex_lock(&vm->layout_lock);
    if (vm->closing) status = STATUS_DEVICE_REMOVED;
    else if (vm->pci_window) status = STATUS_OBJECT_NAME_COLLISION;
    else if (!vm_gpa_range_is_free(vm, gpa, PCI_BUS_WINDOW_SIZE, NULL)) status = STATUS_OBJECT_NAME_COLLISION;
    else
    {
        vm->pci_window = gpa;
        status = STATUS_SUCCESS;
    }
    pthread_mutex_unlock(&vm->layout_lock);
    return status;
}

NTSTATUS vm_attach_pci(struct vm *vm, struct device *device, const struct device_pci_params *params)
{
    struct pci_function *pci;
    NTSTATUS status;

    if (params->device_number >= ARRAY_SIZE(vm->pci_slots)) return STATUS_INVALID_PARAMETER;
    robust_mutex_lock(&vm->layout_lock);
    if (vm->closing || device->removing) status = STATUS_DEVICE_REMOVED;
    else if (!vm->pci_window) status = STATUS_INVALID_DEVICE_STATE;
    else if (device->pci) status = STATUS_OBJECT_NAME_COLLISION;
    else if (!(status = pci_function_create(params, device->bars, &pci)))
    {
        robust_mutex_lock(&vm->route_lock);
        if (vm->pci_slots[params->device_number]) status = STATUS_OBJECT_NAME_COLLISION;
        else
        {
            device->pci = pci;
            vm->pci_slots[params->device_number] = device;
        }
        pthread_mutex_unlock(&vm->route_lock);
        if (status) pci_function_free(pci);
    }
    pthread_mutex_unlock(&vm->layout_lock);
    return status;
}

/* Off the bus, as the device goes (under the route lock). */
void vm_detach_pci(struct vm *vm, struct device *device)
{
    if (device->pci && vm->pci_slots[device->pci->number] == device) vm->pci_slots[device->pci->number] = NULL;
}

/* Makes what KVM decodes follow the header, with the vCPUs paused: with
 * memory decode on (and for the ROM its enable bit), each BAR decodes where it is programmed, or nowhere
 * while that place is in use (RAM, the ECAM window, another BAR) until the
 * guest places it somewhere free; with decode off, nowhere. */
static void vm_pci_update(struct vm *vm, struct device *device)
{
    unsigned int i;

    robust_mutex_lock(&vm->layout_lock);
    if (vm->closing || device->removing)
    {
        pthread_mutex_unlock(&vm->layout_lock);
        return;
    }
    robust_mutex_lock(&device->lock);
    robust_mutex_lock(&vm->removal_lock);
    vcpus_pause(vm->vcpus, vm->vcpu_count, &vm->paused);
    for (i = 0; i < VMIDL_BAR_COUNT; i++)
    {
        struct bar *bar = &device->bars[i];
        uint64_t gpa = pci_bar_address(device->pci, i);
        int decode = pci_bar_decodes(device->pci, i), place = decode && vm_gpa_range_is_free(vm, gpa, bar->size, bar);

        if (!bar->size || (place && !bar->undecoded && gpa == bar->gpa) || (!place && bar->undecoded)) continue;
        if (place && !bar_move(bar, &vm->host, gpa))
        {
            robust_mutex_lock(&vm->route_lock);
            route_move(&vm->routes, device, i, gpa, bar->size);
            pthread_mutex_unlock(&vm->route_lock);
            continue;
        }
        if (decode) WARN("BAR %u of device %p cannot decode at %#llx\n", i, device, (unsigned long long)gpa);
        if (bar->undecoded) continue;
        bar_undecode(bar, &vm->host);
        robust_mutex_lock(&vm->route_lock);
        route_remove_bar(&vm->routes, device, i);
        pthread_mutex_unlock(&vm->route_lock);
    }
    vcpus_resume(&vm->paused);
    pthread_mutex_unlock(&vm->removal_lock);
    for (i = 0; i < VMIDL_BAR_COUNT; i++) bar_finish_move(&device->bars[i], &vm->host);
    pthread_mutex_unlock(&device->lock);
    pthread_mutex_unlock(&vm->layout_lock);
}

/* An MMIO exit in the ECAM window, on the vCPU's thread.  Returns 0 when
 * the exit is not a config access; 1 when vmidl answered it (*read_value
 * for a read), after doing what a header write does (the caller then
 * clears the vCPU's exit device); 2 when it goes to the device's config
 * callback (params say which). */
int vm_config_exit(struct vm *vm, struct vcpu *vcpu, struct vp_run_params *params, uint64_t *read_value)
{
    uint64_t offset = params->exit.Address - vm->pci_window;
    unsigned int number = (offset >> 15) & 31, function = (offset >> 12) & 7, reg = offset & 0xfff;
    unsigned int size = params->exit.AccessSize;
    struct device *device = NULL;

    if (!vm->pci_window || offset >= PCI_BUS_WINDOW_SIZE) return 0;
    *read_value = ~0ull;
    robust_mutex_lock(&vm->route_lock);
    /* One function per device; accesses of 8 bytes or across a dword
     * reach nothing, as on real ECAM. */
    if (!function && size <= 4 && (reg & 3) + size <= 4 && (device = vm->pci_slots[number]) && !device->removing)
    {
        vcpu->exit_device = device;
        if (pci_offset_is_device_owned(reg))
        {
            params->mmio_callback = device->pci->config_callback;
            params->mmio_context = device->pci->config_context;
            params->config = 1;
            params->bar = 0;
            params->bar_offset = reg;
            pthread_mutex_unlock(&vm->route_lock);
            return 2;
        }
    }
    else device = NULL;
    pthread_mutex_unlock(&vm->route_lock);
    if (!device) return 1;

    /* What the header write does waits for no exit of ours. */
    vcpu_exit_routed(vcpu);
    if (!params->exit.IsWrite) *read_value = pci_read(device->pci, device->bars, reg, size);
    else
    {
        if (pci_write(device->pci, device->bars, reg, size, params->exit.Data)) vm_pci_update(vm, device);
    }
    return 1;
}
