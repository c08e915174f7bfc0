/*
 * KVM memslots of one VM: slot numbers (first free wins) and setting them.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "unix_private.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

NTSTATUS memslot_table_init(struct memslot_table *table, int vm_fd)
{
    unsigned int count = kvm_check_cap(vm_fd, KVM_CAP_NR_MEMSLOTS);

    if (!count) count = 32;
    if (!(table->bitmap = calloc((count + 63) / 64, sizeof(*table->bitmap)))) return STATUS_NO_MEMORY;
    table->vm_fd = vm_fd;
    table->count = count;
    robust_mutex_init(&table->lock);
    return STATUS_SUCCESS;
}

void memslot_table_cleanup(struct memslot_table *table)
{
    free(table->bitmap);
    pthread_mutex_destroy(&table->lock);
}

NTSTATUS memslot_alloc(struct memslot_table *table, unsigned int *slot)
{
    unsigned int word, words = (table->count + 63) / 64;
    NTSTATUS status = STATUS_INSUFFICIENT_RESOURCES;

    robust_mutex_lock(&table->lock);
    for (word = 0; word < words; word++)
    {
        unsigned int bit;

        if (table->bitmap[word] == ~0ull) continue;
        bit = __builtin_ctzll(~table->bitmap[word]);
        if (word * 64 + bit >= table->count) break;
        table->bitmap[word] |= 1ull << bit;
        *slot = word * 64 + bit;
        status = STATUS_SUCCESS;
        break;
    }
    pthread_mutex_unlock(&table->lock);
    if (status) WARN("all %u memslots in use\n", table->count);
    return status;
}

void memslot_free(struct memslot_table *table, unsigned int slot)
{
    robust_mutex_lock(&table->lock);
    table->bitmap[slot / 64] &= ~(1ull << (slot % 64));
    pthread_mutex_unlock(&table->lock);
}

NTSTATUS memslot_set(struct memslot_table *table, unsigned int slot, uint64_t gpa, uint64_t size,
        void *host, int writable)
{
    struct kvm_userspace_memory_region region =
    {
        .slot = slot,
        .flags = writable ? 0 : KVM_MEM_READONLY,
        .guest_phys_addr = gpa,
        .memory_size = size,
        .userspace_addr = (uintptr_t)host,
    };

    TRACE("slot %u, gpa %#llx, size %#llx, host %p, writable %d\n", slot,
            (unsigned long long)gpa, (unsigned long long)size, host, writable);
    if (table->vm_fd < 0) return STATUS_SUCCESS;
    if (ioctl(table->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
    {
        int err = errno;
        WARN("KVM_SET_USER_MEMORY_REGION slot %u at %#llx failed: %d\n", slot, (unsigned long long)gpa, err);
        return status_from_errno(err);
    }
    return STATUS_SUCCESS;
}
