/* Unix half of vmidltest.dll; see vmidltest.h. */

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "ntstatus.h"
#define WIN32_NO_STATUS
#include "windef.h"
#include "winternl.h"

#include "vmidltest.h"

static UINT32 count_entries(const char *path)
{
    struct dirent *entry;
    UINT32 count = 0;
    DIR *dir;

    if (!(dir = opendir(path))) return 0;
    while ((entry = readdir(dir))) if (entry->d_name[0] != '.') count++;
    closedir(dir);
    return count;
}

static NTSTATUS get_resources(void *args)
{
    struct vmidltest_resources *resources = args;
    char line[4096], perms[8];
    FILE *maps;

    /* Less the one opendir() holds while counting. */
    resources->fds = count_entries("/proc/self/fd") - 1;
    resources->threads = count_entries("/proc/self/task");
    resources->maps = resources->shared_maps = 0;
    if (!(maps = fopen("/proc/self/maps", "r"))) return STATUS_UNSUCCESSFUL;
    while (fgets(line, sizeof(line), maps))
    {
        if (!strchr(line, '\n')) continue;
        resources->maps++;
        if (sscanf(line, "%*s %7s", perms) == 1 && perms[3] == 's') resources->shared_maps++;
    }
    fclose(maps);
    return STATUS_SUCCESS;
}

typedef NTSTATUS (*unixlib_entry_t)(void *args);
__attribute__((visibility("default"))) const unixlib_entry_t __wine_unix_call_funcs[] = {get_resources};
