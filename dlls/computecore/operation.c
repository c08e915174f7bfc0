/*
 * HCS operations: what an HCS call reports its result through, waited for
 * (HcsWaitForOperationResult) or called back (HcsCreateOperation's
 * callback, on a thread pool thread, as HCS does).  The calls of this DLL
 * have their answer at once; the operation is still how it is given.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "computecore_private.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

enum operation_state
{
    OPERATION_NEW,
    OPERATION_STARTED,
    OPERATION_COMPLETED,
};

struct hcs_operation
{
    UINT32 magic;
    LONG refcount;              /* the handle's, and a callback's on its way */
    SRWLOCK lock;
    enum operation_state state;
    HANDLE completed;
    HRESULT result;
    WCHAR *document;
    void *context;
    HCS_OPERATION_COMPLETION callback;
    HCS_SYSTEM system;
};

#define HCS_OPERATION_MAGIC 0x6e6f706f   /* "opon" */

static struct hcs_operation *operation_from_handle(HCS_OPERATION handle)
{
    if (!handle || handle->magic != HCS_OPERATION_MAGIC) return NULL;
    return handle;
}

static void operation_release(struct hcs_operation *operation)
{
    if (InterlockedDecrement(&operation->refcount)) return;
    CloseHandle(operation->completed);
    free(operation->document);
    free(operation);
}

HCS_OPERATION WINAPI HcsCreateOperation(const void *context, HCS_OPERATION_COMPLETION callback)
{
    struct hcs_operation *operation;

    TRACE("context %p, callback %p\n", context, callback);

    if (!(operation = calloc(1, sizeof(*operation)))) return NULL;
    if (!(operation->completed = CreateEventW(NULL, TRUE, FALSE, NULL)))
    {
        free(operation);
        return NULL;
    }
    operation->magic = HCS_OPERATION_MAGIC;
    operation->refcount = 1;
    InitializeSRWLock(&operation->lock);
    operation->context = (void *)context;
    operation->callback = callback;
    TRACE("operation %p\n", operation);
    return operation;
}

/* A callback still on its way keeps the operation until it returns. */
void WINAPI HcsCloseOperation(HCS_OPERATION handle)
{
    struct hcs_operation *operation = operation_from_handle(handle);

    TRACE("operation %p\n", handle);

    if (!operation) return;
    operation->magic = 0;
    operation_release(operation);
}

void * WINAPI HcsGetOperationContext(HCS_OPERATION handle)
{
    struct hcs_operation *operation = operation_from_handle(handle);

    TRACE("operation %p\n", handle);
    return operation ? operation->context : NULL;
}

HRESULT WINAPI HcsSetOperationContext(HCS_OPERATION handle, const void *context)
{
    struct hcs_operation *operation = operation_from_handle(handle);

    TRACE("operation %p, context %p\n", handle, context);

    if (!operation) return E_HANDLE;
    operation->context = (void *)context;
    return S_OK;
}

HCS_SYSTEM WINAPI HcsGetComputeSystemFromOperation(HCS_OPERATION handle)
{
    struct hcs_operation *operation = operation_from_handle(handle);

    TRACE("operation %p\n", handle);
    return operation ? operation->system : NULL;
}

HRESULT operation_start(HCS_OPERATION handle, HCS_SYSTEM system)
{
    struct hcs_operation *operation = operation_from_handle(handle);
    HRESULT hr = S_OK;

    if (!operation) return E_HANDLE;
    AcquireSRWLockExclusive(&operation->lock);
    if (operation->state != OPERATION_NEW) hr = HCS_E_OPERATION_ALREADY_STARTED;
    else
    {
        operation->state = OPERATION_STARTED;
        operation->system = system;
    }
    ReleaseSRWLockExclusive(&operation->lock);
    return hr;
}

static void CALLBACK run_callback(TP_CALLBACK_INSTANCE *instance, void *arg)
{
    struct hcs_operation *operation = arg;

    TRACE("operation %p, callback %p, context %p\n", operation, operation->callback, operation->context);
    operation->callback(operation, operation->context);
    operation_release(operation);
}

void operation_complete(HCS_OPERATION handle, HRESULT result, WCHAR *document)
{
    struct hcs_operation *operation = handle;

    TRACE("operation %p, result %#lx, document %s\n", operation, result, debugstr_w(document));

    AcquireSRWLockExclusive(&operation->lock);
    operation->result = result;
    operation->document = document;
    operation->state = OPERATION_COMPLETED;
    ReleaseSRWLockExclusive(&operation->lock);
    SetEvent(operation->completed);
    if (!operation->callback) return;
    InterlockedIncrement(&operation->refcount);
    if (!TrySubmitThreadpoolCallback(run_callback, operation, NULL))
    {
        ERR("cannot call back operation %p, error %lu\n", operation, GetLastError());
        operation_release(operation);
    }
}

/* The document is the caller's, freed with LocalFree; NULL when the
 * operation gave none. */
HRESULT WINAPI HcsWaitForOperationResult(HCS_OPERATION handle, DWORD timeout, WCHAR **document)
{
    struct hcs_operation *operation = operation_from_handle(handle);
    enum operation_state state;
    size_t size;
    HRESULT hr;

    TRACE("operation %p, timeout %lu, document %p\n", handle, timeout, document);

    if (document) *document = NULL;
    if (!operation) return E_HANDLE;
    AcquireSRWLockShared(&operation->lock);
    state = operation->state;
    ReleaseSRWLockShared(&operation->lock);
    if (state == OPERATION_NEW) return HCS_E_OPERATION_NOT_STARTED;
    if (WaitForSingleObject(operation->completed, timeout)) return HCS_E_OPERATION_TIMEOUT;

    hr = operation->result;
    if (document && operation->document)
    {
        size = (wcslen(operation->document) + 1) * sizeof(WCHAR);
        if (!(*document = LocalAlloc(LMEM_FIXED, size))) return E_OUTOFMEMORY;
        memcpy(*document, operation->document, size);
    }
    return hr;
}
