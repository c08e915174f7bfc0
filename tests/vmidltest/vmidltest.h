/*
 * vmidltest.dll: test support only, never installed.  Lets Windows test
 * programs count what the unix side of their own process holds, which
 * /proc/self cannot tell them directly (Wine opens files in wineserver);
 * cut a file short the way a program outside Wine would; and delete a
 * partition from its own DllMain.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDLTEST_H
#define __VMIDLTEST_H

struct vmidltest_resources
{
    UINT32 fds;             /* entries of /proc/self/fd */
    UINT32 anon_fds;        /* of which anon_inode: KVM's, eventfds, epoll sets */
    UINT32 maps;            /* lines of /proc/self/maps naming a file or kernel object */
    UINT32 shared_maps;     /* of which MAP_SHARED */
    UINT32 threads;         /* entries of /proc/self/task, less KVM's per-VM workers */
};

/* NTSTATUS WINAPI VmidlTestGetResources(struct vmidltest_resources *) */

struct vmidltest_truncate_params
{
    char path[4096];        /* unix path */
    UINT64 size;
};

struct vmidltest_list_fds_params
{
    char text[8192];        /* out: "fd -> target" lines, cut short if need be */
};

enum vmidltest_funcs
{
    unix_get_resources,
    unix_truncate_file,
    unix_list_fds,
};

#endif /* __VMIDLTEST_H */
