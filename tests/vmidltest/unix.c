/* Unix half of vmidltest.dll; see vmidltest.h. */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
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

/* glibc gives threads that contend for malloc an arena of their own: an
 * anonymous 64 MiB-aligned reservation, read-write at its start, that
 * lives as long as the process.  It is glibc's, not a leak. */
#define ARENA_SIZE (64ull << 20)

struct map
{
    unsigned long long start, end;
    char perms[8];
    int anonymous;
};

static int parse_map(const char *line, struct map *map)
{
    int path = 0;

    if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %n", &map->start, &map->end, map->perms, &path) < 3) return 0;
    map->anonymous = !path || line[path] == '\n' || !line[path];
    return 1;
}

static int is_arena(const struct map *map, const struct map *next)
{
    if (!map->anonymous || strncmp(map->perms, "rw-p", 4) || map->start % ARENA_SIZE) return 0;
    if (map->end - map->start == ARENA_SIZE) return 1;
    return next && next->anonymous && !strncmp(next->perms, "---p", 4) && next->start == map->end
            && next->end == map->start + ARENA_SIZE;
}

static NTSTATUS get_resources(void *args)
{
    struct vmidltest_resources *resources = args;
    struct map *maps = NULL, *grown;
    unsigned int count = 0, capacity = 0, i;
    char line[4096];
    FILE *file;

    /* Less the one opendir() holds while counting. */
    resources->fds = count_entries("/proc/self/fd") - 1;
    resources->threads = count_entries("/proc/self/task");
    if (!(file = fopen("/proc/self/maps", "r"))) return STATUS_UNSUCCESSFUL;
    while (fgets(line, sizeof(line), file))
    {
        if (!strchr(line, '\n')) continue;
        if (count == capacity)
        {
            capacity = capacity ? capacity * 2 : 256;
            if (!(grown = realloc(maps, capacity * sizeof(*maps)))) break;
            maps = grown;
        }
        if (parse_map(line, &maps[count])) count++;
    }
    fclose(file);

    resources->maps = resources->shared_maps = resources->malloc_arenas = 0;
    for (i = 0; i < count; i++)
    {
        if (is_arena(&maps[i], i + 1 < count ? &maps[i + 1] : NULL))
        {
            resources->malloc_arenas++;
            if (maps[i].end - maps[i].start != ARENA_SIZE) i++;     /* and its reserved tail */
            continue;
        }
        resources->maps++;
        if (maps[i].perms[3] == 's') resources->shared_maps++;
    }
    free(maps);
    return STATUS_SUCCESS;
}

typedef NTSTATUS (*unixlib_entry_t)(void *args);
__attribute__((visibility("default"))) const unixlib_entry_t __wine_unix_call_funcs[] = {get_resources};
