/*
 * The one interface between the PE half and the unix half of vmidl.
 *
 * The unix half owns what KVM sees of a partition (guest RAM, BAR layout,
 * ranges, doorbells, vCPUs); the PE half holds the COM objects, which name
 * unix objects by handle, and finds devices by instance.  Calls go one way,
 * PE to unix.  Only fixed-size types: the PE side is LLP64, the unix side
 * LP64.  Everything a call reads is in its params: no pointer into PE
 * memory is followed.  Every call returns an NTSTATUS.  64-bit only: there
 * is no wow64 table.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_UNIXLIB_H
#define __VMIDL_UNIXLIB_H

#include "vmidlhost.h"

struct vm_create_params
{
    UINT32 vp_count;
    UINT32 flags;               /* VMIDL_PARTITION_FLAG_* */
    UINT64 vm;                  /* out */
};

/* vm_shutdown, vm_free, vm_dispatch */
struct vm_params
{
    UINT64 vm;
};

struct vm_map_ram_params
{
    UINT64 vm;
    UINT64 host_address;
    UINT64 guest_address;
    UINT64 size;
    UINT32 writable;
    UINT32 pad;
};

struct vp_registers_params
{
    UINT64 vm;
    UINT32 vp_index;
    UINT32 pad;
    VMIDL_VP_REGISTERS registers;   /* in for set, out for get */
};

/* vp_cancel, vp_abandon */
struct vp_params
{
    UINT64 vm;
    UINT32 vp_index;
    UINT32 pad;
};

/* A run spans every MMIO callback it makes: the first call enters the VP,
 * each call with resume set goes on after a callback, and the VP is left
 * when the call returns an exit without a callback (or vp_abandon). */
struct vp_run_params
{
    UINT64 vm;
    UINT32 vp_index;
    UINT32 resume;
    UINT64 mmio_read_value;     /* with resume: what the guest's MMIO read gets */
    VMIDL_RUN_VP_EXIT_CONTEXT exit;     /* out */
    /* Out, for an access to a device BAR: the device's MMIO callback and
     * where the access lands; mmio_callback is 0 for any other exit.  For
     * an access to a PCI function's config space that the device answers
     * (config set), it is the device's config callback, and bar_offset
     * the offset in its config space. */
    UINT64 mmio_callback;
    UINT64 mmio_context;
    UINT32 bar;
    UINT32 config;
    UINT64 bar_offset;
};

/* The RAM of a VM from a section (the section handle is this process's). */
struct vm_map_section_params
{
    UINT64 vm;
    UINT64 section;
    UINT64 section_offset;
    UINT64 guest_address;
    UINT64 size;
    UINT32 writable;
    UINT32 pad;
};

struct vm_pci_window_params
{
    UINT64 vm;
    UINT64 guest_address;
};

struct vm_msi_params
{
    UINT64 vm;
    UINT64 address;
    UINT32 data;
    UINT32 pad;
};

/* Copies between guest RAM and buffer (an address of the caller's). */
struct vm_guest_memory_params
{
    UINT64 vm;
    UINT64 guest_address;
    UINT64 buffer;
    UINT32 size;
    UINT32 write;
};

/* A new handle, in this process, to the section behind guest RAM at
 * [guest_address, + size), with the rights to map it (writable or not). */
struct vm_ram_section_params
{
    UINT64 vm;
    UINT64 guest_address;
    UINT64 size;
    UINT32 writable;
    UINT32 pad;
    UINT64 section;             /* out */
    UINT64 section_offset;      /* out */
};

/* A device's place on the PCI bus and its header's identity. */
struct device_pci_params
{
    UINT64 vm;
    UINT64 device;
    UINT32 device_number;
    UINT16 vendor_id;
    UINT16 device_id;
    UINT16 subsystem_vendor_id;
    UINT16 subsystem_id;
    UINT32 class_code;          /* 24 bits: base class, subclass, programming interface */
    UINT8 revision_id;
    UINT8 has_capabilities;
    UINT16 pad;
    UINT64 config_callback;
    UINT64 config_context;
};

/* device_create makes a device that nobody can find yet; device_add puts
 * it into the partition.  device_remove undoes both. */
struct device_create_params
{
    UINT64 bar_address[VMIDL_BAR_COUNT];
    UINT64 bar_size[VMIDL_BAR_COUNT];
    UINT64 mmio_callback;
    UINT64 mmio_context;
    UINT64 device;              /* out */
};

struct device_params
{
    UINT64 vm;
    UINT64 device;
};

struct device_owner_params
{
    UINT64 vm;
    UINT64 device;
    UINT64 owner;
};

struct bar_move_params
{
    UINT64 vm;
    UINT64 device;
    UINT32 bar;
    UINT32 pad;
    UINT64 guest_address;
};

/* Offsets and sizes in bytes; the unix half checks them against the BAR.
 * owner: who registers or removes a range or doorbell: 0 for the device's
 * own callers, who may remove anything, else one view of the device in a
 * device host's process, which may only remove its own (and whose all go
 * with device_release_owner).  Handles are values in handle_process (the
 * current process, or the device host's), duplicated by the unix half once
 * the rest is checked. */
struct range_create_params
{
    UINT64 vm;
    UINT64 device;
    UINT64 owner;
    UINT32 bar;
    UINT32 writable;
    UINT64 bar_offset;
    UINT64 size;
    UINT64 section;             /* HANDLE, in handle_process */
    UINT64 handle_process;
    UINT64 section_offset;
};

struct range_destroy_params
{
    UINT64 vm;
    UINT64 device;
    UINT64 owner;
    UINT32 bar;
    UINT32 pad;
    UINT64 bar_offset;
};

struct doorbell_params
{
    UINT64 vm;
    UINT64 device;
    UINT64 owner;
    UINT32 bar;
    UINT32 length;              /* 0 (any), 1, 2, 4 or 8 */
    UINT64 bar_offset;
    UINT64 value;
    UINT32 any_value;
    UINT32 pad;
    UINT64 event;               /* HANDLE in handle_process, register only; vmidl keeps its own */
    UINT64 handle_process;
};

enum vmidl_funcs
{
    unix_vm_create,
    unix_vm_shutdown,
    unix_vm_free,
    unix_vm_map_ram,
    unix_vm_dispatch,
    unix_vp_set_registers,
    unix_vp_get_registers,
    unix_vp_run,
    unix_vp_abandon,
    unix_vp_cancel,
    unix_device_create,
    unix_device_add,
    unix_device_remove,
    unix_bar_move,
    unix_range_create,
    unix_range_destroy,
    unix_doorbell_register,
    unix_doorbell_unregister,
    unix_device_release_owner,
    unix_vm_map_section,
    unix_vm_set_pci_window,
    unix_vm_signal_msi,
    unix_vm_guest_memory,
    unix_vm_ram_section,
    unix_device_attach_pci,
    unix_funcs_count
};

#endif /* __VMIDL_UNIXLIB_H */
