/*
 * Section-backed MMIO ranges: a view of the section, and the memslot that
 * puts it at a guest physical address.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_UNIX_RANGE_H
#define __VMIDL_UNIX_RANGE_H

#include "unix_memslot.h"
#include "unix_section.h"

struct mmio_range
{
    uint64_t bar_offset;
    uint64_t size;
    uint64_t owner;
    struct section_view view;
    unsigned int slot;
    int writable;
    int attached;               /* the memslot is in KVM */
    int unbacked;               /* its file was cut short: kept out of the guest */
};

/* Maps the section and reserves a memslot; the range is not in the guest
 * until range_attach(). */
extern NTSTATUS range_create(struct memslot_table *memslots, const struct range_create_params *params,
        struct mmio_range **ret);
extern NTSTATUS range_attach(struct memslot_table *memslots, struct mmio_range *range, uint64_t gpa);
extern void range_detach(struct memslot_table *memslots, struct mmio_range *range);
/* Detaches the range if needed, then frees its slot and its view. */
extern void range_free(struct memslot_table *memslots, struct mmio_range *range);

#endif /* __VMIDL_UNIX_RANGE_H */
