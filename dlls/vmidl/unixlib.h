/*
 * The one interface between the PE half and the unix half of vmidl.
 *
 * Only fixed-size types: the PE side is LLP64, the unix side LP64.  Handles
 * to unix objects (vm, device) travel as UINT64.  Every call returns an
 * NTSTATUS; results come back through the params.  64-bit only: there is no
 * wow64 table.
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
    UINT32 pad;
    UINT64 vm;                  /* out */
};

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
    UINT64 registers;           /* VMIDL_VP_REGISTERS * */
};

struct vp_run_params
{
    UINT64 vm;
    UINT32 vp_index;
    UINT32 pad;
    UINT64 mmio_read_value;     /* completes the MMIO read the last run stopped at */
    VMIDL_RUN_VP_EXIT_CONTEXT exit; /* out */
};

struct device_add_params
{
    UINT64 vm;
    UINT64 bar_address[VMIDL_BAR_COUNT];
    UINT64 bar_size[VMIDL_BAR_COUNT];
    UINT64 device;              /* out */
};

struct device_params
{
    UINT64 vm;
    UINT64 device;
};

struct bar_move_params
{
    UINT64 vm;
    UINT64 device;
    UINT32 bar;
    UINT32 pad;
    UINT64 guest_address;
};

/* Offsets and sizes in bytes, already validated against the BAR. */
struct range_create_params
{
    UINT64 vm;
    UINT64 device;
    UINT32 bar;
    UINT32 writable;
    UINT64 bar_offset;
    UINT64 size;
    UINT64 section;             /* HANDLE */
    UINT64 section_offset;
};

struct range_destroy_params
{
    UINT64 vm;
    UINT64 device;
    UINT32 bar;
    UINT32 pad;
    UINT64 bar_offset;
};

struct doorbell_params
{
    UINT64 vm;
    UINT64 device;
    UINT32 bar;
    UINT32 length;              /* 0 (any), 1, 2, 4 or 8 */
    UINT64 bar_offset;
    UINT64 value;
    UINT32 any_value;
    UINT32 pad;
    UINT64 event;               /* HANDLE, register only; vmidl owns it on success */
};

enum vmidl_funcs
{
    unix_vm_create,
    unix_vm_destroy,
    unix_vm_map_ram,
    unix_vp_set_registers,
    unix_vp_get_registers,
    unix_vp_run,
    unix_device_add,
    unix_device_remove,
    unix_bar_move,
    unix_range_create,
    unix_range_destroy,
    unix_doorbell_register,
    unix_doorbell_unregister,
    unix_doorbell_dispatch,
    unix_doorbell_dispatch_stop,
    unix_funcs_count
};

#endif /* __VMIDL_UNIXLIB_H */
