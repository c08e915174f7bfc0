/*
 * Host side of the flat 64-bit ring-3 guests used by the tests, the demo
 * and the benchmarks: guest RAM with identity page tables, the register
 * state that starts them at CPL3, and a recording device emulator.
 *
 * Guest physical layout (identity mapped, 2 MiB user pages, 0-4 GiB):
 *   0x001000 page tables        0x010000 guest code
 *   0x100000 operation list     0x200000 scratch data
 *   0x2c0000 a second VP's operation list, 0x380000 its stack top
 *   0x400000 stack top (end of RAM)
 *   0xc0000000 and up: device BARs, placed by the tests
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_GUEST_H
#define __VMIDL_GUEST_H

#include <stdarg.h>
#include <windef.h>
#include <winbase.h>
#include <objbase.h>

#include "vmfiov.h"
#include "vmidlhost.h"

#define GUEST_RAM_SIZE   0x400000
#define GUEST_CODE       0x010000
#define GUEST_OPS        0x100000
#define GUEST_DATA       0x200000
#define GUEST_MAX_OPS    ((GUEST_DATA - GUEST_OPS) / sizeof(struct guest_op))
#define GUEST_BAR_BASE   0xc0000000ull
#define GUEST_VP1_OPS    0x2c0000
#define GUEST_VP1_STACK  0x380000

#define GUEST_PORT_DONE  0x10

enum guest_op_code
{
    GUEST_OP_END,
    GUEST_OP_READ,      /* result = *(size *)address */
    GUEST_OP_WRITE,     /* *(size *)address = value */
    GUEST_OP_CALL,      /* result = rax of a call to address */
    GUEST_OP_OUT,       /* out to port address: a host checkpoint */
    GUEST_OP_WAIT,      /* spin until *(UINT64 *)address == value; result 1 if so */
    GUEST_OP_RDTSC,     /* result = TSC */
};

struct guest_op
{
    UINT32 op;
    UINT32 size;
    UINT64 address;
    UINT64 value;
    UINT64 result;
};

/* The partition host API, from vmidl.dll (absent on Windows). */
extern HRESULT (WINAPI *pVmidlCreatePartition)(REFGUID, UINT32, VMIDL_PARTITION_HANDLE *);
extern HRESULT (WINAPI *pVmidlDeletePartition)(VMIDL_PARTITION_HANDLE);
extern HRESULT (WINAPI *pVmidlMapGpaRange)(VMIDL_PARTITION_HANDLE, void *, UINT64, UINT64, UINT32);
extern HRESULT (WINAPI *pVmidlSetVirtualProcessorRegisters)(VMIDL_PARTITION_HANDLE, UINT32, const VMIDL_VP_REGISTERS *);
extern HRESULT (WINAPI *pVmidlGetVirtualProcessorRegisters)(VMIDL_PARTITION_HANDLE, UINT32, VMIDL_VP_REGISTERS *);
extern HRESULT (WINAPI *pVmidlRunVirtualProcessor)(VMIDL_PARTITION_HANDLE, UINT32, VMIDL_RUN_VP_EXIT_CONTEXT *);
extern HRESULT (WINAPI *pVmidlCancelRunVirtualProcessor)(VMIDL_PARTITION_HANDLE, UINT32, UINT32);
extern HRESULT (WINAPI *pVmidlPublishPartition)(VMIDL_PARTITION_HANDLE);
extern HRESULT (WINAPI *pVmidlPublishPartitionEx)(VMIDL_PARTITION_HANDLE, const WCHAR *);
extern HRESULT (WINAPI *pVmidlAddFlexIoDevice)(VMIDL_PARTITION_HANDLE, const VMIDL_FLEXIO_DEVICE_DESC *, IUnknown **);
extern HRESULT (WINAPI *pVmidlSetBarAddress)(VMIDL_PARTITION_HANDLE, REFGUID, UINT32, UINT64);
extern HRESULT (WINAPI *pVmidlGetVirtualDeviceAccess)(VMIDL_PARTITION_HANDLE, IVmVirtualDeviceAccess **);
extern HRESULT (WINAPI *pVmidlCreatePartitionEx)(REFGUID, UINT32, UINT32, VMIDL_PARTITION_HANDLE *);
extern HRESULT (WINAPI *pVmidlMapGpaSection)(VMIDL_PARTITION_HANDLE, HANDLE, UINT64, UINT64, UINT64, UINT32);
extern HRESULT (WINAPI *pVmidlSetPciConfigWindow)(VMIDL_PARTITION_HANDLE, UINT64);
extern HRESULT (WINAPI *pVmidlAttachPciDevice)(VMIDL_PARTITION_HANDLE, REFGUID, const VMIDL_PCI_DEVICE_DESC *);
extern HRESULT (WINAPI *pVmidlDeliverMsi)(IUnknown *, UINT64, UINT32);
extern HRESULT (WINAPI *pVmidlReadGuestMemory)(IUnknown *, UINT64, void *, UINT32);
extern HRESULT (WINAPI *pVmidlWriteGuestMemory)(IUnknown *, UINT64, const void *, UINT32);
extern HRESULT (WINAPI *pVmidlCreateGuestMemoryAperture)(IUnknown *, UINT64, UINT32, BOOL, void **);
extern HRESULT (WINAPI *pVmidlDestroyGuestMemoryAperture)(IUnknown *, void *);

/* Loads vmidl.dll and the host API; FALSE where it is not there. */
extern BOOL guest_load_host_api(void);

/* Whether a failed VmidlCreatePartition means "no usable KVM here". */
extern BOOL guest_hr_is_no_kvm(HRESULT hr);

struct guest_image
{
    const BYTE *start;
    const BYTE *end;
};
extern const struct guest_image guest_image_interp, guest_image_ring, guest_image_stress, guest_image_bench,
        guest_image_pci;

struct guest
{
    VMIDL_PARTITION_HANDLE partition;
    GUID runtime_id;
    BYTE *ram;
    HANDLE ram_section;         /* GUEST_SECTION_RAM */
    struct guest_op *ops;
    unsigned int op_count;
    UINT64 entry_rdi;
    UINT64 entry_rsi;
    VMIDL_RUN_VP_EXIT_CONTEXT last_exit;    /* of guest_run */
};

/* A RuntimeId no other partition of the prefix has. */
extern void guest_new_runtime_id(GUID *id);
extern HRESULT guest_create(struct guest *guest, const struct guest_image *image);
extern HRESULT guest_create_vps(struct guest *guest, const struct guest_image *image, UINT32 vp_count);
/* With the given RuntimeId, or a new one if NULL. */
extern HRESULT guest_create_as(struct guest *guest, const struct guest_image *image, UINT32 vp_count,
        const GUID *runtime_id);
/* With flags: GUEST_INTERRUPTS, a partition with an interrupt controller;
 * GUEST_SECTION_RAM, RAM from a section (VmidlMapGpaSection), which
 * apertures can map. */
#define GUEST_INTERRUPTS  0x1
#define GUEST_SECTION_RAM 0x2
extern HRESULT guest_create_ex(struct guest *guest, const struct guest_image *image, UINT32 vp_count,
        const GUID *runtime_id, unsigned int flags);
extern void guest_destroy(struct guest *guest);
extern void *guest_ram(struct guest *guest, UINT64 gpa);

/* Operation list of the interp guest. */
extern void guest_reset_ops(struct guest *guest);
extern unsigned int guest_add_op(struct guest *guest, enum guest_op_code op, UINT32 size, UINT64 address, UINT64 value);

/* Sets the registers that start the guest at its entry point with rdi =
 * entry_rdi (GUEST_OPS by default) and rsi = entry_rsi; guest_resume runs
 * it until an exit vmidl returns to the host. */
extern HRESULT guest_start(struct guest *guest);
/* Starts virtual processor vp at the entry point with the given rdi and rsi
 * and its stack below stack_top. */
extern HRESULT guest_start_vp(struct guest *guest, UINT32 vp, UINT64 rdi, UINT64 rsi, UINT64 stack_top);
extern HRESULT guest_resume(struct guest *guest, VMIDL_RUN_VP_EXIT_CONTEXT *exit);
/* guest_start + guest_resume until the guest reports done on
 * GUEST_PORT_DONE; any other exit is an error (E_UNEXPECTED). */
extern HRESULT guest_run(struct guest *guest);

/* A device with BAR0 (64 KiB at base) and BAR2 (one page at base + 1 MiB)
 * whose intercepted MMIO goes to the log. */
struct mmio_log;
extern void guest_device_desc(VMIDL_FLEXIO_DEVICE_DESC *desc, const GUID *instance, struct mmio_log *log,
        UINT64 base);
/* The emulation driver's way to its device: IVmVirtualDeviceAccess::GetDevice,
 * then QueryInterface. */
extern HRESULT guest_get_device_interface(VMIDL_PARTITION_HANDLE partition, const GUID *instance,
        REFIID iid, void **out);

/* A device emulator that logs every intercepted access and answers reads
 * with guest_mmio_read_value(). */
struct mmio_access
{
    FIOV_BAR_SELECTOR bar;
    UINT64 offset;
    UINT32 size;
    BOOL is_write;
    UINT64 data;
};

struct mmio_log
{
    CRITICAL_SECTION cs;
    unsigned int count;
    struct mmio_access accesses[256];
};

extern void mmio_log_init(struct mmio_log *log);
extern void mmio_log_reset(struct mmio_log *log);
extern void mmio_log_cleanup(struct mmio_log *log);
extern HRESULT CALLBACK mmio_log_callback(void *context, UINT32 bar, UINT64 offset,
        UINT32 size, BOOL is_write, UINT64 *data);
extern UINT64 guest_mmio_read_value(UINT32 bar, UINT64 offset, UINT32 size);

#endif /* __VMIDL_GUEST_H */
