/*
 * Doorbells: an eventfd per doorbell, registered with KVM_IOEVENTFD and
 * watched by the VM's dispatcher, which sets the doorbell's Win32 event.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "unix_doorbell.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

/* vmidl's own handle to the caller's event, with just the access the
 * dispatcher needs to set it. */
static NTSTATUS duplicate_event(UINT64 event, UINT64 *ret)
{
    static const WCHAR eventW[] = {'E','v','e','n','t'};
    char buffer[sizeof(OBJECT_TYPE_INFORMATION) + 64 * sizeof(WCHAR)];
    OBJECT_TYPE_INFORMATION *info = (OBJECT_TYPE_INFORMATION *)buffer;
    HANDLE dup;
    NTSTATUS status;

    if ((status = NtDuplicateObject(CURRENT_PROCESS, (HANDLE)(ULONG_PTR)event, CURRENT_PROCESS, &dup,
            EVENT_MODIFY_STATE, 0, 0)))
    {
        WARN("cannot duplicate event %#llx, status %#x\n", (unsigned long long)event, (unsigned int)status);
        return STATUS_INVALID_HANDLE;
    }
    if (NtQueryObject(dup, ObjectTypeInformation, info, sizeof(buffer), NULL)
            || info->TypeName.Length != sizeof(eventW) || memcmp(info->TypeName.Buffer, eventW, sizeof(eventW)))
    {
        WARN("handle %#llx is not an event\n", (unsigned long long)event);
        NtClose(dup);
        return STATUS_INVALID_HANDLE;
    }
    *ret = (ULONG_PTR)dup;
    return STATUS_SUCCESS;
}

NTSTATUS doorbell_create(struct dispatcher *dispatcher, const struct doorbell_params *params, struct doorbell **ret)
{
    struct doorbell *doorbell;
    NTSTATUS status;

    if (!(doorbell = calloc(1, sizeof(*doorbell)))) return STATUS_NO_MEMORY;
    doorbell->bar_offset = params->bar_offset;
    doorbell->length = params->length;
    doorbell->any_value = !!params->any_value;
    doorbell->value = params->any_value ? 0 : params->value;
    if ((status = duplicate_event(params->event, &doorbell->event))) goto err_free;
    if ((doorbell->eventfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
    {
        status = status_from_errno(errno);
        goto err_close_event;
    }
    if ((status = dispatcher_add(dispatcher, doorbell->eventfd, doorbell->event, &doorbell->dispatch_index)))
        goto err_close;
    *ret = doorbell;
    return STATUS_SUCCESS;

err_close:
    close(doorbell->eventfd);
err_close_event:
    NtClose((HANDLE)(ULONG_PTR)doorbell->event);
err_free:
    free(doorbell);
    return status;
}

static int doorbell_ioctl(int vm_fd, const struct doorbell *doorbell, uint64_t gpa, int assign)
{
    struct kvm_ioeventfd ioeventfd =
    {
        .addr = gpa,
        .len = doorbell->length,
        .fd = doorbell->eventfd,
        .datamatch = doorbell->value,
    };

    if (!doorbell->any_value) ioeventfd.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
    if (!assign) ioeventfd.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
    return ioctl(vm_fd, KVM_IOEVENTFD, &ioeventfd) < 0 ? errno : 0;
}

NTSTATUS doorbell_attach(int vm_fd, struct doorbell *doorbell, uint64_t gpa)
{
    int err;

    if ((err = doorbell_ioctl(vm_fd, doorbell, gpa, 1)))
    {
        WARN("KVM_IOEVENTFD at %#llx failed: %d\n", (unsigned long long)gpa, err);
        return status_from_errno(err);
    }
    doorbell->attached = 1;
    doorbell->gpa = gpa;
    return STATUS_SUCCESS;
}

void doorbell_detach(int vm_fd, struct doorbell *doorbell)
{
    int err;

    if (!doorbell->attached) return;
    if (vm_fd >= 0 && (err = doorbell_ioctl(vm_fd, doorbell, doorbell->gpa, 0)))
        ERR("cannot deassign the ioeventfd at %#llx: %d\n", (unsigned long long)doorbell->gpa, err);
    doorbell->attached = 0;
}

void doorbell_silence(struct dispatcher *dispatcher, struct doorbell *doorbell)
{
    if (doorbell->silenced) return;
    dispatcher_remove(dispatcher, doorbell->eventfd, doorbell->dispatch_index);
    doorbell->silenced = 1;
}

void doorbell_free(struct dispatcher *dispatcher, int vm_fd, struct doorbell *doorbell)
{
    doorbell_silence(dispatcher, doorbell);
    doorbell_detach(vm_fd, doorbell);
    close(doorbell->eventfd);
    NtClose((HANDLE)(ULONG_PTR)doorbell->event);
    free(doorbell);
}

int doorbell_conflicts(const struct doorbell *a, const struct doorbell *b)
{
    if (a->bar_offset != b->bar_offset) return 0;
    return a->length != b->length || a->any_value || b->any_value || a->value == b->value;
}

int doorbell_matches(const struct doorbell *doorbell, const struct doorbell_params *params)
{
    return doorbell->bar_offset == params->bar_offset && doorbell->length == params->length
            && doorbell->any_value == !!params->any_value && (doorbell->any_value || doorbell->value == params->value);
}
