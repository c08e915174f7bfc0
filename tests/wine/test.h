/*
 * A winetest-compatible harness: Debian ships no wine/test.h.
 *
 * What a test sees follows Wine's own include/wine/test.h (Wine 8.0 and
 * 10.0): the same macros, variables, WINETEST_* environment variables,
 * message formats, counters and exit status.  tests/winetest.c holds the
 * implementation and main(); tools/make-testlist writes the list of tests
 * (winetest_testlist) of each program.  tests/harness.c proves the
 * behaviour by running tests/harness/samples.c.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __WINE_WINE_TEST_H
#define __WINE_WINE_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <windef.h>
#include <winbase.h>
#if defined(__has_include)
# if __has_include(<wine/debug.h>)
#  include <wine/debug.h>   /* wine_dbgstr_guid() and friends, as with Wine's header */
# endif
#endif

#ifndef INVALID_FILE_ATTRIBUTES
#define INVALID_FILE_ATTRIBUTES  (~0u)
#endif
#ifndef INVALID_SET_FILE_POINTER
#define INVALID_SET_FILE_POINTER (~0u)
#endif
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))
#endif

#ifdef __GNUC__
#define WINETEST_PRINTF_ATTR(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define WINETEST_PRINTF_ATTR(fmt, args)
#endif

/* Settings, from the environment (see main() in winetest.c). */
extern int winetest_debug;              /* WINETEST_DEBUG, default 1 */
extern int winetest_interactive;        /* WINETEST_INTERACTIVE */
extern int winetest_report_success;     /* WINETEST_REPORT_SUCCESS */
extern int winetest_report_flaky;       /* WINETEST_REPORT_FLAKY */
extern int winetest_mute_threshold;     /* messages of a line before it is muted, 42 */
extern int winetest_time;               /* WINETEST_TIME */
extern int winetest_color;              /* WINETEST_COLOR */
extern const char *winetest_platform;   /* WINETEST_PLATFORM: "wine" or "windows" */
extern int winetest_platform_is_wine;

/* Counters, updated atomically from any thread. */
extern LONG winetest_successes;
extern LONG winetest_failures;
extern LONG winetest_flaky_failures;         /* failures inside a flaky block */
extern LONG winetest_skipped;
extern LONG winetest_todo_successes;         /* failures inside a todo block, as expected */
extern LONG winetest_todo_failures;          /* successes inside a todo block */
extern LONG winetest_muted_traces;
extern LONG winetest_muted_skipped;
extern LONG winetest_muted_todo_successes;

extern void winetest_set_location(const char *file, int line);
extern void winetest_subtest(const char *name);
extern void winetest_ignore_exceptions(BOOL ignore);
extern int winetest_vok(int condition, const char *msg, va_list args);
extern void winetest_vskip(const char *msg, va_list args);
extern void winetest_ok(int condition, const char *msg, ...) WINETEST_PRINTF_ATTR(2, 3);
extern void winetest_skip(const char *msg, ...) WINETEST_PRINTF_ATTR(1, 2);
extern void winetest_win_skip(const char *msg, ...) WINETEST_PRINTF_ATTR(1, 2);
extern void winetest_trace(const char *msg, ...) WINETEST_PRINTF_ATTR(1, 2);
extern void winetest_start_todo(int is_todo);
extern int winetest_loop_todo(void);
extern void winetest_end_todo(void);
extern void winetest_start_flaky(int is_flaky);
extern int winetest_loop_flaky(void);
extern void winetest_end_flaky(void);
extern void winetest_push_context(const char *fmt, ...) WINETEST_PRINTF_ATTR(1, 2);
extern void winetest_pop_context(void);
extern int broken(int condition);
extern LONG winetest_get_failures(void);
extern void winetest_add_failures(LONG new_failures);
/* argv[0] is the program, argv[1] the test name; child processes started
 * by a test get their own arguments after it. */
extern int winetest_get_mainargs(char ***argv);
/* Waits for a child process; its exit code is a number of failures, or
 * an exception code when above 255. */
extern void winetest_wait_child_process(HANDLE process);

/* Each test file has one START_TEST(name); a program's tests/testlist.c,
 * made by tools/make-testlist, lists them. */
#define START_TEST(name) \
    void func_##name(void); \
    void func_##name(void)

#ifdef WINETEST_NO_LINE_NUMBERS
#define winetest_line_(line) 0
#else
#define winetest_line_(line) (line)
#endif

/* The location is recorded before the arguments are evaluated; it keeps
 * the last error as it was. */
#define subtest_(file, line)  (winetest_set_location(file, winetest_line_(line)), 0) ? (void)0 : winetest_subtest
#define ignore_exceptions_(file, line) \
                              (winetest_set_location(file, winetest_line_(line)), 0) ? (void)0 : winetest_ignore_exceptions
#define ok_(file, line)       (winetest_set_location(file, winetest_line_(line)), 0) ? (void)0 : winetest_ok
#define skip_(file, line)     (winetest_set_location(file, winetest_line_(line)), 0) ? (void)0 : winetest_skip
#define win_skip_(file, line) (winetest_set_location(file, winetest_line_(line)), 0) ? (void)0 : winetest_win_skip
#define trace_(file, line)    (winetest_set_location(file, winetest_line_(line)), 0) ? (void)0 : winetest_trace
#define wait_child_process_(file, line) \
                              (winetest_set_location(file, winetest_line_(line)), 0) ? (void)0 : winetest_wait_child_process

#define subtest            subtest_(__FILE__, __LINE__)
#define ignore_exceptions  ignore_exceptions_(__FILE__, __LINE__)
#define ok                 ok_(__FILE__, __LINE__)
#define skip               skip_(__FILE__, __LINE__)
#define win_skip           win_skip_(__FILE__, __LINE__)
#define trace              trace_(__FILE__, __LINE__)
#define wait_child_process wait_child_process_(__FILE__, __LINE__)

/* Blocks nest: a check is todo (or flaky) when any enclosing block is. */
#define todo_if(is_todo) for (winetest_start_todo(is_todo); winetest_loop_todo(); winetest_end_todo())
#define todo_wine               todo_if(winetest_platform_is_wine)
#define todo_wine_if(is_todo)   todo_if((is_todo) && winetest_platform_is_wine)

#define flaky_if(is_flaky) for (winetest_start_flaky(is_flaky); winetest_loop_flaky(); winetest_end_flaky())
#define flaky                   flaky_if(TRUE)
#define flaky_wine              flaky_if(winetest_platform_is_wine)
#define flaky_wine_if(is_flaky) flaky_if((is_flaky) && winetest_platform_is_wine)

#ifdef STANDALONE
/* For winetest.c and the generated testlist.c only. */
struct test
{
    const char *name;
    void (*func)(void);
};

extern const struct test winetest_testlist[];
#endif

#endif /* __WINE_WINE_TEST_H */
