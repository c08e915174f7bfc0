/*
 * Guest RAM: regions of the caller's memory or of a section, each one KVM
 * memslot, and the one translation of guest physical addresses that every
 * access to guest memory from the host goes through, which refuses
 * whatever is not RAM.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <string.h>

#include "unix_private.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

struct ram_region
{
    struct list entry;          /* vm->ram, sorted by gpa */
    uint64_t gpa;
    uint64_t size;
    unsigned int slot;
    unsigned char *host;
    int writable;
    struct section_view view;   /* section-backed RAM; view.section is NULL otherwise */
};

static void ram_insert(struct vm *vm, struct ram_region *ram)
{
    struct list *cur;

    LIST_FOR_EACH(cur, &vm->ram)
        if (LIST_ENTRY(cur, struct ram_region, entry)->gpa > ram->gpa) break;
    list_add_before(cur, &ram->entry);
}

static NTSTATUS ram_add(struct vm *vm, struct ram_region *ram)
{
    NTSTATUS status;

    robust_mutex_lock(&vm->layout_lock);
    if (vm->closing) status = STATUS_DEVICE_REMOVED;
    else if (!vm_gpa_range_is_free(vm, ram->gpa, ram->size, NULL)) status = STATUS_OBJECT_NAME_COLLISION;
    else if (!(status = memslot_alloc(&vm->memslots, &ram->slot)))
    {
        if ((status = memslot_set(&vm->memslots, ram->slot, ram->gpa, ram->size, ram->host, ram->writable)))
            memslot_free(&vm->memslots, ram->slot);
        else
            ram_insert(vm, ram);
    }
    pthread_mutex_unlock(&vm->layout_lock);
    return status;
}

NTSTATUS vm_map_ram(struct vm *vm, const struct vm_map_ram_params *params)
{
    struct ram_region *ram;
    NTSTATUS status;

    if (!(ram = calloc(1, sizeof(*ram)))) return STATUS_NO_MEMORY;
    ram->gpa = params->guest_address;
    ram->size = params->size;
    ram->host = (unsigned char *)(uintptr_t)params->host_address;
    ram->writable = params->writable;
    if ((status = ram_add(vm, ram))) free(ram);
    return status;
}

NTSTATUS vm_map_section(struct vm *vm, const struct vm_map_section_params *params)
{
    struct ram_region *ram;
    NTSTATUS status;

    if (!(ram = calloc(1, sizeof(*ram)))) return STATUS_NO_MEMORY;
    ram->gpa = params->guest_address;
    ram->size = params->size;
    ram->writable = params->writable;
    if ((status = section_view_map(CURRENT_PROCESS, (HANDLE)(ULONG_PTR)params->section, params->section_offset,
            params->size, params->writable, &ram->view)))
        goto err_free;
    ram->host = ram->view.data;
    if (!(status = ram_add(vm, ram))) return STATUS_SUCCESS;
    section_view_unmap(&ram->view);
err_free:
    free(ram);
    return status;
}

/* Once the VM is closed: nothing of its RAM is in KVM any more. */
void ram_release_all(struct vm *vm)
{
    struct list *cur, *next;

    LIST_FOR_EACH_SAFE(cur, next, &vm->ram)
    {
        struct ram_region *ram = LIST_ENTRY(cur, struct ram_region, entry);

        list_remove(cur);
        memslot_free(&vm->memslots, ram->slot);
        if (ram->view.section) section_view_unmap(&ram->view);
        free(ram);
    }
}

int ram_overlaps(struct vm *vm, uint64_t gpa, uint64_t size)
{
    struct list *cur;

    LIST_FOR_EACH(cur, &vm->ram)
    {
        struct ram_region *ram = LIST_ENTRY(cur, struct ram_region, entry);
        if (ranges_overlap(gpa, size, ram->gpa, ram->size)) return 1;
    }
    return 0;
}

/* The one translation: the region holding gpa, and how many bytes of it
 * from there on; NULL where gpa is not RAM.  Under the layout lock. */
static struct ram_region *ram_translate(struct vm *vm, uint64_t gpa, uint64_t *left)
{
    struct list *cur;

    LIST_FOR_EACH(cur, &vm->ram)
    {
        struct ram_region *ram = LIST_ENTRY(cur, struct ram_region, entry);

        if (gpa - ram->gpa >= ram->size) continue;
        *left = ram->size - (gpa - ram->gpa);
        return ram;
    }
    return NULL;
}

/* Across regions that follow each other; a hole or MMIO anywhere in the
 * range refuses the whole copy before a byte moves. */
NTSTATUS vm_guest_memory(struct vm *vm, const struct vm_guest_memory_params *params)
{
    unsigned char *buffer = (unsigned char *)(uintptr_t)params->buffer;
    uint64_t gpa, left = 0, done, chunk = 0;
    struct ram_region *ram;
    NTSTATUS status = STATUS_SUCCESS;

    robust_mutex_lock(&vm->layout_lock);
    if (vm->closing) status = STATUS_DEVICE_REMOVED;
    for (gpa = params->guest_address, done = 0; !status && done < params->size; gpa += chunk, done += chunk)
    {
        if (!(ram = ram_translate(vm, gpa, &left))) status = STATUS_INVALID_ADDRESS;
        else if (params->write && !ram->writable) status = STATUS_ACCESS_DENIED;
        else chunk = min(left, params->size - done);
    }
    for (gpa = params->guest_address, done = 0; !status && done < params->size; gpa += chunk, done += chunk)
    {
        ram = ram_translate(vm, gpa, &left);
        chunk = min(left, params->size - done);
        if (params->write) memcpy(ram->host + (gpa - ram->gpa), buffer + done, chunk);
        else memcpy(buffer + done, ram->host + (gpa - ram->gpa), chunk);
    }
    pthread_mutex_unlock(&vm->layout_lock);
    if (status) WARN("guest memory at %#llx, %#x bytes: status %#x\n", (unsigned long long)params->guest_address,
            params->size, (unsigned int)status);
    return status;
}

/* An aperture is another view of the region's own section; RAM that is
 * the worker's own memory has none to share. */
NTSTATUS vm_ram_section(struct vm *vm, struct vm_ram_section_params *params)
{
    ACCESS_MASK access = SECTION_QUERY | SECTION_MAP_READ | (params->writable ? SECTION_MAP_WRITE : 0);
    struct ram_region *ram;
    NTSTATUS status;
    HANDLE section;
    uint64_t left;

    robust_mutex_lock(&vm->layout_lock);
    if (vm->closing) status = STATUS_DEVICE_REMOVED;
    else if (!(ram = ram_translate(vm, params->guest_address, &left)) || left < params->size)
        status = STATUS_INVALID_ADDRESS;
    else if (!ram->view.section) status = STATUS_NOT_SUPPORTED;
    else if (params->writable && !ram->writable) status = STATUS_ACCESS_DENIED;
    else if (!(status = NtDuplicateObject(CURRENT_PROCESS, ram->view.section, CURRENT_PROCESS, &section, access, 0, 0)))
    {
        params->section = (ULONG_PTR)section;
        params->section_offset = ram->view.offset + (params->guest_address - ram->gpa);
    }
    pthread_mutex_unlock(&vm->layout_lock);
    return status;
}
