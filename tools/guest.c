/*
 * Host side of the flat ring-3 test guests; see guest.h.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define COBJMACROS
#include <string.h>
#include <stdarg.h>

#include <windef.h>
#include <winbase.h>
#include <objbase.h>
#include <initguid.h>   /* the one place that defines vmfiov.h's GUIDs */
#include "guest.h"

HRESULT (WINAPI *pVmidlCreatePartition)(REFGUID, UINT32, VMIDL_PARTITION_HANDLE *);
HRESULT (WINAPI *pVmidlDeletePartition)(VMIDL_PARTITION_HANDLE);
HRESULT (WINAPI *pVmidlMapGpaRange)(VMIDL_PARTITION_HANDLE, void *, UINT64, UINT64, UINT32);
HRESULT (WINAPI *pVmidlSetVirtualProcessorRegisters)(VMIDL_PARTITION_HANDLE, UINT32, const VMIDL_VP_REGISTERS *);
HRESULT (WINAPI *pVmidlGetVirtualProcessorRegisters)(VMIDL_PARTITION_HANDLE, UINT32, VMIDL_VP_REGISTERS *);
HRESULT (WINAPI *pVmidlRunVirtualProcessor)(VMIDL_PARTITION_HANDLE, UINT32, VMIDL_RUN_VP_EXIT_CONTEXT *);
HRESULT (WINAPI *pVmidlCancelRunVirtualProcessor)(VMIDL_PARTITION_HANDLE, UINT32, UINT32);
HRESULT (WINAPI *pVmidlPublishPartition)(VMIDL_PARTITION_HANDLE);
HRESULT (WINAPI *pVmidlPublishPartitionEx)(VMIDL_PARTITION_HANDLE, const WCHAR *);
HRESULT (WINAPI *pVmidlAddFlexIoDevice)(VMIDL_PARTITION_HANDLE, const VMIDL_FLEXIO_DEVICE_DESC *, IUnknown **);
HRESULT (WINAPI *pVmidlSetBarAddress)(VMIDL_PARTITION_HANDLE, REFGUID, UINT32, UINT64);
HRESULT (WINAPI *pVmidlGetVirtualDeviceAccess)(VMIDL_PARTITION_HANDLE, IVmVirtualDeviceAccess **);
HRESULT (WINAPI *pVmidlCreatePartitionEx)(REFGUID, UINT32, UINT32, VMIDL_PARTITION_HANDLE *);
HRESULT (WINAPI *pVmidlMapGpaSection)(VMIDL_PARTITION_HANDLE, HANDLE, UINT64, UINT64, UINT64, UINT32);
HRESULT (WINAPI *pVmidlSetPciConfigWindow)(VMIDL_PARTITION_HANDLE, UINT64);
HRESULT (WINAPI *pVmidlAttachPciDevice)(VMIDL_PARTITION_HANDLE, REFGUID, const VMIDL_PCI_DEVICE_DESC *);
HRESULT (WINAPI *pVmidlDeliverMsi)(IUnknown *, UINT64, UINT32);
HRESULT (WINAPI *pVmidlReadGuestMemory)(IUnknown *, UINT64, void *, UINT32);
HRESULT (WINAPI *pVmidlWriteGuestMemory)(IUnknown *, UINT64, const void *, UINT32);
HRESULT (WINAPI *pVmidlCreateGuestMemoryAperture)(IUnknown *, UINT64, UINT32, BOOL, void **);
HRESULT (WINAPI *pVmidlDestroyGuestMemoryAperture)(IUnknown *, void *);

/* Assembled from tests/guests, tools/demo and tools/bench by tools/guest_images.S. */
extern const BYTE interp_guest_start[], interp_guest_end[];
extern const BYTE ring_guest_start[], ring_guest_end[];
extern const BYTE stress_guest_start[], stress_guest_end[];
extern const BYTE bench_guest_start[], bench_guest_end[];
extern const BYTE pci_guest_start[], pci_guest_end[];
const struct guest_image guest_image_interp = {interp_guest_start, interp_guest_end};
const struct guest_image guest_image_stress = {stress_guest_start, stress_guest_end};
const struct guest_image guest_image_ring = {ring_guest_start, ring_guest_end};
const struct guest_image guest_image_bench = {bench_guest_start, bench_guest_end};
const struct guest_image guest_image_pci = {pci_guest_start, pci_guest_end};

#define PML4_GPA 0x1000
#define PDPT_GPA 0x2000
#define PD_GPA   0x3000     /* four page directories: 0-4 GiB */
#define PTE_PRESENT 0x1
#define PTE_WRITE   0x2
#define PTE_USER    0x4
#define PTE_LARGE   0x80

BOOL guest_load_host_api(void)
{
    HMODULE module = LoadLibraryA("vmidl.dll");

    if (!module) return FALSE;
#define LOAD(f) if (!(p##f = (void *)GetProcAddress(module, #f))) return FALSE
    LOAD(VmidlCreatePartition);
    LOAD(VmidlDeletePartition);
    LOAD(VmidlMapGpaRange);
    LOAD(VmidlSetVirtualProcessorRegisters);
    LOAD(VmidlGetVirtualProcessorRegisters);
    LOAD(VmidlRunVirtualProcessor);
    LOAD(VmidlCancelRunVirtualProcessor);
    LOAD(VmidlPublishPartition);
    LOAD(VmidlAddFlexIoDevice);
    LOAD(VmidlSetBarAddress);
    LOAD(VmidlGetVirtualDeviceAccess);
    LOAD(VmidlCreatePartitionEx);
    LOAD(VmidlMapGpaSection);
    LOAD(VmidlSetPciConfigWindow);
    LOAD(VmidlAttachPciDevice);
    LOAD(VmidlDeliverMsi);
    LOAD(VmidlReadGuestMemory);
    LOAD(VmidlWriteGuestMemory);
    LOAD(VmidlCreateGuestMemoryAperture);
    LOAD(VmidlDestroyGuestMemoryAperture);
    LOAD(VmidlPublishPartitionEx);
#undef LOAD
    return TRUE;
}

BOOL guest_hr_is_no_kvm(HRESULT hr)
{
    return hr == HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED) || hr == E_ACCESSDENIED;
}

void *guest_ram(struct guest *guest, UINT64 gpa)
{
    return guest->ram + gpa;
}

static void build_page_tables(BYTE *ram)
{
    UINT64 *pml4 = (UINT64 *)(ram + PML4_GPA);
    UINT64 *pdpt = (UINT64 *)(ram + PDPT_GPA);
    UINT64 *pd = (UINT64 *)(ram + PD_GPA);
    unsigned int i;

    pml4[0] = PDPT_GPA | PTE_PRESENT | PTE_WRITE | PTE_USER;
    for (i = 0; i < 4; i++) pdpt[i] = (PD_GPA + i * 0x1000) | PTE_PRESENT | PTE_WRITE | PTE_USER;
    for (i = 0; i < 4 * 512; i++)
        pd[i] = ((UINT64)i << 21) | PTE_PRESENT | PTE_WRITE | PTE_USER | PTE_LARGE;
}

/* RuntimeIds name partitions in the whole prefix: one of its own for each,
 * whatever else runs there. */
void guest_new_runtime_id(GUID *id)
{
    static LONG counter;
    LONG n = InterlockedIncrement(&counter);
    GUID guid = {GetCurrentProcessId(), n >> 16, n, {'v', 'm', 'g', 'u', 'e', 's', 't', 0}};

    *id = guid;
}

HRESULT guest_create(struct guest *guest, const struct guest_image *image)
{
    return guest_create_vps(guest, image, 1);
}

HRESULT guest_create_vps(struct guest *guest, const struct guest_image *image, UINT32 vp_count)
{
    return guest_create_as(guest, image, vp_count, NULL);
}

HRESULT guest_create_as(struct guest *guest, const struct guest_image *image, UINT32 vp_count, const GUID *runtime_id)
{
    return guest_create_ex(guest, image, vp_count, runtime_id, 0);
}

/* Section RAM is a view of a pagefile-backed section, which vmidl maps
 * for the guest on its own. */
static HRESULT guest_map_ram(struct guest *guest, unsigned int flags)
{
    static const UINT32 rw = VMIDL_MAP_GPA_RANGE_FLAG_READ | VMIDL_MAP_GPA_RANGE_FLAG_WRITE;

    if (!(flags & GUEST_SECTION_RAM))
    {
        if (!(guest->ram = VirtualAlloc(NULL, GUEST_RAM_SIZE, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE)))
            return E_OUTOFMEMORY;
        build_page_tables(guest->ram);
        return pVmidlMapGpaRange(guest->partition, guest->ram, 0, GUEST_RAM_SIZE, rw);
    }
    if (!(guest->ram_section = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, GUEST_RAM_SIZE, NULL))
            || !(guest->ram = MapViewOfFile(guest->ram_section, FILE_MAP_WRITE, 0, 0, GUEST_RAM_SIZE)))
        return HRESULT_FROM_WIN32(GetLastError());
    build_page_tables(guest->ram);
    return pVmidlMapGpaSection(guest->partition, guest->ram_section, 0, 0, GUEST_RAM_SIZE, rw);
}

HRESULT guest_create_ex(struct guest *guest, const struct guest_image *image, UINT32 vp_count,
        const GUID *runtime_id, unsigned int flags)
{
    UINT32 partition_flags = flags & GUEST_INTERRUPTS ? VMIDL_PARTITION_FLAG_INTERRUPT_CONTROLLER : 0;
    HRESULT hr;

    memset(guest, 0, sizeof(*guest));
    if (runtime_id) guest->runtime_id = *runtime_id;
    else guest_new_runtime_id(&guest->runtime_id);
    if (FAILED(hr = partition_flags ? pVmidlCreatePartitionEx(&guest->runtime_id, vp_count, partition_flags,
            &guest->partition) : pVmidlCreatePartition(&guest->runtime_id, vp_count, &guest->partition)))
        goto err;
    if (FAILED(hr = guest_map_ram(guest, flags))) goto err;
    memcpy(guest->ram + GUEST_CODE, image->start, image->end - image->start);
    guest->ops = (struct guest_op *)(guest->ram + GUEST_OPS);
    guest->entry_rdi = GUEST_OPS;
    return S_OK;

err:
    guest_destroy(guest);
    return hr;
}

void guest_destroy(struct guest *guest)
{
    if (guest->partition) pVmidlDeletePartition(guest->partition);
    if (guest->ram_section)
    {
        if (guest->ram) UnmapViewOfFile(guest->ram);
        CloseHandle(guest->ram_section);
    }
    else if (guest->ram) VirtualFree(guest->ram, 0, MEM_RELEASE);
    memset(guest, 0, sizeof(*guest));
}

void guest_reset_ops(struct guest *guest)
{
    guest->op_count = 0;
    memset(guest->ops, 0, sizeof(*guest->ops));
}

unsigned int guest_add_op(struct guest *guest, enum guest_op_code op, UINT32 size, UINT64 address, UINT64 value)
{
    unsigned int index = guest->op_count++;
    struct guest_op *entry = &guest->ops[index];

    entry->op = op;
    entry->size = size;
    entry->address = address;
    entry->value = value;
    entry->result = 0xdeadbeefdeadbeefull;
    memset(entry + 1, 0, sizeof(*entry));   /* GUEST_OP_END */
    return index;
}

static VMIDL_X64_SEGMENT flat_segment(UINT16 selector, UINT16 attributes)
{
    VMIDL_X64_SEGMENT segment = {0, 0xffffffff, selector, attributes};
    return segment;
}

HRESULT guest_start(struct guest *guest)
{
    return guest_start_vp(guest, 0, guest->entry_rdi, guest->entry_rsi, GUEST_RAM_SIZE);
}

HRESULT guest_start_vp(struct guest *guest, UINT32 vp, UINT64 rdi, UINT64 rsi, UINT64 stack_top)
{
    /* CPL3 64-bit code and data segments (DPL 3, present, accessed). */
    static const UINT16 code_attributes = 0xb | 1 << 4 | 3 << 5 | 1 << 7 | 1 << 13 | 1 << 15;
    static const UINT16 data_attributes = 0x3 | 1 << 4 | 3 << 5 | 1 << 7 | 1 << 14 | 1 << 15;
    VMIDL_VP_REGISTERS regs;

    memset(&regs, 0, sizeof(regs));
    regs.Gpr[4] = stack_top;                /* rsp */
    regs.Gpr[6] = rsi;
    regs.Gpr[7] = rdi;
    regs.Rip = GUEST_CODE;
    /* IOPL 3: the guest may use OUT; and interrupts on, since STI at CPL3
     * faults where KVM is PVM's: none comes before a guest enables its
     * local APIC (tests/guests/pci.c). */
    regs.Rflags = 0x3202;
    regs.Cs = flat_segment(0x1b, code_attributes);
    regs.Ds = regs.Es = regs.Fs = regs.Gs = regs.Ss = flat_segment(0x23, data_attributes);
    regs.Cr0 = 0x80010033;                  /* PG WP NE ET MP PE */
    regs.Cr3 = PML4_GPA;
    regs.Cr4 = 0x20;                        /* PAE */
    regs.Efer = 0x500;                      /* LME LMA */
    return pVmidlSetVirtualProcessorRegisters(guest->partition, vp, &regs);
}

HRESULT guest_resume(struct guest *guest, VMIDL_RUN_VP_EXIT_CONTEXT *exit)
{
    return pVmidlRunVirtualProcessor(guest->partition, 0, exit);
}

HRESULT guest_run(struct guest *guest)
{
    VMIDL_RUN_VP_EXIT_CONTEXT *exit = &guest->last_exit;
    HRESULT hr;

    memset(exit, 0, sizeof(*exit));
    if (FAILED(hr = guest_start(guest))) return hr;
    if (FAILED(hr = guest_resume(guest, exit))) return hr;
    if (exit->ExitReason == VmidlRunVpExitReasonX64IoPortAccess && exit->Address == GUEST_PORT_DONE
            && exit->Data == guest->op_count)
        return S_OK;
    return E_UNEXPECTED;
}

void guest_device_desc(VMIDL_FLEXIO_DEVICE_DESC *desc, const GUID *instance, struct mmio_log *log, UINT64 base)
{
    memset(desc, 0, sizeof(*desc));
    desc->InstanceId = *instance;
    desc->BarSize[FIOV_BAR0] = 0x10000;
    desc->BarAddress[FIOV_BAR0] = base;
    desc->BarSize[FIOV_BAR2] = 0x1000;
    desc->BarAddress[FIOV_BAR2] = base + 0x100000;
    desc->MmioCallback = mmio_log_callback;
    desc->MmioCallbackContext = log;
}

HRESULT guest_get_device_interface(VMIDL_PARTITION_HANDLE partition, const GUID *instance, REFIID iid, void **out)
{
    IVmVirtualDeviceAccess *access;
    IUnknown *device;
    HRESULT hr;

    *out = NULL;
    if (FAILED(hr = pVmidlGetVirtualDeviceAccess(partition, &access))) return hr;
    if (SUCCEEDED(hr = IVmVirtualDeviceAccess_GetDevice(access, &FLEXIO_DEVICE_ID, instance, &device)))
    {
        hr = IUnknown_QueryInterface(device, iid, out);
        IUnknown_Release(device);
    }
    IVmVirtualDeviceAccess_Release(access);
    return hr;
}

UINT64 guest_mmio_read_value(UINT32 bar, UINT64 offset, UINT32 size)
{
    UINT64 value = 0xa5a5000000000000ull | (UINT64)bar << 40 | offset;
    return size < 8 ? value & ((1ull << (size * 8)) - 1) : value;
}

void mmio_log_init(struct mmio_log *log)
{
    memset(log, 0, sizeof(*log));
    InitializeCriticalSection(&log->cs);
}

void mmio_log_reset(struct mmio_log *log)
{
    EnterCriticalSection(&log->cs);
    log->count = 0;
    LeaveCriticalSection(&log->cs);
}

void mmio_log_cleanup(struct mmio_log *log)
{
    DeleteCriticalSection(&log->cs);
}

HRESULT CALLBACK mmio_log_callback(void *context, UINT32 bar, UINT64 offset,
        UINT32 size, BOOL is_write, UINT64 *data)
{
    struct mmio_log *log = context;

    if (!is_write) *data = guest_mmio_read_value(bar, offset, size);
    EnterCriticalSection(&log->cs);
    if (log->count < ARRAYSIZE(log->accesses))
    {
        struct mmio_access *access = &log->accesses[log->count];
        access->bar = bar;
        access->offset = offset;
        access->size = size;
        access->is_write = is_write;
        access->data = *data;
    }
    log->count++;
    LeaveCriticalSection(&log->cs);
    return S_OK;
}
