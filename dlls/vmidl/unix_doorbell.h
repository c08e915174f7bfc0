/*
 * Doorbells: an eventfd registered with KVM_IOEVENTFD at the doorbell's
 * guest address and watched by the VM's dispatcher, which sets the
 * doorbell's Win32 event.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_UNIX_DOORBELL_H
#define __VMIDL_UNIX_DOORBELL_H

#include "unix_dispatch.h"

/* One eventfd, where KVM signals it, and whether the dispatcher listens. */
struct doorbell_binding
{
    int eventfd;                /* -1: none */
    uint32_t dispatch_index;
    int listening;              /* in the dispatcher */
    int attached;               /* in KVM, at gpa */
    uint64_t gpa;
};

struct doorbell
{
    struct list entry;          /* in its BAR */
    uint64_t bar_offset;
    uint64_t value;
    uint32_t length;            /* 0: any length */
    int any_value;
    uint64_t owner;
    UINT64 event;               /* vmidl's own handle to the Win32 event */
    struct doorbell_binding binding;
    /* During a BAR move: the binding at the new place until the move
     * commits, then the old one, silent, until it is released. */
    struct doorbell_binding spare;
};

/* Keeps its own handle to the caller's event (STATUS_INVALID_HANDLE when
 * it is not one); the doorbell rings nothing until doorbell_attach(). */
extern NTSTATUS doorbell_create(struct dispatcher *dispatcher, const struct doorbell_params *params,
        struct doorbell **ret);
extern NTSTATUS doorbell_attach(int vm_fd, struct doorbell *doorbell, uint64_t gpa);
/* Costs a kernel grace period (up to ~8 ms here while a vCPU runs). */
extern void doorbell_detach(int vm_fd, struct doorbell *doorbell);
/* Once this returns the event is never set again. */
extern void doorbell_silence(struct dispatcher *dispatcher, struct doorbell *doorbell);
/* Silences and detaches the doorbell if needed, then closes it. */
extern void doorbell_free(struct dispatcher *dispatcher, int vm_fd, struct doorbell *doorbell);

/* A move in three steps, so that no grace period falls while the vCPUs
 * are paused: prepare binds a second eventfd at the new place (undone by
 * cancel); commit makes it the doorbell's, the old binding going silent;
 * release then takes the old one out of KVM. */
extern NTSTATUS doorbell_prepare_move(struct dispatcher *dispatcher, int vm_fd, struct doorbell *doorbell,
        uint64_t gpa);
extern void doorbell_cancel_move(struct dispatcher *dispatcher, int vm_fd, struct doorbell *doorbell);
extern void doorbell_commit_move(struct dispatcher *dispatcher, struct doorbell *doorbell);
extern void doorbell_release_old(int vm_fd, struct doorbell *doorbell);

/* Whether two doorbells at one offset may coexist (the Windows hypervisor's
 * rule): same length, and distinct values, none of them "any value". */
extern int doorbell_conflicts(const struct doorbell *a, const struct doorbell *b);
extern int doorbell_matches(const struct doorbell *doorbell, const struct doorbell_params *params);

#endif /* __VMIDL_UNIX_DOORBELL_H */
