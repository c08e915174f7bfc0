/*
 * KVM memslot numbers: a bitmap of the slots in use, first free wins.
 * Called with vm->lock held.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <sys/ioctl.h>

#include "ntstatus.h"
#define WIN32_NO_STATUS
#include "windef.h"
#include "winternl.h"
#include "wine/debug.h"

#include "unix_private.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

int memslot_alloc(struct vm *vm, unsigned int *slot)
{
    unsigned int word, words = (vm->slot_count + 63) / 64;

    for (word = 0; word < words; word++)
    {
        unsigned int bit;

        if (vm->slot_bitmap[word] == ~0ull) continue;
        bit = __builtin_ctzll(~vm->slot_bitmap[word]);
        if (word * 64 + bit >= vm->slot_count) break;
        vm->slot_bitmap[word] |= 1ull << bit;
        *slot = word * 64 + bit;
        return 0;
    }
    WARN("all %u memslots in use\n", vm->slot_count);
    return -ENOSPC;
}

void memslot_free(struct vm *vm, unsigned int slot)
{
    vm->slot_bitmap[slot / 64] &= ~(1ull << (slot % 64));
}

/* size 0 deletes the slot. */
int memslot_set(struct vm *vm, unsigned int slot, uint64_t gpa, uint64_t size, void *host, int writable)
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
    if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
    {
        int err = -errno;
        WARN("KVM_SET_USER_MEMORY_REGION slot %u failed: %d\n", slot, err);
        return err;
    }
    return 0;
}
