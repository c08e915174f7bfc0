/*
 * Sample tests for the harness self-test (tests/harness.c): each one
 * deliberately succeeds, fails, goes todo, flaky, skips or traces, and
 * tests/harness.c runs it in a child process and compares what it prints
 * and its exit status with what Wine's own harness prints.  Not part of
 * vmidl_test.exe: these tests fail on purpose.
 *
 * Each test starts at a fixed line number (#line), so that the expected
 * "samples.c:LINE:" prefixes in tests/harness.c stay valid when another
 * test changes.  Within a test, lines count from there: keep them in step
 * with tests/harness.c.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include "wine/test.h"

static DWORD WINAPI lasterror_thread(void *arg)
{
#line 100 "samples.c"
    SetLastError(0xbeef);
    /* The thread's first check allocates its data. */
    ok(GetLastError() == 0xbeef, "thread: last error %lu\n", GetLastError());
    ok(0, "thread: error %lu\n", GetLastError());
    return 0;
}

START_TEST(lasterror)
{
    HANDLE thread;

#line 200 "samples.c"
    SetLastError(0xdead);
    ok(GetLastError() == 0xdead, "last error %lu\n", GetLastError());
    ok(GetLastError() == 0xdead, "last error after a check %lu\n", GetLastError());
    ok(0, "error %lu\n", GetLastError());
    trace("trace %lu\n", GetLastError());
    skip("skip %lu\n", GetLastError());
    todo_wine ok(GetLastError() != 0xdead, "todo %lu\n", GetLastError());
    winetest_push_context("context %lu", GetLastError());
    ok(0, "in a context %lu\n", GetLastError());
    winetest_pop_context();
    flaky ok(0, "flaky %lu\n", GetLastError());
    win_skip("win_skip %lu\n", GetLastError());
    thread = CreateThread(NULL, 0, lasterror_thread, NULL, 0, NULL);
    WaitForSingleObject(thread, INFINITE);
    CloseHandle(thread);
}

START_TEST(todo)
{
#line 300 "samples.c"
    todo_wine ok(0, "plain todo\n");
    todo_wine
    {
        ok(0, "outer\n");
        todo_if(FALSE) ok(0, "inner todo_if(FALSE), outer todo\n");
        todo_if(TRUE) ok(1, "inner todo succeeds\n");
        ok(0, "outer again\n");
    }
    ok(0, "after the blocks\n");
    todo_if(TRUE) todo_if(TRUE) ok(0, "two levels\n");
    ok(1, "passes\n");
    todo_wine_if(FALSE) ok(0, "todo_wine_if(FALSE)\n");
    todo_wine_if(TRUE) ok(0, "todo_wine_if(TRUE)\n");
    todo_if(TRUE) ok(1, "todo_if(TRUE) succeeds\n");
}

static DWORD WINAPI context_thread(void *arg)
{
#line 400 "samples.c"
    ok(0, "other thread\n");
    return 0;
}

START_TEST(context)
{
    char long_context[200];
    unsigned int i;
    HANDLE thread;

#line 500 "samples.c"
    winetest_push_context("outer");
    ok(0, "one level\n");
    winetest_push_context("inner %d", 2);
    ok(0, "two levels\n");
    trace("trace\n");
    skip("skip\n");
    todo_wine ok(0, "todo\n");
    todo_wine ok(1, "todo succeeds\n");
    flaky ok(0, "flaky\n");
    win_skip("win_skip\n");
    thread = CreateThread(NULL, 0, context_thread, NULL, 0, NULL);
    WaitForSingleObject(thread, INFINITE);
    CloseHandle(thread);
    winetest_pop_context();
    ok(0, "popped\n");
    winetest_pop_context();
    winetest_pop_context();
    ok(0, "none left\n");
    for (i = 0; i < 9; i++) winetest_push_context("c%u", i);
    winetest_pop_context();
    ok(0, "eight kept of nine\n");
    for (i = 0; i < 8; i++) winetest_pop_context();
    memset(long_context, 'x', sizeof(long_context) - 1);
    long_context[sizeof(long_context) - 1] = 0;
    winetest_push_context("%s", long_context);
    ok(0, "long\n");
    winetest_pop_context();
    ok(0, "done\n");
}

START_TEST(flaky)
{
#line 600 "samples.c"
    flaky ok(0, "flaky failure\n");
    flaky ok(1, "flaky success\n");
    flaky_wine ok(0, "flaky_wine\n");
    flaky_wine_if(FALSE) ok(0, "flaky_wine_if(FALSE)\n");
    flaky_wine_if(TRUE) ok(0, "flaky_wine_if(TRUE)\n");
    flaky_if(TRUE)
    {
        flaky_if(FALSE) ok(0, "nested, outer flaky\n");
    }
    flaky todo_wine ok(1, "flaky todo succeeds\n");
    flaky todo_wine ok(0, "flaky todo\n");
    flaky skip("skip in flaky\n");
    ok(0, "after flaky\n");
}

START_TEST(platform)
{
#line 700 "samples.c"
    trace("platform %s, is_wine %d\n", winetest_platform, winetest_platform_is_wine);
    if (winetest_platform_is_wine) trace("on wine\n");
    else trace("on windows\n");
    ok(!broken(1), "broken(1) is TRUE\n");
    ok(!broken(0), "broken(0) is TRUE\n");
    ok(0 || broken(1), "not broken\n");
    win_skip("win_skip\n");
    todo_wine win_skip("win_skip in todo_wine\n");
    todo_wine ok(0, "todo_wine\n");
}

START_TEST(trace)
{
#line 800 "samples.c"
    trace("debug level %d\n", winetest_debug);
    if (winetest_debug > 1) trace("verbose\n");
    winetest_push_context("ctx");
    ok(1, "success\n");
    trace("in a context\n");
    winetest_pop_context();
    todo_wine ok(0, "todo\n");
    todo_wine ok(1, "todo succeeds\n");
    skip("skipped\n");
    ok(0, "failure\n");
    flaky ok(0, "flaky\n");
    ok(1, "last success\n");
}

START_TEST(mute)
{
    unsigned int i;

#line 900 "samples.c"
    for (i = 0; i < 45; i++) trace("trace %u\n", i);
    for (i = 0; i < 45; i++) skip("skip %u\n", i);
    for (i = 0; i < 45; i++) todo_wine ok(0, "todo %u\n", i);
    for (i = 0; i < 45; i++) ok(0, "failure %u\n", i);
    for (i = 0; i < 45; i++) todo_wine ok(1, "todo success %u\n", i);
    for (i = 0; i < 45; i++) ok(1, "success %u\n", i);
}

static DWORD WINAPI threads_thread(void *arg)
{
    unsigned int i, id = (UINT_PTR)arg;

#line 1000 "samples.c"
    for (i = 0; i < 2000; i++) ok(1, "never printed\n");
    for (i = 0; i < 10; i++) ok(0, "thread %u, failure %u, a line long enough to be written in pieces\n", id, i);
    for (i = 0; i < 3; i++) trace("thread %u, trace %u\n", id, i);
    return 0;
}

START_TEST(threads)
{
    HANDLE threads[4];
    unsigned int i;

#line 1100 "samples.c"
    winetest_push_context("main");
    todo_wine
    {
        for (i = 0; i < ARRAY_SIZE(threads); i++)
            threads[i] = CreateThread(NULL, 0, threads_thread, (void *)(UINT_PTR)i, 0, NULL);
        WaitForMultipleObjects(ARRAY_SIZE(threads), threads, TRUE, INFINITE);
        ok(0, "main thread todo\n");
    }
    for (i = 0; i < ARRAY_SIZE(threads); i++) CloseHandle(threads[i]);
    winetest_pop_context();
}

static HANDLE start_child(const char *args)
{
    STARTUPINFOA startup = {sizeof(startup)};
    PROCESS_INFORMATION info;
    char cmdline[MAX_PATH + 64], **argv;

    winetest_get_mainargs(&argv);
    sprintf(cmdline, "\"%s\" child %s", argv[0], args);
    if (!CreateProcessA(NULL, cmdline, NULL, NULL, FALSE, 0, NULL, NULL, &startup, &info)) return NULL;
    CloseHandle(info.hThread);
    return info.hProcess;
}

START_TEST(child)
{
    HANDLE process;
    char **argv;
    int argc;

    argc = winetest_get_mainargs(&argv);
    if (argc >= 3)
    {
        /* The child: exits with the code it was given. */
        ExitProcess(strtoul(argv[2], NULL, 0));
    }

#line 1200 "samples.c"
    trace("argc %d, argv[1] %s\n", argc, argv[1]);
    process = start_child("0");
    wait_child_process(process);
    CloseHandle(process);
    process = start_child("3");
    wait_child_process(process);
    CloseHandle(process);
    process = start_child("0xc0000005");
    wait_child_process(process);
    CloseHandle(process);
    ok(winetest_get_failures() == 4, "%ld failures\n", winetest_get_failures());
    winetest_add_failures(2);
    ok(winetest_get_failures() == 6, "%ld failures\n", winetest_get_failures());
}

START_TEST(exception)
{
#line 1300 "samples.c"
    if (strcmp(winetest_platform, "windows"))
    {
        skip("the harness catches exceptions on Windows only\n");
        return;
    }
    ok(1, "the last check\n");
    *(volatile int *)(UINT_PTR)8 = 1;
    ok(0, "not reached\n");
}

START_TEST(status)
{
    unsigned int i;

#line 1400 "samples.c"
    for (i = 0; i < 300; i++) ok(0, "failure %u\n", i);
}

START_TEST(misc)
{
#line 1500 "samples.c"
    subtest("sub");
    ignore_exceptions(TRUE);
    ignore_exceptions(FALSE);
    trace("interactive %d, error mode %#x\n", winetest_interactive, GetErrorMode());
    ok(0, "the one failure\n");
}

START_TEST(time)
{
#line 1600 "samples.c"
    ok(1, "quick\n");
    if (winetest_time) Sleep(1100);
    ok(1, "a second later\n");
    ok(1, "quick again\n");
    ok(0, "failure\n");
    trace("trace\n");
}
