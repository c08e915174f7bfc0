/*
 * The KVM VM behind a partition: creation, guest RAM, teardown.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "ntstatus.h"
#define WIN32_NO_STATUS
#include "windef.h"
#include "winternl.h"
#include "wine/debug.h"

#include "unix_private.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);
WINE_DECLARE_DEBUG_CHANNEL(winediag);

int kvm_sys_fd = -1;
int kvm_vcpu_mmap_size;
static int kvm_open_error;
static pthread_once_t kvm_once = PTHREAD_ONCE_INIT;

struct ram_region
{
    struct list entry;
    uint64_t gpa;
    uint64_t size;
    unsigned int slot;
};

int kvm_check_cap(int fd, long cap)
{
    int ret = ioctl(fd, KVM_CHECK_EXTENSION, cap);
    return ret > 0 ? ret : 0;
}

static void kvm_open(void)
{
    int fd;

    if ((fd = open("/dev/kvm", O_RDWR | O_CLOEXEC)) < 0)
    {
        kvm_open_error = -errno;
        ERR_(winediag)("cannot open /dev/kvm (%s): vmidl needs KVM; load kvm and grant this user access to /dev/kvm\n",
                strerror(errno));
        return;
    }
    if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION
            || !kvm_check_cap(fd, KVM_CAP_USER_MEMORY)
            || !kvm_check_cap(fd, KVM_CAP_IOEVENTFD)
            || !kvm_check_cap(fd, KVM_CAP_READONLY_MEM)
            || (kvm_vcpu_mmap_size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0)) <= 0)
    {
        ERR_(winediag)("/dev/kvm lacks user memory, ioeventfd or read-only memslot support\n");
        kvm_open_error = -EOPNOTSUPP;
        close(fd);
        return;
    }
    kvm_sys_fd = fd;
}

int vm_create(unsigned int vcpu_count, struct vm **ret)
{
    unsigned int i, slots;
    struct vm *vm;
    int err;

    pthread_once(&kvm_once, kvm_open);
    if (kvm_sys_fd < 0) return kvm_open_error;

    if (!(vm = calloc(1, offsetof(struct vm, vcpus[vcpu_count])))) return -ENOMEM;
    pthread_mutex_init(&vm->lock, NULL);
    list_init(&vm->devices);
    list_init(&vm->ram);

    if ((vm->fd = ioctl(kvm_sys_fd, KVM_CREATE_VM, 0)) < 0)
    {
        err = -errno;
        goto err_free;
    }
    slots = kvm_check_cap(vm->fd, KVM_CAP_NR_MEMSLOTS);
    if (!slots) slots = 32;
    vm->slot_count = slots;
    if (!(vm->slot_bitmap = calloc((slots + 63) / 64, sizeof(*vm->slot_bitmap))))
    {
        err = -ENOMEM;
        goto err_close_vm;
    }
    if ((err = dispatch_init(&vm->dispatch))) goto err_free_slots;

    for (i = 0; i < vcpu_count; i++)
    {
        if ((err = vcpu_init(vm, &vm->vcpus[i], i))) goto err_vcpus;
        vm->vcpu_count++;
    }

    TRACE("vm %p, fd %d, %u memslots, %u vcpus\n", vm, vm->fd, slots, vcpu_count);
    *ret = vm;
    return 0;

err_vcpus:
    while (vm->vcpu_count) vcpu_cleanup(&vm->vcpus[--vm->vcpu_count]);
    dispatch_cleanup(&vm->dispatch);
err_free_slots:
    free(vm->slot_bitmap);
err_close_vm:
    close(vm->fd);
err_free:
    pthread_mutex_destroy(&vm->lock);
    free(vm);
    return err;
}

/* Closing the VM fd drops every memslot and ioeventfd at once, so devices
 * are torn down without the per-ioeventfd grace periods. */
void vm_destroy(struct vm *vm)
{
    struct list *cur, *next;

    TRACE("vm %p\n", vm);

    LIST_FOR_EACH_SAFE(cur, next, &vm->devices)
        device_remove(vm, LIST_ENTRY(cur, struct device, entry), 1);
    LIST_FOR_EACH_SAFE(cur, next, &vm->ram)
        free(LIST_ENTRY(cur, struct ram_region, entry));
    while (vm->vcpu_count) vcpu_cleanup(&vm->vcpus[--vm->vcpu_count]);
    dispatch_cleanup(&vm->dispatch);
    close(vm->fd);
    free(vm->slot_bitmap);
    pthread_mutex_destroy(&vm->lock);
    free(vm);
}

/* Whether [gpa, gpa + size) is clear of guest RAM and of every BAR but
 * except (the BAR being moved).  Called with vm->lock held. */
int vm_gpa_range_is_free(struct vm *vm, uint64_t gpa, uint64_t size, const struct bar *except)
{
    struct list *cur;
    unsigned int i;

    LIST_FOR_EACH(cur, &vm->ram)
    {
        struct ram_region *ram = LIST_ENTRY(cur, struct ram_region, entry);
        if (ranges_overlap(gpa, size, ram->gpa, ram->size)) return 0;
    }
    LIST_FOR_EACH(cur, &vm->devices)
    {
        const struct device *device = LIST_ENTRY(cur, struct device, entry);
        for (i = 0; i < VMIDL_BAR_COUNT; i++)
        {
            const struct bar *bar = &device->bars[i];
            if (bar != except && bar->size && ranges_overlap(gpa, size, bar->gpa, bar->size)) return 0;
        }
    }
    return 1;
}

int vm_map_ram(struct vm *vm, uint64_t host, uint64_t gpa, uint64_t size, int writable)
{
    struct ram_region *ram;
    int err;

    if (!(ram = calloc(1, sizeof(*ram)))) return -ENOMEM;
    ram->gpa = gpa;
    ram->size = size;

    pthread_mutex_lock(&vm->lock);
    if (!vm_gpa_range_is_free(vm, gpa, size, NULL)) err = -EEXIST;
    else if (!(err = memslot_alloc(vm, &ram->slot)))
    {
        if ((err = memslot_set(vm, ram->slot, gpa, size, (void *)(uintptr_t)host, writable)))
            memslot_free(vm, ram->slot);
        else
            list_add_tail(&vm->ram, &ram->entry);
    }
    pthread_mutex_unlock(&vm->lock);

    if (err) free(ram);
    return err;
}
