/*
 * tools/memslot-race [SECONDS]: what tests/stress does to KVM, with no Wine
 * and no vmidl, for telling an emulator's fault from ours.
 *
 * A one-vCPU KVM guest in real mode reads and writes eight 4 KiB pages
 * and writes a doorbell, over and over, while four threads add and remove
 * those pages' memory slots and one of them assigns and deassigns the
 * doorbell's ioeventfd, as stress's workers do with section ranges and
 * doorbells.  An access to a page that is not there exits to userspace
 * (KVM_EXIT_MMIO), which answers it.  Any other exit (a triple fault is
 * KVM_EXIT_SHUTDOWN) or a failed ioctl is a failure: exit status 1.
 * doc/machines-without-kvm.md says what it showed.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGES        8
#define TOGGLERS     4
#define DATA_BASE    0x10000    /* DS base: the pages are DS:0000-DS:7fff */
#define DOORBELL     0x1f000    /* DS:f000 */

/* mov si,0; l: mov al,[si]; mov [si],al; mov byte [0xf000],1;
 * add si,0x1000; and si,0x7fff; jmp l */
static const unsigned char guest_code[] =
{
    0xbe, 0x00, 0x00, 0x8a, 0x04, 0x88, 0x04, 0xc6, 0x06, 0x00, 0xf0, 0x01,
    0x81, 0xc6, 0x00, 0x10, 0x81, 0xe6, 0xff, 0x7f, 0xeb, 0xed,
};

static int vm_fd;
static volatile int stop;
static unsigned char *pages[PAGES];
static unsigned long toggles[TOGGLERS];

static void die(const char *what)
{
    fprintf(stderr, "memslot-race: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void set_slot(unsigned int slot, unsigned long gpa, void *host, unsigned long size)
{
    struct kvm_userspace_memory_region region =
    {
        .slot = slot, .guest_phys_addr = gpa, .memory_size = size, .userspace_addr = (unsigned long)host,
    };

    if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) die("KVM_SET_USER_MEMORY_REGION");
}

static void *toggler_proc(void *arg)
{
    long index = (long)arg;
    int event_fd = eventfd(0, EFD_NONBLOCK);
    unsigned long n;
    unsigned int i;

    if (event_fd < 0) die("eventfd");
    for (n = 0; !stop; n++)
    {
        for (i = index; i < PAGES; i += TOGGLERS)
            set_slot(1 + i, DATA_BASE + i * 0x1000, pages[i], n & 1 ? 0 : 0x1000);
        if (!index)
        {
            struct kvm_ioeventfd doorbell =
            {
                .addr = DOORBELL, .len = 1, .fd = event_fd, .flags = n & 1 ? KVM_IOEVENTFD_FLAG_DEASSIGN : 0,
            };
            if (ioctl(vm_fd, KVM_IOEVENTFD, &doorbell) < 0) die("KVM_IOEVENTFD");
        }
    }
    toggles[index] = n;
    return NULL;
}

int main(int argc, char **argv)
{
    unsigned long exits = 0, mmio = 0, total = 0;
    int kvm_fd, vcpu_fd, seconds = argc > 1 ? atoi(argv[1]) : 600, failed = 0;
    pthread_t threads[TOGGLERS];
    struct kvm_sregs sregs;
    struct kvm_regs regs;
    struct kvm_run *run;
    unsigned char *code;
    time_t end;
    long i;

    if ((kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC)) < 0) die("/dev/kvm");
    if ((vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0)) < 0) die("KVM_CREATE_VM");
    code = mmap(NULL, DATA_BASE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED) die("mmap");
    memcpy(code, guest_code, sizeof(guest_code));
    set_slot(0, 0, code, DATA_BASE);
    for (i = 0; i < PAGES; i++)
        if ((pages[i] = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
            die("mmap");

    if ((vcpu_fd = ioctl(vm_fd, KVM_CREATE_VCPU, 0)) < 0) die("KVM_CREATE_VCPU");
    run = mmap(NULL, ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd, 0);
    if (run == MAP_FAILED) die("mmap kvm_run");
    if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0) die("KVM_GET_SREGS");
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    sregs.ds.base = DATA_BASE;
    sregs.ds.selector = DATA_BASE >> 4;
    if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0) die("KVM_SET_SREGS");
    memset(&regs, 0, sizeof(regs));
    regs.rflags = 2;
    if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0) die("KVM_SET_REGS");

    for (i = 0; i < TOGGLERS; i++) pthread_create(&threads[i], NULL, toggler_proc, (void *)i);
    end = time(NULL) + seconds;
    while (!failed && time(NULL) < end)
    {
        if (ioctl(vcpu_fd, KVM_RUN, 0) < 0 && errno != EINTR) die("KVM_RUN");
        exits++;
        switch (run->exit_reason)
        {
        case KVM_EXIT_MMIO:
            /* A page that is not there reads as zeroes. */
            if (!run->mmio.is_write) memset(run->mmio.data, 0, sizeof(run->mmio.data));
            mmio++;
            break;
        case KVM_EXIT_INTR:
            break;
        default:
            fprintf(stderr, "memslot-race: exit reason %u at rip %#llx after %lu exits\n", run->exit_reason,
                    ioctl(vcpu_fd, KVM_GET_REGS, &regs) < 0 ? 0ull : (unsigned long long)regs.rip, exits);
            failed = 1;
        }
    }
    stop = 1;
    for (i = 0; i < TOGGLERS; i++)
    {
        pthread_join(threads[i], NULL);
        total += toggles[i];
    }
    printf("memslot-race: %s after %lu exits (%lu MMIO), %lu slot toggles\n", failed ? "FAILED" : "passed", exits,
            mmio, total);
    return failed;
}
