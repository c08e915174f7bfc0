/*
 * bench-requests: counts the wineserver requests of the phases that
 * bench.exe --trace marks, in the trace of a wineserver started with
 * WINEDEBUG=+server (one line per request and per reply, each prefixed by
 * the thread id: "0024: event_op( handle=003c, op=1 )").
 *
 * A marker is an open_event request naming "vmidl-bench-mark BEGIN FIGURE
 * VARIANT" or "vmidl-bench-mark END FIGURE VARIANT UNITS".  Between the two,
 * every request by any thread of the process that made the markers counts,
 * the markers themselves excepted.  The bench is the process of the first
 * marker; a phase that another process marks (a driver process that the
 * bench started, P9) counts that process's requests as "driver:NAME" and
 * the bench's, which serves it, as "worker:NAME", except those of the
 * bench's threads that marked themselves with "vmidl-bench-mark ASIDE":
 * they take no part in the driver's calls (one only sends the driver
 * commands and waits for the answers, another waits for its own turn), so
 * their requests belong to no call.  Threads are attributed to processes
 * from the trace itself: init_first_thread replies name the pid of a
 * process's first thread, and a new_thread request for the current process
 * (process=ffffffff) puts the new thread in its caller's process.  A
 * request in a phase from a thread of unknown process is an error.
 *
 * Usage: bench-requests TRACE ROUND
 * Prints, for the summariser, "project ROUND FIGURE VARIANT_requests N" for
 * each phase (its requests per unit) and "project ROUND FIGURE
 * VARIANT_req:NAME N" for each request name (its count per unit over every
 * phase of that figure and variant).  Exit status 1 on an unreadable trace
 * or unbalanced markers.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MARKER "vmidl-bench-mark "
#define UNKNOWN_PID (~0u)

struct name_count
{
    char name[48];
    unsigned long count;
};

struct phase
{
    char figure[8], variant[48];
    unsigned long phases, units, requests;
    struct name_count *names;
    size_t name_count;
};

static struct phase *phases;
static size_t phase_count;
static int round_number;

/* Per thread id: its process, whether its last request was new_thread in
 * its own process, and whether it stands aside from a driver's phases. */
static unsigned int *pid_of;
static unsigned char *own_new_thread, *aside;
static size_t tid_capacity;

static void fail(unsigned long line, const char *fmt, ...)
{
    va_list args;

    fprintf(stderr, "bench-requests: line %lu: ", line);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputc('\n', stderr);
    exit(1);
}

static void ensure_tid(unsigned int tid)
{
    size_t capacity = tid_capacity ? tid_capacity : 4096, i;

    if (tid < tid_capacity) return;
    while (capacity <= tid) capacity *= 2;
    pid_of = realloc(pid_of, capacity * sizeof(*pid_of));
    own_new_thread = realloc(own_new_thread, capacity);
    aside = realloc(aside, capacity);
    if (!pid_of || !own_new_thread || !aside)
    {
        fprintf(stderr, "bench-requests: out of memory\n");
        exit(1);
    }
    for (i = tid_capacity; i < capacity; i++)
    {
        pid_of[i] = UNKNOWN_PID;
        own_new_thread[i] = aside[i] = 0;
    }
    tid_capacity = capacity;
}

static struct phase *find_phase(const char *figure, const char *variant)
{
    size_t i;

    for (i = 0; i < phase_count; i++)
        if (!strcmp(phases[i].figure, figure) && !strcmp(phases[i].variant, variant)) return &phases[i];
    phases = realloc(phases, (phase_count + 1) * sizeof(*phases));
    memset(&phases[phase_count], 0, sizeof(*phases));
    snprintf(phases[phase_count].figure, sizeof(phases->figure), "%s", figure);
    snprintf(phases[phase_count].variant, sizeof(phases->variant), "%s", variant);
    return &phases[phase_count++];
}

static void count_name(struct phase *phase, const char *name, size_t len, unsigned long count)
{
    size_t i;

    for (i = 0; i < phase->name_count; i++)
        if (strlen(phase->names[i].name) == len && !memcmp(phase->names[i].name, name, len)) break;
    if (i == phase->name_count)
    {
        phase->names = realloc(phase->names, (i + 1) * sizeof(*phase->names));
        memset(&phase->names[i], 0, sizeof(*phase->names));
        snprintf(phase->names[i].name, sizeof(phase->names[i].name), "%.*s", (int)len, name);
        phase->name_count++;
    }
    phase->names[i].count += count;
}

/* "pid=0020" -> 0x20; UNKNOWN_PID when absent. */
static unsigned int hex_field(const char *text, const char *field)
{
    const char *p = strstr(text, field);
    return p ? (unsigned int)strtoul(p + strlen(field), NULL, 16) : UNKNOWN_PID;
}

int main(int argc, char **argv)
{
    unsigned int bench_pid = UNKNOWN_PID, open_pid = UNKNOWN_PID;
    struct phase *open = NULL;
    unsigned long line_number = 0, open_requests = 0, open_line = 0;
    struct phase current;       /* names counted in the open phase */
    char *line = NULL;
    size_t size = 0, i;
    FILE *trace;

    if (argc != 3)
    {
        fprintf(stderr, "usage: bench-requests TRACE ROUND\n");
        return 2;
    }
    if (!(trace = fopen(argv[1], "r")))
    {
        perror(argv[1]);
        return 1;
    }
    round_number = atoi(argv[2]);
    memset(&current, 0, sizeof(current));

    while (getline(&line, &size, trace) != -1)
    {
        char *p = line, *name, *end;
        unsigned int tid;
        size_t name_len;

        line_number++;
        tid = strtoul(line, &p, 16);
        if (p == line || p[0] != ':' || p[1] != ' ') continue;     /* not a request or reply line */
        name = p + 2;
        if (*name == '*') continue;                                 /* *fd*, *wakeup*, *killed* ... */
        name_len = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_");
        if (!name_len || name[name_len] != '(') continue;
        ensure_tid(tid);

        if (name[name_len + 1] == ')')      /* a reply: "name() = STATUS { ... }" */
        {
            if (name_len == 17 && !strncmp(name, "init_first_thread", name_len))
            {
                unsigned int pid = hex_field(name, " pid="), new_tid = hex_field(name, " tid=");
                if (pid == UNKNOWN_PID || new_tid == UNKNOWN_PID) fail(line_number, "init_first_thread reply without ids");
                ensure_tid(new_tid);
                pid_of[new_tid] = pid;
            }
            else if (name_len == 10 && !strncmp(name, "new_thread", name_len) && own_new_thread[tid])
            {
                unsigned int new_tid = hex_field(name, " tid=");
                if (new_tid != UNKNOWN_PID)
                {
                    ensure_tid(new_tid);
                    pid_of[new_tid] = pid_of[tid];
                }
            }
            continue;
        }

        /* A request. */
        own_new_thread[tid] = name_len == 10 && !strncmp(name, "new_thread", name_len)
                && strstr(name, "process=ffffffff,");
        if (name_len == 10 && !strncmp(name, "open_event", name_len) && (end = strstr(name, "name=L\"" MARKER)))
        {
            char text[128], verb[8], figure[8], variant[48];
            unsigned long units = 0;
            int fields;

            end += strlen("name=L\"" MARKER);
            snprintf(text, sizeof(text), "%.*s", (int)strcspn(end, "\""), end);
            if (pid_of[tid] == UNKNOWN_PID) fail(line_number, "marker \"%s\" from a thread of unknown process", text);
            if (bench_pid == UNKNOWN_PID) bench_pid = pid_of[tid];
            fields = sscanf(text, "%7s %7s %47s %lu", verb, figure, variant, &units);
            if (fields >= 3 && !strcmp(verb, "BEGIN"))
            {
                if (open) fail(line_number, "\"%s\" inside another phase", text);
                open = find_phase(figure, variant);
                open_pid = pid_of[tid];
                open_requests = 0;
                open_line = line_number;
                current.name_count = 0;
            }
            else if (fields == 4 && !strcmp(verb, "END"))
            {
                if (!open || strcmp(open->figure, figure) || strcmp(open->variant, variant) || !units
                        || pid_of[tid] != open_pid)
                    fail(line_number, "\"%s\" does not close the phase open", text);
                printf("project %d %s %s_requests %.6g\n", round_number, figure, variant,
                        (double)open_requests / units);
                open->phases++;
                open->units += units;
                open->requests += open_requests;
                for (i = 0; i < current.name_count; i++)
                    count_name(open, current.names[i].name, strlen(current.names[i].name), current.names[i].count);
                open = NULL;
            }
            else if (!strcmp(text, "ASIDE") && pid_of[tid] == bench_pid) aside[tid] = 1;
            else if (strcmp(text, "INIT")) fail(line_number, "unknown marker \"%s\"", text);
            continue;
        }
        if (!open) continue;
        if (pid_of[tid] == UNKNOWN_PID)
            fail(line_number, "a request in a counted phase from thread %04x, of unknown process", tid);
        if (open_pid == bench_pid)
        {
            if (pid_of[tid] != bench_pid) continue;
            count_name(&current, name, name_len, 1);
        }
        else
        {
            char side_name[64];

            if (pid_of[tid] == open_pid) snprintf(side_name, sizeof(side_name), "driver:%.*s", (int)name_len, name);
            else if (pid_of[tid] == bench_pid && !aside[tid])
                snprintf(side_name, sizeof(side_name), "worker:%.*s", (int)name_len, name);
            else continue;
            count_name(&current, side_name, strlen(side_name), 1);
        }
        open_requests++;
    }
    fclose(trace);
    free(line);

    if (open) fail(open_line, "the phase opened here is never closed");
    if (!phase_count)
    {
        fprintf(stderr, "bench-requests: no marked phase in %s (was the wineserver started by this run, "
                "with WINEDEBUG=+server?)\n", argv[1]);
        return 1;
    }
    for (i = 0; i < phase_count; i++)
    {
        size_t j;

        for (j = 0; j < phases[i].name_count; j++)
            printf("project %d %s %s_req:%s %.6g\n", round_number, phases[i].figure, phases[i].variant,
                    phases[i].names[j].name, (double)phases[i].names[j].count / phases[i].units);
        if (!phases[i].requests)
            printf("project %d %s %s_req:none 0\n", round_number, phases[i].figure, phases[i].variant);
    }
    return 0;
}
