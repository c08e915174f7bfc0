/*
 * /dev/kvm: opened once per process, with the capabilities vmidl needs.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_UNIX_KVM_H
#define __VMIDL_UNIX_KVM_H

#include "unix_private.h"

/* Opens /dev/kvm on first use; STATUS_NOT_SUPPORTED when there is no usable
 * KVM, STATUS_ACCESS_DENIED when the user may not open it.  The user is
 * told why once, whatever WINEDEBUG says. */
extern NTSTATUS kvm_open(void);
extern int kvm_system_fd(void);
extern int kvm_run_size(void);
extern int kvm_check_cap(int fd, long cap);

#endif /* __VMIDL_UNIX_KVM_H */
