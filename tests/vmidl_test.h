/*
 * What the vmidl conformance tests share beyond wine/test.h.
 */

#ifndef __VMIDL_TEST_H
#define __VMIDL_TEST_H

#include "guest.h"

/* Loads the host API and creates a guest running the interp image.  FALSE
 * when the tests cannot run here: win_skip where vmidl's host API is absent
 * (Windows), skip where KVM is not usable. */
extern BOOL init_guest_test(struct guest *guest);

#endif /* __VMIDL_TEST_H */
