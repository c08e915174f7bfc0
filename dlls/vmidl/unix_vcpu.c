/*
 * Virtual processors: register state in the WHv-like layout of vmidlhost.h,
 * the KVM_RUN loop, and stopping a run from another thread.
 *
 * Another thread stops a run by setting kvm_run.immediate_exit, which KVM
 * checks when it enters the guest, and then sending the vCPU's thread a
 * signal with an empty handler, which makes a KVM_RUN in progress return
 * EINTR.  The run loop clears immediate_exit before it looks at its cancel
 * and pause flags, so a request made at any moment either is seen there or
 * stops the next KVM_RUN at once.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>

#include "unix_private.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

static int kick_signal;
static pthread_once_t kick_once = PTHREAD_ONCE_INIT;

static void kick_handler(int signal)
{
}

/* A real-time signal nobody in the process handles yet: Wine, glibc and
 * other libraries take theirs before any partition exists. */
static void kick_signal_init(void)
{
    struct sigaction action, old;
    int signal;

    memset(&action, 0, sizeof(action));
    action.sa_handler = kick_handler;
    action.sa_flags = SA_RESTART | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    for (signal = SIGRTMIN; signal <= SIGRTMAX; signal++)
    {
        if (sigaction(signal, NULL, &old) || old.sa_handler != SIG_DFL || (old.sa_flags & SA_SIGINFO)) continue;
        if (!sigaction(signal, &action, NULL)) break;
    }
    if (signal > SIGRTMAX) ERR("no free real-time signal: runs can only be canceled between exits\n");
    else kick_signal = signal;
    TRACE("kick signal %d\n", kick_signal);
}

static uint64_t current_owner(void)
{
    return (uint64_t)HandleToULong(NtCurrentTeb()->ClientId.UniqueThread) << 32 | (uint32_t)current_tid();
}

static pid_t owner_unix_tid(uint64_t owner)
{
    return owner && owner != VCPU_CLOSED ? (pid_t)(uint32_t)owner : 0;
}

/* Whether the owner's unix thread still exists.  A Win32 thread killed by
 * TerminateThread is signaled before its unix thread is gone. */
static int owner_is_running(uint64_t owner)
{
    pid_t tid = owner_unix_tid(owner);
    return tid && thread_is_alive(tid);
}

/* Whether the owner is alive as a Win32 thread too: asks wineserver, so
 * only where a vCPU looks busy. */
static int owner_is_alive(uint64_t owner)
{
    CLIENT_ID id = {NtCurrentTeb()->ClientId.UniqueProcess, ULongToHandle(owner >> 32)};
    OBJECT_ATTRIBUTES attr = {sizeof(attr)};
    THREAD_BASIC_INFORMATION info;
    NTSTATUS status;
    HANDLE thread;

    if (!owner_is_running(owner)) return 0;
    if (NtOpenThread(&thread, THREAD_QUERY_LIMITED_INFORMATION, &attr, &id)) return 0;
    status = NtQueryInformationThread(thread, ThreadBasicInformation, &info, sizeof(info), NULL);
    NtClose(thread);
    return status || info.ExitStatus == STATUS_PENDING;
}

/* Does nothing once the vCPU is cleaned up: a closed vCPU has no run to stop. */
static void vcpu_kick(struct vcpu *vcpu)
{
    pid_t tid;

    robust_mutex_lock(&vcpu->kick_lock);
    if (vcpu->run)
    {
        __atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
        tid = owner_unix_tid(__atomic_load_n(&vcpu->owner, __ATOMIC_SEQ_CST));
        if (tid && kick_signal) syscall(SYS_tgkill, getpid(), tid, kick_signal);
    }
    pthread_mutex_unlock(&vcpu->kick_lock);
}

/* Long mode needs the LM bit in the guest CPUID, so give the guest what
 * KVM supports. */
static NTSTATUS vcpu_set_cpuid(int fd)
{
    struct kvm_cpuid2 *cpuid = NULL;
    unsigned int nent = 64;
    NTSTATUS status;

    for (;;)
    {
        struct kvm_cpuid2 *grown = realloc(cpuid, sizeof(*cpuid) + nent * sizeof(cpuid->entries[0]));
        if (!grown)
        {
            free(cpuid);
            return STATUS_NO_MEMORY;
        }
        cpuid = grown;
        cpuid->nent = nent;
        cpuid->padding = 0;
        if (!ioctl(kvm_system_fd(), KVM_GET_SUPPORTED_CPUID, cpuid)) break;
        if (errno != E2BIG || nent >= 4096)
        {
            status = status_from_errno(errno);
            free(cpuid);
            return status;
        }
        nent *= 2;
    }
    status = ioctl(fd, KVM_SET_CPUID2, cpuid) < 0 ? status_from_errno(errno) : STATUS_SUCCESS;
    free(cpuid);
    return status;
}

NTSTATUS vcpu_init(int vm_fd, struct vcpu *vcpu, unsigned int index)
{
    NTSTATUS status;

    pthread_once(&kick_once, kick_signal_init);
    memset(vcpu, 0, sizeof(*vcpu));
    if ((vcpu->fd = ioctl(vm_fd, KVM_CREATE_VCPU, index)) < 0) return status_from_errno(errno);
    vcpu->run = mmap(NULL, kvm_run_size(), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
    if (vcpu->run == MAP_FAILED)
    {
        status = status_from_errno(errno);
        goto err_close;
    }
    if ((status = vcpu_set_cpuid(vcpu->fd))) goto err_unmap;
    robust_mutex_init(&vcpu->kick_lock);
    return STATUS_SUCCESS;

err_unmap:
    munmap(vcpu->run, kvm_run_size());
err_close:
    close(vcpu->fd);
    return status;
}

/* Keeps the lock: vcpu_kick() may still be called on it (vm_free destroys it). */
void vcpu_cleanup(struct vcpu *vcpu)
{
    robust_mutex_lock(&vcpu->kick_lock);
    munmap(vcpu->run, kvm_run_size());
    vcpu->run = NULL;
    pthread_mutex_unlock(&vcpu->kick_lock);
    close(vcpu->fd);
    vcpu->fd = -1;
}

void vcpu_free(struct vcpu *vcpu)
{
    pthread_mutex_destroy(&vcpu->kick_lock);
}

NTSTATUS vcpu_acquire(struct vcpu *vcpu)
{
    uint64_t self = current_owner(), owner = 0;

    while (!__atomic_compare_exchange_n(&vcpu->owner, &owner, self, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
    {
        if (owner == VCPU_CLOSED) return STATUS_DEVICE_REMOVED;
        if (owner == self || owner_is_alive(owner)) return STATUS_DEVICE_BUSY;
        WARN("thread %04x died running the vCPU\n", (unsigned int)(owner >> 32));
    }
    return STATUS_SUCCESS;
}

void vcpu_release(struct vcpu *vcpu)
{
    __atomic_store_n(&vcpu->owner, 0, __ATOMIC_SEQ_CST);
}

int vcpu_owned_by_caller(const struct vcpu *vcpu)
{
    return __atomic_load_n(&vcpu->owner, __ATOMIC_SEQ_CST) == current_owner();
}

void vcpu_close(struct vcpu *vcpu)
{
    static const struct timespec pause = {0, 100000};
    uint64_t owner;

    for (;;)
    {
        owner = __atomic_load_n(&vcpu->owner, __ATOMIC_SEQ_CST);
        if (owner == VCPU_CLOSED) return;
        if (!owner_is_running(owner))
        {
            if (__atomic_compare_exchange_n(&vcpu->owner, &owner, VCPU_CLOSED, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
                return;
            continue;
        }
        vcpu_cancel(vcpu);
        nanosleep(&pause, NULL);
    }
}

static void segment_to_kvm(const VMIDL_X64_SEGMENT *seg, struct kvm_segment *kvm)
{
    kvm->base = seg->Base;
    kvm->limit = seg->Limit;
    kvm->selector = seg->Selector;
    kvm->type = seg->Attributes & 0xf;
    kvm->s = (seg->Attributes >> 4) & 1;
    kvm->dpl = (seg->Attributes >> 5) & 3;
    kvm->present = (seg->Attributes >> 7) & 1;
    kvm->avl = (seg->Attributes >> 12) & 1;
    kvm->l = (seg->Attributes >> 13) & 1;
    kvm->db = (seg->Attributes >> 14) & 1;
    kvm->g = (seg->Attributes >> 15) & 1;
    kvm->unusable = !kvm->present;
}

static void segment_from_kvm(const struct kvm_segment *kvm, VMIDL_X64_SEGMENT *seg)
{
    seg->Base = kvm->base;
    seg->Limit = kvm->limit;
    seg->Selector = kvm->selector;
    seg->Attributes = kvm->type | kvm->s << 4 | kvm->dpl << 5 | (kvm->present && !kvm->unusable) << 7
            | kvm->avl << 12 | kvm->l << 13 | kvm->db << 14 | kvm->g << 15;
}

/* KVM completes an I/O or MMIO exit at the start of the next KVM_RUN, on
 * whatever state the vCPU then has; finish it now, with immediate_exit, so
 * that new registers are not clobbered by the old instruction.  Pending
 * reads get all ones.  A string instruction (or an access KVM splits)
 * may go on with another access within the same KVM_RUN, before KVM looks
 * at immediate_exit: those are answered the same way, until KVM has
 * nothing left to finish (it enters the guest again after at most 1024
 * iterations of a string instruction, which immediate_exit prevents). */
static NTSTATUS vcpu_complete_io(struct vcpu *vcpu)
{
    struct kvm_run *run = vcpu->run;
    unsigned int rounds;
    int ret;

    for (rounds = 0; vcpu->io_pending && rounds < 4096; rounds++)
    {
        if (vcpu->mmio_read_pending) memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
        if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_IN)
            memset((char *)run + run->io.data_offset, 0xff, run->io.size * run->io.count);
        __atomic_store_n(&run->immediate_exit, 1, __ATOMIC_SEQ_CST);
        ret = ioctl(vcpu->fd, KVM_RUN, 0);
        __atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
        if (ret < 0 && errno != EINTR) return status_from_errno(errno);
        vcpu->io_pending = !ret && (run->exit_reason == KVM_EXIT_MMIO || run->exit_reason == KVM_EXIT_IO);
        vcpu->mmio_read_pending = vcpu->io_pending && run->exit_reason == KVM_EXIT_MMIO && !run->mmio.is_write;
    }
    return vcpu->io_pending ? STATUS_UNSUCCESSFUL : STATUS_SUCCESS;
}

NTSTATUS vcpu_set_registers(struct vcpu *vcpu, const VMIDL_VP_REGISTERS *regs)
{
    struct kvm_sregs sregs;
    struct kvm_regs kregs;
    const UINT64 *g = regs->Gpr;
    NTSTATUS status;

    if ((status = vcpu_complete_io(vcpu))) return status;
    if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0) return status_from_errno(errno);
    segment_to_kvm(&regs->Cs, &sregs.cs);
    segment_to_kvm(&regs->Ds, &sregs.ds);
    segment_to_kvm(&regs->Es, &sregs.es);
    segment_to_kvm(&regs->Fs, &sregs.fs);
    segment_to_kvm(&regs->Gs, &sregs.gs);
    segment_to_kvm(&regs->Ss, &sregs.ss);
    sregs.cr0 = regs->Cr0;
    sregs.cr3 = regs->Cr3;
    sregs.cr4 = regs->Cr4;
    sregs.efer = regs->Efer;
    /* VMX refuses to enter without a busy TSS in TR. */
    memset(&sregs.tr, 0, sizeof(sregs.tr));
    sregs.tr.limit = 0x67;
    sregs.tr.type = 11;
    sregs.tr.present = 1;
    memset(&sregs.ldt, 0, sizeof(sregs.ldt));
    sregs.ldt.unusable = 1;
    /* Where reset puts them, whatever ran before (see VMIDL_VP_REGISTERS). */
    sregs.gdt.base = sregs.idt.base = 0;
    sregs.gdt.limit = sregs.idt.limit = 0xffff;
    if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0) return status_from_errno(errno);

    memset(&kregs, 0, sizeof(kregs));
    kregs.rax = g[0]; kregs.rcx = g[1]; kregs.rdx = g[2]; kregs.rbx = g[3];
    kregs.rsp = g[4]; kregs.rbp = g[5]; kregs.rsi = g[6]; kregs.rdi = g[7];
    kregs.r8 = g[8]; kregs.r9 = g[9]; kregs.r10 = g[10]; kregs.r11 = g[11];
    kregs.r12 = g[12]; kregs.r13 = g[13]; kregs.r14 = g[14]; kregs.r15 = g[15];
    kregs.rip = regs->Rip;
    kregs.rflags = regs->Rflags | 2;
    if (ioctl(vcpu->fd, KVM_SET_REGS, &kregs) < 0) return status_from_errno(errno);
    return STATUS_SUCCESS;
}

NTSTATUS vcpu_get_registers(struct vcpu *vcpu, VMIDL_VP_REGISTERS *regs)
{
    struct kvm_sregs sregs;
    struct kvm_regs kregs;
    UINT64 *g = regs->Gpr;

    if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0) return status_from_errno(errno);
    if (ioctl(vcpu->fd, KVM_GET_REGS, &kregs) < 0) return status_from_errno(errno);
    g[0] = kregs.rax; g[1] = kregs.rcx; g[2] = kregs.rdx; g[3] = kregs.rbx;
    g[4] = kregs.rsp; g[5] = kregs.rbp; g[6] = kregs.rsi; g[7] = kregs.rdi;
    g[8] = kregs.r8; g[9] = kregs.r9; g[10] = kregs.r10; g[11] = kregs.r11;
    g[12] = kregs.r12; g[13] = kregs.r13; g[14] = kregs.r14; g[15] = kregs.r15;
    regs->Rip = kregs.rip;
    regs->Rflags = kregs.rflags;
    segment_from_kvm(&sregs.cs, &regs->Cs);
    segment_from_kvm(&sregs.ds, &regs->Ds);
    segment_from_kvm(&sregs.es, &regs->Es);
    segment_from_kvm(&sregs.fs, &regs->Fs);
    segment_from_kvm(&sregs.gs, &regs->Gs);
    segment_from_kvm(&sregs.ss, &regs->Ss);
    regs->Cr0 = sregs.cr0;
    regs->Cr3 = sregs.cr3;
    regs->Cr4 = sregs.cr4;
    regs->Efer = sregs.efer;
    return STATUS_SUCCESS;
}

static void exit_from_mmio(struct vcpu *vcpu, VMIDL_RUN_VP_EXIT_CONTEXT *exit)
{
    struct kvm_run *run = vcpu->run;

    exit->ExitReason = VmidlRunVpExitReasonMemoryAccess;
    exit->Address = run->mmio.phys_addr;
    exit->AccessSize = run->mmio.len;
    exit->IsWrite = run->mmio.is_write;
    if (run->mmio.is_write) memcpy(&exit->Data, run->mmio.data, min(run->mmio.len, sizeof(exit->Data)));
    else vcpu->mmio_read_pending = 1;
}

static void exit_from_io(struct vcpu *vcpu, VMIDL_RUN_VP_EXIT_CONTEXT *exit)
{
    struct kvm_run *run = vcpu->run;
    unsigned char *data = (unsigned char *)run + run->io.data_offset;

    exit->ExitReason = VmidlRunVpExitReasonX64IoPortAccess;
    exit->Address = run->io.port;
    exit->AccessSize = run->io.size;
    exit->IsWrite = run->io.direction == KVM_EXIT_IO_OUT;
    if (exit->IsWrite) memcpy(&exit->Data, data, min(run->io.size, sizeof(exit->Data)));
    else memset(data, 0xff, run->io.size * run->io.count);
}

/* Waits outside KVM while a BAR moves; a cancel still gets through. */
static void vcpu_park(struct vcpu *vcpu, const int *paused)
{
    static const struct timespec pause = {0, 20000};

    while (__atomic_load_n(paused, __ATOMIC_SEQ_CST) && !__atomic_load_n(&vcpu->cancel, __ATOMIC_SEQ_CST))
        nanosleep(&pause, NULL);
}

/* A cancel with an I/O exit pending enters KVM once more, with
 * immediate_exit, so that the access completes before the run returns
 * Canceled; if the instruction goes on with another access (a string
 * instruction), that exit is returned as any other, and the cancel
 * stands for the next entry. */
NTSTATUS vcpu_run(struct vcpu *vcpu, const int *paused, uint64_t mmio_read_value, VMIDL_RUN_VP_EXIT_CONTEXT *exit)
{
    struct kvm_run *run = vcpu->run;
    int ret, err, canceled;

    memset(exit, 0, sizeof(*exit));
    if (vcpu->mmio_read_pending)
    {
        memcpy(run->mmio.data, &mmio_read_value, min(run->mmio.len, sizeof(mmio_read_value)));
        vcpu->mmio_read_pending = 0;
    }

    for (;;)
    {
        __atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
        canceled = __atomic_exchange_n(&vcpu->cancel, 0, __ATOMIC_SEQ_CST);
        if (canceled && !vcpu->io_pending)
        {
            exit->ExitReason = VmidlRunVpExitReasonCanceled;
            return STATUS_SUCCESS;
        }
        /* In before looking at paused, as vcpus_pause() sets paused
         * before looking at in_kvm: one of the two sees the other. */
        __atomic_store_n(&vcpu->in_kvm, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(paused, __ATOMIC_SEQ_CST))
        {
            __atomic_store_n(&vcpu->in_kvm, 0, __ATOMIC_SEQ_CST);
            if (canceled) __atomic_store_n(&vcpu->cancel, 1, __ATOMIC_SEQ_CST);
            vcpu_park(vcpu, paused);
            continue;
        }

        if (canceled) __atomic_store_n(&run->immediate_exit, 1, __ATOMIC_SEQ_CST);
        ret = ioctl(vcpu->fd, KVM_RUN, 0);
        err = errno;
        /* An exit keeps the vCPU in until the caller has routed it
         * (vcpu_exit_routed): it came from the layout a BAR move waits to
         * change. */
        if (ret < 0 || run->exit_reason == KVM_EXIT_INTR) __atomic_store_n(&vcpu->in_kvm, 0, __ATOMIC_SEQ_CST);
        vcpu->io_pending = vcpu->mmio_read_pending = 0;
        if (canceled && !(ret < 0 && err != EINTR && err != EAGAIN)) __atomic_store_n(&vcpu->cancel, 1, __ATOMIC_SEQ_CST);

        if (ret < 0)
        {
            if (err == EINTR || err == EAGAIN) continue;
            WARN("KVM_RUN failed: %d\n", err);
            return err == EFAULT ? STATUS_ACCESS_VIOLATION : status_from_errno(err);
        }
        switch (run->exit_reason)
        {
        case KVM_EXIT_MMIO:
            exit_from_mmio(vcpu, exit);
            vcpu->io_pending = 1;
            return STATUS_SUCCESS;
        case KVM_EXIT_IO:
            exit_from_io(vcpu, exit);
            vcpu->io_pending = 1;
            return STATUS_SUCCESS;
        case KVM_EXIT_HLT:
            exit->ExitReason = VmidlRunVpExitReasonX64Halt;
            return STATUS_SUCCESS;
        case KVM_EXIT_SHUTDOWN:
            exit->ExitReason = VmidlRunVpExitReasonShutdown;
            return STATUS_SUCCESS;
        case KVM_EXIT_INTR:
            continue;
        default:
            WARN("unhandled KVM exit reason %u\n", run->exit_reason);
            exit->ExitReason = VmidlRunVpExitReasonUnrecoverableException;
            return STATUS_SUCCESS;
        }
    }
}

void vcpu_exit_routed(struct vcpu *vcpu)
{
    __atomic_store_n(&vcpu->in_kvm, 0, __ATOMIC_SEQ_CST);
}

void vcpu_cancel(struct vcpu *vcpu)
{
    __atomic_store_n(&vcpu->cancel, 1, __ATOMIC_SEQ_CST);
    vcpu_kick(vcpu);
}

void vcpus_pause(struct vcpu *vcpus, unsigned int count, int *paused)
{
    static const struct timespec pause = {0, 10000};
    unsigned int i;

    __atomic_store_n(paused, 1, __ATOMIC_SEQ_CST);
    for (i = 0; i < count; i++) vcpu_kick(&vcpus[i]);
    for (i = 0; i < count; i++)
    {
        while (__atomic_load_n(&vcpus[i].in_kvm, __ATOMIC_SEQ_CST)
                && owner_is_running(__atomic_load_n(&vcpus[i].owner, __ATOMIC_SEQ_CST)))
            nanosleep(&pause, NULL);
    }
}

void vcpus_resume(int *paused)
{
    __atomic_store_n(paused, 0, __ATOMIC_SEQ_CST);
}
