/*
 * Sections mapped for the guest: vmidl's own handle to the section object,
 * and a MAP_SHARED view of its pages.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_UNIX_SECTION_H
#define __VMIDL_UNIX_SECTION_H

#include "unix_private.h"

struct section_view
{
    HANDLE section;             /* vmidl's own handle: keeps the object, and its file's size */
    void *data;
    uint64_t size;
};

/* Maps [offset, offset + size) of the section, read-write or read-only. */
extern NTSTATUS section_view_map(HANDLE section, uint64_t offset, uint64_t size, int writable,
        struct section_view *view);
extern void section_view_unmap(struct section_view *view);
/* Whether every page of the view is still backed by its file (a program
 * outside Wine may truncate the file). */
extern int section_view_is_backed(const struct section_view *view);

#endif /* __VMIDL_UNIX_SECTION_H */
