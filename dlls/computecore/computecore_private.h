/*
 * computecore.dll: the part of the Host Compute Service API a device host
 * needs to find its VM (doc/hdv.md), over vmidl's published partitions.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __COMPUTECORE_PRIVATE_H
#define __COMPUTECORE_PRIVATE_H

#include <stdarg.h>
#include <stdlib.h>

#include "windef.h"
#include "winbase.h"

/* HCS's own HRESULTs (Microsoft's "HCS HRESULTs" reference); Wine's
 * winerror.h has none of them. */
#define HCS_E_INVALID_JSON                  ((HRESULT)0x8037010d)
#define HCS_E_SYSTEM_NOT_FOUND              ((HRESULT)0x8037010e)
#define HCS_E_OPERATION_NOT_STARTED         ((HRESULT)0x80370115)
#define HCS_E_OPERATION_ALREADY_STARTED     ((HRESULT)0x80370116)
#define HCS_E_OPERATION_TIMEOUT             ((HRESULT)0x80370118)

typedef struct hcs_system *HCS_SYSTEM;
typedef struct hcs_operation *HCS_OPERATION;
typedef void (CALLBACK *HCS_OPERATION_COMPLETION)(HCS_OPERATION operation, void *context);

/* The exports, as computecore.h of the Windows SDK and mingw-w64 declares
 * them (Wine has no such header). */
HCS_OPERATION WINAPI HcsCreateOperation(const void *context, HCS_OPERATION_COMPLETION callback);
void WINAPI HcsCloseOperation(HCS_OPERATION operation);
void * WINAPI HcsGetOperationContext(HCS_OPERATION operation);
HRESULT WINAPI HcsSetOperationContext(HCS_OPERATION operation, const void *context);
HCS_SYSTEM WINAPI HcsGetComputeSystemFromOperation(HCS_OPERATION operation);
HRESULT WINAPI HcsWaitForOperationResult(HCS_OPERATION operation, DWORD timeout, WCHAR **document);
HRESULT WINAPI HcsOpenComputeSystem(const WCHAR *id, DWORD access, HCS_SYSTEM *system);
void WINAPI HcsCloseComputeSystem(HCS_SYSTEM system);
HRESULT WINAPI HcsGetComputeSystemProperties(HCS_SYSTEM system, HCS_OPERATION operation, const WCHAR *query);

/* An open compute system: a published partition, by the Id it was
 * published as. */
struct hcs_system
{
    UINT32 magic;
    GUID runtime_id;
    WCHAR id[1];
};

#define HCS_SYSTEM_MAGIC 0x6d737973   /* "sysm" */

extern struct hcs_system *system_from_handle(HCS_SYSTEM handle);
/* Whether the partition is still published under the system's Id. */
extern BOOL system_is_running(const struct hcs_system *system);

/* Ends an operation that an HCS call took: its result and document (a
 * string of the heap's, which the operation now owns), then its callback. */
extern HRESULT operation_start(HCS_OPERATION handle, HCS_SYSTEM system);
extern void operation_complete(HCS_OPERATION handle, HRESULT result, WCHAR *document);

/* Whether Query is a property query with no property type beyond the
 * basic properties: NULL, empty, or a JSON object whose "PropertyTypes"
 * array is missing or empty.  HCS_E_INVALID_JSON for text that is no JSON
 * object; ERROR_NOT_SUPPORTED when a property type is asked for. */
extern HRESULT check_property_query(const WCHAR *query);

#endif /* __COMPUTECORE_PRIVATE_H */
