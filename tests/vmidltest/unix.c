/*
 * Unix half of vmidltest.dll; see vmidltest.h.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ntstatus.h"
#define WIN32_NO_STATUS
#include "windef.h"
#include "winternl.h"

#include "vmidltest.h"

/* Less the one opendir() holds while counting. */
static void count_fds(struct vmidltest_resources *resources)
{
    char path[sizeof("/proc/self/fd/") + NAME_MAX], target[64];
    struct dirent *entry;
    ssize_t size;
    DIR *dir;

    resources->fds = resources->anon_fds = 0;
    if (!(dir = opendir("/proc/self/fd"))) return;
    while ((entry = readdir(dir)))
    {
        if (entry->d_name[0] == '.') continue;
        resources->fds++;
        snprintf(path, sizeof(path), "/proc/self/fd/%s", entry->d_name);
        if ((size = readlink(path, target, sizeof(target) - 1)) < 0) continue;
        target[size] = 0;
        if (!strncmp(target, "anon_inode:", 11)) resources->anon_fds++;
    }
    closedir(dir);
    resources->fds--;
}

/* KVM runs a worker for each VM that has run (its NX huge page recovery),
 * and recent kernels make it a thread of the process (a user worker): it
 * comes and goes with the VM, on the kernel's schedule, and is not ours. */
#define PF_USER_WORKER 0x00004000
#define PF_KTHREAD 0x00200000

static BOOL is_kernel_worker(const char *tid)
{
    char path[sizeof("/proc/self/task//stat") + NAME_MAX], line[1024], *end;
    unsigned long flags = 0;
    FILE *file;

    snprintf(path, sizeof(path), "/proc/self/task/%s/stat", tid);
    if (!(file = fopen(path, "r"))) return FALSE;
    if (fgets(line, sizeof(line), file) && (end = strrchr(line, ')')))
        sscanf(end + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags);
    fclose(file);
    return !!(flags & (PF_USER_WORKER | PF_KTHREAD));
}

static UINT32 count_threads(void)
{
    struct dirent *entry;
    UINT32 count = 0;
    DIR *dir;

    if (!(dir = opendir("/proc/self/task"))) return 0;
    while ((entry = readdir(dir)))
        if (entry->d_name[0] != '.' && !is_kernel_worker(entry->d_name)) count++;
    closedir(dir);
    return count;
}

static void *exit_at_once(void *arg)
{
    pthread_exit(arg);
}

/* glibc maps libgcc_s.so.1 to unwind the first thread that ends, and keeps
 * it: end one before any count, so that the first of Wine's threads to end
 * after a baseline adds no mappings. */
static void load_unwinder(void)
{
    pthread_t thread;

    if (!pthread_create(&thread, NULL, exit_at_once, NULL)) pthread_join(thread, NULL);
}

static NTSTATUS get_resources(void *args)
{
    static pthread_once_t unwinder_once = PTHREAD_ONCE_INIT;
    struct vmidltest_resources *resources = args;
    char line[4096], perms[8];
    int path;
    FILE *maps;

    pthread_once(&unwinder_once, load_unwinder);
    count_fds(resources);
    resources->threads = count_threads();
    resources->maps = resources->shared_maps = 0;
    if (!(maps = fopen("/proc/self/maps", "r"))) return STATUS_UNSUCCESSFUL;
    while (fgets(line, sizeof(line), maps))
    {
        path = 0;
        if (!strchr(line, '\n') || sscanf(line, "%*s %7s %*s %*s %*s %n", perms, &path) != 1) continue;
        if (perms[3] == 's') resources->shared_maps++;
        /* Anonymous private memory is glibc's and Wine's: per-thread malloc
         * arenas that stay, thread stacks that move.  Its line count says
         * nothing about leaks. */
        if (path && line[path]) resources->maps++;
    }
    fclose(maps);
    return STATUS_SUCCESS;
}

static NTSTATUS truncate_file(void *args)
{
    struct vmidltest_truncate_params *params = args;
    return truncate(params->path, params->size) ? STATUS_UNSUCCESSFUL : STATUS_SUCCESS;
}

/* What each fd is, for a test that finds more than it expected. */
static NTSTATUS list_fds(void *args)
{
    struct vmidltest_list_fds_params *params = args;
    char path[sizeof("/proc/self/fd/") + NAME_MAX], target[256];
    size_t used = 0;
    struct dirent *entry;
    DIR *dir;
    ssize_t len;

    params->text[0] = 0;
    if (!(dir = opendir("/proc/self/fd"))) return STATUS_UNSUCCESSFUL;
    while ((entry = readdir(dir)) && used < sizeof(params->text) - 1)
    {
        if (entry->d_name[0] == '.') continue;
        snprintf(path, sizeof(path), "/proc/self/fd/%s", entry->d_name);
        if ((len = readlink(path, target, sizeof(target) - 1)) < 0) continue;
        target[len] = 0;
        used += snprintf(params->text + used, sizeof(params->text) - used, "%s -> %s\n", entry->d_name, target);
    }
    closedir(dir);
    return STATUS_SUCCESS;
}

typedef NTSTATUS (*unixlib_entry_t)(void *args);
__attribute__((visibility("default"))) const unixlib_entry_t __wine_unix_call_funcs[] = {get_resources, truncate_file, list_fds};
