/*
 * A partition's VM: its guest RAM, devices and vCPUs, and the calls that
 * involve more than one device (placement, BAR moves, routing MMIO exits).
 *
 * Locks, in the order they nest: the layout lock, a device's lock, the
 * route lock.  A vCPU takes the route lock, and to hand over the removal of
 * a device whose callback it was in, the dispatcher's lock, each briefly:
 * intercepted MMIO never waits for a device's teardown (the dispatcher's
 * thread does it, a step at a time) or for a BAR move, which stops the
 * vCPUs outside KVM only while the BAR is torn, so that a running guest
 * sees either the old or the new layout.  The one exception is the rare
 * run that found guest memory gone (a section file cut short behind
 * Wine's back): it takes the layout lock to take such ranges out.
 *
 * Every lock a thread may die holding (TerminateThread, process exit) is
 * robust, and the shutdown waits only for threads that are alive.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "unix_private.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);


static void vcpu_set_exit_device(struct vm *vm, struct vcpu *vcpu, struct device *device);
static int vm_background_work(void *context);

static void short_wait(long nanoseconds)
{
    struct timespec pause = {0, nanoseconds};
    nanosleep(&pause, NULL);
}

/* Whether a thread that is still alive is taking a device's contents out
 * of KVM.  Under the layout lock. */
static BOOL vm_has_live_remover(struct vm *vm)
{
    struct list *cur;

    LIST_FOR_EACH(cur, &vm->devices)
    {
        struct device *device = LIST_ENTRY(cur, struct device, entry);
        if (device->remover && thread_is_alive(device->remover)) return TRUE;
    }
    return FALSE;
}

NTSTATUS vm_create(unsigned int vcpu_count, unsigned int flags, struct vm **ret)
{
    NTSTATUS status;
    struct vm *vm;

    if ((status = kvm_open())) return status;
    if (!(vm = calloc(1, offsetof(struct vm, vcpus[vcpu_count])))) return STATUS_NO_MEMORY;
    robust_mutex_init(&vm->layout_lock);
    robust_mutex_init(&vm->route_lock);
    robust_mutex_init(&vm->removal_lock);
    pthread_rwlock_init(&vm->fd_lock, NULL);
    list_init(&vm->devices);
    list_init(&vm->ram);
    vm->host.memslots = &vm->memslots;
    vm->host.dispatcher = &vm->dispatcher;
    vm->host.removal_lock = &vm->removal_lock;

    if ((vm->fd = ioctl(kvm_system_fd(), KVM_CREATE_VM, 0)) < 0)
    {
        status = status_from_errno(errno);
        goto err_free;
    }
    /* Before any vCPU, as KVM wants it: their LAPICs come with it.  The
     * whole in-kernel chip, since KVM here refuses a split one. */
    if ((flags & VMIDL_PARTITION_FLAG_INTERRUPT_CONTROLLER) && ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) < 0)
    {
        status = status_from_errno(errno);
        WARN("KVM_CREATE_IRQCHIP failed: %d\n", errno);
        goto err_close_vm;
    }
    vm->irqchip = !!(flags & VMIDL_PARTITION_FLAG_INTERRUPT_CONTROLLER);
    if ((status = memslot_table_init(&vm->memslots, vm->fd))) goto err_close_vm;
    if ((status = dispatcher_init(&vm->dispatcher, vm_background_work, vm))) goto err_memslots;
    for (; vm->vcpu_count < vcpu_count; vm->vcpu_count++)
        if ((status = vcpu_init(vm->fd, &vm->vcpus[vm->vcpu_count], vm->vcpu_count))) goto err_vcpus;

    TRACE("vm %p, fd %d, %u memslots, %u vcpus\n", vm, vm->fd, vm->memslots.count, vcpu_count);
    *ret = vm;
    return STATUS_SUCCESS;

err_vcpus:
    while (vm->vcpu_count)
    {
        vcpu_cleanup(&vm->vcpus[--vm->vcpu_count]);
        vcpu_free(&vm->vcpus[vm->vcpu_count]);
    }
    dispatcher_cleanup(&vm->dispatcher);
err_memslots:
    memslot_table_cleanup(&vm->memslots);
err_close_vm:
    close(vm->fd);
err_free:
    pthread_mutex_destroy(&vm->layout_lock);
    pthread_mutex_destroy(&vm->route_lock);
    pthread_mutex_destroy(&vm->removal_lock);
    pthread_rwlock_destroy(&vm->fd_lock);
    free(vm);
    return status;
}

NTSTATUS vm_shutdown(struct vm *vm)
{
    struct list *cur, *next;
    unsigned int i;

    for (i = 0; i < vm->vcpu_count; i++)
    {
        if (!vcpu_owned_by_caller(&vm->vcpus[i])) continue;
        WARN("called while running vCPU %u\n", i);
        return STATUS_DEVICE_BUSY;
    }
    if (__atomic_exchange_n(&vm->closing, 1, __ATOMIC_SEQ_CST)) return STATUS_DEVICE_REMOVED;

    /* Nothing here waits while holding a lock that a vCPU's MMIO callback
     * may need. */
    for (i = 0; i < vm->vcpu_count; i++)
    {
        vcpu_close(&vm->vcpus[i]);
        vcpu_set_exit_device(vm, &vm->vcpus[i], NULL);
    }
    dispatcher_stop(&vm->dispatcher);

    robust_mutex_lock(&vm->layout_lock);
    LIST_FOR_EACH(cur, &vm->devices) device_kill(LIST_ENTRY(cur, struct device, entry));
    /* A device being cleared elsewhere stops at its next item; a thread
     * that ended while clearing one is waited for no longer. */
    while (vm_has_live_remover(vm))
    {
        pthread_mutex_unlock(&vm->layout_lock);
        short_wait(1000000);
        robust_mutex_lock(&vm->layout_lock);
    }
    /* Closing the VM drops every memslot and ioeventfd at once, without the
     * grace period each removal costs. */
    for (i = 0; i < vm->vcpu_count; i++) vcpu_cleanup(&vm->vcpus[i]);
    pthread_rwlock_wrlock(&vm->fd_lock);
    close(vm->fd);
    vm->fd = -1;
    pthread_rwlock_unlock(&vm->fd_lock);
    vm->memslots.vm_fd = -1;
    vm->closed = 1;
    /* What is left of devices whose last reference is gone (their removal
     * was deferred, or the thread doing it ended) goes now. */
    LIST_FOR_EACH_SAFE(cur, next, &vm->devices)
    {
        struct device *device = LIST_ENTRY(cur, struct device, entry);

        device_release_contents(device, &vm->host);
        if (!device->removing) continue;
        list_remove(&device->entry);
        device_free(device);
    }
    ram_release_all(vm);
    pthread_mutex_unlock(&vm->layout_lock);
    TRACE("vm %p shut down\n", vm);
    return STATUS_SUCCESS;
}

/* Every device object is released by now. */
void vm_free(struct vm *vm)
{
    unsigned int i;

    TRACE("vm %p\n", vm);
    if (!vm->closed) vm_shutdown(vm);
    for (i = 0; i < vm->vcpu_count; i++) vcpu_free(&vm->vcpus[i]);
    dispatcher_cleanup(&vm->dispatcher);
    memslot_table_cleanup(&vm->memslots);
    route_table_cleanup(&vm->routes);
    pthread_mutex_destroy(&vm->layout_lock);
    pthread_mutex_destroy(&vm->route_lock);
    pthread_mutex_destroy(&vm->removal_lock);
    pthread_rwlock_destroy(&vm->fd_lock);
    free(vm);
}

/* BARs of a device being removed still count. */
int vm_gpa_range_is_free(struct vm *vm, uint64_t gpa, uint64_t size, const struct bar *except)
{
    struct list *cur;
    unsigned int i;

    if (ram_overlaps(vm, gpa, size)) return 0;
    if (vm->pci_window && ranges_overlap(gpa, size, vm->pci_window, PCI_BUS_WINDOW_SIZE)) return 0;
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


static NTSTATUS vm_place_device(struct vm *vm, const struct device *device)
{
    unsigned int i, j;

    for (i = 0; i < VMIDL_BAR_COUNT; i++)
    {
        const struct bar *bar = &device->bars[i];

        if (!bar->size) continue;
        for (j = 0; j < i; j++)
            if (ranges_overlap(bar->gpa, bar->size, device->bars[j].gpa, device->bars[j].size))
                return STATUS_OBJECT_NAME_COLLISION;
        if (!vm_gpa_range_is_free(vm, bar->gpa, bar->size, NULL))
        {
            WARN("BAR %u at %#llx overlaps RAM or another BAR\n", i, (unsigned long long)bar->gpa);
            return STATUS_OBJECT_NAME_COLLISION;
        }
    }
    return STATUS_SUCCESS;
}

NTSTATUS vm_add_device(struct vm *vm, struct device *device)
{
    NTSTATUS status;
    unsigned int i;

    robust_mutex_lock(&vm->layout_lock);
    if (vm->closing) status = STATUS_DEVICE_REMOVED;
    else if (!(status = vm_place_device(vm, device)))
    {
        robust_mutex_lock(&vm->route_lock);
        if (!(status = route_reserve(&vm->routes, VMIDL_BAR_COUNT)))
        {
            for (i = 0; i < VMIDL_BAR_COUNT; i++)
                if (device->bars[i].size) route_add(&vm->routes, device->bars[i].gpa, device->bars[i].size, device, i);
        }
        pthread_mutex_unlock(&vm->route_lock);
    }
    if (!status)
    {
        list_add_tail(&vm->devices, &device->entry);
        device->added = 1;
    }
    pthread_mutex_unlock(&vm->layout_lock);
    TRACE("device %p, status %#x\n", device, (unsigned int)status);
    return status;
}

/* Whether a vCPU is in one of the device's MMIO callbacks.  Under the route
 * lock. */
static BOOL vm_device_in_callback(struct vm *vm, struct device *device)
{
    unsigned int i;

    for (i = 0; i < vm->vcpu_count; i++)
        if (vm->vcpus[i].exit_device == device) return TRUE;
    return FALSE;
}

/* Out of the device list once its contents are out of KVM.  Under the
 * layout lock, which it releases. */
static void vm_drop_device(struct vm *vm, struct device *device)
{
    device->remover = 0;
    list_remove(&device->entry);
    /* Shut down meanwhile: the clear stopped early, and the VM stays open
     * until this lock is released. */
    if (device->dead) device_release_contents(device, &vm->host);
    pthread_mutex_unlock(&vm->layout_lock);
    device_free(device);
}

/* Takes everything of a device no one can reach any more out of KVM, on
 * the calling thread, and frees it.  Its BARs stay reserved until then. */
static void vm_finish_removal(struct vm *vm, struct device *device)
{
    int clear;

    robust_mutex_lock(&vm->layout_lock);
    /* Once the VM is closed, the shutdown has freed what the device held. */
    if ((clear = !vm->closed)) device->remover = current_tid();
    pthread_mutex_unlock(&vm->layout_lock);

    if (clear) device_clear(device, &vm->host, BAR_ANY_OWNER);

    robust_mutex_lock(&vm->layout_lock);
    vm_drop_device(vm, device);
}

/* The next device whose removal is deferred.  Under the layout lock. */
static struct device *vm_next_deferred(struct vm *vm)
{
    struct device *found = NULL;
    struct list *cur;

    robust_mutex_lock(&vm->route_lock);
    LIST_FOR_EACH(cur, &vm->devices)
    {
        struct device *device = LIST_ENTRY(cur, struct device, entry);
        if (!device->deferred) continue;
        found = device;
        break;
    }
    pthread_mutex_unlock(&vm->route_lock);
    return found;
}

/* The dispatcher's background work: one doorbell or range of a deferred
 * removal per call, so that doorbells keep ringing meanwhile and no vCPU
 * waits for it.  Returns whether more is left. */
static int vm_background_work(void *context)
{
    struct vm *vm = context;
    struct device *device;
    BOOL more;

    robust_mutex_lock(&vm->layout_lock);
    if ((device = vm_next_deferred(vm))) device->remover = current_tid();
    pthread_mutex_unlock(&vm->layout_lock);
    if (!device) return 0;

    more = device_clear_step(device, &vm->host, BAR_ANY_OWNER);

    robust_mutex_lock(&vm->layout_lock);
    if (!more)
    {
        vm_drop_device(vm, device);
        robust_mutex_lock(&vm->layout_lock);
    }
    else device->remover = 0;
    more = vm_next_deferred(vm) != NULL;
    pthread_mutex_unlock(&vm->layout_lock);
    return more;
}

/* A removed device's last MMIO callback has returned: the dispatcher
 * finishes its removal, which may take seconds of grace periods. */
static void vm_defer_removal(struct vm *vm, struct device *device)
{
    robust_mutex_lock(&vm->route_lock);
    device->deferred = 1;
    pthread_mutex_unlock(&vm->route_lock);
    dispatcher_wake(&vm->dispatcher);
}

/* With a vCPU in one of the device's MMIO callbacks (maybe the caller's
 * own), the removal waits until the last of them has returned, and the
 * dispatcher's thread does it. */
void vm_remove_device(struct vm *vm, struct device *device)
{
    int orphaned;

    TRACE("device %p\n", device);

    robust_mutex_lock(&vm->layout_lock);
    if (!device->added)
    {
        pthread_mutex_unlock(&vm->layout_lock);
        device_free(device);
        return;
    }
    device->removing = 1;
    robust_mutex_lock(&vm->route_lock);
    route_remove_device(&vm->routes, device);
    vm_detach_pci(vm, device);
    orphaned = device->orphaned = vm_device_in_callback(vm, device);
    pthread_mutex_unlock(&vm->route_lock);
    /* Before the layout lock goes: a deferred removal may free the device. */
    device_silence(device, &vm->host);
    pthread_mutex_unlock(&vm->layout_lock);

    if (!orphaned) vm_finish_removal(vm, device);
}

/* A device on the PCI bus has its BARs placed by the guest alone. */
NTSTATUS vm_move_bar(struct vm *vm, struct device *device, unsigned int index, uint64_t gpa, int by_guest)
{
    struct bar *bar;
    NTSTATUS status;

    robust_mutex_lock(&vm->layout_lock);
    if (vm->closing || device->removing) status = STATUS_DEVICE_REMOVED;
    else if (index >= VMIDL_BAR_COUNT || !(bar = &device->bars[index])->size || gpa + bar->size < gpa)
        status = STATUS_INVALID_PARAMETER;
    else if (device->pci && !by_guest) status = STATUS_INVALID_DEVICE_STATE;
    else if (!vm_gpa_range_is_free(vm, gpa, bar->size, bar))
        status = STATUS_OBJECT_NAME_COLLISION;
    else if (gpa == bar->gpa && !bar->undecoded) status = STATUS_SUCCESS;
    else
    {
        robust_mutex_lock(&device->lock);
        /* No ioeventfd removal may hold KVM's slots lock while the vCPUs
         * wait. */
        robust_mutex_lock(&vm->removal_lock);
        vcpus_pause(vm->vcpus, vm->vcpu_count, &vm->paused);
        if (!(status = bar_move(bar, &vm->host, gpa)))
        {
            robust_mutex_lock(&vm->route_lock);
            route_move(&vm->routes, device, index, gpa, bar->size);
            pthread_mutex_unlock(&vm->route_lock);
        }
        vcpus_resume(&vm->paused);
        pthread_mutex_unlock(&vm->removal_lock);
        if (!status) bar_finish_move(bar, &vm->host);
        pthread_mutex_unlock(&device->lock);
    }
    pthread_mutex_unlock(&vm->layout_lock);
    return status;
}

NTSTATUS vm_set_registers(struct vm *vm, unsigned int index, const VMIDL_VP_REGISTERS *regs)
{
    struct vcpu *vcpu = &vm->vcpus[index];
    NTSTATUS status;

    if ((status = vcpu_acquire(vcpu))) return status;
    status = vcpu_set_registers(vcpu, regs);
    vcpu_release(vcpu);
    return status;
}

NTSTATUS vm_get_registers(struct vm *vm, unsigned int index, VMIDL_VP_REGISTERS *regs)
{
    struct vcpu *vcpu = &vm->vcpus[index];
    NTSTATUS status;

    if ((status = vcpu_acquire(vcpu))) return status;
    status = vcpu_get_registers(vcpu, regs);
    vcpu_release(vcpu);
    return status;
}

/* A removed device's last MMIO callback has returned: its removal goes on. */
static void vcpu_set_exit_device(struct vm *vm, struct vcpu *vcpu, struct device *device)
{
    struct device *old;
    BOOL finish;

    robust_mutex_lock(&vm->route_lock);
    old = vcpu->exit_device;
    vcpu->exit_device = device;
    if ((finish = old && old->orphaned && !vm_device_in_callback(vm, old))) old->orphaned = 0;
    pthread_mutex_unlock(&vm->route_lock);
    if (finish) vm_defer_removal(vm, old);
}

/* Resolves an MMIO exit to the device whose BAR decodes it; the device
 * stays until the run goes on (vm_wait_for_callbacks). */
static BOOL vm_route_exit(struct vm *vm, struct vcpu *vcpu, struct vp_run_params *params)
{
    const struct route *route;

    robust_mutex_lock(&vm->route_lock);
    if ((route = route_find(&vm->routes, params->exit.Address)))
    {
        vcpu->exit_device = route->device;
        params->mmio_callback = route->device->mmio_callback;
        params->mmio_context = route->device->mmio_context;
        params->bar = route->bar;
        params->bar_offset = params->exit.Address - route->gpa;
    }
    pthread_mutex_unlock(&vm->route_lock);
    return route != NULL;
}

/* After KVM could not reach guest memory: ranges whose file shrank behind
 * Wine's back leave the guest, and their pages trap from now on. */
static unsigned int vm_detach_unbacked(struct vm *vm)
{
    unsigned int i, count = 0;
    struct list *cur;

    robust_mutex_lock(&vm->layout_lock);
    LIST_FOR_EACH(cur, &vm->devices)
    {
        struct device *device = LIST_ENTRY(cur, struct device, entry);

        robust_mutex_lock(&device->lock);
        for (i = 0; !device->dead && i < VMIDL_BAR_COUNT; i++) count += bar_detach_unbacked(&device->bars[i], &vm->host);
        pthread_mutex_unlock(&device->lock);
    }
    pthread_mutex_unlock(&vm->layout_lock);
    return count;
}

/* Config accesses that vmidl answers itself never leave this loop. */
NTSTATUS vm_run_vp(struct vm *vm, struct vp_run_params *params)
{
    struct vcpu *vcpu = &vm->vcpus[params->vp_index];
    uint64_t read_value = ~0ull;
    NTSTATUS status;
    int config;

    if (params->resume)
    {
        if (!vcpu_owned_by_caller(vcpu)) return STATUS_INVALID_PARAMETER;
        read_value = params->mmio_read_value;
    }
    else if ((status = vcpu_acquire(vcpu))) return status;
    vcpu_set_exit_device(vm, vcpu, NULL);

    for (;;)
    {
        do status = vcpu_run(vcpu, &vm->paused, read_value, &params->exit);
        while (status == STATUS_ACCESS_VIOLATION && vm_detach_unbacked(vm));

        params->mmio_callback = 0;
        params->config = 0;
        if (status || params->exit.ExitReason != VmidlRunVpExitReasonMemoryAccess) break;
        if (vm_route_exit(vm, vcpu, params) || (config = vm_config_exit(vm, vcpu, params, &read_value)) == 2)
        {
            vcpu_exit_routed(vcpu);
            return STATUS_SUCCESS;
        }
        if (!config) break;
        vcpu_exit_routed(vcpu);
        vcpu_set_exit_device(vm, vcpu, NULL);
    }
    vcpu_exit_routed(vcpu);
    vcpu_release(vcpu);
    return status;
}

void vm_abandon_vp(struct vm *vm, unsigned int index)
{
    struct vcpu *vcpu = &vm->vcpus[index];

    if (!vcpu_owned_by_caller(vcpu)) return;
    vcpu_set_exit_device(vm, vcpu, NULL);
    vcpu_release(vcpu);
}

void vm_cancel_vp(struct vm *vm, unsigned int index)
{
    vcpu_cancel(&vm->vcpus[index]);
}

NTSTATUS vm_signal_msi(struct vm *vm, const struct vm_msi_params *params)
{
    struct kvm_msi msi = {.address_lo = params->address, .address_hi = params->address >> 32, .data = params->data};
    int ret;

    if (!vm->irqchip) return STATUS_INVALID_DEVICE_STATE;
    pthread_rwlock_rdlock(&vm->fd_lock);
    if (vm->fd < 0 || __atomic_load_n(&vm->closing, __ATOMIC_SEQ_CST)) ret = -ENODEV;
    else if ((ret = ioctl(vm->fd, KVM_SIGNAL_MSI, &msi)) < 0) ret = -errno;
    pthread_rwlock_unlock(&vm->fd_lock);
    if (ret == -ENODEV) return STATUS_DEVICE_REMOVED;
    return ret < 0 ? status_from_errno(-ret) : STATUS_SUCCESS;
}
