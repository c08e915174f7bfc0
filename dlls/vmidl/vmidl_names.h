/*
 * Prefix-wide names a partition goes by, shared by vmidl.dll,
 * vmwpctrl.dll and computecore.dll: one kernel object names a RuntimeId
 * taken, a section holds a published worker's marshaled front door, and
 * another the RuntimeId of the compute system Id it was published as.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_NAMES_H
#define __VMIDL_NAMES_H

#include <stdio.h>

#define VMIDL_NAME_LENGTH 80

/* A GUID as HCS writes one in its documents and Ids: 36 characters, no braces. */
#define VMIDL_GUID_STRING_LENGTH 37

static inline void vmidl_guid_string(WCHAR *buffer, const GUID *id)
{
    char string[VMIDL_GUID_STRING_LENGTH];
    unsigned int i;

    snprintf(string, sizeof(string), "%08lx-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
            (unsigned long)id->Data1, id->Data2, id->Data3, id->Data4[0], id->Data4[1], id->Data4[2],
            id->Data4[3], id->Data4[4], id->Data4[5], id->Data4[6], id->Data4[7]);
    for (i = 0; string[i]; i++) buffer[i] = string[i];
    buffer[i] = 0;
}

static inline void vmidl_name_with(WCHAR *buffer, const char *kind, const WCHAR *suffix)
{
    static const char prefix[] = "Local\\vmidl-";
    unsigned int i = 0, j;

    for (j = 0; prefix[j]; j++) buffer[i++] = prefix[j];
    for (j = 0; kind[j]; j++) buffer[i++] = kind[j];
    buffer[i++] = '-';
    for (j = 0; suffix[j]; j++) buffer[i++] = suffix[j];
    buffer[i] = 0;
}

static inline void vmidl_name(WCHAR *buffer, const char *kind, const GUID *id)
{
    WCHAR string[VMIDL_GUID_STRING_LENGTH];

    vmidl_guid_string(string, id);
    vmidl_name_with(buffer, kind, string);
}

/* What the worker section holds: the marshaled IVmidlWorker, then its size,
 * then the magic, written last.  A reader trusts no field: it finds no
 * worker until the magic is there, and reads no further than the view.
 * The worker marks the section withdrawn before it lets go of it. */
#define VMIDL_PUBLISHED_MAGIC 0x6c64696d    /* "midl" */
#define VMIDL_WITHDRAWN_MAGIC 0x656e6f67    /* "gone" */

struct vmidl_published
{
    UINT32 magic;
    UINT32 size;
    BYTE data[1];
};

/* The size of the data a view of a published section holds, checked
 * against the view; FALSE while it is still being written, withdrawn, or
 * not one of vmidl's. */
static inline BOOL vmidl_published_size(const struct vmidl_published *published, UINT32 *size)
{
    MEMORY_BASIC_INFORMATION info;

    if (!VirtualQuery(published, &info, sizeof(info)) || info.RegionSize < offsetof(struct vmidl_published, data)
            || ReadAcquire((LONG *)&published->magic) != VMIDL_PUBLISHED_MAGIC)
        return FALSE;
    *size = published->size;
    return *size <= info.RegionSize - offsetof(struct vmidl_published, data);
}

static inline void vmidl_worker_section_name(WCHAR *buffer, const GUID *runtime_id)
{
    vmidl_name(buffer, "worker", runtime_id);
}

static inline void vmidl_partition_name(WCHAR *buffer, const GUID *runtime_id)
{
    vmidl_name(buffer, "partition", runtime_id);
}

/* The compute system Id HCS opens a published partition by
 * (HcsOpenComputeSystem): a section of the same layout whose data is a
 * struct vmidl_system.  An Id is 1 to VMIDL_SYSTEM_ID_MAX characters with
 * no backslash, since it becomes part of an object name, and is matched
 * exactly, as object names are; an Id that is a GUID (36 characters,
 * braces or not) is matched as that GUID, whatever the case of its
 * letters, as the Id of a Hyper-V VM is. */
#define VMIDL_SYSTEM_ID_MAX 128
#define VMIDL_SYSTEM_NAME_LENGTH (VMIDL_SYSTEM_ID_MAX + 32)

struct vmidl_system
{
    GUID runtime_id;
    WCHAR id[1];                /* as published, with its terminating NUL */
};

static inline BOOL vmidl_system_id_is_valid(const WCHAR *id)
{
    unsigned int i;

    if (!id || !id[0]) return FALSE;
    for (i = 0; id[i]; i++)
        if (i == VMIDL_SYSTEM_ID_MAX || id[i] == '\\') return FALSE;
    return TRUE;
}

/* Id's GUID in lower case without braces, if it is one. */
static inline BOOL vmidl_system_id_guid(const WCHAR *id, WCHAR *guid)
{
    unsigned int i, braces = id[0] == '{';

    for (i = 0; i < 36; i++)
    {
        WCHAR c = id[i + braces];

        if (i == 8 || i == 13 || i == 18 || i == 23)
        {
            if (c != '-') return FALSE;
        }
        else if (c >= 'A' && c <= 'F') c += 'a' - 'A';
        else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return FALSE;
        guid[i] = c;
    }
    guid[36] = 0;
    return braces ? id[37] == '}' && !id[38] : !id[36];
}

static inline void vmidl_system_section_name(WCHAR *buffer, const WCHAR *id)
{
    WCHAR guid[VMIDL_GUID_STRING_LENGTH];

    vmidl_name_with(buffer, "system", vmidl_system_id_guid(id, guid) ? guid : id);
}

#endif /* __VMIDL_NAMES_H */
