/*
 * Sections mapped for the guest: vmidl's own handle to the section object,
 * and a MAP_SHARED view of its pages.
 *
 * The caller's handle is duplicated first, and everything after (the
 * checks, the fd, the mapping) goes through that duplicate: another thread
 * may close the caller's handle and reuse its value, but what is checked is
 * what is mapped.  Holding the section also keeps its file from shrinking:
 * Wine refuses to truncate a file while a section of it exists
 * (ERROR_USER_MAPPED_FILE).  The handle kept is a second duplicate, made
 * with DUPLICATE_CLOSE_SOURCE, so that no fd stays in ntdll's fd cache for
 * it: a range costs a mapping, not an fd.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE     /* process_vm_readv */
#include <sys/mman.h>
#include <sys/uio.h>

#include "unix_private.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

/* From ntdll.so; Debian ships no wine/server.h. */
extern NTSTATUS CDECL wine_server_handle_to_fd(HANDLE handle, unsigned int access, int *unix_fd,
        unsigned int *options);

/* Whether the section's own protection lets it be mapped writable: a
 * handle with SECTION_MAP_WRITE to a PAGE_READONLY section gets a
 * read-write fd from Wine all the same, while Windows refuses such a view.
 * So ask for one, as MapViewOfFile(FILE_MAP_WRITE) would. */
static NTSTATUS section_check_writable(HANDLE section, uint64_t offset)
{
    LARGE_INTEGER view_offset = {.QuadPart = offset & ~(uint64_t)0xffff};
    SIZE_T view_size = (offset & 0xffff) + 1;
    void *base = NULL;
    NTSTATUS status;

    status = NtMapViewOfSection(section, CURRENT_PROCESS, &base, 0, 0, &view_offset, &view_size, ViewShare, 0,
            PAGE_READWRITE);
    if (!status) NtUnmapViewOfSection(CURRENT_PROCESS, base);
    else
    {
        WARN("section %p cannot be mapped writable, status %#x\n", section, (unsigned int)status);
        if (status == STATUS_SECTION_PROTECTION || status == STATUS_INVALID_PAGE_PROTECTION) status = STATUS_ACCESS_DENIED;
    }
    return status;
}

/* A data section holding [offset, offset + size), and an fd with the access
 * the mapping needs. */
static NTSTATUS section_get_fd(HANDLE section, uint64_t offset, uint64_t size, int writable, int *fd)
{
    unsigned int access = SECTION_MAP_READ | (writable ? SECTION_MAP_WRITE : 0);
    SECTION_BASIC_INFORMATION info;
    NTSTATUS status;

    if ((status = NtQuerySection(section, SectionBasicInformation, &info, sizeof(info), NULL)))
    {
        WARN("section %p: query failed, status %#x\n", section, (unsigned int)status);
        return status;
    }
    if (info.Attributes & SEC_IMAGE)
    {
        WARN("section %p is an image section\n", section);
        return STATUS_INVALID_PARAMETER;
    }
    if ((uint64_t)info.Size.QuadPart < offset || (uint64_t)info.Size.QuadPart - offset < size)
    {
        WARN("section %p holds %#llx bytes, %#llx wanted at %#llx\n", section,
                (unsigned long long)info.Size.QuadPart, (unsigned long long)size, (unsigned long long)offset);
        return STATUS_INVALID_PARAMETER;
    }
    if (writable && (status = section_check_writable(section, offset))) return status;
    if ((status = wine_server_handle_to_fd(section, access, fd, NULL)))
        WARN("section %p: no fd for access %#x, status %#x\n", section, access, (unsigned int)status);
    return status;
}

/* The section handle is a value in process (this one, or a device host's
 * that calls through a proxy). */
NTSTATUS section_view_map(HANDLE process, HANDLE section, uint64_t offset, uint64_t size, int writable,
        struct section_view *view)
{
    HANDLE checked;
    NTSTATUS status;
    int fd;

    if ((status = NtDuplicateObject(process, section, CURRENT_PROCESS, &checked, 0, 0, DUPLICATE_SAME_ACCESS)))
    {
        WARN("cannot duplicate section %p, status %#x\n", section, (unsigned int)status);
        return STATUS_INVALID_HANDLE;
    }
    if ((status = section_get_fd(checked, offset, size, writable, &fd)))
    {
        /* Not a section at all: the handle is what is wrong. */
        if (status == STATUS_OBJECT_TYPE_MISMATCH) status = STATUS_INVALID_HANDLE;
        NtClose(checked);
        return status;
    }
    view->data = mmap(NULL, size, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, offset);
    close(fd);
    if (view->data == MAP_FAILED)
    {
        status = status_from_errno(errno);
        WARN("mmap of section %p failed: %#x\n", section, (unsigned int)status);
        NtClose(checked);
        return status;
    }
    if ((status = NtDuplicateObject(CURRENT_PROCESS, checked, CURRENT_PROCESS, &view->section, 0, 0,
            DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE)))
    {
        munmap(view->data, size);
        return status;
    }
    view->offset = offset;
    view->size = size;
    return STATUS_SUCCESS;
}

void section_view_unmap(struct section_view *view)
{
    munmap(view->data, view->size);
    NtClose(view->section);
}

/* Files shrink from the end, so the last page tells.  Reading it through
 * process_vm_readv gets EFAULT instead of SIGBUS when it is gone. */
int section_view_is_backed(const struct section_view *view)
{
    char byte;
    struct iovec local = {&byte, 1};
    struct iovec remote = {(char *)view->data + view->size - 1, 1};

    return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == 1;
}
