/*
 * The compute systems a device host opens (computecore.dll): a partition
 * the VM worker published, found by the Id it was published as, and its
 * basic properties read through an HCS operation, waited for or called
 * back; from this process and from another one.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>

#define COBJMACROS

#include "wine/test.h"
#include "vmidl_test.h"
#include "child.h"

/* computecore.h's (Wine has none): handles, and HCS's own HRESULTs. */
typedef struct HCS_SYSTEM__ *HCS_SYSTEM;
typedef struct HCS_OPERATION__ *HCS_OPERATION;
typedef void (CALLBACK *HCS_OPERATION_COMPLETION)(HCS_OPERATION, void *);
#define HCS_E_INVALID_JSON                  ((HRESULT)0x8037010d)
#define HCS_E_SYSTEM_NOT_FOUND              ((HRESULT)0x8037010e)
#define HCS_E_OPERATION_NOT_STARTED         ((HRESULT)0x80370115)
#define HCS_E_OPERATION_ALREADY_STARTED     ((HRESULT)0x80370116)
#define HCS_E_OPERATION_TIMEOUT             ((HRESULT)0x80370118)
/* HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED), as a constant for the tables. */
#define E_NOT_SUPPORTED                     ((HRESULT)0x80070032)

static HRESULT (WINAPI *pHcsOpenComputeSystem)(const WCHAR *, DWORD, HCS_SYSTEM *);
static void (WINAPI *pHcsCloseComputeSystem)(HCS_SYSTEM);
static HRESULT (WINAPI *pHcsGetComputeSystemProperties)(HCS_SYSTEM, HCS_OPERATION, const WCHAR *);
static HCS_OPERATION (WINAPI *pHcsCreateOperation)(const void *, HCS_OPERATION_COMPLETION);
static void (WINAPI *pHcsCloseOperation)(HCS_OPERATION);
static HRESULT (WINAPI *pHcsWaitForOperationResult)(HCS_OPERATION, DWORD, WCHAR **);
static void * (WINAPI *pHcsGetOperationContext)(HCS_OPERATION);
static HRESULT (WINAPI *pHcsSetOperationContext)(HCS_OPERATION, const void *);
static HCS_SYSTEM (WINAPI *pHcsGetComputeSystemFromOperation)(HCS_OPERATION);
static HRESULT (WINAPI *pGetVmWorkerProcess)(REFGUID, REFIID, IUnknown **);

static BOOL load_computecore(void)
{
    HMODULE module = LoadLibraryA("computecore.dll");

    if (!module) return FALSE;
#define LOAD(f) if (!(p##f = (void *)GetProcAddress(module, #f))) return FALSE
    LOAD(HcsOpenComputeSystem);
    LOAD(HcsCloseComputeSystem);
    LOAD(HcsGetComputeSystemProperties);
    LOAD(HcsCreateOperation);
    LOAD(HcsCloseOperation);
    LOAD(HcsWaitForOperationResult);
    LOAD(HcsGetOperationContext);
    LOAD(HcsSetOperationContext);
    LOAD(HcsGetComputeSystemFromOperation);
#undef LOAD
    pGetVmWorkerProcess = (void *)GetProcAddress(LoadLibraryA("vmwpctrl.dll"), "GetVmWorkerProcess");
    return TRUE;
}

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", HCS's form of a GUID. */
static void hcs_guid(WCHAR *buffer, const GUID *guid, BOOL upper)
{
    swprintf(buffer, 37, upper ? L"%08lX-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X"
            : L"%08lx-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", guid->Data1, guid->Data2, guid->Data3,
            guid->Data4[0], guid->Data4[1], guid->Data4[2], guid->Data4[3], guid->Data4[4], guid->Data4[5],
            guid->Data4[6], guid->Data4[7]);
}

/* The basic property document of a system, or NULL (with a failure). */
#define get_properties(a, b) get_properties_(__FILE__, __LINE__, a, b)
static WCHAR *get_properties_(const char *file, int line, HCS_SYSTEM system, const WCHAR *query)
{
    HCS_OPERATION operation = pHcsCreateOperation(NULL, NULL);
    WCHAR *document = (WCHAR *)0xdeadbeef;
    HRESULT hr;

    ok_(file, line)(!!operation, "cannot create an operation\n");
    if (!operation) return NULL;
    hr = pHcsGetComputeSystemProperties(system, operation, query);
    ok_(file, line)(hr == S_OK, "cannot get the properties, hr %#lx\n", hr);
    hr = pHcsWaitForOperationResult(operation, test_wait_ms(), &document);
    ok_(file, line)(hr == S_OK, "operation failed, hr %#lx\n", hr);
    ok_(file, line)(pHcsGetComputeSystemFromOperation(operation) == system, "wrong system\n");
    pHcsCloseOperation(operation);
    if (FAILED(hr)) return NULL;
    ok_(file, line)(!!document, "no document\n");
    return document;
}

/* Whether Document has "Name":Value, Value in JSON (a string with quotes). */
static BOOL has_member(const WCHAR *document, const WCHAR *name, const WCHAR *value)
{
    WCHAR member[300];

    swprintf(member, ARRAY_SIZE(member), L"\"%s\":%s", name, value);
    return document && wcsstr(document, member);
}

#define check_properties(a, b, c, d) check_properties_(__FILE__, __LINE__, a, b, c, d)
static void check_properties_(const char *file, int line, HCS_SYSTEM system, const WCHAR *id_json,
        const GUID *runtime_id, BOOL running)
{
    WCHAR guid[37], quoted[40], *document = get_properties_(file, line, system, NULL);

    hcs_guid(guid, runtime_id, FALSE);
    swprintf(quoted, ARRAY_SIZE(quoted), L"\"%s\"", guid);
    ok_(file, line)(document && document[0] == '{' && document[wcslen(document) - 1] == '}',
            "got %s\n", wine_dbgstr_w(document));
    ok_(file, line)(has_member(document, L"Id", id_json), "no Id %s in %s\n", wine_dbgstr_w(id_json),
            wine_dbgstr_w(document));
    ok_(file, line)(has_member(document, L"SystemType", L"\"VirtualMachine\""), "got %s\n", wine_dbgstr_w(document));
    ok_(file, line)(has_member(document, L"RuntimeId", quoted), "no RuntimeId %s in %s\n", wine_dbgstr_w(guid),
            wine_dbgstr_w(document));
    ok_(file, line)(has_member(document, L"State", running ? L"\"Running\"" : L"\"Stopped\""),
            "got %s\n", wine_dbgstr_w(document));
    ok_(file, line)(has_member(document, L"Stopped", running ? L"false" : L"true"), "got %s\n", wine_dbgstr_w(document));
    LocalFree(document);
}

static void fill_id(WCHAR *id, unsigned int length)
{
    unsigned int i;

    for (i = 0; i < length; i++) id[i] = 'a' + i % 26;
    id[length] = 0;
}

static void test_bad_input(void)
{
    WCHAR long_id[200], *document;
    HCS_OPERATION operation;
    HCS_SYSTEM system;
    HRESULT hr;

    hr = pHcsOpenComputeSystem(L"x", GENERIC_ALL, NULL);
    ok(hr == E_POINTER, "got hr %#lx\n", hr);
    system = (HCS_SYSTEM)0xdeadbeef;
    hr = pHcsOpenComputeSystem(NULL, GENERIC_ALL, &system);
    ok(hr == E_INVALIDARG, "got hr %#lx\n", hr);
    ok(!system, "got %p\n", system);
    hr = pHcsOpenComputeSystem(L"", GENERIC_ALL, &system);
    ok(hr == E_INVALIDARG, "got hr %#lx\n", hr);
    hr = pHcsOpenComputeSystem(L"no such system", GENERIC_ALL, &system);
    ok(hr == HCS_E_SYSTEM_NOT_FOUND, "got hr %#lx\n", hr);
    ok(!system, "got %p\n", system);
    hr = pHcsOpenComputeSystem(L"a\\b", GENERIC_ALL, &system);
    ok(hr == HCS_E_SYSTEM_NOT_FOUND, "got hr %#lx\n", hr);
    fill_id(long_id, ARRAY_SIZE(long_id) - 1);
    hr = pHcsOpenComputeSystem(long_id, GENERIC_ALL, &system);
    ok(hr == HCS_E_SYSTEM_NOT_FOUND, "got hr %#lx\n", hr);

    pHcsCloseComputeSystem(NULL);
    pHcsCloseOperation(NULL);
    ok(!pHcsGetOperationContext(NULL), "got a context\n");
    hr = pHcsSetOperationContext(NULL, NULL);
    ok(hr == E_HANDLE, "got hr %#lx\n", hr);

    operation = pHcsCreateOperation((void *)0x1234, NULL);
    ok(!!operation, "cannot create an operation\n");
    ok(pHcsGetOperationContext(operation) == (void *)0x1234, "got %p\n", pHcsGetOperationContext(operation));
    hr = pHcsSetOperationContext(operation, (void *)0x5678);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    ok(pHcsGetOperationContext(operation) == (void *)0x5678, "got %p\n", pHcsGetOperationContext(operation));
    ok(!pHcsGetComputeSystemFromOperation(operation), "got a system\n");
    document = (WCHAR *)0xdeadbeef;
    hr = pHcsWaitForOperationResult(operation, 0, &document);
    ok(hr == HCS_E_OPERATION_NOT_STARTED, "got hr %#lx\n", hr);
    ok(!document, "got %p\n", document);
    hr = pHcsWaitForOperationResult(NULL, 0, &document);
    ok(hr == E_HANDLE, "got hr %#lx\n", hr);
    hr = pHcsGetComputeSystemProperties(NULL, operation, NULL);
    ok(hr == E_HANDLE, "got hr %#lx\n", hr);
    pHcsCloseOperation(operation);
}

struct callback_record
{
    HANDLE event;
    HCS_OPERATION operation;
    void *context;
    DWORD thread;
    HRESULT hr;
    WCHAR *document;
};

static void CALLBACK operation_done(HCS_OPERATION operation, void *context)
{
    struct callback_record *record = context;

    record->operation = operation;
    record->context = context;
    record->thread = GetCurrentThreadId();
    record->hr = pHcsWaitForOperationResult(operation, 0, &record->document);
    /* As a program that only waits for the callback does. */
    pHcsCloseOperation(operation);
    SetEvent(record->event);
}

static void test_queries(HCS_SYSTEM system)
{
    static const WCHAR *basic[] = {L"", L"  {}  ", L"{\"PropertyTypes\": []}", L"{\"Queries\":{}, \"PropertyTypes\":[]}"};
    static const struct
    {
        const WCHAR *query;
        HRESULT hr;
    }
    refused[] =
    {
        {L"{", HCS_E_INVALID_JSON},
        {L"[]", HCS_E_INVALID_JSON},
        {L"{} x", HCS_E_INVALID_JSON},
        {L"{\"PropertyTypes\":[\"Memory\",]}", HCS_E_INVALID_JSON},
        {L"{\"PropertyTypes\":[\"Memory\"]}", E_NOT_SUPPORTED},
        {L"{\"PropertyTypes\":[\"Statistics\"], \"Queries\": {}}", E_NOT_SUPPORTED},
        {L"{\"Unknown\":1.5e3}", E_NOT_SUPPORTED},
    };
    struct callback_record record = {0};
    HCS_OPERATION operation;
    WCHAR *document;
    unsigned int i;
    HRESULT hr;

    for (i = 0; i < ARRAY_SIZE(basic); i++)
    {
        winetest_push_context("%s", wine_dbgstr_w(basic[i]));
        document = get_properties(system, basic[i]);
        ok(has_member(document, L"State", L"\"Running\""), "got %s\n", wine_dbgstr_w(document));
        LocalFree(document);
        winetest_pop_context();
    }

    operation = pHcsCreateOperation(NULL, NULL);
    for (i = 0; i < ARRAY_SIZE(refused); i++)
    {
        winetest_push_context("%s", wine_dbgstr_w(refused[i].query));
        hr = pHcsGetComputeSystemProperties(system, operation, refused[i].query);
        ok(hr == refused[i].hr, "got hr %#lx\n", hr);
        /* Refused before it started: the operation can still be used. */
        hr = pHcsWaitForOperationResult(operation, 0, NULL);
        ok(hr == HCS_E_OPERATION_NOT_STARTED, "got hr %#lx\n", hr);
        winetest_pop_context();
    }
    hr = pHcsGetComputeSystemProperties(system, operation, NULL);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = pHcsGetComputeSystemProperties(system, operation, NULL);
    ok(hr == HCS_E_OPERATION_ALREADY_STARTED, "got hr %#lx\n", hr);
    /* The result stays: each wait gets a document of its own. */
    for (i = 0; i < 2; i++)
    {
        document = NULL;
        hr = pHcsWaitForOperationResult(operation, 0, &document);
        ok(hr == S_OK, "got hr %#lx\n", hr);
        ok(has_member(document, L"SystemType", L"\"VirtualMachine\""), "got %s\n", wine_dbgstr_w(document));
        LocalFree(document);
    }
    hr = pHcsWaitForOperationResult(operation, 0, NULL);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    pHcsCloseOperation(operation);

    /* Called back on another thread, which may close the operation. */
    record.event = CreateEventW(NULL, FALSE, FALSE, NULL);
    operation = pHcsCreateOperation(&record, operation_done);
    hr = pHcsGetComputeSystemProperties(system, operation, L"{}");
    ok(hr == S_OK, "got hr %#lx\n", hr);
    ok(!WaitForSingleObject(record.event, test_wait_ms()), "no callback\n");
    ok(record.operation == operation, "got %p, expected %p\n", record.operation, operation);
    ok(record.context == &record, "got context %p\n", record.context);
    ok(record.thread && record.thread != GetCurrentThreadId(), "called back on thread %#lx\n", record.thread);
    ok(record.hr == S_OK, "got hr %#lx\n", record.hr);
    ok(has_member(record.document, L"State", L"\"Running\""), "got %s\n", wine_dbgstr_w(record.document));
    LocalFree(record.document);
    CloseHandle(record.event);
}

/* A partition published with VmidlPublishPartition has its RuntimeId for Id. */
static void test_default_id(void)
{
    WCHAR id[37], upper[37], quoted[40], braced[40];
    struct guest guest;
    GUID runtime_id;
    HCS_SYSTEM system, other;
    IUnknown *unknown;
    HRESULT hr;

    if (!create_guest(&guest)) return;
    hcs_guid(id, &guest.runtime_id, FALSE);
    hcs_guid(upper, &guest.runtime_id, TRUE);
    hr = pHcsOpenComputeSystem(id, GENERIC_ALL, &system);
    ok(hr == HCS_E_SYSTEM_NOT_FOUND, "not published yet, got hr %#lx\n", hr);

    hr = pVmidlPublishPartition(guest.partition);
    ok(hr == S_OK, "cannot publish, hr %#lx\n", hr);
    hr = pHcsOpenComputeSystem(id, GENERIC_ALL, &system);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    swprintf(quoted, ARRAY_SIZE(quoted), L"\"%s\"", id);
    check_properties(system, quoted, &guest.runtime_id, TRUE);
    test_queries(system);

    /* A GUID Id is matched as a GUID, whatever its case, with braces or
     * not; the document has the Id as published. */
    hr = pHcsOpenComputeSystem(upper, GENERIC_ALL, &other);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    check_properties(other, quoted, &guest.runtime_id, TRUE);
    pHcsCloseComputeSystem(other);
    swprintf(braced, ARRAY_SIZE(braced), L"{%s}", upper);
    hr = pHcsOpenComputeSystem(braced, GENERIC_ALL, &other);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    check_properties(other, quoted, &guest.runtime_id, TRUE);
    pHcsCloseComputeSystem(other);
    braced[wcslen(braced) - 1] = 0;
    hr = pHcsOpenComputeSystem(braced, GENERIC_ALL, &other);
    ok(hr == HCS_E_SYSTEM_NOT_FOUND, "got hr %#lx\n", hr);

    /* The RuntimeId reaches the worker, as a device host hands it on. */
    hr = pGetVmWorkerProcess(&guest.runtime_id, &IID_IUnknown, &unknown);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    if (hr == S_OK) IUnknown_Release(unknown);

    /* A deleted partition's system is stopped, and no longer found. */
    runtime_id = guest.runtime_id;
    guest_destroy(&guest);
    swprintf(quoted, ARRAY_SIZE(quoted), L"\"%s\"", id);
    check_properties(system, quoted, &runtime_id, FALSE);
    pHcsCloseComputeSystem(system);
    hr = pHcsOpenComputeSystem(id, GENERIC_ALL, &system);
    ok(hr == HCS_E_SYSTEM_NOT_FOUND, "got hr %#lx\n", hr);
}

/* Run as "vmidl_test.exe hcs open ID RUNTIME-ID": another process opens
 * the system and checks its RuntimeId; the exit code says how it went. */
static BOOL open_child(void)
{
    char **argv;
    WCHAR id[200], *document;
    GUID runtime_id;
    HCS_SYSTEM system;
    WCHAR guid[37];

    if (winetest_get_mainargs(&argv) < 5 || strcmp(argv[2], "open")) return FALSE;
    if (!guid_from_text(argv[4], &runtime_id)) ExitProcess(2);
    MultiByteToWideChar(CP_UTF8, 0, argv[3], -1, id, ARRAY_SIZE(id));
    if (FAILED(pHcsOpenComputeSystem(id, GENERIC_ALL, &system))) ExitProcess(3);
    if (!(document = get_properties(system, NULL))) ExitProcess(4);
    hcs_guid(guid, &runtime_id, FALSE);
    if (!wcsstr(document, guid)) ExitProcess(5);
    LocalFree(document);
    pHcsCloseComputeSystem(system);
    ExitProcess(0);
}

static DWORD run_open_child(const char *id, const GUID *runtime_id)
{
    char cmdline[MAX_PATH * 2], text[GUID_TEXT_LENGTH], **argv;
    PROCESS_INFORMATION info;
    STARTUPINFOA startup = {sizeof(startup)};
    DWORD code = ~0u;

    winetest_get_mainargs(&argv);
    guid_to_text(runtime_id, text);
    snprintf(cmdline, sizeof(cmdline), "\"%s\" hcs open \"%s\" %s", argv[0], id, text);
    if (!CreateProcessA(NULL, cmdline, NULL, NULL, FALSE, 0, NULL, NULL, &startup, &info)) return code;
    wait_child_process(info.hProcess);
    GetExitCodeProcess(info.hProcess, &code);
    CloseHandle(info.hProcess);
    CloseHandle(info.hThread);
    return code;
}

/* VmidlPublishPartitionEx: an Id of the worker's choice. */
static void test_chosen_id(void)
{
    static const WCHAR id[] = L"vmidl \"test\" VM\t1";
    WCHAR runtime_string[37], long_id[130];
    struct guest guest, second;
    HCS_SYSTEM system;
    IUnknown *unknown;
    HRESULT hr;

    if (!create_guest(&guest)) return;
    if (!create_guest(&second))
    {
        guest_destroy(&guest);
        return;
    }
    hr = pVmidlPublishPartitionEx(NULL, id);
    ok(hr == E_INVALIDARG, "got hr %#lx\n", hr);
    hr = pVmidlPublishPartitionEx(guest.partition, L"");
    ok(hr == E_INVALIDARG, "got hr %#lx\n", hr);
    hr = pVmidlPublishPartitionEx(guest.partition, L"a\\b");
    ok(hr == E_INVALIDARG, "got hr %#lx\n", hr);
    fill_id(long_id, 129);
    hr = pVmidlPublishPartitionEx(guest.partition, long_id);
    ok(hr == E_INVALIDARG, "got hr %#lx\n", hr);
    long_id[128] = 0;
    hr = pVmidlPublishPartitionEx(second.partition, long_id);
    ok(hr == S_OK, "128 characters, got hr %#lx\n", hr);
    hr = pHcsOpenComputeSystem(long_id, GENERIC_ALL, &system);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    pHcsCloseComputeSystem(system);
    guest_destroy(&second);

    hr = pVmidlPublishPartitionEx(guest.partition, id);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = pVmidlPublishPartitionEx(guest.partition, L"another");
    ok(hr == HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS), "got hr %#lx\n", hr);
    hr = pHcsOpenComputeSystem(id, GENERIC_ALL, &system);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    check_properties(system, L"\"vmidl \\\"test\\\" VM\\u00091\"", &guest.runtime_id, TRUE);
    pHcsCloseComputeSystem(system);
    hcs_guid(runtime_string, &guest.runtime_id, FALSE);
    hr = pHcsOpenComputeSystem(runtime_string, GENERIC_ALL, &system);
    ok(hr == HCS_E_SYSTEM_NOT_FOUND, "got hr %#lx\n", hr);
    /* Other Ids are matched exactly, as object names are. */
    hr = pHcsOpenComputeSystem(L"VMIDL \"test\" VM\t1", GENERIC_ALL, &system);
    ok(hr == HCS_E_SYSTEM_NOT_FOUND, "got hr %#lx\n", hr);

    ok(run_open_child("vmidl \\\"test\\\" VM\t1", &guest.runtime_id) == 0, "the other process cannot open it\n");

    /* An Id another partition has: refused, and nothing of it is published. */
    if (create_guest(&second))
    {
        hr = pVmidlPublishPartitionEx(second.partition, id);
        ok(hr == HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS), "got hr %#lx\n", hr);
        hr = pGetVmWorkerProcess(&second.runtime_id, &IID_IUnknown, &unknown);
        ok(hr == HRESULT_FROM_WIN32(ERROR_NOT_FOUND), "got hr %#lx\n", hr);
        /* Then published under another Id. */
        hr = pVmidlPublishPartitionEx(second.partition, L"second");
        ok(hr == S_OK, "got hr %#lx\n", hr);
        hr = pGetVmWorkerProcess(&second.runtime_id, &IID_IUnknown, &unknown);
        ok(hr == S_OK, "got hr %#lx\n", hr);
        if (hr == S_OK) IUnknown_Release(unknown);
        guest_destroy(&second);
    }

    /* The Id goes with the partition, and can be published again. */
    guest_destroy(&guest);
    hr = pHcsOpenComputeSystem(id, GENERIC_ALL, &system);
    ok(hr == HCS_E_SYSTEM_NOT_FOUND, "got hr %#lx\n", hr);
    if (!create_guest(&guest)) return;
    hr = pVmidlPublishPartitionEx(guest.partition, id);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = pHcsOpenComputeSystem(id, GENERIC_ALL, &system);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    check_properties(system, L"\"vmidl \\\"test\\\" VM\\u00091\"", &guest.runtime_id, TRUE);
    pHcsCloseComputeSystem(system);
    guest_destroy(&guest);
}

START_TEST(hcs)
{
    struct guest guest;

    if (!load_computecore())
    {
        win_skip("computecore.dll is not available\n");
        return;
    }
    if (open_child()) return;
    test_bad_input();
    if (!init_guest_test(&guest)) return;
    guest_destroy(&guest);
    test_default_id();
    test_chosen_id();
}
