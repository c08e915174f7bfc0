/*
 * Implementation of tests/wine/test.h and the main() of a test program.
 *
 *   prog.exe NAME [ARGS...]   runs test NAME ("dir/NAME.c" works too)
 *   prog.exe --list           lists the tests
 *   prog.exe                  runs every test in list order, each in a
 *                             child process of its own
 *
 * A test run ends with
 *   PID:NAME: N tests executed (T marked as todo, F as flaky, E failures), S skipped.
 * (PID in hex, at least four digits) and exits with the number of failures
 * and of todo checks that succeeded, at most 255.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <io.h>
#include <string.h>

#define STANDALONE
#include "wine/test.h"
#include "wincon.h"

/* Wine's harness waits 30 s; the same tests also run in an emulated
 * machine some 50 times slower. */
#define CHILD_WAIT_MS 120000

#ifndef ENABLE_VIRTUAL_TERMINAL_PROCESSING
#define ENABLE_VIRTUAL_TERMINAL_PROCESSING 0x0004
#endif

int winetest_debug = 1;
int winetest_interactive;
int winetest_report_success;
int winetest_report_flaky;
int winetest_mute_threshold = 42;
int winetest_time;
int winetest_color;
const char *winetest_platform = "windows";
int winetest_platform_is_wine;

LONG winetest_successes;
LONG winetest_failures;
LONG winetest_flaky_failures;
LONG winetest_skipped;
LONG winetest_todo_successes;
LONG winetest_todo_failures;
LONG winetest_muted_traces;
LONG winetest_muted_skipped;
LONG winetest_muted_todo_successes;

static int winetest_argc;
static char **winetest_argv;
static const struct test *current_test;
static DWORD start_time, last_time;
static HANDLE print_mutex;

static const char color_reset[] = "\x1b[0m";
static const char color_dark_red[] = "\x1b[31m";
static const char color_dark_purple[] = "\x1b[35m";
static const char color_green[] = "\x1b[32m";
static const char color_yellow[] = "\x1b[33m";
static const char color_blue[] = "\x1b[34m";
static const char color_bright_red[] = "\x1b[1;91m";
static const char color_bright_purple[] = "\x1b[1;95m";

/* Per thread: the location of the current check, the todo and flaky block
 * nesting (one bit per block, innermost lowest) and the context stack. */
struct thread_data
{
    const char *file;
    int line;
    unsigned int todo_level;
    int todo_do_loop;
    unsigned int flaky_level;
    int flaky_do_loop;
    unsigned int context_count;     /* may exceed the contexts kept */
    char context[8][128];
};

static DWORD tls_index = TLS_OUT_OF_INDEXES;

/* Every entry point goes through here first: it must leave the last error
 * alone (TlsGetValue sets it), or checks of GetLastError() would see 0. */
static struct thread_data *get_thread_data(void)
{
    DWORD error = GetLastError();
    struct thread_data *data = TlsGetValue(tls_index);

    if (!data)
    {
        data = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*data));
        TlsSetValue(tls_index, data);
    }
    SetLastError(error);
    return data;
}

/* One message at a time, across threads and across the processes of a
 * test run (the mutex is named). */
static void print_lock(void)
{
    DWORD ret;

    if (!print_mutex) return;
    ret = WaitForSingleObject(print_mutex, CHILD_WAIT_MS);
    if (ret != WAIT_OBJECT_0 && ret != WAIT_ABANDONED)
    {
        printf("winetest: could not get the print lock: %lu\n", ret);
        print_mutex = NULL;
    }
}

static void print_unlock(void)
{
    if (print_mutex) ReleaseMutex(print_mutex);
}

static void print_color(const char *color)
{
    if (winetest_color) printf("%s", color);
}

/* "" or the seconds since the start, with WINETEST_TIME. */
static const char *elapsed(char *buffer)
{
    DWORD now;

    if (!winetest_time) return "";
    last_time = now = GetTickCount();
    sprintf(buffer, "%.3f", (now - start_time) / 1000.0);
    return buffer;
}

static void print_location(const char *msg, ...) WINETEST_PRINTF_ATTR(1, 2);
static void print_location(const char *msg, ...)
{
    struct thread_data *data = get_thread_data();
    char buffer[32];
    va_list args;

    printf("%s:%d:%s ", data->file, data->line, elapsed(buffer));
    va_start(args, msg);
    vprintf(msg, args);
    va_end(args);
}

/* "file:line: " and the kind of message, then the contexts. */
static void print_context(const char *kind)
{
    struct thread_data *data = get_thread_data();
    unsigned int i;

    print_location("%s", kind);
    for (i = 0; i < data->context_count && i < ARRAY_SIZE(data->context); i++)
        printf("%s: ", data->context[i]);
}

/* How many messages this source line printed before; at the threshold the
 * line is silenced, unless WINETEST_DEBUG is above 1.  Lines are counted
 * by number only, whatever the file. */
static LONG count_line(void)
{
    static LONG counters[16384];
    struct thread_data *data;
    LONG count;

    if (winetest_debug > 1) return 0;
    data = get_thread_data();
    count = InterlockedIncrement(&counters[(unsigned int)data->line % ARRAY_SIZE(counters)]) - 1;
    if (count == winetest_mute_threshold)
    {
        print_lock();
        print_location("Line has been silenced after %d occurrences\n", winetest_mute_threshold);
        print_unlock();
    }
    return count;
}

void winetest_set_location(const char *file, int line)
{
    struct thread_data *data = get_thread_data();
    const char *p;

    if ((p = strrchr(file, '/'))) file = p + 1;
    if ((p = strrchr(file, '\\'))) file = p + 1;
    data->file = file;
    data->line = line;
}

void winetest_subtest(const char *name)
{
    DWORD error = GetLastError();

    print_lock();
    print_location("Subtest %s\n", name);
    print_unlock();
    SetLastError(error);
}

void winetest_ignore_exceptions(BOOL ignore)
{
    DWORD error = GetLastError();

    print_lock();
    print_location("IgnoreExceptions=%d\n", ignore ? 1 : 0);
    print_unlock();
    SetLastError(error);
}

int broken(int condition)
{
    return !winetest_platform_is_wine && condition;
}

/* Inside a todo block a check is expected to fail: a failure counts as a
 * todo, a success as a failure ("succeeded inside todo block").  Inside a
 * flaky block such failures count as flaky instead. */
static int vok(int condition, const char *msg, va_list args)
{
    struct thread_data *data = get_thread_data();

    if (data->todo_level)
    {
        if (condition)
        {
            print_lock();
            if (data->flaky_level)
            {
                print_color(color_dark_purple);
                print_context("Test succeeded inside flaky todo block: ");
                vprintf(msg, args);
                InterlockedIncrement(&winetest_flaky_failures);
            }
            else
            {
                print_color(color_dark_red);
                print_context("Test succeeded inside todo block: ");
                vprintf(msg, args);
                InterlockedIncrement(&winetest_todo_failures);
            }
            print_color(color_reset);
            print_unlock();
            return 0;
        }
        if (!winetest_debug || count_line() < winetest_mute_threshold)
        {
            if (winetest_debug > 0)
            {
                print_lock();
                print_color(color_yellow);
                print_context("Test marked todo: ");
                vprintf(msg, args);
                print_color(color_reset);
                print_unlock();
            }
            InterlockedIncrement(&winetest_todo_successes);
        }
        else InterlockedIncrement(&winetest_muted_todo_successes);
        return 1;
    }

    if (!condition)
    {
        print_lock();
        if (data->flaky_level)
        {
            print_color(color_bright_purple);
            print_context("Test marked flaky: ");
            vprintf(msg, args);
            InterlockedIncrement(&winetest_flaky_failures);
        }
        else
        {
            print_color(color_bright_red);
            print_context("Test failed: ");
            vprintf(msg, args);
            InterlockedIncrement(&winetest_failures);
        }
        print_color(color_reset);
        print_unlock();
        return 0;
    }
    /* With WINETEST_TIME, a success a second after the last message says
     * where the test got to. */
    if (winetest_report_success || (winetest_time && GetTickCount() - last_time >= 1000))
    {
        print_lock();
        print_color(color_green);
        print_location("Test succeeded\n");
        print_color(color_reset);
        print_unlock();
    }
    InterlockedIncrement(&winetest_successes);
    return 1;
}

int winetest_vok(int condition, const char *msg, va_list args)
{
    DWORD error = GetLastError();
    int ret = vok(condition, msg, args);

    SetLastError(error);
    return ret;
}

void winetest_ok(int condition, const char *msg, ...)
{
    va_list args;

    va_start(args, msg);
    winetest_vok(condition, msg, args);
    va_end(args);
}

void winetest_trace(const char *msg, ...)
{
    DWORD error = GetLastError();
    va_list args;

    if (!winetest_debug) return;
    if (count_line() < winetest_mute_threshold)
    {
        print_lock();
        print_context("");
        va_start(args, msg);
        vprintf(msg, args);
        va_end(args);
        print_unlock();
    }
    else InterlockedIncrement(&winetest_muted_traces);
    SetLastError(error);
}

void winetest_vskip(const char *msg, va_list args)
{
    DWORD error = GetLastError();

    if (count_line() < winetest_mute_threshold)
    {
        print_lock();
        print_color(color_blue);
        print_context("Tests skipped: ");
        vprintf(msg, args);
        print_color(color_reset);
        print_unlock();
        InterlockedIncrement(&winetest_skipped);
    }
    else InterlockedIncrement(&winetest_muted_skipped);
    SetLastError(error);
}

void winetest_skip(const char *msg, ...)
{
    va_list args;

    va_start(args, msg);
    winetest_vskip(msg, args);
    va_end(args);
}

/* A skip on Windows; on Wine, missing functionality is a failure. */
void winetest_win_skip(const char *msg, ...)
{
    va_list args;

    va_start(args, msg);
    if (winetest_platform_is_wine) winetest_vok(0, msg, args);
    else winetest_vskip(msg, args);
    va_end(args);
}

void winetest_start_todo(int is_todo)
{
    struct thread_data *data = get_thread_data();

    data->todo_level = (data->todo_level << 1) | (is_todo != 0);
    data->todo_do_loop = 1;
}

int winetest_loop_todo(void)
{
    struct thread_data *data = get_thread_data();
    int do_loop = data->todo_do_loop;

    data->todo_do_loop = 0;
    return do_loop;
}

void winetest_end_todo(void)
{
    struct thread_data *data = get_thread_data();

    data->todo_level >>= 1;
}

void winetest_start_flaky(int is_flaky)
{
    struct thread_data *data = get_thread_data();

    data->flaky_level = (data->flaky_level << 1) | (is_flaky != 0);
    data->flaky_do_loop = 1;
}

int winetest_loop_flaky(void)
{
    struct thread_data *data = get_thread_data();
    int do_loop = data->flaky_do_loop;

    data->flaky_do_loop = 0;
    return do_loop;
}

void winetest_end_flaky(void)
{
    struct thread_data *data = get_thread_data();

    data->flaky_level >>= 1;
}

/* Contexts beyond the eighth are counted, so that pops still pair up, but
 * not kept; each is cut to 127 characters. */
void winetest_push_context(const char *fmt, ...)
{
    struct thread_data *data = get_thread_data();
    DWORD error = GetLastError();
    va_list args;

    if (data->context_count < ARRAY_SIZE(data->context))
    {
        va_start(args, fmt);
        vsnprintf(data->context[data->context_count], sizeof(data->context[0]), fmt, args);
        va_end(args);
        data->context[data->context_count][sizeof(data->context[0]) - 1] = 0;
    }
    data->context_count++;
    SetLastError(error);
}

void winetest_pop_context(void)
{
    struct thread_data *data = get_thread_data();

    if (data->context_count) data->context_count--;
}

LONG winetest_get_failures(void)
{
    return winetest_failures;
}

void winetest_add_failures(LONG new_failures)
{
    while (new_failures-- > 0) InterlockedIncrement(&winetest_failures);
}

int winetest_get_mainargs(char ***argv)
{
    *argv = winetest_argv;
    return winetest_argc;
}

void winetest_wait_child_process(HANDLE process)
{
    DWORD ret, code;

    winetest_ok(process != NULL, "No child process handle (CreateProcess failed?)\n");
    if (!process) return;

    ret = WaitForSingleObject(process, CHILD_WAIT_MS);
    if (ret == WAIT_TIMEOUT)
    {
        winetest_ok(0, "Timed out waiting for the child process\n");
        return;
    }
    if (ret != WAIT_OBJECT_0)
    {
        winetest_ok(0, "Could not wait for the child process: %d le=%u\n", (UINT)ret, (UINT)GetLastError());
        return;
    }
    GetExitCodeProcess(process, &code);
    if (code > 255)
    {
        print_lock();
        print_color(color_bright_red);
        print_location("unhandled exception %08x in child process %04x\n", (UINT)code, (UINT)GetProcessId(process));
        print_color(color_reset);
        print_unlock();
        InterlockedIncrement(&winetest_failures);
    }
    else if (code)
    {
        print_lock();
        print_location("%u failures in child process\n", (UINT)code);
        print_unlock();
        while (code-- > 0) InterlockedIncrement(&winetest_failures);
    }
}

/* A name as given on the command line: "NAME", "NAME.c" or a path to it. */
static const struct test *find_test(const char *name)
{
    const struct test *test;
    const char *p;
    size_t len;

    if ((p = strrchr(name, '/'))) name = p + 1;
    if ((p = strrchr(name, '\\'))) name = p + 1;
    len = strlen(name);
    if (len > 2 && !strcmp(name + len - 2, ".c")) len -= 2;

    for (test = winetest_testlist; test->name; test++)
        if (!strncmp(test->name, name, len) && !test->name[len]) return test;
    return NULL;
}

static void list_tests(void)
{
    const struct test *test;

    printf("Valid test names:\n");
    for (test = winetest_testlist; test->name; test++) printf("    %s\n", test->name);
}

static int run_test(const char *name)
{
    const struct test *test;
    char buffer[32];
    LONG status;

    if (!(test = find_test(name)))
    {
        printf("Fatal: test '%s' does not exist.\n", name);
        fflush(stdout);
        ExitProcess(1);
    }
    current_test = test;
    test->func();

    if (winetest_debug)
    {
        print_lock();
        if (winetest_muted_todo_successes || winetest_muted_skipped || winetest_muted_traces)
            printf("%04x:%s:%s Silenced %d todos, %d skips and %d traces.\n",
                    (UINT)GetCurrentProcessId(), test->name, elapsed(buffer),
                    (int)winetest_muted_todo_successes, (int)winetest_muted_skipped, (int)winetest_muted_traces);
        printf("%04x:%s:%s %d tests executed (%d marked as todo, %d as flaky, %d %s), %d skipped.\n",
                (UINT)GetCurrentProcessId(), test->name, elapsed(buffer),
                (int)(winetest_successes + winetest_failures + winetest_flaky_failures
                        + winetest_todo_successes + winetest_todo_failures),
                (int)winetest_todo_successes, (int)winetest_flaky_failures,
                (int)(winetest_failures + winetest_todo_failures),
                winetest_failures + winetest_todo_failures != 1 ? "failures" : "failure",
                (int)winetest_skipped);
        print_unlock();
    }
    status = winetest_failures + winetest_todo_failures;
    if (winetest_report_flaky) status += winetest_flaky_failures;
    return status > 255 ? 255 : status;
}

/* No test name: every test in list order, each in a child process, as
 * make check runs them.  Exits with the sum of their exit codes, at most
 * 255. */
static int run_all_tests(void)
{
    STARTUPINFOA startup = {sizeof(startup)};
    char path[MAX_PATH], *cmdline;
    const struct test *test;
    PROCESS_INFORMATION info;
    DWORD code, status = 0;

    GetModuleFileNameA(NULL, path, sizeof(path));
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    startup.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
    startup.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    for (test = winetest_testlist; test->name; test++)
    {
        cmdline = HeapAlloc(GetProcessHeap(), 0, strlen(path) + strlen(test->name) + 4);
        sprintf(cmdline, "\"%s\" %s", path, test->name);
        fflush(stdout);
        if (!CreateProcessA(path, cmdline, NULL, NULL, TRUE, 0, NULL, NULL, &startup, &info))
        {
            printf("%s: cannot start %s, error %lu\n", test->name, path, GetLastError());
            code = 1;
        }
        else
        {
            WaitForSingleObject(info.hProcess, INFINITE);
            GetExitCodeProcess(info.hProcess, &code);
            CloseHandle(info.hProcess);
            CloseHandle(info.hThread);
        }
        HeapFree(GetProcessHeap(), 0, cmdline);
        status += code > 255 ? 255 : code;
    }
    return status > 255 ? 255 : status;
}

/* On Windows only, like Wine's harness: on Wine, Wine reports the crash. */
static LONG CALLBACK exception_filter(EXCEPTION_POINTERS *ptrs)
{
    struct thread_data *data = get_thread_data();
    char buffer[32];

    print_lock();
    if (data->file)
        printf("%s:%d: this is the last test seen before the exception\n", data->file, data->line);
    print_color(color_bright_red);
    printf("%04x:%s:%s unhandled exception %08x at %p\n", (UINT)GetCurrentProcessId(),
            current_test ? current_test->name : "",
            elapsed(buffer), (UINT)ptrs->ExceptionRecord->ExceptionCode, ptrs->ExceptionRecord->ExceptionAddress);
    print_color(color_reset);
    fflush(stdout);
    print_unlock();
    return EXCEPTION_EXECUTE_HANDLER;
}

static BOOL running_under_wine(void)
{
    HMODULE ntdll = GetModuleHandleA("ntdll.dll");
    return ntdll && GetProcAddress(ntdll, "wine_server_call");
}

static int get_int_env(const char *name, int *value)
{
    char buffer[128];

    if (!GetEnvironmentVariableA(name, buffer, sizeof(buffer))) return 0;
    *value = atoi(buffer);
    return 1;
}

int main(int argc, char **argv)
{
    char buffer[128];

    setvbuf(stdout, NULL, _IONBF, 0);
    print_mutex = CreateMutexA(NULL, FALSE, "winetest_print_mutex");
    tls_index = TlsAlloc();
    winetest_argc = argc;
    winetest_argv = argv;

    /* Unset, the platform is the one the program runs on. */
    if (GetEnvironmentVariableA("WINETEST_PLATFORM", buffer, sizeof(buffer))) winetest_platform = strdup(buffer);
    else if (running_under_wine()) winetest_platform = "wine";
    winetest_platform_is_wine = !strcmp(winetest_platform, "wine");

    /* 1 for colours, "auto" for colours on a terminal. */
    if (GetEnvironmentVariableA("WINETEST_COLOR", buffer, sizeof(buffer)))
    {
        BOOL automode = !strcmp(buffer, "auto");
        HANDLE output;
        DWORD mode;

        winetest_color = automode ? _isatty(_fileno(stdout)) : atoi(buffer);
        output = (HANDLE)_get_osfhandle(_fileno(stdout));
        if (winetest_color && GetConsoleMode(output, &mode)
                && !SetConsoleMode(output, mode | ENABLE_PROCESSED_OUTPUT | ENABLE_VIRTUAL_TERMINAL_PROCESSING)
                && automode)
            winetest_color = 0;
    }
    get_int_env("WINETEST_DEBUG", &winetest_debug);
    get_int_env("WINETEST_INTERACTIVE", &winetest_interactive);
    get_int_env("WINETEST_REPORT_FLAKY", &winetest_report_flaky);
    get_int_env("WINETEST_REPORT_SUCCESS", &winetest_report_success);
    get_int_env("WINETEST_TIME", &winetest_time);
    last_time = start_time = GetTickCount();

    if (!strcmp(winetest_platform, "windows")) SetUnhandledExceptionFilter(exception_filter);
    if (!winetest_interactive) SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);

    if (argc < 2)
    {
        if (winetest_testlist[0].name && !winetest_testlist[1].name) return run_test(winetest_testlist[0].name);
        return run_all_tests();
    }
    if (!strcmp(argv[1], "--list"))
    {
        list_tests();
        return 0;
    }
    return run_test(argv[1]);
}
