/*
 * Section-backed MMIO ranges: a view of the section, and the memslot that
 * puts it at a guest physical address.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>

#include "unix_private.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

NTSTATUS range_create(struct memslot_table *memslots, const struct range_create_params *params,
        struct mmio_range **ret)
{
    struct mmio_range *range;
    NTSTATUS status;

    if (!(range = calloc(1, sizeof(*range)))) return STATUS_NO_MEMORY;
    range->bar_offset = params->bar_offset;
    range->size = params->size;
    range->owner = params->owner;
    range->writable = params->writable;
    if ((status = section_view_map((HANDLE)(ULONG_PTR)params->handle_process, (HANDLE)(ULONG_PTR)params->section,
            params->section_offset, params->size,
            params->writable, &range->view)))
        goto err_free;
    if ((status = memslot_alloc(memslots, &range->slot))) goto err_unmap;

    TRACE("range %p: slot %u, view %p\n", range, range->slot, range->view.data);
    *ret = range;
    return STATUS_SUCCESS;

err_unmap:
    section_view_unmap(&range->view);
err_free:
    free(range);
    return status;
}

NTSTATUS range_attach(struct memslot_table *memslots, struct mmio_range *range, uint64_t gpa)
{
    NTSTATUS status;

    if (!(status = memslot_set(memslots, range->slot, gpa, range->size, range->view.data, range->writable)))
        range->attached = 1;
    return status;
}

void range_detach(struct memslot_table *memslots, struct mmio_range *range)
{
    if (!range->attached) return;
    /* Deleting a slot only fails for a slot KVM does not have. */
    if (memslot_set(memslots, range->slot, 0, 0, NULL, 0)) ERR("range %p: cannot delete slot %u\n", range, range->slot);
    range->attached = 0;
}

/* Once the memslot is gone KVM holds no more references to the pages, so
 * the view can go. */
void range_free(struct memslot_table *memslots, struct mmio_range *range)
{
    range_detach(memslots, range);
    memslot_free(memslots, range->slot);
    section_view_unmap(&range->view);
    free(range);
}
