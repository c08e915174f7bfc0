/*
 * KVM memslots of one VM: slot numbers (first free wins) and setting them.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_UNIX_MEMSLOT_H
#define __VMIDL_UNIX_MEMSLOT_H

#include "unix_private.h"

struct memslot_table
{
    int vm_fd;                  /* -1 once the VM is closed: nothing left to delete */
    pthread_mutex_t lock;       /* the bitmap */
    uint64_t *bitmap;
    unsigned int count;
};

extern NTSTATUS memslot_table_init(struct memslot_table *table, int vm_fd);
extern void memslot_table_cleanup(struct memslot_table *table);
extern NTSTATUS memslot_alloc(struct memslot_table *table, unsigned int *slot);
extern void memslot_free(struct memslot_table *table, unsigned int slot);
/* Maps [gpa, gpa + size) to host memory; size 0 deletes the slot. */
extern NTSTATUS memslot_set(struct memslot_table *table, unsigned int slot, uint64_t gpa, uint64_t size,
        void *host, int writable);

#endif /* __VMIDL_UNIX_MEMSLOT_H */
