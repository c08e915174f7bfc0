/*
 * Section-backed MMIO ranges: section handle -> fd -> MAP_SHARED view ->
 * KVM memslot at the BAR offset.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>

#include "ntstatus.h"
#define WIN32_NO_STATUS
#include "windef.h"
#include "winternl.h"
#include "wine/debug.h"

#include "unix_private.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

/* From ntdll.so; Debian ships no wine/server.h. */
extern NTSTATUS CDECL wine_server_handle_to_fd(HANDLE handle, unsigned int access, int *unix_fd,
        unsigned int *options);

static int errno_from_status(NTSTATUS status)
{
    switch (status)
    {
    case STATUS_ACCESS_DENIED: return -EACCES;
    case STATUS_NO_MEMORY: return -ENOMEM;
    default: return -EBADF;
    }
}

/* Checks that the handle is a data section holding [offset, offset + size)
 * and returns an fd with the access the mapping needs. */
static int section_get_fd(HANDLE section, int writable, uint64_t offset, uint64_t size, int *fd)
{
    unsigned int access = SECTION_MAP_READ | (writable ? SECTION_MAP_WRITE : 0);
    SECTION_BASIC_INFORMATION info;
    NTSTATUS status;

    if ((status = NtQuerySection(section, SectionBasicInformation, &info, sizeof(info), NULL)))
    {
        WARN("section %p: query failed, status %#x\n", section, (unsigned int)status);
        return errno_from_status(status);
    }
    if (info.Attributes & SEC_IMAGE)
    {
        WARN("section %p is an image section\n", section);
        return -EINVAL;
    }
    if ((uint64_t)info.Size.QuadPart < offset || (uint64_t)info.Size.QuadPart - offset < size)
    {
        WARN("section %p holds %#llx bytes, %#llx wanted at %#llx\n", section,
                (unsigned long long)info.Size.QuadPart, (unsigned long long)size, (unsigned long long)offset);
        return -EINVAL;
    }
    if ((status = wine_server_handle_to_fd(section, access, fd, NULL)))
    {
        WARN("section %p: no fd for access %#x, status %#x\n", section, access, (unsigned int)status);
        return errno_from_status(status);
    }
    return 0;
}

int range_map(struct vm *vm, struct bar *bar, struct mmio_range *range)
{
    return memslot_set(vm, range->slot, bar->gpa + range->bar_offset, range->size, range->host, range->writable);
}

int range_create(struct vm *vm, struct device *device, const struct range_create_params *params)
{
    struct bar *bar = &device->bars[params->bar];
    struct mmio_range *range;
    int fd, err;

    if (!(range = calloc(1, sizeof(*range)))) return -ENOMEM;
    range->bar_offset = params->bar_offset;
    range->size = params->size;
    range->writable = params->writable;

    if ((err = section_get_fd((HANDLE)(ULONG_PTR)params->section, params->writable,
            params->section_offset, params->size, &fd)))
        goto err_free;

    range->host = mmap(NULL, range->size, PROT_READ | (range->writable ? PROT_WRITE : 0),
            MAP_SHARED, fd, params->section_offset);
    close(fd);
    if (range->host == MAP_FAILED)
    {
        err = -errno;
        WARN("mmap of section failed: %d\n", err);
        goto err_free;
    }

    pthread_mutex_lock(&vm->lock);
    if (bar_has_range_in(bar, range->bar_offset, range->size)
            || bar_has_doorbell_in(bar, range->bar_offset, range->size))
    {
        err = -EEXIST;
        goto err_unlock;
    }
    if ((err = memslot_alloc(vm, &range->slot))) goto err_unlock;
    if ((err = bar_index_range(bar, range))) goto err_free_slot;
    if ((err = range_map(vm, bar, range)))
    {
        bar_unindex_range(bar, range);
        goto err_free_slot;
    }
    pthread_mutex_unlock(&vm->lock);

    TRACE("range %p: slot %u, host %p\n", range, range->slot, range->host);
    return 0;

err_free_slot:
    memslot_free(vm, range->slot);
err_unlock:
    pthread_mutex_unlock(&vm->lock);
    munmap(range->host, range->size);
err_free:
    free(range);
    return err;
}

/* Called with vm->lock held.  Once the memslot is gone KVM holds no more
 * references to the pages, so the view can go. */
void range_free(struct vm *vm, struct mmio_range *range, int vm_closing)
{
    if (!vm_closing) memslot_set(vm, range->slot, 0, 0, NULL, 0);
    memslot_free(vm, range->slot);
    bar_unindex_range(range->bar, range);
    munmap(range->host, range->size);
    free(range);
}

int range_destroy(struct vm *vm, struct device *device, unsigned int bar, uint64_t bar_offset)
{
    struct mmio_range *range;
    int err = -ENOENT;

    pthread_mutex_lock(&vm->lock);
    if ((range = bar_find_range(&device->bars[bar], bar_offset)))
    {
        range_free(vm, range, 0);
        err = 0;
    }
    pthread_mutex_unlock(&vm->lock);
    return err;
}
