/*
 * What the vmidl conformance tests share beyond wine/test.h.
 */

#ifndef __VMIDL_TEST_H
#define __VMIDL_TEST_H

#include "guest.h"
#include "vmidltest/vmidltest.h"

/* Loads the host API and creates a guest running the interp image.  FALSE
 * when the tests cannot run here: win_skip where vmidl's host API is absent
 * (Windows), skip where KVM is not usable. */
extern BOOL init_guest_test(struct guest *guest);

/* guest_create with the interp image, reporting a failure. */
#define create_guest(guest) create_guest_(__FILE__, __LINE__, guest)
extern BOOL create_guest_(const char *file, int line, struct guest *guest);

/* init_guest_test, then a device (guest_device_desc at GUEST_BAR_BASE,
 * MMIO to log) and the interface iid of it, got the way an emulation
 * driver gets it. */
extern BOOL init_device_test(struct guest *guest, struct mmio_log *log, const GUID *instance,
        REFIID iid, IUnknown **device, void **iface);

/* What the process holds, counted from its unix side by vmidltest.dll
 * (Wine only) and from the system handle table. */
struct resources
{
    struct vmidltest_resources unix;
    DWORD handles;
};

/* Loads vmidltest.dll; win_skip and FALSE where it is absent. */
extern BOOL init_resource_counting(void);
extern void get_resources(struct resources *r);
#define check_resources(a, b) check_resources_(__FILE__, __LINE__, a, b)
extern void check_resources_(const char *file, int line, const struct resources *now,
        const struct resources *baseline);

#endif /* __VMIDL_TEST_H */
