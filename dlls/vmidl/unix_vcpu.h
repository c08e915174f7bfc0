/*
 * Virtual processors: register state, the KVM_RUN loop, and stopping a run
 * from another thread (cancel, pause).
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_UNIX_VCPU_H
#define __VMIDL_UNIX_VCPU_H

#include "unix_private.h"

#define VCPU_CLOSED (~(uint64_t)0)

struct vcpu
{
    int fd;
    struct kvm_run *run;
    /* The thread in a run or a register call, as Win32 thread id << 32 |
     * unix thread id: 0 when free, VCPU_CLOSED once the VM is shut down.  A
     * run keeps it across its MMIO callbacks. */
    uint64_t owner;
    int cancel;                 /* the next run, or this one, returns Canceled */
    int in_kvm;                 /* inside KVM_RUN (or about to be), or holding an exit not yet routed */
    int io_pending;             /* KVM finishes the last I/O exit on the next KVM_RUN */
    int mmio_read_pending;
    void *exit_device;          /* the device whose MMIO callback the run is in: the VM's business */
};

extern NTSTATUS vcpu_init(int vm_fd, struct vcpu *vcpu, unsigned int index);
extern void vcpu_cleanup(struct vcpu *vcpu);

/* Makes the calling thread the owner: STATUS_DEVICE_BUSY while another live
 * thread owns it (a thread that died owning it loses it), and
 * STATUS_DEVICE_REMOVED once closed. */
extern NTSTATUS vcpu_acquire(struct vcpu *vcpu);
extern void vcpu_release(struct vcpu *vcpu);
extern int vcpu_owned_by_caller(const struct vcpu *vcpu);
/* Cancels any run and waits until nobody (alive) owns the vCPU, then closes
 * it to further use.  The caller must not own it. */
extern void vcpu_close(struct vcpu *vcpu);

/* The caller owns the vCPU for these. */
extern NTSTATUS vcpu_set_registers(struct vcpu *vcpu, const VMIDL_VP_REGISTERS *regs);
extern NTSTATUS vcpu_get_registers(struct vcpu *vcpu, VMIDL_VP_REGISTERS *regs);
/* Runs the guest until an exit the host must see, a cancel, or an error.
 * STATUS_ACCESS_VIOLATION: guest memory KVM could not reach.  The run waits
 * (outside KVM) while *paused is set. */
extern NTSTATUS vcpu_run(struct vcpu *vcpu, const int *paused, uint64_t mmio_read_value,
        VMIDL_RUN_VP_EXIT_CONTEXT *exit);

/* After vcpu_run() returned an exit: the caller has routed it, and a BAR
 * move may go on. */
extern void vcpu_exit_routed(struct vcpu *vcpu);
extern void vcpu_cancel(struct vcpu *vcpu);
/* Sets *paused and returns once none of the vCPUs runs guest code. */
extern void vcpus_pause(struct vcpu *vcpus, unsigned int count, int *paused);
extern void vcpus_resume(int *paused);

#endif /* __VMIDL_UNIX_VCPU_H */
