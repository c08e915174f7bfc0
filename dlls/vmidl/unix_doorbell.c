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

#include "unix_private.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

/* vmidl's own handle to the caller's event (a value in process), with just
 * the access the dispatcher needs to set it. */
static NTSTATUS duplicate_event(UINT64 process, UINT64 event, UINT64 *ret)
{
    static const WCHAR eventW[] = {'E','v','e','n','t'};
    char buffer[sizeof(OBJECT_TYPE_INFORMATION) + 64 * sizeof(WCHAR)];
    OBJECT_TYPE_INFORMATION *info = (OBJECT_TYPE_INFORMATION *)buffer;
    HANDLE dup;
    NTSTATUS status;

    if ((status = NtDuplicateObject((HANDLE)(ULONG_PTR)process, (HANDLE)(ULONG_PTR)event, CURRENT_PROCESS, &dup,
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

/* A new eventfd, listened to by the dispatcher; not in KVM yet. */
static NTSTATUS binding_init(struct dispatcher *dispatcher, UINT64 event, struct doorbell_binding *binding)
{
    NTSTATUS status;

    memset(binding, 0, sizeof(*binding));
    if ((binding->eventfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
    {
        binding->eventfd = -1;
        return status_from_errno(errno);
    }
    if ((status = dispatcher_add(dispatcher, binding->eventfd, event, &binding->dispatch_index)))
    {
        close(binding->eventfd);
        binding->eventfd = -1;
        return status;
    }
    binding->listening = 1;
    return STATUS_SUCCESS;
}

static int binding_ioctl(int vm_fd, const struct doorbell *doorbell, const struct doorbell_binding *binding,
        uint64_t gpa, int assign)
{
    struct kvm_ioeventfd ioeventfd =
    {
        .addr = gpa,
        .len = doorbell->length,
        .fd = binding->eventfd,
        .datamatch = doorbell->value,
    };

    if (!doorbell->any_value) ioeventfd.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
    if (!assign) ioeventfd.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
    return ioctl(vm_fd, KVM_IOEVENTFD, &ioeventfd) < 0 ? errno : 0;
}

static NTSTATUS binding_attach(int vm_fd, const struct doorbell *doorbell, struct doorbell_binding *binding,
        uint64_t gpa)
{
    int err;

    if ((err = binding_ioctl(vm_fd, doorbell, binding, gpa, 1)))
    {
        WARN("KVM_IOEVENTFD at %#llx failed: %d\n", (unsigned long long)gpa, err);
        return status_from_errno(err);
    }
    binding->attached = 1;
    binding->gpa = gpa;
    return STATUS_SUCCESS;
}

static void binding_detach(int vm_fd, const struct doorbell *doorbell, struct doorbell_binding *binding)
{
    int err;

    if (!binding->attached) return;
    if (vm_fd >= 0 && (err = binding_ioctl(vm_fd, doorbell, binding, binding->gpa, 0)))
        ERR("cannot deassign the ioeventfd at %#llx: %d\n", (unsigned long long)binding->gpa, err);
    binding->attached = 0;
}

static void binding_silence(struct dispatcher *dispatcher, struct doorbell_binding *binding)
{
    if (!binding->listening) return;
    dispatcher_remove(dispatcher, binding->eventfd, binding->dispatch_index);
    binding->listening = 0;
}

static void binding_close(struct dispatcher *dispatcher, int vm_fd, const struct doorbell *doorbell,
        struct doorbell_binding *binding)
{
    if (binding->eventfd < 0) return;
    binding_silence(dispatcher, binding);
    binding_detach(vm_fd, doorbell, binding);
    close(binding->eventfd);
    binding->eventfd = -1;
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
    doorbell->owner = params->owner;
    doorbell->spare.eventfd = -1;
    if ((status = duplicate_event(params->handle_process, params->event, &doorbell->event))) goto err_free;
    if ((status = binding_init(dispatcher, doorbell->event, &doorbell->binding))) goto err_close_event;
    *ret = doorbell;
    return STATUS_SUCCESS;

err_close_event:
    NtClose((HANDLE)(ULONG_PTR)doorbell->event);
err_free:
    free(doorbell);
    return status;
}

NTSTATUS doorbell_attach(int vm_fd, struct doorbell *doorbell, uint64_t gpa)
{
    return binding_attach(vm_fd, doorbell, &doorbell->binding, gpa);
}

void doorbell_detach(int vm_fd, struct doorbell *doorbell)
{
    binding_detach(vm_fd, doorbell, &doorbell->binding);
}

void doorbell_silence(struct dispatcher *dispatcher, struct doorbell *doorbell)
{
    binding_silence(dispatcher, &doorbell->binding);
}

void doorbell_free(struct dispatcher *dispatcher, int vm_fd, struct doorbell *doorbell)
{
    binding_close(dispatcher, vm_fd, doorbell, &doorbell->binding);
    binding_close(dispatcher, vm_fd, doorbell, &doorbell->spare);
    NtClose((HANDLE)(ULONG_PTR)doorbell->event);
    free(doorbell);
}

NTSTATUS doorbell_prepare_move(struct dispatcher *dispatcher, int vm_fd, struct doorbell *doorbell, uint64_t gpa)
{
    NTSTATUS status;

    if ((status = binding_init(dispatcher, doorbell->event, &doorbell->spare))) return status;
    if ((status = binding_attach(vm_fd, doorbell, &doorbell->spare, gpa)))
        binding_close(dispatcher, vm_fd, doorbell, &doorbell->spare);
    return status;
}

/* The old binding goes back where it was if a collision took it out early. */
void doorbell_cancel_move(struct dispatcher *dispatcher, int vm_fd, struct doorbell *doorbell)
{
    NTSTATUS status;

    binding_close(dispatcher, vm_fd, doorbell, &doorbell->spare);
    if (doorbell->binding.eventfd >= 0 && !doorbell->binding.attached
            && (status = binding_attach(vm_fd, doorbell, &doorbell->binding,
            doorbell->binding.gpa)))
        ERR("cannot put the doorbell back at %#llx, status %#x\n", (unsigned long long)doorbell->binding.gpa,
                (unsigned int)status);
}

/* KVM refuses an ioeventfd at an address where one of the same length
 * (or of any length) already matches the same value (or any value), and
 * looks at nothing else, not even the eventfd. */
static int bindings_collide(const struct doorbell *a, const struct doorbell *b)
{
    return !a->length || !b->length || (a->length == b->length && (a->any_value || b->any_value || a->value == b->value));
}

void doorbell_vacate(int vm_fd, struct doorbell *doorbell, const struct doorbell *mover, uint64_t gpa)
{
    if (doorbell->binding.attached && doorbell->binding.gpa == gpa && bindings_collide(doorbell, mover))
        binding_detach(vm_fd, doorbell, &doorbell->binding);
}

/* A write the guest makes at the old place from here on is consumed and
 * sets nothing, until doorbell_release_old(). */
void doorbell_commit_move(struct dispatcher *dispatcher, struct doorbell *doorbell)
{
    struct doorbell_binding old = doorbell->binding;

    binding_silence(dispatcher, &old);
    doorbell->binding = doorbell->spare;
    doorbell->spare = old;
}

/* As a commit to nowhere: the binding goes silent and waits, as the spare,
 * for doorbell_release_old(); a later move gives the doorbell a new one. */
void doorbell_leave(struct dispatcher *dispatcher, struct doorbell *doorbell)
{
    struct doorbell_binding none = {.eventfd = -1};

    binding_silence(dispatcher, &doorbell->binding);
    doorbell->spare = doorbell->binding;
    doorbell->binding = none;
}

void doorbell_release_old(int vm_fd, struct doorbell *doorbell)
{
    if (doorbell->spare.eventfd < 0) return;
    binding_detach(vm_fd, doorbell, &doorbell->spare);
    close(doorbell->spare.eventfd);
    doorbell->spare.eventfd = -1;
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
