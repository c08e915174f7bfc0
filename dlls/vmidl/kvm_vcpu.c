/*
 * Virtual processors: register state in the WHv-like layout of vmidlhost.h,
 * and the run loop that hands every exit it cannot finish to the PE side.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "ntstatus.h"
#define WIN32_NO_STATUS
#include "windef.h"
#include "winternl.h"
#include "wine/debug.h"

#include "unix_private.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

/* Long mode needs the LM bit in the guest CPUID, so give the guest what
 * KVM supports. */
static int vcpu_set_cpuid(int fd)
{
    struct kvm_cpuid2 *cpuid = NULL;
    unsigned int nent = 64;
    int err;

    for (;;)
    {
        struct kvm_cpuid2 *grown = realloc(cpuid, sizeof(*cpuid) + nent * sizeof(cpuid->entries[0]));
        if (!grown)
        {
            free(cpuid);
            return -ENOMEM;
        }
        cpuid = grown;
        cpuid->nent = nent;
        cpuid->padding = 0;
        if (!ioctl(kvm_sys_fd, KVM_GET_SUPPORTED_CPUID, cpuid)) break;
        if (errno != E2BIG || nent >= 4096)
        {
            err = -errno;
            free(cpuid);
            return err;
        }
        nent *= 2;
    }
    err = ioctl(fd, KVM_SET_CPUID2, cpuid) < 0 ? -errno : 0;
    free(cpuid);
    return err;
}

int vcpu_init(struct vm *vm, struct vcpu *vcpu, unsigned int index)
{
    int err;

    if ((vcpu->fd = ioctl(vm->fd, KVM_CREATE_VCPU, index)) < 0) return -errno;
    vcpu->run = mmap(NULL, kvm_vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
    if (vcpu->run == MAP_FAILED)
    {
        err = -errno;
        goto err_close;
    }
    if ((err = vcpu_set_cpuid(vcpu->fd))) goto err_unmap;
    return 0;

err_unmap:
    munmap(vcpu->run, kvm_vcpu_mmap_size);
err_close:
    close(vcpu->fd);
    return err;
}

void vcpu_cleanup(struct vcpu *vcpu)
{
    munmap(vcpu->run, kvm_vcpu_mmap_size);
    close(vcpu->fd);
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
 * whatever state the vCPU then has; finish it now so that new registers are
 * not clobbered by the old instruction.  Pending reads get all ones. */
static int vcpu_complete_io(struct vcpu *vcpu)
{
    struct kvm_run *run = vcpu->run;
    int ret;

    if (!vcpu->io_pending) return 0;
    if (vcpu->mmio_read_pending) memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
    run->immediate_exit = 1;
    ret = ioctl(vcpu->fd, KVM_RUN, 0);
    run->immediate_exit = 0;
    if (ret < 0 && errno != EINTR) return -errno;
    vcpu->io_pending = vcpu->mmio_read_pending = 0;
    return 0;
}

static int vcpu_set_registers_locked(struct vcpu *vcpu, const VMIDL_VP_REGISTERS *regs)
{
    struct kvm_sregs sregs;
    struct kvm_regs kregs;
    const UINT64 *g = regs->Gpr;
    int err;

    if ((err = vcpu_complete_io(vcpu))) return err;
    if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0) return -errno;
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
    if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0) return -errno;

    memset(&kregs, 0, sizeof(kregs));
    kregs.rax = g[0]; kregs.rcx = g[1]; kregs.rdx = g[2]; kregs.rbx = g[3];
    kregs.rsp = g[4]; kregs.rbp = g[5]; kregs.rsi = g[6]; kregs.rdi = g[7];
    kregs.r8 = g[8]; kregs.r9 = g[9]; kregs.r10 = g[10]; kregs.r11 = g[11];
    kregs.r12 = g[12]; kregs.r13 = g[13]; kregs.r14 = g[14]; kregs.r15 = g[15];
    kregs.rip = regs->Rip;
    kregs.rflags = regs->Rflags | 2;
    if (ioctl(vcpu->fd, KVM_SET_REGS, &kregs) < 0) return -errno;
    return 0;
}

static int vcpu_get_registers_locked(struct vcpu *vcpu, VMIDL_VP_REGISTERS *regs)
{
    struct kvm_sregs sregs;
    struct kvm_regs kregs;
    UINT64 *g = regs->Gpr;

    if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0) return -errno;
    if (ioctl(vcpu->fd, KVM_GET_REGS, &kregs) < 0) return -errno;
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
    return 0;
}

/* The running flag keeps register access off a vCPU inside KVM_RUN. */
static int vcpu_acquire(struct vcpu *vcpu)
{
    return __atomic_exchange_n(&vcpu->running, 1, __ATOMIC_ACQUIRE) ? -EBUSY : 0;
}

static void vcpu_release(struct vcpu *vcpu)
{
    __atomic_store_n(&vcpu->running, 0, __ATOMIC_RELEASE);
}

int vcpu_set_registers(struct vcpu *vcpu, const VMIDL_VP_REGISTERS *regs)
{
    int err;

    if ((err = vcpu_acquire(vcpu))) return err;
    err = vcpu_set_registers_locked(vcpu, regs);
    vcpu_release(vcpu);
    return err;
}

int vcpu_get_registers(struct vcpu *vcpu, VMIDL_VP_REGISTERS *regs)
{
    int err;

    if ((err = vcpu_acquire(vcpu))) return err;
    err = vcpu_get_registers_locked(vcpu, regs);
    vcpu_release(vcpu);
    return err;
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

int vcpu_run(struct vcpu *vcpu, uint64_t mmio_read_value, VMIDL_RUN_VP_EXIT_CONTEXT *exit)
{
    struct kvm_run *run = vcpu->run;

    int err;

    if ((err = vcpu_acquire(vcpu))) return err;

    if (vcpu->mmio_read_pending)
    {
        memcpy(run->mmio.data, &mmio_read_value, min(run->mmio.len, sizeof(mmio_read_value)));
        vcpu->mmio_read_pending = 0;
    }
    vcpu->io_pending = 0;
    memset(exit, 0, sizeof(*exit));

    for (;;)
    {
        if (ioctl(vcpu->fd, KVM_RUN, 0) < 0)
        {
            err = -errno;
            if (err == -EINTR || err == -EAGAIN) continue;
            vcpu_release(vcpu);
            return err;
        }
        switch (run->exit_reason)
        {
        case KVM_EXIT_MMIO:
            exit_from_mmio(vcpu, exit);
            vcpu->io_pending = 1;
            break;
        case KVM_EXIT_IO:
            exit_from_io(vcpu, exit);
            vcpu->io_pending = 1;
            break;
        case KVM_EXIT_HLT:
            exit->ExitReason = VmidlRunVpExitReasonHalt;
            break;
        case KVM_EXIT_SHUTDOWN:
            exit->ExitReason = VmidlRunVpExitReasonShutdown;
            break;
        case KVM_EXIT_INTR:
            continue;
        default:
            WARN("unhandled KVM exit reason %u\n", run->exit_reason);
            exit->ExitReason = VmidlRunVpExitReasonUnrecoverableException;
            break;
        }
        break;
    }
    vcpu_release(vcpu);
    return 0;
}
