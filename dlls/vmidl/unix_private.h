/*
 * The unix half of vmidl: Wine's types, the one errno -> NTSTATUS
 * conversion, small helpers, and one section per mechanism, each
 * implemented in its own unix_*.c, in the order they build on each other.
 *
 * Unix-side functions return NTSTATUS; a failed system call is turned into
 * one where it happens, with status_from_errno().
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_UNIX_PRIVATE_H
#define __VMIDL_UNIX_PRIVATE_H

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "ntstatus.h"
#define WIN32_NO_STATUS
#include "windef.h"
#include "winternl.h"
#include "wine/debug.h"

#include "unixlib.h"
#include "list.h"

static inline NTSTATUS status_from_errno(int err)
{
    switch (err)
    {
    case 0: return STATUS_SUCCESS;
    case EINVAL: return STATUS_INVALID_PARAMETER;
    case ENOMEM: return STATUS_NO_MEMORY;
    case EEXIST: return STATUS_OBJECT_NAME_COLLISION;
    case ENOENT: return STATUS_NOT_FOUND;
    case ENOSPC:
    case ENOBUFS:
    case EMFILE:
    case ENFILE: return STATUS_INSUFFICIENT_RESOURCES;
    case EBADF: return STATUS_INVALID_HANDLE;
    case EACCES:
    case EPERM: return STATUS_ACCESS_DENIED;
    case EBUSY: return STATUS_DEVICE_BUSY;
    case ENODEV:
    case ENXIO:
    case EOPNOTSUPP: return STATUS_NOT_SUPPORTED;
    default: return STATUS_UNSUCCESSFUL;
    }
}

#define CURRENT_PROCESS ((HANDLE)~(ULONG_PTR)0)

static inline int ranges_overlap(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size)
{
    return a < b + b_size && b < a + a_size;
}

/* The unix thread id of the calling thread. */
static inline pid_t current_tid(void)
{
    return syscall(SYS_gettid);
}

/* Whether a thread of this process still exists: a Win32 thread killed by
 * TerminateThread leaves no one to clean up after it. */
static inline int thread_is_alive(pid_t tid)
{
    return !syscall(SYS_tgkill, getpid(), tid, 0) || errno != ESRCH;
}

/* For locks that a vCPU or dispatcher thread takes: TerminateThread (or
 * process exit) may end such a thread while it holds one. */
static inline void robust_mutex_init(pthread_mutex_t *mutex)
{
    pthread_mutexattr_t attr;

    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(mutex, &attr);
    pthread_mutexattr_destroy(&attr);
}

static inline void robust_mutex_lock(pthread_mutex_t *mutex)
{
    if (pthread_mutex_lock(mutex) == EOWNERDEAD) pthread_mutex_consistent(mutex);
}

/* --- unix_kvm.c: /dev/kvm: opened once per process, with the capabilities vmidl needs.
 */

/* Opens /dev/kvm on first use; STATUS_NOT_SUPPORTED when there is no usable
 * KVM, STATUS_ACCESS_DENIED when the user may not open it.  The user is
 * told why once, whatever WINEDEBUG says. */
extern NTSTATUS kvm_open(void);
extern int kvm_system_fd(void);
extern int kvm_run_size(void);
extern int kvm_check_cap(int fd, long cap);

/* --- unix_memslot.c: KVM memslots of one VM: slot numbers (first free wins) and setting them.
 */

struct memslot_table
{
    int vm_fd;                  /* -1 once the VM is closed: nothing left to delete */
    pthread_mutex_t lock;       /* the bitmap */
    uint64_t *bitmap;
    unsigned int count;
};

extern NTSTATUS memslot_table_init(struct memslot_table *table, int vm_fd);
extern void memslot_table_cleanup(struct memslot_table *table);
extern NTSTATUS memslot_alloc(struct memslot_table *table, unsigned int *slot);
extern void memslot_free(struct memslot_table *table, unsigned int slot);
/* Maps [gpa, gpa + size) to host memory; size 0 deletes the slot. */
extern NTSTATUS memslot_set(struct memslot_table *table, unsigned int slot, uint64_t gpa, uint64_t size,
        void *host, int writable);

/* --- unix_section.c: Sections mapped for the guest: vmidl's own handle to the section object,
 * and a MAP_SHARED view of its pages.
 */

struct section_view
{
    HANDLE section;             /* vmidl's own handle: keeps the object, and its file's size */
    void *data;
    uint64_t offset;
    uint64_t size;
};

/* Maps [offset, offset + size) of the section, read-write or read-only. */
extern NTSTATUS section_view_map(HANDLE process, HANDLE section, uint64_t offset, uint64_t size, int writable,
        struct section_view *view);
extern void section_view_unmap(struct section_view *view);
/* Whether every page of the view is still backed by its file (a program
 * outside Wine may truncate the file). */
extern int section_view_is_backed(const struct section_view *view);

/* --- unix_range.c: Section-backed MMIO ranges: a view of the section, and the memslot that
 * puts it at a guest physical address.
 */

struct mmio_range
{
    uint64_t bar_offset;
    uint64_t size;
    uint64_t owner;
    struct section_view view;
    unsigned int slot;
    int writable;
    int attached;               /* the memslot is in KVM */
    int unbacked;               /* its file was cut short: kept out of the guest */
};

/* Maps the section and reserves a memslot; the range is not in the guest
 * until range_attach(). */
extern NTSTATUS range_create(struct memslot_table *memslots, const struct range_create_params *params,
        struct mmio_range **ret);
extern NTSTATUS range_attach(struct memslot_table *memslots, struct mmio_range *range, uint64_t gpa);
extern void range_detach(struct memslot_table *memslots, struct mmio_range *range);
/* Detaches the range if needed, then frees its slot and its view. */
extern void range_free(struct memslot_table *memslots, struct mmio_range *range);

/* --- unix_dispatch.c: The doorbell dispatcher: one epoll set of eventfds per VM, and the loop
 * that sets each one's Win32 event when KVM signals it.  The same thread
 * does the VM's slow background work (removing devices whose removal a
 * vCPU's callback held up), a step at a time between doorbells.
 */

struct dispatcher
{
    /* Held while an event is set, so that once dispatcher_remove() returns
     * that event is never set again. */
    pthread_mutex_t lock;
    UINT64 *events;             /* index -> Win32 event, or 0 when free */
    uint32_t *generation;       /* index -> bumped at every removal */
    uint32_t capacity;
    int epoll_fd;
    int stop_fd;
    int work_fd;                /* dispatcher_wake() */
    /* One step of background work; returns whether more is left. */
    int (*work)(void *context);
    void *work_context;
    pid_t thread;               /* inside dispatcher_run(), or 0 */
    int stopping;
};

extern NTSTATUS dispatcher_init(struct dispatcher *dispatcher, int (*work)(void *context), void *work_context);
extern void dispatcher_cleanup(struct dispatcher *dispatcher);
/* Runs on a Win32 thread (it sets Win32 events) until dispatcher_stop();
 * returns at once if that came first. */
extern NTSTATUS dispatcher_run(struct dispatcher *dispatcher);
/* Returns once the dispatcher has left dispatcher_run(), or its thread is
 * gone, and closes its fds; it never waits for the thread itself to exit. */
extern void dispatcher_stop(struct dispatcher *dispatcher);
extern NTSTATUS dispatcher_add(struct dispatcher *dispatcher, int eventfd, UINT64 event, uint32_t *index);
extern void dispatcher_remove(struct dispatcher *dispatcher, int eventfd, uint32_t index);
/* Has the dispatcher call work() until it says nothing is left. */
extern void dispatcher_wake(struct dispatcher *dispatcher);

/* --- unix_doorbell.c: Doorbells: an eventfd registered with KVM_IOEVENTFD at the doorbell's
 * guest address and watched by the VM's dispatcher, which sets the
 * doorbell's Win32 event.
 */

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
/* Takes the doorbell off the guest's address space (see bar_undecode()). */
extern void doorbell_leave(struct dispatcher *dispatcher, struct doorbell *doorbell);
/* Before mover's prepare at gpa, in a BAR that moves onto part of its old
 * place: takes doorbell's current binding out of KVM now if it sits at gpa
 * and KVM would take the two for one (a grace period, paid with the vCPUs
 * paused); its eventfd keeps listening until the commit. */
extern void doorbell_vacate(int vm_fd, struct doorbell *doorbell, const struct doorbell *mover, uint64_t gpa);

/* Whether two doorbells at one offset may coexist (the Windows hypervisor's
 * rule): same length, and distinct values, none of them "any value". */
extern int doorbell_conflicts(const struct doorbell *a, const struct doorbell *b);
extern int doorbell_matches(const struct doorbell *doorbell, const struct doorbell_params *params);

/* --- unix_bar.c: A device BAR as KVM sees it: where it decodes, and the ranges and
 * doorbells registered on it, kept as BAR offsets so that a move only has
 * to replay them at the new base.
 */

/* What a BAR needs of its VM to put ranges and doorbells into KVM. */
struct bar_host
{
    struct memslot_table *memslots;     /* and the VM fd, memslots->vm_fd */
    struct dispatcher *dispatcher;
    /* Held across each ioeventfd removal outside a BAR move: KVM holds its
     * slots lock for a grace period there, and a BAR move must not meet
     * one while it keeps the vCPUs paused. */
    pthread_mutex_t *removal_lock;
};

struct bar
{
    uint64_t gpa;
    uint64_t size;              /* 0: the device has no such BAR */
    int undecoded;              /* off the guest's address space (its PCI memory decode is off) */
    /* Sorted by bar_offset, so that overlap checks and lookups stay
     * O(log n) with thousands of ranges. */
    struct mmio_range **ranges;
    unsigned int range_count, range_capacity;
    struct list doorbells;      /* struct doorbell */
};

extern void bar_init(struct bar *bar, uint64_t gpa, uint64_t size);
extern void bar_cleanup(struct bar *bar);

/* Checks the range against the BAR's ranges and doorbells and attaches it. */
extern NTSTATUS bar_add_range(struct bar *bar, const struct bar_host *host, struct mmio_range *range);
/* The range that starts at offset, out of the BAR and the guest. */
extern NTSTATUS bar_remove_range(struct bar *bar, const struct bar_host *host, uint64_t offset, uint64_t owner,
        struct mmio_range **range);
/* Checks the doorbell against the BAR's doorbells and ranges and attaches it. */
extern NTSTATUS bar_add_doorbell(struct bar *bar, const struct bar_host *host, struct doorbell *doorbell);
/* The doorbell registered with these parameters, out of the BAR (still attached). */
extern NTSTATUS bar_take_doorbell(struct bar *bar, const struct doorbell_params *params, struct doorbell **doorbell);
/* For teardown: a range or doorbell in the BAR (of that owner, or any with
 * BAR_ANY_OWNER), and taking it out of the BAR once it is out of KVM, so
 * that a thread ended in between leaves it where the shutdown finds it. */
#define BAR_ANY_OWNER (~(uint64_t)0)
extern struct mmio_range *bar_next_range(struct bar *bar, uint64_t owner);
extern void bar_forget_range(struct bar *bar, struct mmio_range *range);
extern struct doorbell *bar_next_doorbell(struct bar *bar, uint64_t owner);
extern void bar_forget_doorbell(struct bar *bar, struct doorbell *doorbell);

/* Moves everything registered on the BAR to a new base, with the vCPUs
 * paused: nothing here waits for a kernel grace period.  On failure the BAR
 * is left exactly where and as it was.  Afterwards, with the vCPUs running
 * again, bar_finish_move() takes the doorbells' old ioeventfds out of KVM;
 * until then a guest write at an old doorbell address is consumed and sets
 * nothing. */
extern NTSTATUS bar_move(struct bar *bar, const struct bar_host *host, uint64_t gpa);
extern void bar_finish_move(struct bar *bar, const struct bar_host *host);
/* Takes the BAR off the guest's address space, with the vCPUs paused: its
 * ranges go, its doorbells fall silent (bar_finish_move() then takes their
 * ioeventfds out, and until then a guest write there is dropped).  A move
 * puts it back. */
extern void bar_undecode(struct bar *bar, const struct bar_host *host);
/* Takes ranges whose file was cut short behind Wine's back out of the guest:
 * their pages trap to the device instead.  Returns how many. */
extern unsigned int bar_detach_unbacked(struct bar *bar, const struct bar_host *host);

/* --- unix_ram.c: Guest RAM: regions of the caller's memory or of a section, one memslot each,
 * and the one translation of guest physical addresses for the host's accesses.
 */

struct vm;

/* Under the layout lock. */
extern int ram_overlaps(struct vm *vm, uint64_t gpa, uint64_t size);
/* Once the VM is closed. */
extern void ram_release_all(struct vm *vm);

/* --- unix_pci.c: A device's PCI function on bus 0: the type-0 header that vmidl owns (see
 * unix_pci.c for which offsets are whose).
 */

#define PCI_BUS_WINDOW_SIZE 0x100000    /* ECAM, bus 0: 32 devices x 8 functions x 4 KiB */
#define PCI_HEADER_SIZE 0x40

struct pci_function
{
    unsigned int number;        /* device number on bus 0 */
    uint16_t vendor_id, device_id, subsystem_vendor_id, subsystem_id;
    uint32_t class_code;
    uint8_t revision_id;
    int has_capabilities;
    UINT64 config_callback;
    UINT64 config_context;
    /* The registers the guest writes. */
    pthread_mutex_t lock;
    uint16_t command;
    uint8_t cache_line_size, interrupt_line;
    int rom_enabled;
    int sizing[VMIDL_BAR_COUNT];        /* all ones written: reads give the size mask */
    uint64_t bar_address[VMIDL_BAR_COUNT];      /* as programmed */
};

extern NTSTATUS pci_function_create(const struct device_pci_params *params, const struct bar *bars,
        struct pci_function **ret);
extern void pci_function_free(struct pci_function *pci);
extern int pci_offset_is_device_owned(unsigned int offset);
extern uint32_t pci_read(struct pci_function *pci, const struct bar *bars, unsigned int offset, unsigned int size);
/* Returns whether what the BARs decode may have to change. */
extern int pci_write(struct pci_function *pci, const struct bar *bars, unsigned int offset, unsigned int size,
        uint32_t value);
extern int pci_bar_decodes(struct pci_function *pci, unsigned int bar);
extern uint64_t pci_bar_address(struct pci_function *pci, unsigned int bar);

/* --- unix_device.c: A FlexibleIov device: its BARs and what is registered on them, and the
 * emulator that takes its intercepted MMIO.
 */

/* Live doorbells per device.  KVM has no practical ioeventfd limit here, but
 * each registration slows the next one and each removal costs a kernel grace
 * period (~8 ms), so an unbounded count would let one driver stall teardown. */
#define MAX_DOORBELLS_PER_DEVICE 1024

struct device
{
    struct list entry;          /* vm->devices */
    UINT64 mmio_callback;
    UINT64 mmio_context;
    /* Under the VM's layout lock: */
    int added;                  /* in the VM's device list */
    int removing;               /* its last reference is gone */
    int orphaned;               /* ... while a vCPU was in its MMIO callback; under the route lock */
    int deferred;               /* ... and the dispatcher's thread finishes its removal; under the route lock */
    pid_t remover;              /* the thread taking its contents out of KVM, or 0 */
    /* Serialises the calls on the device; held across their KVM calls. */
    pthread_mutex_t lock;
    int dead;                   /* its VM was shut down */
    struct bar bars[VMIDL_BAR_COUNT];
    unsigned int doorbell_count;
    struct pci_function *pci;   /* its place on the PCI bus, or NULL; set once, before the guest sees it */
};

extern NTSTATUS device_create(const struct device_create_params *params, struct device **ret);
extern void device_free(struct device *device);

extern NTSTATUS device_create_range(struct device *device, const struct bar_host *host,
        const struct range_create_params *params);
extern NTSTATUS device_destroy_range(struct device *device, const struct bar_host *host,
        const struct range_destroy_params *params);
extern NTSTATUS device_register_doorbell(struct device *device, const struct bar_host *host,
        const struct doorbell_params *params);
extern NTSTATUS device_unregister_doorbell(struct device *device, const struct bar_host *host,
        const struct doorbell_params *params);

/* Takes every doorbell and range of the owner (BAR_ANY_OWNER: all of them)
 * out of KVM and frees them, one at a time under the device lock, so that
 * each slow removal holds nobody up. */
extern void device_clear(struct device *device, const struct bar_host *host, uint64_t owner);
/* One doorbell or range of device_clear(); FALSE once nothing is left. */
extern BOOL device_clear_step(struct device *device, const struct bar_host *host, uint64_t owner);
/* Once this returns no doorbell of the device sets its event (their
 * ioeventfds stay in KVM, consuming the guest's writes, until cleared). */
extern void device_silence(struct device *device, const struct bar_host *host);
/* Marks the device dead: once this returns no call on it runs or will. */
extern void device_kill(struct device *device);
/* Frees what a dead device still holds; its VM is closed, so KVM is not
 * asked to remove anything. */
extern void device_release_contents(struct device *device, const struct bar_host *host);

/* --- unix_route.c: Where intercepted MMIO goes: the device BARs the guest can reach, sorted
 * by guest physical address.  The VM's route lock guards a table.
 */

struct device;

struct route
{
    uint64_t gpa;
    uint64_t size;
    struct device *device;
    unsigned int bar;
};

struct route_table
{
    struct route *routes;
    unsigned int count, capacity;
};

extern void route_table_cleanup(struct route_table *table);
/* Room for count more routes, so that adding them cannot fail. */
extern NTSTATUS route_reserve(struct route_table *table, unsigned int count);
extern void route_add(struct route_table *table, uint64_t gpa, uint64_t size, struct device *device, unsigned int bar);
/* The BAR's route goes to gpa, or comes back there (route_reserve() made room for it with its device). */
extern void route_move(struct route_table *table, struct device *device, unsigned int bar, uint64_t gpa, uint64_t size);
extern void route_remove_bar(struct route_table *table, struct device *device, unsigned int bar);
extern void route_remove_device(struct route_table *table, struct device *device);
extern const struct route *route_find(const struct route_table *table, uint64_t gpa);

/* --- unix_vcpu.c: Virtual processors: register state, the KVM_RUN loop, and stopping a run
 * from another thread (cancel, pause).
 */

#define VCPU_CLOSED (~(uint64_t)0)

struct vcpu
{
    int fd;
    struct kvm_run *run;
    /* Held by whoever stores into run from another thread (a cancel, a
     * pause), and by vcpu_cleanup() around the unmap, so that a canceler
     * that still holds the partition never writes into a page that is gone
     * or has been reused by another mapping. */
    pthread_mutex_t kick_lock;
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
/* Unmaps and closes; vcpu_free() then frees what is left. */
extern void vcpu_cleanup(struct vcpu *vcpu);
extern void vcpu_free(struct vcpu *vcpu);

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

/* --- unix_vm.c: A partition's VM: its guest RAM, devices and vCPUs, and the calls that
 * involve more than one device (placement, BAR moves, routing MMIO exits).
 */

struct vm
{
    int fd;
    struct memslot_table memslots;
    struct dispatcher dispatcher;
    struct bar_host host;
    /* Guest RAM, the device list and where BARs are placed.  Never held
     * while waiting for a vCPU (see unix_vm.c for when a vCPU takes it). */
    pthread_mutex_t layout_lock;
    struct list devices;        /* struct device, also while being removed */
    struct list ram;            /* struct ram_region */
    int closing;                /* being shut down, or shut down */
    int closed;                 /* the KVM VM and its vCPUs are gone */
    /* Where intercepted MMIO goes, and each vCPU's exit_device.  The vCPU
     * path takes it only briefly; nobody holds it across a system call. */
    pthread_mutex_t route_lock;
    struct route_table routes;
    int paused;                 /* vCPUs wait outside KVM while a BAR moves */
    pthread_mutex_t removal_lock;       /* see struct bar_host */
    int irqchip;                /* KVM's in-kernel LAPIC and IOAPIC: MSIs can be delivered */
    /* Read-held by the VM ioctls made outside the layout lock (MSIs), so
     * that the shutdown never closes the fd under one. */
    pthread_rwlock_t fd_lock;
    uint64_t pci_window;        /* ECAM of bus 0, or 0; set once */
    struct device *pci_slots[32];       /* under the route lock */
    unsigned int vcpu_count;
    struct vcpu vcpus[];
};

extern NTSTATUS vm_create(unsigned int vcpu_count, unsigned int flags, struct vm **ret);
extern NTSTATUS vm_shutdown(struct vm *vm);
extern void vm_free(struct vm *vm);
extern NTSTATUS vm_map_ram(struct vm *vm, const struct vm_map_ram_params *params);
/* Whether [gpa, gpa + size) is clear of guest RAM and of every BAR but
 * except.  Under the layout lock. */
extern int vm_gpa_range_is_free(struct vm *vm, uint64_t gpa, uint64_t size, const struct bar *except);
extern NTSTATUS vm_map_section(struct vm *vm, const struct vm_map_section_params *params);
extern NTSTATUS vm_set_pci_window(struct vm *vm, uint64_t gpa);
extern NTSTATUS vm_attach_pci(struct vm *vm, struct device *device, const struct device_pci_params *params);
extern NTSTATUS vm_signal_msi(struct vm *vm, const struct vm_msi_params *params);
extern NTSTATUS vm_guest_memory(struct vm *vm, const struct vm_guest_memory_params *params);
extern NTSTATUS vm_ram_section(struct vm *vm, struct vm_ram_section_params *params);

extern NTSTATUS vm_add_device(struct vm *vm, struct device *device);
/* Takes the device out of the VM (if it was added) and frees it. */
extern void vm_remove_device(struct vm *vm, struct device *device);
extern NTSTATUS vm_move_bar(struct vm *vm, struct device *device, unsigned int bar, uint64_t gpa, int by_guest);

extern NTSTATUS vm_set_registers(struct vm *vm, unsigned int index, const VMIDL_VP_REGISTERS *regs);
extern NTSTATUS vm_get_registers(struct vm *vm, unsigned int index, VMIDL_VP_REGISTERS *regs);
extern NTSTATUS vm_run_vp(struct vm *vm, struct vp_run_params *params);
extern void vm_abandon_vp(struct vm *vm, unsigned int index);
extern void vm_cancel_vp(struct vm *vm, unsigned int index);

/* unix_pci.c, on the vCPU's thread */
extern int vm_config_exit(struct vm *vm, struct vcpu *vcpu, struct vp_run_params *params, uint64_t *read_value);
/* Under the route lock, as the device goes. */
extern void vm_detach_pci(struct vm *vm, struct device *device);

#endif /* __VMIDL_UNIX_PRIVATE_H */
