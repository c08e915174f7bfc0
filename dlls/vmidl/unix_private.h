/*
 * Unix half of vmidl: KVM objects and their bookkeeping.
 *
 * Functions here return 0 or a negative errno; only the unix-call entry
 * points in unix_main.c turn that into an NTSTATUS.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_UNIX_PRIVATE_H
#define __VMIDL_UNIX_PRIVATE_H

#include <pthread.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "unixlib.h"
#include "list.h"

/* Live doorbells per device.  KVM has no practical ioeventfd limit here, but
 * each registration slows the next one and each removal costs a kernel grace
 * period (~8 ms), so an unbounded count would let one driver stall teardown. */
#define MAX_DOORBELLS_PER_DEVICE 1024

static inline int ranges_overlap(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size)
{
    return a < b + b_size && b < a + a_size;
}

struct vcpu
{
    int fd;
    struct kvm_run *run;
    int running;
    int mmio_read_pending;
    int io_pending;             /* KVM finishes the last I/O exit on the next KVM_RUN */
};

struct bar
{
    uint64_t gpa;
    uint64_t size;
    struct list doorbells;      /* struct doorbell */
    /* Sorted by bar_offset, so that overlap checks and lookups stay
     * O(log n) with thousands of ranges. */
    struct mmio_range **range_index;
    unsigned int range_count, range_capacity;
};

struct device
{
    struct list entry;          /* vm->devices */
    struct bar bars[VMIDL_BAR_COUNT];
    unsigned int doorbell_count;
};

struct mmio_range
{
    struct bar *bar;
    uint64_t bar_offset;
    uint64_t size;
    void *host;                 /* our MAP_SHARED view of the section */
    unsigned int slot;
    int writable;
};

struct doorbell
{
    struct list entry;          /* bar->doorbells */
    uint64_t bar_offset;
    uint64_t value;
    uint32_t length;
    int any_value;
    int eventfd;
    uint64_t event;             /* our duplicate of the Win32 event */
    uint32_t dispatch_index;    /* in vm->dispatch.doorbells */
};

/* What the doorbell dispatcher thread may touch, under its own lock so that
 * slow KVM calls under vm->lock never delay a wake-up. */
struct dispatch_table
{
    pthread_mutex_t lock;
    struct doorbell **doorbells;    /* index -> live doorbell or NULL */
    uint32_t *generation;           /* index -> bumped at every removal */
    uint32_t capacity;
    int epoll_fd;
    int stop_fd;
};

struct vm
{
    int fd;
    /* Serialises every change of the guest physical layout: RAM, devices,
     * BAR moves, ranges and doorbells. */
    pthread_mutex_t lock;
    uint64_t *slot_bitmap;
    unsigned int slot_count;
    struct list devices;
    struct list ram;            /* struct ram_region */
    struct dispatch_table dispatch;
    unsigned int vcpu_count;
    struct vcpu vcpus[];
};

extern int kvm_sys_fd;
extern int kvm_vcpu_mmap_size;
extern int kvm_check_cap(int fd, long cap);

/* kvm_vm.c */
extern int vm_create(unsigned int vcpu_count, struct vm **ret);
extern void vm_destroy(struct vm *vm);
extern int vm_map_ram(struct vm *vm, uint64_t host, uint64_t gpa, uint64_t size, int writable);
extern int vm_gpa_range_is_free(struct vm *vm, uint64_t gpa, uint64_t size, const struct bar *except);

/* kvm_vcpu.c */
extern int vcpu_init(struct vm *vm, struct vcpu *vcpu, unsigned int index);
extern void vcpu_cleanup(struct vcpu *vcpu);
extern int vcpu_set_registers(struct vcpu *vcpu, const VMIDL_VP_REGISTERS *regs);
extern int vcpu_get_registers(struct vcpu *vcpu, VMIDL_VP_REGISTERS *regs);
extern int vcpu_run(struct vcpu *vcpu, uint64_t mmio_read_value, VMIDL_RUN_VP_EXIT_CONTEXT *exit);

/* kvm_memslot.c */
extern int memslot_alloc(struct vm *vm, unsigned int *slot);
extern void memslot_free(struct vm *vm, unsigned int slot);
extern int memslot_set(struct vm *vm, unsigned int slot, uint64_t gpa, uint64_t size, void *host, int writable);

/* kvm_device.c */
extern int device_add(struct vm *vm, const uint64_t *bar_gpa, const uint64_t *bar_size, struct device **ret);
extern void device_remove(struct vm *vm, struct device *device, int vm_closing);
extern int device_move_bar(struct vm *vm, struct device *device, unsigned int bar, uint64_t gpa);
extern int bar_has_range_in(const struct bar *bar, uint64_t offset, uint64_t size);
extern struct mmio_range *bar_find_range(const struct bar *bar, uint64_t offset);
extern int bar_index_range(struct bar *bar, struct mmio_range *range);
extern void bar_unindex_range(struct bar *bar, struct mmio_range *range);
extern int bar_has_doorbell_in(const struct bar *bar, uint64_t offset, uint64_t size);

/* kvm_range.c */
extern int range_create(struct vm *vm, struct device *device, const struct range_create_params *params);
extern int range_destroy(struct vm *vm, struct device *device, unsigned int bar, uint64_t bar_offset);
extern void range_free(struct vm *vm, struct mmio_range *range, int vm_closing);
extern int range_map(struct vm *vm, struct bar *bar, struct mmio_range *range);

/* kvm_doorbell.c */
extern int dispatch_init(struct dispatch_table *table);
extern void dispatch_cleanup(struct dispatch_table *table);
extern int dispatch_run(struct dispatch_table *table);
extern int dispatch_stop(struct dispatch_table *table);
extern int doorbell_register(struct vm *vm, struct device *device, const struct doorbell_params *params);
extern int doorbell_unregister(struct vm *vm, struct device *device, const struct doorbell_params *params);
extern void doorbell_free(struct vm *vm, struct device *device, struct bar *bar, struct doorbell *doorbell,
        int vm_closing);
extern int doorbell_assign(struct vm *vm, const struct bar *bar, const struct doorbell *doorbell, int assign);

#endif /* __VMIDL_UNIX_PRIVATE_H */
