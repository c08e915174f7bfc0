/*
 * vmidl partition host: a Wine extension with no Windows counterpart.
 *
 * On Windows the VM worker process (vmwp.exe) owns the virtual machine and
 * hands IVmVirtualDeviceAccess to emulation drivers.  Under Wine there is no
 * VM worker, and KVM only accepts VM ioctls from the process that created
 * the VM, so the program that hosts the emulation driver plays that role
 * through this API: it creates a KVM-backed partition, gives it guest RAM,
 * adds FlexibleIov devices at guest physical addresses, runs virtual
 * processors and hands the partition's IVmVirtualDeviceAccess to drivers.
 *
 * Names and conventions follow the Windows Hypervisor Platform (WHv*).
 * Every function returns an HRESULT; see "Errors" below.  64-bit only.
 *
 * Errors shared by all functions:
 *   E_INVALIDARG    malformed argument (NULL pointer, misaligned or
 *                   overflowing address/size, unknown flag or BAR, ...).
 *   E_OUTOFMEMORY   allocation failed.
 *   HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED)  /dev/kvm is missing or lacks a
 *                   capability vmidl needs (read-only memslots, ioeventfd).
 *   E_ACCESSDENIED  /dev/kvm exists but cannot be opened.
 *   HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS) the guest physical range is
 *                   already used by RAM or another device's BAR.
 *   HRESULT_FROM_WIN32(ERROR_BUSY) the virtual processor is already running.
 *   E_HANDLE        the partition handle is not one VmidlCreatePartition
 *                   returned, or the partition was deleted.
 *   HRESULT_FROM_WIN32(ERROR_DEVICE_REMOVED) a device or device access
 *                   object whose partition was deleted.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDLHOST_H
#define __VMIDLHOST_H

/* Stands alone: the interfaces come from vmfiov.h or from a client's own
 * declarations of them (as WSL's IDL makes, or by hand), in either order.
 * Its prototypes name IVmVirtualDeviceAccess as a struct.  The typedef
 * that lets a program say IVmVirtualDeviceAccess with this header alone is
 * only there where a second, identical one is allowed (C11 and later,
 * C++), and not where widl's guard says a header of the interface
 * declared it: under C99 a client's own typedef never meets one of ours. */
#if !defined(WINE_UNIX_LIB) && !defined(RC_INVOKED)
#include <windows.h>
#include <unknwn.h>
struct IVmVirtualDeviceAccess;
#if !defined(__IVmVirtualDeviceAccess_FWD_DEFINED__) \
        && (defined(__cplusplus) || (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L))
#define __IVmVirtualDeviceAccess_FWD_DEFINED__
typedef struct IVmVirtualDeviceAccess IVmVirtualDeviceAccess;
#endif
#endif

/* The SDK's version: VMIDL_VERSION >= VMIDL_MAKE_VERSION(2, 0, 0) where a
 * program needs what 2.0 brought (see doc/sdk.md for what each brought). */
#define VMIDL_MAKE_VERSION(major, minor, patch) ((major) << 16 | (minor) << 8 | (patch))
#define VMIDL_VERSION_MAJOR 2
#define VMIDL_VERSION_MINOR 2
#define VMIDL_VERSION_PATCH 0
#define VMIDL_VERSION VMIDL_MAKE_VERSION(VMIDL_VERSION_MAJOR, VMIDL_VERSION_MINOR, VMIDL_VERSION_PATCH)

#ifndef RC_INVOKED

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque; a deleted partition's handle is refused with E_HANDLE. */
typedef struct VMIDL_PARTITION_HANDLE__ *VMIDL_PARTITION_HANDLE;

#define VMIDL_BAR_COUNT 7   /* BAR0..BAR5 and the ROM BAR, indexed by FIOV_BAR_SELECTOR */

/* Segment register, attributes in the VMX access-rights layout also used by
 * WHV_X64_SEGMENT_REGISTER: type:4 s:1 dpl:2 p:1 reserved:4 avl:1 l:1 db:1 g:1. */
typedef struct VMIDL_X64_SEGMENT
{
    UINT64 Base;
    UINT32 Limit;
    UINT16 Selector;
    UINT16 Attributes;
} VMIDL_X64_SEGMENT;

/* The register state a virtual processor starts from.  General-purpose
 * registers are in x86 encoding order: rax rcx rdx rbx rsp rbp rsi rdi
 * r8..r15.  The task register and LDT are set up by vmidl; the GDT and
 * IDT are at linear address 0 with a limit of 0xffff, as after reset
 * (a guest that takes interrupts puts its gates and descriptors there,
 * or loads tables of its own). */
typedef struct VMIDL_VP_REGISTERS
{
    UINT64 Gpr[16];
    UINT64 Rip;
    UINT64 Rflags;
    VMIDL_X64_SEGMENT Cs, Ds, Es, Fs, Gs, Ss;
    UINT64 Cr0;
    UINT64 Cr3;
    UINT64 Cr4;
    UINT64 Efer;
} VMIDL_VP_REGISTERS;

/* The values are WHV_RUN_VP_EXIT_REASON's where WHv has the reason (since
 * SDK 2.0; 1.x numbered them 0-6); vmidl's own start at 0x8000, outside
 * WHv's ranges. */
typedef enum VMIDL_RUN_VP_EXIT_REASON
{
    VmidlRunVpExitReasonNone = 0,
    /* An MMIO access at an address that no device BAR decodes.  Running
     * again completes it: a read returns all ones, a write is dropped. */
    VmidlRunVpExitReasonMemoryAccess = 1,
    /* A port I/O instruction; for OUT, Data holds the value written.  The
     * instruction has completed: running again continues after it, and an
     * IN reads all ones. */
    VmidlRunVpExitReasonX64IoPortAccess = 2,
    /* KVM could not run the guest state given. */
    VmidlRunVpExitReasonUnrecoverableException = 4,
    /* HLT at CPL0 with interrupts off. */
    VmidlRunVpExitReasonX64Halt = 8,
    VmidlRunVpExitReasonHalt = VmidlRunVpExitReasonX64Halt,     /* the 1.x name */
    /* VmidlCancelRunVirtualProcessor (or VmidlDeletePartition) stopped the
     * run.  An access the guest was making has completed; running again
     * continues the guest where it stopped. */
    VmidlRunVpExitReasonCanceled = 0x2001,
    /* The guest triple-faulted (KVM's shutdown exit; WHv has no such
     * reason and reports UnrecoverableException). */
    VmidlRunVpExitReasonShutdown = 0x8001,
} VMIDL_RUN_VP_EXIT_REASON;

typedef struct VMIDL_RUN_VP_EXIT_CONTEXT
{
    UINT32 ExitReason;      /* VMIDL_RUN_VP_EXIT_REASON */
    UINT32 AccessSize;      /* bytes: 1, 2, 4 or 8 */
    UINT64 Address;         /* port number or guest physical address */
    UINT64 Data;            /* value written (for writes) */
    UINT32 IsWrite;
    UINT32 Reserved;
} VMIDL_RUN_VP_EXIT_CONTEXT;

#define VMIDL_MAP_GPA_RANGE_FLAG_READ  0x1
#define VMIDL_MAP_GPA_RANGE_FLAG_WRITE 0x2

/* VmidlCreatePartitionEx: the partition gets KVM's in-kernel interrupt
 * controller (a local APIC per virtual processor and an I/O APIC), which
 * VmidlDeliverMsi needs.  Since SDK 2.1. */
#define VMIDL_PARTITION_FLAG_INTERRUPT_CONTROLLER 0x1

/* The ECAM window of the PCI bus (VmidlSetPciConfigWindow): bus 0 only,
 * 32 devices of one function each, 4 KiB of config space apiece. */
#define VMIDL_PCI_CONFIG_WINDOW_SIZE 0x100000
#define VMIDL_PCI_DEVICE_COUNT 32

#ifndef WINE_UNIX_LIB

/* Called on the thread running the virtual processor for each guest access
 * to a device BAR that no fast path consumed.  Bar is a FIOV_BAR_SELECTOR
 * value.  For reads, store the value in *Data (it is zero on entry).
 * Return S_OK; a failure ends VmidlRunVirtualProcessor with that HRESULT. */
typedef HRESULT (CALLBACK *VMIDL_MMIO_CALLBACK)(void *Context, UINT32 Bar,
        UINT64 BarOffset, UINT32 AccessSize, BOOL IsWrite, UINT64 *Data);

typedef struct VMIDL_FLEXIO_DEVICE_DESC
{
    GUID InstanceId;
    /* Size of each BAR in bytes (0: absent; else a non-zero multiple of
     * 4096) and the page-aligned guest physical address it
     * decodes at. */
    UINT64 BarSize[VMIDL_BAR_COUNT];
    UINT64 BarAddress[VMIDL_BAR_COUNT];
    VMIDL_MMIO_CALLBACK MmioCallback;
    void *MmioCallbackContext;
} VMIDL_FLEXIO_DEVICE_DESC;

/* Called on the thread running the virtual processor for each guest
 * access to the part of a PCI device's config space that is the
 * device's: the capabilities pointer (0x34) and every offset from 0x40 to
 * 0xfff (see VmidlAttachPciDevice).  Offset is the access's offset in
 * config space; AccessSize is 1, 2 or 4 and the access never crosses a
 * dword.  For reads, store the value in *Data (zero on entry; a device
 * with nothing there leaves it).  Return S_OK; a failure ends
 * VmidlRunVirtualProcessor with that HRESULT.  Since SDK 2.1. */
typedef HRESULT (CALLBACK *VMIDL_PCI_CONFIG_CALLBACK)(void *Context, UINT32 Offset, UINT32 AccessSize,
        BOOL IsWrite, UINT32 *Data);

/* A device's identity on the PCI bus. */
typedef struct VMIDL_PCI_DEVICE_DESC
{
    UINT32 DeviceNumber;        /* 0..31 on bus 0 */
    UINT16 VendorId;
    UINT16 DeviceId;
    UINT16 SubsystemVendorId;
    UINT16 SubsystemId;
    UINT32 ClassCode;           /* base class << 16 | subclass << 8 | programming interface */
    UINT8 RevisionId;
    /* Whether the device has a capability list: the status register says
     * so, and the guest then reads its pointer at 0x34 from the device. */
    BOOLEAN HasCapabilities;
    UINT16 Reserved;            /* 0 */
    VMIDL_PCI_CONFIG_CALLBACK ConfigCallback;
    void *ConfigCallbackContext;
} VMIDL_PCI_DEVICE_DESC;

/* Creates a partition with ProcessorCount (1..64) virtual processors.
 * RuntimeId names it in the whole prefix: ERROR_ALREADY_EXISTS while
 * another partition (of any process) has it. */
HRESULT WINAPI VmidlCreatePartition(REFGUID RuntimeId, UINT32 ProcessorCount,
        VMIDL_PARTITION_HANDLE *Partition);

/* VmidlCreatePartition with Flags: VMIDL_PARTITION_FLAG_*.  Errors as
 * VmidlCreatePartition's, and E_INVALIDARG for an unknown flag.  Since
 * SDK 2.1. */
HRESULT WINAPI VmidlCreatePartitionEx(REFGUID RuntimeId, UINT32 ProcessorCount, UINT32 Flags,
        VMIDL_PARTITION_HANDLE *Partition);

/* Tears the partition down: every device loses its ranges and doorbells
 * (device objects still held answer ERROR_DEVICE_REMOVED), every virtual
 * processor and the KVM VM are closed, and the handle becomes invalid
 * (E_HANDLE).  Virtual processors still running are canceled first (their
 * VmidlRunVirtualProcessor returns VmidlRunVpExitReasonCanceled) and the
 * call waits until their runs have returned.  From a thread that is itself
 * running one of the partition's virtual processors (an MMIO callback) it
 * returns ERROR_BUSY and changes nothing.  It may be called from DllMain. */
HRESULT WINAPI VmidlDeletePartition(VMIDL_PARTITION_HANDLE Partition);

/* Backs [GuestAddress, GuestAddress + Size) with the caller's memory at
 * HostAddress (page-aligned, committed, kept valid for the partition's
 * lifetime).  Flags: VMIDL_MAP_GPA_RANGE_FLAG_*; READ is required. */
HRESULT WINAPI VmidlMapGpaRange(VMIDL_PARTITION_HANDLE Partition, void *HostAddress,
        UINT64 GuestAddress, UINT64 Size, UINT32 Flags);

/* Backs [GuestAddress, GuestAddress + Size) with Size bytes of Section
 * from SectionOffset (both page-aligned), as VmidlMapGpaRange does with
 * the caller's memory: RAM that a device in another process can map as
 * an aperture (VmidlCreateGuestMemoryAperture).  vmidl maps its own view
 * and keeps its own handle (the caller may close Section); the worker
 * maps a view of its own to see the RAM.  Guest RAM stays until the
 * partition is deleted; apertures then keep their pages (the section's),
 * which are no longer the guest's.  Flags as VmidlMapGpaRange's; WRITE
 * needs a section that can be mapped writable.  Errors: E_INVALIDARG
 * (also for a range past the section's end), E_HANDLE (the partition, or
 * a Section that is no section), E_ACCESSDENIED for WRITE on a section
 * that cannot be mapped writable, ERROR_ALREADY_EXISTS for a guest range
 * in use.  Since SDK 2.1. */
HRESULT WINAPI VmidlMapGpaSection(VMIDL_PARTITION_HANDLE Partition, HANDLE Section, UINT64 SectionOffset,
        UINT64 GuestAddress, UINT64 Size, UINT32 Flags);

HRESULT WINAPI VmidlSetVirtualProcessorRegisters(VMIDL_PARTITION_HANDLE Partition,
        UINT32 VpIndex, const VMIDL_VP_REGISTERS *Registers);
HRESULT WINAPI VmidlGetVirtualProcessorRegisters(VMIDL_PARTITION_HANDLE Partition,
        UINT32 VpIndex, VMIDL_VP_REGISTERS *Registers);

/* Runs the virtual processor on the calling thread.  Accesses to device BARs
 * go to the device's MMIO callback and the guest goes on; the call returns
 * on anything else (port I/O, MMIO outside every BAR, shutdown, halt). */
HRESULT WINAPI VmidlRunVirtualProcessor(VMIDL_PARTITION_HANDLE Partition, UINT32 VpIndex,
        VMIDL_RUN_VP_EXIT_CONTEXT *ExitContext);

/* Makes a run of the virtual processor return soon with
 * VmidlRunVpExitReasonCanceled, wherever the guest is: running, in an MMIO
 * callback, or not yet entered.  When the virtual processor is not running,
 * its next run returns at once.  Flags must be 0. */
HRESULT WINAPI VmidlCancelRunVirtualProcessor(VMIDL_PARTITION_HANDLE Partition, UINT32 VpIndex,
        UINT32 Flags);

/* Adds a FlexibleIov device.  *Device receives the device object (it
 * answers IVmFiovGuestMmioMappings and IVmFiovGuestMemoryFastNotification).
 * The device stays in the partition while any reference to it is held;
 * releasing the last one unregisters its doorbells and destroys its ranges.
 * A second device with the same InstanceId: ERROR_ALREADY_EXISTS. */
HRESULT WINAPI VmidlAddFlexIoDevice(VMIDL_PARTITION_HANDLE Partition,
        const VMIDL_FLEXIO_DEVICE_DESC *Desc, IUnknown **Device);

/* Moves a BAR to a new guest physical address (as when the guest reprograms
 * it): every range and doorbell registered on it moves along.  Errors:
 * E_INVALIDARG for a misaligned address or a BAR the device lacks,
 * ERROR_NOT_FOUND for an unknown instance, ERROR_ALREADY_EXISTS when the new
 * place overlaps RAM or another device's BAR.  Removing the BAR's
 * ioeventfds costs a kernel grace period each (~8 ms here). */
HRESULT WINAPI VmidlSetBarAddress(VMIDL_PARTITION_HANDLE Partition, REFGUID InstanceId,
        UINT32 Bar, UINT64 GuestAddress);

/* Puts the PCI bus's ECAM window (VMIDL_PCI_CONFIG_WINDOW_SIZE bytes) at
 * GuestAddress, 1 MiB aligned; the guest finds it where the worker tells
 * it (ACPI's MCFG, a boot protocol, or a fixed address).  vmidl answers
 * every access there: all ones where no device is.  Errors: E_INVALIDARG
 * (alignment), ERROR_ALREADY_EXISTS when the window is already placed or
 * the range is in use.  Since SDK 2.1. */
HRESULT WINAPI VmidlSetPciConfigWindow(VMIDL_PARTITION_HANDLE Partition, UINT64 GuestAddress);

/* Puts the device added with InstanceId on the PCI bus at
 * Desc->DeviceNumber.  From then on its config space is the guest's way
 * to it: vmidl answers the type-0 header, 0x00-0x33 and 0x35-0x3f (IDs,
 * command and status, BARs, expansion ROM BAR, subsystem IDs, interrupt
 * line; no INTx pin), and the device's config callback the rest (0x34,
 * and 0x40-0xfff: capabilities such as MSI, and device registers), as
 * Hyper-V's virtual PCI keeps the BAR registers the host's.
 *
 * The BARs start where VmidlAddFlexIoDevice placed them, decoding (memory
 * space enable on).  The guest sizes a BAR by writing all ones and
 * reading it back, and places it by writing an address: the BAR, its
 * ranges and its doorbells follow as with VmidlSetBarAddress, while
 * memory space decoding is on.  Turning decoding off takes every BAR of
 * the device out of the guest's address space (accesses there exit as
 * MemoryAccess, outside every BAR); turning it on puts them back where
 * they are programmed.  A BAR whose programmed place is in use stays out
 * until the guest places it elsewhere.  BAR i is a 64-bit BAR when the
 * device has no BAR i + 1 (register i + 1 is then its high half), a
 * 32-bit one otherwise.
 *
 * Errors: E_INVALIDARG (NULL, a DeviceNumber past 31, Reserved not 0),
 * ERROR_NOT_FOUND for an unknown instance, ERROR_INVALID_STATE without a
 * config window, ERROR_ALREADY_EXISTS when the device is already on the
 * bus or the number is taken.  VmidlSetBarAddress then answers
 * ERROR_INVALID_STATE for the device: its BARs are the guest's.  Since
 * SDK 2.1. */
HRESULT WINAPI VmidlAttachPciDevice(VMIDL_PARTITION_HANDLE Partition, REFGUID InstanceId,
        const VMIDL_PCI_DEVICE_DESC *Desc);

/* Device services (doc/pci.md): Device is a device object (VmidlAddFlexIoDevice's, or
 * what GetDevice of an IVmVirtualDeviceAccess returns, in the worker's
 * process or in another one).  Since SDK 2.1.  Errors shared by them:
 * E_INVALIDARG for NULL or a Device that is not vmidl's,
 * ERROR_DEVICE_REMOVED once the partition is being deleted or deleted.
 *
 * VmidlDeliverMsi raises a message-signaled interrupt as the device would
 * by writing Data at Address, from any thread.  Address is 0xFEExxxxx
 * (destination APIC ID in bits 19:12, redirection hint bit 3, destination
 * mode bit 2); Data has the vector (16..255) in bits 7:0 and fixed (0) or
 * lowest-priority (1) delivery in bits 10:8; edge only (bit 15 clear),
 * nothing above bit 15.  Anything else: E_INVALIDARG.  A partition made
 * without VMIDL_PARTITION_FLAG_INTERRUPT_CONTROLLER: ERROR_INVALID_STATE.
 * As on real hardware, an interrupt raised while the same vector is
 * still pending at its target (not yet taken by the guest) folds into
 * that one, and the caller is not told: a device says how much work there
 * is in memory the guest reads (a ring's index), never in the number of
 * interrupts.  S_OK once the interrupt is pending at its target.
 *
 * VmidlReadGuestMemory and VmidlWriteGuestMemory copy ByteCount bytes
 * between Buffer and guest RAM at GuestAddress, across RAM ranges that
 * follow each other.  The whole range must be RAM (writable RAM for a
 * write), else nothing is copied: ERROR_INVALID_ADDRESS for a hole or
 * device memory, E_ACCESSDENIED for a write to read-only RAM.  A copy
 * is not atomic against the guest's own accesses.
 *
 * VmidlCreateGuestMemoryAperture maps [GuestAddress, + ByteCount) of
 * guest RAM (page-aligned, within one VmidlMapGpaSection range) into the
 * calling process at *MappedAddress, read-only when WriteProtected; the
 * mapping is the guest's RAM itself, valid while the guest runs and
 * until VmidlDestroyGuestMemoryAperture, even after the partition is
 * deleted (then no longer the guest's).  ERROR_INVALID_ADDRESS for a
 * range that is not all in one RAM range; ERROR_NOT_SUPPORTED for RAM of
 * VmidlMapGpaRange (the worker's own memory, which no other mapping can
 * share); E_ACCESSDENIED for a writable aperture of read-only RAM.
 * VmidlDestroyGuestMemoryAperture takes a MappedAddress that
 * VmidlCreateGuestMemoryAperture returned in this process, else
 * E_INVALIDARG. */
HRESULT WINAPI VmidlDeliverMsi(IUnknown *Device, UINT64 Address, UINT32 Data);
HRESULT WINAPI VmidlReadGuestMemory(IUnknown *Device, UINT64 GuestAddress, void *Buffer, UINT32 ByteCount);
HRESULT WINAPI VmidlWriteGuestMemory(IUnknown *Device, UINT64 GuestAddress, const void *Buffer, UINT32 ByteCount);
HRESULT WINAPI VmidlCreateGuestMemoryAperture(IUnknown *Device, UINT64 GuestAddress, UINT32 ByteCount,
        BOOL WriteProtected, void **MappedAddress);
HRESULT WINAPI VmidlDestroyGuestMemoryAperture(IUnknown *Device, void *MappedAddress);

/* Makes the partition reachable from every process of the prefix, as a VM
 * worker is: GetVmWorkerProcess(RuntimeId, riid, &object) of vmwpctrl.dll
 * then hands a device host in another process an IVmVirtualDeviceAccess of
 * its own, whose calls run here.  What such a process registers through it
 * (ranges, doorbells) goes when that process ends or releases the device,
 * even while this process still holds the device.  Intercepted MMIO stays
 * with the device's MMIO callback in this process.  vmidl does this work on
 * a thread of its own in COM's multithreaded apartment (it loads ole32 on
 * the first call); the partition stays published until it is deleted.  At
 * most 63 other processes are connected to this process at a time (one
 * that reaches several of its partitions counts once for each): the next
 * GetVmWorkerProcess gets ERROR_NO_SYSTEM_RESOURCES.  Errors:
 * E_INVALIDARG for NULL, E_HANDLE for a deleted or made-up handle,
 * ERROR_ALREADY_EXISTS when already published; a COM HRESULT when the
 * object cannot be marshaled (vmwpctrl.dll's proxies are registered in a
 * prefix by wineboot -u, see vmidl-prefix). */
HRESULT WINAPI VmidlPublishPartition(VMIDL_PARTITION_HANDLE Partition);

/* VmidlPublishPartition, under a compute system Id of the worker's choice:
 * HcsOpenComputeSystem(SystemId) of computecore.dll then opens the
 * partition in any process of the prefix, as a device host written
 * against HCS and HDV does with a VM's Id on Windows (doc/hdv.md).
 * SystemId is 1 to 128 characters with no backslash; NULL gives what
 * VmidlPublishPartition gives: the RuntimeId in HCS's form
 * (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, matched without regard to case).
 * The Id goes with the publication, when the partition is deleted.
 * Errors as VmidlPublishPartition's, E_INVALIDARG for a malformed
 * SystemId, and ERROR_ALREADY_EXISTS also when another published
 * partition has that Id.  Since SDK 2.2. */
HRESULT WINAPI VmidlPublishPartitionEx(VMIDL_PARTITION_HANDLE Partition, const WCHAR *SystemId);

/* The partition's IVmVirtualDeviceAccess, what GetVmWorkerProcess hands out
 * on Windows.  GetDevice(FLEXIO_DEVICE_ID, InstanceId, &unk) returns a new
 * reference to a device added with that InstanceId, or
 * HRESULT_FROM_WIN32(ERROR_NOT_FOUND). */
HRESULT WINAPI VmidlGetVirtualDeviceAccess(VMIDL_PARTITION_HANDLE Partition,
        struct IVmVirtualDeviceAccess **Access);

#endif /* WINE_UNIX_LIB */

#ifdef __cplusplus
}
#endif

#endif /* RC_INVOKED */

#endif /* __VMIDLHOST_H */
