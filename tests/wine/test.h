/*
 * A winetest-compatible harness: Debian ships no wine/test.h.
 *
 * Each test program holds one START_TEST(name).  It prints Wine's
 * "file:line: Test failed: ..." lines and ends with
 *   <dll>:<test>: N tests executed (T marked as todo, F failures), S skipped.
 * and exits with the number of failures (todo blocks that unexpectedly
 * succeed count as failures).  Builds for Windows as well.
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

#ifndef WINETEST_DLL
#define WINETEST_DLL "vmidl"
#endif

extern int winetest_debug;
extern int winetest_interactive;

extern void winetest_set_location(const char *file, int line);
extern int winetest_ok(int condition, const char *msg, ...) __attribute__((format(printf, 2, 3)));
extern void winetest_skip(const char *msg, ...) __attribute__((format(printf, 1, 2)));
extern void winetest_win_skip(const char *msg, ...) __attribute__((format(printf, 1, 2)));
extern void winetest_trace(const char *msg, ...) __attribute__((format(printf, 1, 2)));
extern void winetest_start_todo(int is_todo);
extern int winetest_loop_todo(void);
extern void winetest_end_todo(void);
extern int winetest_platform_is_wine(void);
extern int broken(int condition);
extern void winetest_push_context(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern void winetest_pop_context(void);
extern LONG winetest_get_failures(void);
/* argv[0] is the program, argv[1] the test name; child processes started
 * by a test get their own arguments after it. */
extern int winetest_get_mainargs(char ***argv);

#define ok_(file, line)       (winetest_set_location(file, line), 0) ? (void)0 : (void)winetest_ok
#define skip_(file, line)     (winetest_set_location(file, line), 0) ? (void)0 : winetest_skip
#define win_skip_(file, line) (winetest_set_location(file, line), 0) ? (void)0 : winetest_win_skip
#define trace_(file, line)    (winetest_set_location(file, line), 0) ? (void)0 : winetest_trace

#define ok       ok_(__FILE__, __LINE__)
#define skip     skip_(__FILE__, __LINE__)
#define win_skip win_skip_(__FILE__, __LINE__)
#define trace    trace_(__FILE__, __LINE__)

#define todo_if(is_todo) for (winetest_start_todo(is_todo); winetest_loop_todo(); winetest_end_todo())
#define todo_wine         todo_if(winetest_platform_is_wine())
#define todo_wine_if(c)   todo_if(winetest_platform_is_wine() && (c))

struct winetest_test
{
    const char *name;
    void (*func)(void);
};
extern const struct winetest_test winetest_test;

#define START_TEST(name) \
    static void func_##name(void); \
    const struct winetest_test winetest_test = {#name, func_##name}; \
    static void func_##name(void)

#endif /* __WINE_WINE_TEST_H */
