/*
 * What the vmidl conformance tests share beyond wine/test.h.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_TEST_H
#define __VMIDL_TEST_H

#include "guest.h"
#include "vmidltest/vmidltest.h"

/* How long a test waits for what must come: generous, and 15 times more
 * where KVM runs inside an emulated machine (VMIDL_KVM_EMULATED, set by
 * tools/kvm-vm), some 50 times slower than bare KVM; nothing waits that
 * long unless something is wrong.  Checks that something does NOT happen
 * use short waits of their own. */
#define TEST_WAIT_MS test_wait_ms()
extern DWORD test_wait_ms(void);

/* Doorbell flags, short enough for tables. */
#define SIZE_ANY   FIOV_DOORBELL_FLAG_TRIGGER_SIZE_ANY
#define SIZE_BYTE  FIOV_DOORBELL_FLAG_TRIGGER_SIZE_BYTE
#define SIZE_WORD  FIOV_DOORBELL_FLAG_TRIGGER_SIZE_WORD
#define SIZE_DWORD FIOV_DOORBELL_FLAG_TRIGGER_SIZE_DWORD
#define SIZE_QWORD FIOV_DOORBELL_FLAG_TRIGGER_SIZE_QWORD
#define ANY_VALUE  FIOV_DOORBELL_FLAG_TRIGGER_ANY_VALUE

/* Loads the host API and creates a guest running the interp image.  FALSE
 * when the tests cannot run here: win_skip where vmidl's host API is absent
 * (Windows), skip where KVM is not usable. */
extern BOOL init_guest_test(struct guest *guest);
/* The same with another image and guest_create_ex()'s flags. */
extern BOOL init_guest_test_ex(struct guest *guest, const struct guest_image *image, unsigned int flags);

/* guest_create with the interp image, reporting a failure. */
#define create_guest(guest) create_guest_(__FILE__, __LINE__, guest)
extern BOOL create_guest_(const char *file, int line, struct guest *guest);

/* The device tests run twice: with the driver in this process, and, as
 * NAME_remote (tests/NAME_remote.c includes tests/NAME.c), through a driver
 * in another process that reaches this one with GetVmWorkerProcess
 * (tests/remote_driver.c). */
extern BOOL device_test_remote;
/* CoInitializeEx(NULL, COINIT_MULTITHREADED) and CoUninitialize, from an
 * ole32 loaded on first use. */
extern HRESULT enter_mta(void);
extern void leave_mta(void);
#ifdef VMIDL_TEST_REMOTE
#define START_DEVICE_TEST(name) \
    static void device_test_##name(void); \
    START_TEST(name##_remote) { device_test_remote = TRUE; device_test_##name(); } \
    static void device_test_##name(void)
#else
#define START_DEVICE_TEST(name) START_TEST(name)
#endif

/* In a child started as a remote driver: serves the test process, then
 * exits.  FALSE in any other process. */
extern BOOL remote_driver_child(void);
/* Starts a driver process for the device instance of the guest's
 * partition, which must be published; *iface is the device's interface
 * iid through it.  Its last Release ends the process. */
extern HRESULT remote_driver_start(struct guest *guest, const GUID *instance, REFIID iid, void **iface);
/* What a test passes for a closed handle, through the remote driver. */
extern HANDLE remote_driver_closed_handle(void);

/* What else a remote driver does when asked (iface: either of its
 * interfaces).  Its own section holds section_pattern(tag) but for the
 * qword at REMOTE_DRIVER_ACK_OFFSET of the first page, where it writes
 * how many times its own event woke. */
enum remote_request
{
    REMOTE_CREATE_RANGE,
    REMOTE_DESTROY_RANGE,
    REMOTE_REGISTER_DOORBELL,
    REMOTE_UNREGISTER_DOORBELL,
    REMOTE_OWN_RANGE,           /* a0 bar offset in pages, a1 pages, a2 tag: a section of its own */
    REMOTE_OWN_DOORBELL,        /* a0 offset, a1 value, a2 flags: an auto-reset event of its own */
    REMOTE_WAKES,               /* value: how many times its event woke */
    REMOTE_READ_SECTION,        /* a0 qword index: value from its section */
    REMOTE_EXIT,                /* ends the process, with no Release and no answer */
    REMOTE_MANY_RANGES,         /* a0 first page, a1 count: one-page ranges of one section of its own */
    REMOTE_RELEASE_DEVICE,      /* its last proxies of the device, on a thread that goes on alone */
    REMOTE_GET_DEVICE_AGAIN,    /* a0 offset: GetDevice again, and a doorbell of its own there (any value, qword) */
    REMOTE_PCI_ENGINE_START,    /* a0 MSI address, a1 MSI data: the PCI test device's engine, there */
    REMOTE_PCI_ENGINE_STOP,     /* value: interrupts raised | completions << 32; hr: the engine's */
    REMOTE_DELIVER_MSI,         /* a0 address, a1 data */
    REMOTE_COPY_GUEST_MEMORY,   /* a0 guest address, a1 size, a2 TRUE to write: 0x5a bytes, or a read */
    REMOTE_APERTURE,            /* a0 guest address, a1 size, a2 write-protected: made, read (value: its first qword), destroyed */
};
#define REMOTE_DRIVER_ACK_OFFSET 0xff8
extern HRESULT remote_driver_call(void *iface, enum remote_request code, UINT32 bar, UINT64 a0, UINT64 a1,
        UINT64 a2, UINT64 *value);
/* RegisterDoorbell with event's value in this process as the handle, as
 * it is; *names_handle: whether that value names a handle in the driver. */
extern HRESULT remote_driver_register_raw(void *iface, FIOV_BAR_SELECTOR bar, UINT64 offset, UINT64 value,
        UINT64 flags, HANDLE event, BOOL *names_handle);
/* TerminateProcess on the driver; its process handle, to wait on. */
extern HANDLE remote_driver_kill(void *iface);
/* What GetVmWorkerProcess gave the driver before it had an apartment. */
extern HRESULT remote_driver_uninitialized_hr(void *iface);

/* init_guest_test, then a device (guest_device_desc at GUEST_BAR_BASE,
 * MMIO to log) and the interface iid of it, got the way an emulation
 * driver gets it. */
extern BOOL init_device_test(struct guest *guest, struct mmio_log *log, const GUID *instance,
        REFIID iid, IUnknown **device, void **iface);

/* Qword i of page p of a test section with the given tag. */
static inline UINT64 section_pattern(unsigned int tag, unsigned int page, unsigned int index)
{
    return (UINT64)tag << 48 | (UINT64)page << 32 | index;
}
/* A pagefile-backed section of pages 4 KiB pages holding section_pattern()
 * and a read-write view of it. */
#define create_test_section(a, b, c) create_test_section_(__FILE__, __LINE__, a, b, c)
extern HANDLE create_test_section_(const char *file, int line, unsigned int tag, unsigned int pages, UINT64 **view);

/* How many more memslots KVM gives this partition: one-page ranges of a
 * scratch device with a 256 MiB BAR0 at bar_address, until KVM refuses.
 * Takes seconds; KVM has some 32,000. */
#define count_free_memslots(a, b) count_free_memslots_(__FILE__, __LINE__, a, b)
extern unsigned int count_free_memslots_(const char *file, int line, struct guest *guest, UINT64 bar_address);

/* What the process holds, counted from its unix side by vmidltest.dll
 * (Wine only) and from the system handle table. */
struct resources
{
    struct vmidltest_resources unix;
    DWORD handles;
};

/* Counting checks every count it takes.  A test that counts (or runs the
 * guest) in a loop of its own, until something happens, notes what went
 * wrong in a struct counting (counting_failed) and checks it once after the
 * loop (check_counting), so that it makes as many checks however many times
 * it went round. */
struct counting
{
    unsigned int failures;
    char first_failure[160];
};
extern void counting_failed(struct counting *counting, const char *format, ...) WINETEST_PRINTF_ATTR(2, 3);
#define check_counting(a) check_counting_(__FILE__, __LINE__, a)
extern void check_counting_(const char *file, int line, const struct counting *counting);

/* How many handles of a type ("Process", "Event", ...) the process holds. */
extern unsigned int count_handles_of_type(const WCHAR *type_name);
/* The same, noted into counting rather than checked. */
extern unsigned int poll_handles_of_type(const WCHAR *type_name, struct counting *counting);

/* Loads vmidltest.dll; win_skip and FALSE where it is absent. */
extern BOOL init_resource_counting(void);
/* From vmidltest.dll, once loaded: truncates a file the way a program
 * outside Wine would. */
extern NTSTATUS (WINAPI *pVmidlTestTruncateFile)(const WCHAR *path, UINT64 size);
/* The fds the process holds right now. */
extern unsigned int count_fds(void);
/* Counts taken once no thread is ending and they stay the same for 10 ms. */
extern void get_resources(struct resources *r);
/* The same, noted into counting rather than checked. */
extern void poll_resources(struct resources *r, struct counting *counting);
/* Counts that stay the same for longer than Wine's thread pool keeps an
 * idle worker: for a process that has served other processes' calls. */
extern void get_resources_after_calls(struct resources *r);
/* ok() that every count is back to the baseline's, once no thread is
 * ending and none is over (up to 2 minutes): a Wine thread closes its
 * server pipes and leaves /proc/self/task only after WaitForSingleObject on
 * it has returned, and the threads of Wine's thread pool, on which the RPC
 * runtime runs the calls of other processes, end after 5 s with nothing to
 * do. */
#define check_resources(baseline) check_resources_(__FILE__, __LINE__, baseline)
extern void check_resources_(const char *file, int line, const struct resources *baseline);

#endif /* __VMIDL_TEST_H */
