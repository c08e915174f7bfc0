/*
 * Implementation of tests/wine/test.h.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "wine/test.h"

int winetest_debug = 1;
int winetest_interactive;

static LONG successes, failures, todo_successes, todo_failures, skipped;
static int winetest_on_wine;
static int winetest_argc;
static char **winetest_argv;

/* Per thread: location, todo state and context stack. */
struct winetest_thread_data
{
    const char *file;
    int line;
    int todo_level;     /* bit 0: inside a todo; bit 1: todo block already looped */
    unsigned int context_count;
    char context[8][128];
};

static DWORD tls_index = TLS_OUT_OF_INDEXES;

static struct winetest_thread_data *get_thread_data(void)
{
    struct winetest_thread_data *data = TlsGetValue(tls_index);

    if (!data)
    {
        data = calloc(1, sizeof(*data));
        TlsSetValue(tls_index, data);
    }
    return data;
}

static const char *short_name(const char *file)
{
    const char *p = file + strlen(file);
    while (p > file && p[-1] != '/' && p[-1] != '\\') p--;
    return p;
}

static void print_location(const struct winetest_thread_data *data)
{
    unsigned int i;

    printf("%s:%d: ", short_name(data->file), data->line);
    for (i = 0; i < data->context_count; i++) printf("%s: ", data->context[i]);
}

void winetest_set_location(const char *file, int line)
{
    struct winetest_thread_data *data = get_thread_data();
    data->file = file;
    data->line = line;
}

int winetest_ok(int condition, const char *msg, ...)
{
    struct winetest_thread_data *data = get_thread_data();
    va_list args;

    if (data->todo_level & 1)
    {
        if (condition)
        {
            print_location(data);
            printf("Test succeeded inside todo block: ");
            va_start(args, msg);
            vprintf(msg, args);
            va_end(args);
            InterlockedIncrement(&todo_failures);
            fflush(stdout);
            return 0;
        }
        if (winetest_debug > 0)
        {
            print_location(data);
            printf("Test marked todo: ");
            va_start(args, msg);
            vprintf(msg, args);
            va_end(args);
            fflush(stdout);
        }
        InterlockedIncrement(&todo_successes);
        return 1;
    }
    if (!condition)
    {
        print_location(data);
        printf("Test failed: ");
        va_start(args, msg);
        vprintf(msg, args);
        va_end(args);
        fflush(stdout);
        InterlockedIncrement(&failures);
        return 0;
    }
    if (winetest_debug > 1)
    {
        print_location(data);
        printf("Test succeeded\n");
    }
    InterlockedIncrement(&successes);
    return 1;
}

static void vskip(const char *msg, va_list args)
{
    struct winetest_thread_data *data = get_thread_data();

    print_location(data);
    printf("Tests skipped: ");
    vprintf(msg, args);
    fflush(stdout);
    InterlockedIncrement(&skipped);
}

void winetest_skip(const char *msg, ...)
{
    va_list args;
    va_start(args, msg);
    vskip(msg, args);
    va_end(args);
}

/* A skip on Windows; on Wine, missing functionality is a failure. */
void winetest_win_skip(const char *msg, ...)
{
    va_list args;
    va_start(args, msg);
    if (winetest_on_wine)
    {
        struct winetest_thread_data *data = get_thread_data();
        print_location(data);
        printf("Test failed: ");
        vprintf(msg, args);
        InterlockedIncrement(&failures);
    }
    else vskip(msg, args);
    va_end(args);
}

void winetest_trace(const char *msg, ...)
{
    struct winetest_thread_data *data = get_thread_data();
    va_list args;

    if (winetest_debug <= 0) return;
    print_location(data);
    va_start(args, msg);
    vprintf(msg, args);
    va_end(args);
    fflush(stdout);
}

void winetest_start_todo(int is_todo)
{
    struct winetest_thread_data *data = get_thread_data();
    data->todo_level = is_todo ? 1 : 0;
}

int winetest_loop_todo(void)
{
    struct winetest_thread_data *data = get_thread_data();

    if (data->todo_level & 2)
    {
        data->todo_level = 0;
        return 0;
    }
    data->todo_level |= 2;
    return 1;
}

void winetest_end_todo(void)
{
}

int winetest_platform_is_wine(void)
{
    return winetest_on_wine;
}

int broken(int condition)
{
    return !winetest_on_wine && condition;
}

void winetest_push_context(const char *fmt, ...)
{
    struct winetest_thread_data *data = get_thread_data();
    va_list args;

    if (data->context_count < ARRAYSIZE(data->context))
    {
        va_start(args, fmt);
        vsnprintf(data->context[data->context_count], sizeof(data->context[0]), fmt, args);
        va_end(args);
    }
    data->context_count++;
}

void winetest_pop_context(void)
{
    struct winetest_thread_data *data = get_thread_data();
    if (data->context_count) data->context_count--;
}

LONG winetest_get_failures(void)
{
    return failures + todo_failures;
}

int winetest_get_mainargs(char ***argv)
{
    *argv = winetest_argv;
    return winetest_argc;
}

int main(int argc, char **argv)
{
    const char *debug = getenv("WINETEST_DEBUG");
    LONG total_failures;

    if (debug) winetest_debug = atoi(debug);
    winetest_argc = argc;
    winetest_argv = argv;
    winetest_on_wine = GetProcAddress(GetModuleHandleA("ntdll.dll"), "wine_get_version") != NULL;
    tls_index = TlsAlloc();
    setvbuf(stdout, NULL, _IONBF, 0);

    winetest_test.func();

    total_failures = failures + todo_failures;
    printf("%s:%s: %ld tests executed (%ld marked as todo, %ld failures), %ld skipped.\n", WINETEST_DLL,
            winetest_test.name, successes + failures + todo_successes + todo_failures,
            todo_successes, total_failures, skipped);
    return total_failures > 255 ? 255 : total_failures;
}
