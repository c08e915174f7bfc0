/*
 * Compute systems: a partition a VM worker published (VmidlPublishPartition
 * or VmidlPublishPartitionEx), opened by the Id it was published as, and
 * its basic properties, whose RuntimeId is what a device host hands
 * vmwpctrl.dll's GetVmWorkerProcess or vmdevicehost.dll.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "computecore_private.h"
#include "vmidl_names.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

/* What is published under Id, a new struct vmidl_system; NULL while
 * nothing is, or it is still being written or already withdrawn. */
static struct vmidl_system *read_system(const WCHAR *id)
{
    WCHAR name[VMIDL_SYSTEM_NAME_LENGTH];
    const struct vmidl_published *published;
    struct vmidl_system *system = NULL;
    UINT32 size;
    HANDLE section;

    vmidl_system_section_name(name, id);
    if (!(section = OpenFileMappingW(FILE_MAP_READ, FALSE, name))) return NULL;
    published = MapViewOfFile(section, FILE_MAP_READ, 0, 0, 0);
    CloseHandle(section);
    if (!published) return NULL;
    if (vmidl_published_size(published, &size))
    {
        if (size >= offsetof(struct vmidl_system, id[1]) && !(size % sizeof(WCHAR)) && (system = malloc(size)))
        {
            memcpy(system, published->data, size);
            if (system->id[(size - offsetof(struct vmidl_system, id)) / sizeof(WCHAR) - 1])
            {
                free(system);
                system = NULL;
            }
        }
    }
    UnmapViewOfFile(published);
    return system;
}

struct hcs_system *system_from_handle(HCS_SYSTEM handle)
{
    if (!handle || handle->magic != HCS_SYSTEM_MAGIC) return NULL;
    return handle;
}

BOOL system_is_running(const struct hcs_system *system)
{
    struct vmidl_system *published = read_system(system->id);
    BOOL running = published && IsEqualGUID(&published->runtime_id, &system->runtime_id);

    free(published);
    return running;
}

HRESULT WINAPI HcsOpenComputeSystem(const WCHAR *id, DWORD access, HCS_SYSTEM *ret)
{
    struct vmidl_system *published;
    struct hcs_system *system;

    TRACE("id %s, access %#lx, ret %p\n", debugstr_w(id), access, ret);

    if (!ret) return E_POINTER;
    *ret = NULL;
    if (!id || !id[0]) return E_INVALIDARG;
    /* Only GENERIC_ALL is documented; the rest is up to the caller. */
    if (access != GENERIC_ALL) FIXME("access %#lx taken as GENERIC_ALL\n", access);
    if (!vmidl_system_id_is_valid(id) || !(published = read_system(id)))
    {
        WARN("no compute system %s\n", debugstr_w(id));
        return HCS_E_SYSTEM_NOT_FOUND;
    }
    /* The Id as published: the document gives it. */
    if (!(system = malloc(offsetof(struct hcs_system, id[wcslen(published->id) + 1]))))
    {
        free(published);
        return E_OUTOFMEMORY;
    }
    system->magic = HCS_SYSTEM_MAGIC;
    system->runtime_id = published->runtime_id;
    wcscpy(system->id, published->id);
    free(published);
    TRACE("%s is %s, system %p\n", debugstr_w(id), debugstr_guid(&system->runtime_id), system);
    *ret = system;
    return S_OK;
}

void WINAPI HcsCloseComputeSystem(HCS_SYSTEM handle)
{
    struct hcs_system *system = system_from_handle(handle);

    TRACE("system %p\n", handle);

    if (!system) return;
    system->magic = 0;
    free(system);
}

/* JSON's string: Ids have no backslash, but may have quotes and controls. */
static WCHAR *append_json_string(WCHAR *out, const WCHAR *string)
{
    *out++ = '"';
    for (; *string; string++)
    {
        if (*string == '"' || *string == '\\') *out++ = '\\';
        if (*string < 0x20) out += _snwprintf(out, 7, L"\\u%04x", *string);
        else *out++ = *string;
    }
    *out++ = '"';
    return out;
}

/* The basic properties (HCS schema's "Properties"): Id and SystemType,
 * which HCS always gives, and RuntimeId, State and Stopped. */
static WCHAR *properties_document(const struct hcs_system *system)
{
    WCHAR runtime_id[VMIDL_GUID_STRING_LENGTH], *document, *out;
    BOOL running = system_is_running(system);

    /* Each character of the Id takes up to 6 in JSON. */
    if (!(document = malloc((wcslen(system->id) * 6 + 200) * sizeof(WCHAR)))) return NULL;
    vmidl_guid_string(runtime_id, &system->runtime_id);
    out = document + _snwprintf(document, 8, L"{\"Id\":");
    out = append_json_string(out, system->id);
    _snwprintf(out, 150, L",\"SystemType\":\"VirtualMachine\",\"RuntimeId\":\"%s\",\"State\":\"%s\",\"Stopped\":%s}",
            runtime_id, running ? L"Running" : L"Stopped", running ? L"false" : L"true");
    return document;
}

HRESULT WINAPI HcsGetComputeSystemProperties(HCS_SYSTEM handle, HCS_OPERATION operation, const WCHAR *query)
{
    struct hcs_system *system = system_from_handle(handle);
    WCHAR *document;
    HRESULT hr;

    TRACE("system %p, operation %p, query %s\n", handle, operation, debugstr_w(query));

    if (!system) return E_HANDLE;
    if (FAILED(hr = check_property_query(query))) return hr;
    if (FAILED(hr = operation_start(operation, handle))) return hr;
    if (!(document = properties_document(system))) operation_complete(operation, E_OUTOFMEMORY, NULL);
    else operation_complete(operation, S_OK, document);
    return S_OK;
}
