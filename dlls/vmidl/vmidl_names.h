/*
 * Prefix-wide names a partition goes by, shared by vmidl.dll and
 * vmwpctrl.dll: one kernel object names a RuntimeId taken, a section holds
 * a published worker's marshaled front door.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_NAMES_H
#define __VMIDL_NAMES_H

#include <stdio.h>

#define VMIDL_NAME_LENGTH 80

static inline void vmidl_name(WCHAR *buffer, const char *kind, const GUID *id)
{
    char name[VMIDL_NAME_LENGTH];
    unsigned int i;

    snprintf(name, sizeof(name), "Local\\vmidl-%s-%08lx-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", kind,
            (unsigned long)id->Data1, id->Data2, id->Data3, id->Data4[0], id->Data4[1], id->Data4[2],
            id->Data4[3], id->Data4[4], id->Data4[5], id->Data4[6], id->Data4[7]);
    for (i = 0; name[i]; i++) buffer[i] = name[i];
    buffer[i] = 0;
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

static inline void vmidl_worker_section_name(WCHAR *buffer, const GUID *runtime_id)
{
    vmidl_name(buffer, "worker", runtime_id);
}

static inline void vmidl_partition_name(WCHAR *buffer, const GUID *runtime_id)
{
    vmidl_name(buffer, "partition", runtime_id);
}

#endif /* __VMIDL_NAMES_H */
