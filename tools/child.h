/*
 * What the test, bench and worker programs share besides their guests:
 * GUIDs on command lines, and child processes that talk over their
 * standard input and output.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_CHILD_H
#define __VMIDL_CHILD_H

#include <stdarg.h>
#include <windef.h>
#include <winbase.h>

#define GUID_TEXT_LENGTH 39

/* "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}" */
extern void guid_to_text(const GUID *guid, char text[GUID_TEXT_LENGTH]);
extern BOOL guid_from_text(const char *text, GUID *guid);

/* Starts cmdline with its standard input and output on pipes: *input
 * writes to the one, *output reads the other; its standard error is this
 * process's.  The process handle, or NULL (GetLastError() says why). */
extern HANDLE start_child_process(char *cmdline, HANDLE *input, HANDLE *output);

#endif /* __VMIDL_CHILD_H */
