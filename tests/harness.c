/*
 * The harness self-test: tests/wine/test.h and tests/winetest.c must
 * behave as Wine's own include/wine/test.h (Wine 8.0 and 10.0) wherever a
 * test can tell.  Each check runs a test of tests/harness/samples.exe,
 * whose tests succeed, fail, go todo, flaky, skip and trace on purpose, in
 * a child process with a chosen WINETEST_* environment (none inherited),
 * and compares its output, line by line, and its exit status with what
 * Wine's harness prints for the same test.
 *
 * Patterns: {pid} is the child's process id as the summary line prints it,
 * {time} seconds as WINETEST_TIME prints them, {hex} any hex number.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include "wine/test.h"

/* The tests of samples.exe, in list order. */
static const char *const sample_names[] =
{
    "lasterror", "todo", "context", "flaky", "platform", "trace", "mute",
    "threads", "child", "exception", "status", "misc", "time",
};

static char samples_exe[MAX_PATH];

struct run
{
    char what[160];         /* the command and environment, for messages */
    DWORD pid;
    DWORD status;
    char *output;           /* stdout with \r\n turned into \n */
    char **lines;           /* its lines */
    unsigned int count;
    unsigned int next;      /* the next line expect() compares */
    BOOL mismatch;          /* the first difference, if any */
    unsigned int mismatch_line;
    char expected[512];
    char got[512];
};

/* samples.exe with the settings in env ("NAME=value NAME=value", replacing
 * every inherited WINETEST_* variable) and args; FALSE if it cannot run. */
static BOOL run_samples(struct run *run, const char *env, const char *args)
{
    SECURITY_ATTRIBUTES attr = {sizeof(attr), NULL, TRUE};
    STARTUPINFOA startup = {sizeof(startup)};
    char *strings, *block, *p, *cmdline, buffer[4096];
    size_t size, len, used = 0, pos = 0;
    PROCESS_INFORMATION info;
    HANDLE read, write;
    unsigned int i;
    DWORD count;
    BOOL ret;

    memset(run, 0, sizeof(*run));
    snprintf(run->what, sizeof(run->what), "samples.exe %s [%s]", args, env);

    /* The environment block: ours without WINETEST_*, then env. */
    strings = GetEnvironmentStringsA();
    for (p = strings; *p; p += strlen(p) + 1) used += strlen(p) + 1;
    size = used + strlen(env) + 2;
    block = HeapAlloc(GetProcessHeap(), 0, size);
    for (p = strings; *p; p += strlen(p) + 1)
    {
        if (!_strnicmp(p, "WINETEST_", 9)) continue;
        strcpy(block + pos, p);
        pos += strlen(p) + 1;
    }
    FreeEnvironmentStringsA(strings);
    for (p = (char *)env; *p; p += len)
    {
        while (*p == ' ') p++;
        if (!(len = strcspn(p, " "))) break;
        memcpy(block + pos, p, len);
        pos += len;
        block[pos++] = 0;
    }
    block[pos] = 0;

    cmdline = HeapAlloc(GetProcessHeap(), 0, strlen(samples_exe) + strlen(args) + 4);
    sprintf(cmdline, "\"%s\" %s", samples_exe, args);
    CreatePipe(&read, &write, &attr, 0);
    SetHandleInformation(read, HANDLE_FLAG_INHERIT, 0);
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    startup.hStdOutput = write;
    startup.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    ret = CreateProcessA(samples_exe, cmdline, NULL, NULL, TRUE, 0, block, NULL, &startup, &info);
    ok(ret, "%s: CreateProcess failed, error %lu\n", run->what, GetLastError());
    CloseHandle(write);
    HeapFree(GetProcessHeap(), 0, cmdline);
    HeapFree(GetProcessHeap(), 0, block);
    if (!ret)
    {
        CloseHandle(read);
        return FALSE;
    }

    /* Everything it prints, until it and every process that inherited the
     * pipe are gone; then its exit status. */
    run->output = HeapAlloc(GetProcessHeap(), 0, 1);
    size = 0;
    while (ReadFile(read, buffer, sizeof(buffer), &count, NULL) && count)
    {
        run->output = HeapReAlloc(GetProcessHeap(), 0, run->output, size + count + 1);
        memcpy(run->output + size, buffer, count);
        size += count;
    }
    run->output[size] = 0;
    CloseHandle(read);
    ok(!WaitForSingleObject(info.hProcess, 120000), "%s: did not exit\n", run->what);
    GetExitCodeProcess(info.hProcess, &run->status);
    run->pid = info.dwProcessId;
    CloseHandle(info.hProcess);
    CloseHandle(info.hThread);

    /* Lines, without the carriage return msvcrt adds in text mode. */
    for (p = run->output, i = 0; *p; p++) if (*p == '\n') i++;
    run->lines = HeapAlloc(GetProcessHeap(), 0, (i + 1) * sizeof(*run->lines));
    for (p = run->output; *p; p += len + 1)
    {
        len = strcspn(p, "\n");
        run->lines[run->count++] = p;
        if (len && p[len - 1] == '\r') p[len - 1] = 0;
        if (!p[len]) break;
        p[len] = 0;
    }
    if (winetest_debug > 1)
        for (i = 0; i < run->count; i++) trace("%s: %s\n", run->what, run->lines[i]);
    return TRUE;
}

static void free_run(struct run *run)
{
    HeapFree(GetProcessHeap(), 0, run->output);
    HeapFree(GetProcessHeap(), 0, run->lines);
}

static BOOL is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static BOOL is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static BOOL match_line(const char *pattern, const char *line, DWORD pid)
{
    char pid_string[16];

    sprintf(pid_string, "%04x", (UINT)pid);
    while (*pattern)
    {
        if (!strncmp(pattern, "{pid}", 5))
        {
            if (strncmp(line, pid_string, strlen(pid_string))) return FALSE;
            line += strlen(pid_string);
            pattern += 5;
        }
        else if (!strncmp(pattern, "{time}", 6))
        {
            if (!is_digit(*line)) return FALSE;
            while (is_digit(*line)) line++;
            if (*line++ != '.') return FALSE;
            if (!is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2])) return FALSE;
            line += 3;
            pattern += 6;
        }
        else if (!strncmp(pattern, "{hex}", 5))
        {
            if (!is_hex(*line)) return FALSE;
            while (is_hex(*line)) line++;
            pattern += 5;
        }
        else if (*pattern++ != *line++) return FALSE;
    }
    return !*line;
}

/* The next line of output must match the pattern made by format. */
static void expect(struct run *run, const char *format, ...) WINETEST_PRINTF_ATTR(2, 3);
static void expect(struct run *run, const char *format, ...)
{
    const char *line = run->next < run->count ? run->lines[run->next] : NULL;
    char pattern[512];
    va_list args;

    va_start(args, format);
    vsnprintf(pattern, sizeof(pattern), format, args);
    va_end(args);
    if (!run->mismatch && (!line || !match_line(pattern, line, run->pid)))
    {
        run->mismatch = TRUE;
        run->mismatch_line = run->next + 1;
        lstrcpynA(run->expected, pattern, sizeof(run->expected));
        lstrcpynA(run->got, line ? line : "(end of output)", sizeof(run->got));
    }
    run->next++;
}

/* Every line was expected, none is left over, and the exit status is
 * the one given. */
#define check_run(run, status) check_run_(__FILE__, __LINE__, run, status)
static void check_run_(const char *file, int line, struct run *run, DWORD status)
{
    ok_(file, line)(!run->mismatch, "%s: line %u: expected \"%s\", got \"%s\"\n",
            run->what, run->mismatch_line, run->expected, run->got);
    ok_(file, line)(run->next >= run->count, "%s: unexpected line %u \"%s\"\n",
            run->what, run->next + 1, run->next < run->count ? run->lines[run->next] : "");
    ok_(file, line)(run->status == status, "%s: exit status %#lx, expected %#lx\n", run->what, run->status, status);
    free_run(run);
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* For output of several threads: the lines in sorted order. */
static void sort_lines(struct run *run)
{
    qsort(run->lines, run->count, sizeof(*run->lines), compare_strings);
}

/* SetLastError(0xdead); ok(GetLastError() == 0xdead, ...) holds, and
 * every message shows the last error the test set, also on a thread's
 * first check. */
static void test_lasterror(void)
{
    struct run run;

    if (run_samples(&run, "WINETEST_PLATFORM=wine", "lasterror"))
    {
        expect(&run, "samples.c:203: Test failed: error 57005");
        expect(&run, "samples.c:204: trace 57005");
        expect(&run, "samples.c:205: Tests skipped: skip 57005");
        expect(&run, "samples.c:206: Test marked todo: todo 57005");
        expect(&run, "samples.c:208: Test failed: context 57005: in a context 57005");
        expect(&run, "samples.c:210: Test marked flaky: flaky 57005");
        expect(&run, "samples.c:211: Test failed: win_skip 57005");
        expect(&run, "samples.c:103: Test failed: thread: error 48879");
        expect(&run, "{pid}:lasterror: 9 tests executed (1 marked as todo, 1 as flaky, 4 failures), 1 skipped.");
        check_run(&run, 4);
    }
    if (run_samples(&run, "WINETEST_PLATFORM=windows", "lasterror"))
    {
        expect(&run, "samples.c:203: Test failed: error 57005");
        expect(&run, "samples.c:204: trace 57005");
        expect(&run, "samples.c:205: Tests skipped: skip 57005");
        expect(&run, "samples.c:206: Test failed: todo 57005");
        expect(&run, "samples.c:208: Test failed: context 57005: in a context 57005");
        expect(&run, "samples.c:210: Test marked flaky: flaky 57005");
        expect(&run, "samples.c:211: Tests skipped: win_skip 57005");
        expect(&run, "samples.c:103: Test failed: thread: error 48879");
        expect(&run, "{pid}:lasterror: 8 tests executed (0 marked as todo, 1 as flaky, 4 failures), 2 skipped.");
        check_run(&run, 4);
    }
}

/* todo blocks nest: a check is todo when any enclosing block is; the
 * block ends with its statement.  todo_wine is todo on the wine platform
 * only, which is the default under Wine. */
static void test_todo(void)
{
    static const char *const envs[] = {"WINETEST_PLATFORM=wine", ""};
    struct run run;
    unsigned int i;

    for (i = 0; i < ARRAY_SIZE(envs); i++)
    {
        if (!run_samples(&run, envs[i], "todo")) continue;
        expect(&run, "samples.c:300: Test marked todo: plain todo");
        expect(&run, "samples.c:303: Test marked todo: outer");
        expect(&run, "samples.c:304: Test marked todo: inner todo_if(FALSE), outer todo");
        expect(&run, "samples.c:305: Test succeeded inside todo block: inner todo succeeds");
        expect(&run, "samples.c:306: Test marked todo: outer again");
        expect(&run, "samples.c:308: Test failed: after the blocks");
        expect(&run, "samples.c:309: Test marked todo: two levels");
        expect(&run, "samples.c:311: Test failed: todo_wine_if(FALSE)");
        expect(&run, "samples.c:312: Test marked todo: todo_wine_if(TRUE)");
        expect(&run, "samples.c:313: Test succeeded inside todo block: todo_if(TRUE) succeeds");
        expect(&run, "{pid}:todo: 11 tests executed (6 marked as todo, 0 as flaky, 4 failures), 0 skipped.");
        check_run(&run, 4);
    }
    if (run_samples(&run, "WINETEST_PLATFORM=windows", "todo"))
    {
        expect(&run, "samples.c:300: Test failed: plain todo");
        expect(&run, "samples.c:303: Test failed: outer");
        expect(&run, "samples.c:304: Test failed: inner todo_if(FALSE), outer todo");
        expect(&run, "samples.c:305: Test succeeded inside todo block: inner todo succeeds");
        expect(&run, "samples.c:306: Test failed: outer again");
        expect(&run, "samples.c:308: Test failed: after the blocks");
        expect(&run, "samples.c:309: Test marked todo: two levels");
        expect(&run, "samples.c:311: Test failed: todo_wine_if(FALSE)");
        expect(&run, "samples.c:312: Test failed: todo_wine_if(TRUE)");
        expect(&run, "samples.c:313: Test succeeded inside todo block: todo_if(TRUE) succeeds");
        expect(&run, "{pid}:todo: 11 tests executed (1 marked as todo, 0 as flaky, 9 failures), 0 skipped.");
        check_run(&run, 9);
    }
}

/* Contexts follow the kind of message ("Test failed: outer: inner 2: "),
 * nest, belong to their thread, keep eight levels and 127 characters. */
static void test_context(void)
{
    static const char context_line[] = "samples.c:520: Test failed: c0: c1: c2: c3: c4: c5: c6: c7: eight kept of nine";
    char long_context[128];
    struct run run;

    memset(long_context, 'x', sizeof(long_context) - 1);
    long_context[sizeof(long_context) - 1] = 0;
    if (run_samples(&run, "WINETEST_PLATFORM=wine", "context"))
    {
        expect(&run, "samples.c:501: Test failed: outer: one level");
        expect(&run, "samples.c:503: Test failed: outer: inner 2: two levels");
        expect(&run, "samples.c:504: outer: inner 2: trace");
        expect(&run, "samples.c:505: Tests skipped: outer: inner 2: skip");
        expect(&run, "samples.c:506: Test marked todo: outer: inner 2: todo");
        expect(&run, "samples.c:507: Test succeeded inside todo block: outer: inner 2: todo succeeds");
        expect(&run, "samples.c:508: Test marked flaky: outer: inner 2: flaky");
        expect(&run, "samples.c:509: Test failed: outer: inner 2: win_skip");
        expect(&run, "samples.c:400: Test failed: other thread");
        expect(&run, "samples.c:514: Test failed: outer: popped");
        expect(&run, "samples.c:517: Test failed: none left");
        expect(&run, context_line);
        expect(&run, "samples.c:525: Test failed: %s: long", long_context);
        expect(&run, "samples.c:527: Test failed: done");
        expect(&run, "{pid}:context: 12 tests executed (1 marked as todo, 1 as flaky, 10 failures), 1 skipped.");
        check_run(&run, 10);
    }
    if (run_samples(&run, "WINETEST_PLATFORM=windows", "context"))
    {
        expect(&run, "samples.c:501: Test failed: outer: one level");
        expect(&run, "samples.c:503: Test failed: outer: inner 2: two levels");
        expect(&run, "samples.c:504: outer: inner 2: trace");
        expect(&run, "samples.c:505: Tests skipped: outer: inner 2: skip");
        expect(&run, "samples.c:506: Test failed: outer: inner 2: todo");
        expect(&run, "samples.c:508: Test marked flaky: outer: inner 2: flaky");
        expect(&run, "samples.c:509: Tests skipped: outer: inner 2: win_skip");
        expect(&run, "samples.c:400: Test failed: other thread");
        expect(&run, "samples.c:514: Test failed: outer: popped");
        expect(&run, "samples.c:517: Test failed: none left");
        expect(&run, context_line);
        expect(&run, "samples.c:525: Test failed: %s: long", long_context);
        expect(&run, "samples.c:527: Test failed: done");
        expect(&run, "{pid}:context: 11 tests executed (0 marked as todo, 1 as flaky, 9 failures), 2 skipped.");
        check_run(&run, 9);
    }
}

/* Flaky failures are counted "as flaky", not as failures, and change the
 * exit status only with WINETEST_REPORT_FLAKY; flaky blocks nest; a todo
 * that succeeds inside one is flaky too. */
static void test_flaky(void)
{
    struct run run;

    if (run_samples(&run, "WINETEST_PLATFORM=wine", "flaky"))
    {
        expect(&run, "samples.c:600: Test marked flaky: flaky failure");
        expect(&run, "samples.c:602: Test marked flaky: flaky_wine");
        expect(&run, "samples.c:603: Test failed: flaky_wine_if(FALSE)");
        expect(&run, "samples.c:604: Test marked flaky: flaky_wine_if(TRUE)");
        expect(&run, "samples.c:607: Test marked flaky: nested, outer flaky");
        expect(&run, "samples.c:609: Test succeeded inside flaky todo block: flaky todo succeeds");
        expect(&run, "samples.c:610: Test marked todo: flaky todo");
        expect(&run, "samples.c:611: Tests skipped: skip in flaky");
        expect(&run, "samples.c:612: Test failed: after flaky");
        expect(&run, "{pid}:flaky: 9 tests executed (1 marked as todo, 5 as flaky, 2 failures), 1 skipped.");
        check_run(&run, 2);
    }
    if (run_samples(&run, "WINETEST_PLATFORM=wine WINETEST_REPORT_FLAKY=1", "flaky"))
    {
        expect(&run, "samples.c:600: Test marked flaky: flaky failure");
        expect(&run, "samples.c:602: Test marked flaky: flaky_wine");
        expect(&run, "samples.c:603: Test failed: flaky_wine_if(FALSE)");
        expect(&run, "samples.c:604: Test marked flaky: flaky_wine_if(TRUE)");
        expect(&run, "samples.c:607: Test marked flaky: nested, outer flaky");
        expect(&run, "samples.c:609: Test succeeded inside flaky todo block: flaky todo succeeds");
        expect(&run, "samples.c:610: Test marked todo: flaky todo");
        expect(&run, "samples.c:611: Tests skipped: skip in flaky");
        expect(&run, "samples.c:612: Test failed: after flaky");
        expect(&run, "{pid}:flaky: 9 tests executed (1 marked as todo, 5 as flaky, 2 failures), 1 skipped.");
        check_run(&run, 7);
    }
    if (run_samples(&run, "WINETEST_PLATFORM=windows", "flaky"))
    {
        expect(&run, "samples.c:600: Test marked flaky: flaky failure");
        expect(&run, "samples.c:602: Test failed: flaky_wine");
        expect(&run, "samples.c:603: Test failed: flaky_wine_if(FALSE)");
        expect(&run, "samples.c:604: Test failed: flaky_wine_if(TRUE)");
        expect(&run, "samples.c:607: Test marked flaky: nested, outer flaky");
        expect(&run, "samples.c:610: Test marked flaky: flaky todo");
        expect(&run, "samples.c:611: Tests skipped: skip in flaky");
        expect(&run, "samples.c:612: Test failed: after flaky");
        expect(&run, "{pid}:flaky: 9 tests executed (0 marked as todo, 3 as flaky, 4 failures), 1 skipped.");
        check_run(&run, 4);
    }
    /* WINETEST_COLOR: each kind of message in its colour; the reset
     * follows the message's newline. */
    if (run_samples(&run, "WINETEST_PLATFORM=wine WINETEST_COLOR=1", "flaky"))
    {
        expect(&run, "\x1b[1;95msamples.c:600: Test marked flaky: flaky failure");
        expect(&run, "\x1b[0m\x1b[1;95msamples.c:602: Test marked flaky: flaky_wine");
        expect(&run, "\x1b[0m\x1b[1;91msamples.c:603: Test failed: flaky_wine_if(FALSE)");
        expect(&run, "\x1b[0m\x1b[1;95msamples.c:604: Test marked flaky: flaky_wine_if(TRUE)");
        expect(&run, "\x1b[0m\x1b[1;95msamples.c:607: Test marked flaky: nested, outer flaky");
        expect(&run, "\x1b[0m\x1b[35msamples.c:609: Test succeeded inside flaky todo block: flaky todo succeeds");
        expect(&run, "\x1b[0m\x1b[33msamples.c:610: Test marked todo: flaky todo");
        expect(&run, "\x1b[0m\x1b[34msamples.c:611: Tests skipped: skip in flaky");
        expect(&run, "\x1b[0m\x1b[1;91msamples.c:612: Test failed: after flaky");
        expect(&run, "\x1b[0m{pid}:flaky: 9 tests executed (1 marked as todo, 5 as flaky, 2 failures), 1 skipped.");
        check_run(&run, 2);
    }
}

/* winetest_platform_is_wine is a variable: WINETEST_PLATFORM, or "wine"
 * when unset and running on Wine.  broken() holds on Windows only;
 * win_skip is a failure on Wine, a skip on Windows. */
static void test_platform(void)
{
    static const char *const envs[] = {"WINETEST_PLATFORM=wine", ""};
    struct run run;
    unsigned int i;

    for (i = 0; i < ARRAY_SIZE(envs); i++)
    {
        if (!run_samples(&run, envs[i], "platform")) continue;
        expect(&run, "samples.c:700: platform wine, is_wine 1");
        expect(&run, "samples.c:701: on wine");
        expect(&run, "samples.c:705: Test failed: not broken");
        expect(&run, "samples.c:706: Test failed: win_skip");
        expect(&run, "samples.c:707: Test marked todo: win_skip in todo_wine");
        expect(&run, "samples.c:708: Test marked todo: todo_wine");
        expect(&run, "{pid}:platform: 6 tests executed (2 marked as todo, 0 as flaky, 2 failures), 0 skipped.");
        check_run(&run, 2);
    }
    if (run_samples(&run, "WINETEST_PLATFORM=windows", "platform"))
    {
        expect(&run, "samples.c:700: platform windows, is_wine 0");
        expect(&run, "samples.c:702: on windows");
        expect(&run, "samples.c:703: Test failed: broken(1) is TRUE");
        expect(&run, "samples.c:706: Tests skipped: win_skip");
        expect(&run, "samples.c:707: Tests skipped: win_skip in todo_wine");
        expect(&run, "samples.c:708: Test failed: todo_wine");
        expect(&run, "{pid}:platform: 4 tests executed (0 marked as todo, 0 as flaky, 2 failures), 2 skipped.");
        check_run(&run, 2);
    }
}

/* WINETEST_DEBUG: 0 silences traces, todo messages and the summary line,
 * but not failures or skips; above 1, tests trace more.  "Test succeeded"
 * lines come with WINETEST_REPORT_SUCCESS only, without contexts. */
static void test_trace(void)
{
    struct run run;

    if (run_samples(&run, "WINETEST_PLATFORM=wine", "trace"))
    {
        expect(&run, "samples.c:800: debug level 1");
        expect(&run, "samples.c:804: ctx: in a context");
        expect(&run, "samples.c:806: Test marked todo: todo");
        expect(&run, "samples.c:807: Test succeeded inside todo block: todo succeeds");
        expect(&run, "samples.c:808: Tests skipped: skipped");
        expect(&run, "samples.c:809: Test failed: failure");
        expect(&run, "samples.c:810: Test marked flaky: flaky");
        expect(&run, "{pid}:trace: 6 tests executed (1 marked as todo, 1 as flaky, 2 failures), 1 skipped.");
        check_run(&run, 2);
    }
    if (run_samples(&run, "WINETEST_PLATFORM=wine WINETEST_DEBUG=0", "trace"))
    {
        expect(&run, "samples.c:807: Test succeeded inside todo block: todo succeeds");
        expect(&run, "samples.c:808: Tests skipped: skipped");
        expect(&run, "samples.c:809: Test failed: failure");
        expect(&run, "samples.c:810: Test marked flaky: flaky");
        check_run(&run, 2);
    }
    if (run_samples(&run, "WINETEST_PLATFORM=wine WINETEST_DEBUG=2", "trace"))
    {
        expect(&run, "samples.c:800: debug level 2");
        expect(&run, "samples.c:801: verbose");
        expect(&run, "samples.c:804: ctx: in a context");
        expect(&run, "samples.c:806: Test marked todo: todo");
        expect(&run, "samples.c:807: Test succeeded inside todo block: todo succeeds");
        expect(&run, "samples.c:808: Tests skipped: skipped");
        expect(&run, "samples.c:809: Test failed: failure");
        expect(&run, "samples.c:810: Test marked flaky: flaky");
        expect(&run, "{pid}:trace: 6 tests executed (1 marked as todo, 1 as flaky, 2 failures), 1 skipped.");
        check_run(&run, 2);
    }
    if (run_samples(&run, "WINETEST_PLATFORM=wine WINETEST_REPORT_SUCCESS=1", "trace"))
    {
        expect(&run, "samples.c:800: debug level 1");
        expect(&run, "samples.c:803: Test succeeded");
        expect(&run, "samples.c:804: ctx: in a context");
        expect(&run, "samples.c:806: Test marked todo: todo");
        expect(&run, "samples.c:807: Test succeeded inside todo block: todo succeeds");
        expect(&run, "samples.c:808: Tests skipped: skipped");
        expect(&run, "samples.c:809: Test failed: failure");
        expect(&run, "samples.c:810: Test marked flaky: flaky");
        expect(&run, "samples.c:811: Test succeeded");
        expect(&run, "{pid}:trace: 6 tests executed (1 marked as todo, 1 as flaky, 2 failures), 1 skipped.");
        check_run(&run, 2);
    }
    if (run_samples(&run, "WINETEST_PLATFORM=wine WINETEST_REPORT_SUCCESS=1 WINETEST_COLOR=1", "trace"))
    {
        expect(&run, "samples.c:800: debug level 1");
        expect(&run, "\x1b[32msamples.c:803: Test succeeded");
        expect(&run, "\x1b[0msamples.c:804: ctx: in a context");
        expect(&run, "\x1b[33msamples.c:806: Test marked todo: todo");
        expect(&run, "\x1b[0m\x1b[31msamples.c:807: Test succeeded inside todo block: todo succeeds");
        expect(&run, "\x1b[0m\x1b[34msamples.c:808: Tests skipped: skipped");
        expect(&run, "\x1b[0m\x1b[1;91msamples.c:809: Test failed: failure");
        expect(&run, "\x1b[0m\x1b[1;95msamples.c:810: Test marked flaky: flaky");
        expect(&run, "\x1b[0m\x1b[32msamples.c:811: Test succeeded");
        expect(&run, "\x1b[0m{pid}:trace: 6 tests executed (1 marked as todo, 1 as flaky, 2 failures), 1 skipped.");
        check_run(&run, 2);
    }
}

/* A line's traces, skips and todo messages are silenced after 42, unless
 * WINETEST_DEBUG is above 1; silenced skips and todos leave the counts
 * and get a line of their own.  Failures are never silenced. */
static void test_mute(void)
{
    static const char *const envs[] = {"WINETEST_PLATFORM=wine", "WINETEST_PLATFORM=wine WINETEST_DEBUG=2",
            "WINETEST_PLATFORM=wine WINETEST_DEBUG=0"};
    unsigned int i, j, shown;
    struct run run;

    for (i = 0; i < ARRAY_SIZE(envs); i++)
    {
        int debug = i == 1 ? 2 : i == 2 ? 0 : 1;

        if (!run_samples(&run, envs[i], "mute")) continue;
        shown = debug > 1 ? 45 : 42;
        if (debug)
        {
            for (j = 0; j < shown; j++) expect(&run, "samples.c:900: trace %u", j);
            if (debug < 2) expect(&run, "samples.c:900: Line has been silenced after 42 occurrences");
        }
        for (j = 0; j < shown; j++) expect(&run, "samples.c:901: Tests skipped: skip %u", j);
        if (debug < 2) expect(&run, "samples.c:901: Line has been silenced after 42 occurrences");
        if (debug)
        {
            for (j = 0; j < shown; j++) expect(&run, "samples.c:902: Test marked todo: todo %u", j);
            if (debug < 2) expect(&run, "samples.c:902: Line has been silenced after 42 occurrences");
        }
        for (j = 0; j < 45; j++) expect(&run, "samples.c:903: Test failed: failure %u", j);
        for (j = 0; j < 45; j++)
            expect(&run, "samples.c:904: Test succeeded inside todo block: todo success %u", j);
        if (debug == 1)
        {
            expect(&run, "{pid}:mute: Silenced 3 todos, 3 skips and 3 traces.");
            expect(&run, "{pid}:mute: 177 tests executed (42 marked as todo, 0 as flaky, 90 failures), 42 skipped.");
        }
        else if (debug)
            expect(&run, "{pid}:mute: 180 tests executed (45 marked as todo, 0 as flaky, 90 failures), 45 skipped.");
        check_run(&run, 90);
    }
}

/* Counts and todo state stay right with several threads checking at
 * once, each message comes out whole, and a thread does not inherit the
 * todo block or context of the thread that started it. */
static void test_threads(void)
{
    unsigned int i, j;
    struct run run;

    if (!run_samples(&run, "WINETEST_PLATFORM=wine", "threads")) return;
    sort_lines(&run);
    expect(&run, "{pid}:threads: 8041 tests executed (1 marked as todo, 0 as flaky, 40 failures), 0 skipped.");
    for (i = 0; i < 4; i++)
        for (j = 0; j < 10; j++)
            expect(&run, "samples.c:1001: Test failed: thread %u, failure %u, a line long enough to be written in pieces",
                    i, j);
    for (i = 0; i < 4; i++)
        for (j = 0; j < 3; j++) expect(&run, "samples.c:1002: thread %u, trace %u", i, j);
    expect(&run, "samples.c:1106: Test marked todo: main: main thread todo");
    check_run(&run, 40);
}

/* winetest_get_mainargs; wait_child_process() counts a child's exit code
 * as failures, or one failure for an exception; winetest_add_failures. */
static void test_child(void)
{
    struct run run;

    if (!run_samples(&run, "WINETEST_PLATFORM=wine", "child")) return;
    expect(&run, "samples.c:1200: argc 2, argv[1] child");
    expect(&run, "samples.c:1205: 3 failures in child process");
    expect(&run, "samples.c:1208: unhandled exception c0000005 in child process {hex}");
    expect(&run, "{pid}:child: 11 tests executed (0 marked as todo, 0 as flaky, 6 failures), 0 skipped.");
    check_run(&run, 6);
}

/* On the windows platform the harness reports an unhandled exception and
 * the process exits with its code. */
static void test_exception(void)
{
    struct run run;

    if (run_samples(&run, "WINETEST_PLATFORM=windows", "exception"))
    {
        expect(&run, "samples.c:1305: this is the last test seen before the exception");
        expect(&run, "{pid}:exception: unhandled exception c0000005 at {hex}");
        check_run(&run, 0xc0000005);
    }
    if (run_samples(&run, "WINETEST_PLATFORM=windows WINETEST_TIME=1", "exception"))
    {
        expect(&run, "samples.c:1305: this is the last test seen before the exception");
        expect(&run, "{pid}:exception:{time} unhandled exception c0000005 at {hex}");
        check_run(&run, 0xc0000005);
    }
}

/* The exit status is the number of failures, at most 255. */
static void test_status(void)
{
    struct run run;
    unsigned int i;

    if (!run_samples(&run, "WINETEST_PLATFORM=wine", "status")) return;
    for (i = 0; i < 300; i++) expect(&run, "samples.c:1400: Test failed: failure %u", i);
    expect(&run, "{pid}:status: 300 tests executed (0 marked as todo, 0 as flaky, 300 failures), 0 skipped.");
    check_run(&run, 255);
}

/* subtest, ignore_exceptions, WINETEST_INTERACTIVE (no error mode set),
 * "1 failure", and test names given as file names. */
static void test_misc(void)
{
    static const char *const args[] = {"misc", "dir/misc.c", "dir\\misc.c"};
    struct run run;
    unsigned int i;

    for (i = 0; i < ARRAY_SIZE(args) + 1; i++)
    {
        BOOL interactive = i == ARRAY_SIZE(args);

        if (!run_samples(&run, interactive ? "WINETEST_PLATFORM=wine WINETEST_INTERACTIVE=1" : "WINETEST_PLATFORM=wine",
                interactive ? "misc" : args[i]))
            continue;
        expect(&run, "samples.c:1500: Subtest sub");
        expect(&run, "samples.c:1501: IgnoreExceptions=1");
        expect(&run, "samples.c:1502: IgnoreExceptions=0");
        if (interactive) expect(&run, "samples.c:1503: interactive 1, error mode 0");
        else expect(&run, "samples.c:1503: interactive 0, error mode 0x3");
        expect(&run, "samples.c:1504: Test failed: the one failure");
        expect(&run, "{pid}:misc: 1 tests executed (0 marked as todo, 0 as flaky, 1 failure), 0 skipped.");
        check_run(&run, 1);
    }
}

/* WINETEST_TIME: seconds after each location and in the summary line, and
 * a "Test succeeded" line when a second passed without a message. */
static void test_time(void)
{
    struct run run;

    if (run_samples(&run, "WINETEST_PLATFORM=wine WINETEST_TIME=1", "time"))
    {
        expect(&run, "samples.c:1602:{time} Test succeeded");
        expect(&run, "samples.c:1604:{time} Test failed: failure");
        expect(&run, "samples.c:1605:{time} trace");
        expect(&run, "{pid}:time:{time} 4 tests executed (0 marked as todo, 0 as flaky, 1 failure), 0 skipped.");
        check_run(&run, 1);
    }
    if (run_samples(&run, "WINETEST_PLATFORM=wine", "time"))
    {
        expect(&run, "samples.c:1604: Test failed: failure");
        expect(&run, "samples.c:1605: trace");
        expect(&run, "{pid}:time: 4 tests executed (0 marked as todo, 0 as flaky, 1 failure), 0 skipped.");
        check_run(&run, 1);
    }
}

/* --list, and an unknown name. */
static void test_command_line(void)
{
    struct run run;
    unsigned int i;

    if (run_samples(&run, "WINETEST_PLATFORM=wine", "--list"))
    {
        expect(&run, "Valid test names:");
        for (i = 0; i < ARRAY_SIZE(sample_names); i++) expect(&run, "    %s", sample_names[i]);
        check_run(&run, 0);
    }
    if (run_samples(&run, "WINETEST_PLATFORM=wine", "nosuch"))
    {
        expect(&run, "Fatal: test 'nosuch' does not exist.");
        check_run(&run, 1);
    }
}

/* A line with the process id in front of "test:" or after "child
 * process" made the same for every process. */
static char *normalise(const char *line)
{
    char *copy = HeapAlloc(GetProcessHeap(), 0, strlen(line) + 16), *p;
    const char *q = line;

    while (is_hex(*q) && !(*q >= 'A' && *q <= 'F')) q++;
    if (q > line && *q == ':' && q[1] >= 'a' && q[1] <= 'z') sprintf(copy, "PID%s", q);
    else strcpy(copy, line);
    if ((p = strstr(copy, "in child process ")))
    {
        p += strlen("in child process ");
        while (is_hex(*p)) memmove(p, p + 1, strlen(p));
    }
    return copy;
}

/* No argument: every test in list order, each in its own process, as if
 * run one by one; the exit status adds theirs up, to at most 255. */
static void test_all(void)
{
    unsigned int i, j, count = 0, summaries = 0;
    char **expected = NULL, **got;
    DWORD status = 0;
    struct run run;

    for (i = 0; i < ARRAY_SIZE(sample_names); i++)
    {
        if (!run_samples(&run, "WINETEST_PLATFORM=wine", sample_names[i])) return;
        expected = expected ? HeapReAlloc(GetProcessHeap(), 0, expected, (count + run.count) * sizeof(*expected))
                : HeapAlloc(GetProcessHeap(), 0, run.count * sizeof(*expected));
        for (j = 0; j < run.count; j++) expected[count++] = normalise(run.lines[j]);
        status += run.status;
        free_run(&run);
    }
    if (!run_samples(&run, "WINETEST_PLATFORM=wine", "")) return;

    ok(run.status == min(status, 255), "exit status %lu, expected %lu\n", run.status, min(status, 255));
    got = HeapAlloc(GetProcessHeap(), 0, (run.count + 1) * sizeof(*got));
    for (i = 0; i < run.count; i++)
    {
        got[i] = normalise(run.lines[i]);
        /* The summary lines come in list order. */
        if (!strncmp(got[i], "PID:", 4) && strstr(got[i], " tests executed ") && summaries < ARRAY_SIZE(sample_names))
        {
            const char *name = sample_names[summaries++];
            ok(!strncmp(got[i] + 4, name, strlen(name)) && got[i][4 + strlen(name)] == ':',
                    "summary line %u is \"%s\", expected test %s\n", summaries, run.lines[i], name);
        }
    }
    ok(summaries == ARRAY_SIZE(sample_names), "%u summary lines\n", summaries);

    /* Threads print in any order: compare sorted. */
    qsort(expected, count, sizeof(*expected), compare_strings);
    qsort(got, run.count, sizeof(*got), compare_strings);
    ok(run.count == count, "%u lines, expected %u\n", run.count, count);
    for (i = 0; i < min(count, run.count); i++)
        if (strcmp(got[i], expected[i])) break;
    ok(i == min(count, run.count), "sorted line %u is \"%s\", expected \"%s\"\n", i,
            i < run.count ? got[i] : "", i < count ? expected[i] : "");

    for (i = 0; i < count; i++) HeapFree(GetProcessHeap(), 0, expected[i]);
    for (i = 0; i < run.count; i++) HeapFree(GetProcessHeap(), 0, got[i]);
    HeapFree(GetProcessHeap(), 0, expected);
    HeapFree(GetProcessHeap(), 0, got);
    free_run(&run);
}

START_TEST(harness)
{
    char *p;

    /* tests/harness/samples.exe, from tests/vmidl_test.exe. */
    GetModuleFileNameA(NULL, samples_exe, sizeof(samples_exe) - 20);
    if ((p = strrchr(samples_exe, '\\'))) p[1] = 0;
    strcat(samples_exe, "harness\\samples.exe");
    if (GetFileAttributesA(samples_exe) == INVALID_FILE_ATTRIBUTES)
    {
        ok(0, "%s is missing\n", samples_exe);
        return;
    }

    test_lasterror();
    test_todo();
    test_context();
    test_flaky();
    test_platform();
    test_trace();
    test_mute();
    test_threads();
    test_child();
    test_exception();
    test_status();
    test_misc();
    test_time();
    test_command_line();
    test_all();
}
