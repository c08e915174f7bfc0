/*
 * /dev/kvm: opened once per process, with the capabilities vmidl needs.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "unix_private.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

static int kvm_fd = -1;
static int kvm_vcpu_mmap_size;
static NTSTATUS kvm_open_status;
static pthread_once_t kvm_once = PTHREAD_ONCE_INIT;

int kvm_check_cap(int fd, long cap)
{
    int ret = ioctl(fd, KVM_CHECK_EXTENSION, cap);
    return ret > 0 ? ret : 0;
}

static void kvm_open_once(void)
{
    int fd;

    if ((fd = open("/dev/kvm", O_RDWR | O_CLOEXEC)) < 0)
    {
        int err = errno;

        if (err == EACCES || err == EPERM)
        {
            MESSAGE("vmidl: no read-write access to /dev/kvm (%s): add this user to the group that owns "
                    "/dev/kvm (usually kvm) and log in again\n", strerror(err));
            kvm_open_status = STATUS_ACCESS_DENIED;
        }
        else
        {
            MESSAGE("vmidl: cannot open /dev/kvm (%s): vmidl needs KVM; enable virtualisation and load "
                    "the kvm module\n", strerror(err));
            kvm_open_status = STATUS_NOT_SUPPORTED;
        }
        return;
    }
    if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION
            || !kvm_check_cap(fd, KVM_CAP_USER_MEMORY)
            || !kvm_check_cap(fd, KVM_CAP_IOEVENTFD)
            || !kvm_check_cap(fd, KVM_CAP_READONLY_MEM)
            || !kvm_check_cap(fd, KVM_CAP_IMMEDIATE_EXIT)
            || (kvm_vcpu_mmap_size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0)) <= 0)
    {
        MESSAGE("vmidl: this KVM lacks user memory, ioeventfd, read-only memslot or immediate-exit support\n");
        kvm_open_status = STATUS_NOT_SUPPORTED;
        close(fd);
        return;
    }
    kvm_fd = fd;
    TRACE("/dev/kvm fd %d, vCPU area %d bytes\n", fd, kvm_vcpu_mmap_size);
}

NTSTATUS kvm_open(void)
{
    pthread_once(&kvm_once, kvm_open_once);
    return kvm_open_status;
}

int kvm_system_fd(void)
{
    return kvm_fd;
}

int kvm_run_size(void)
{
    return kvm_vcpu_mmap_size;
}
