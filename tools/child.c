/*
 * GUIDs as text and child processes on pipes (see child.h).
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>
#include "child.h"

/* Without ole32's StringFromGUID2 and CLSIDFromString: a test process
 * that loads no COM keeps ole32's user32 and gdi32 out (see Makefile.am's
 * check-sanitize). */
void guid_to_text(const GUID *guid, char text[GUID_TEXT_LENGTH])
{
    snprintf(text, GUID_TEXT_LENGTH, "{%08lX-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}", guid->Data1,
            guid->Data2, guid->Data3, guid->Data4[0], guid->Data4[1], guid->Data4[2], guid->Data4[3],
            guid->Data4[4], guid->Data4[5], guid->Data4[6], guid->Data4[7]);
}

BOOL guid_from_text(const char *text, GUID *guid)
{
    unsigned int data2, data3, data4[8], i;
    unsigned long data1;
    int end = 0;

    if (sscanf(text, "{%8lx-%4x-%4x-%2x%2x-%2x%2x%2x%2x%2x%2x}%n", &data1, &data2, &data3, &data4[0], &data4[1],
            &data4[2], &data4[3], &data4[4], &data4[5], &data4[6], &data4[7], &end) != 11 || end != 38 || text[end])
        return FALSE;
    guid->Data1 = data1;
    guid->Data2 = data2;
    guid->Data3 = data3;
    for (i = 0; i < 8; i++) guid->Data4[i] = data4[i];
    return TRUE;
}

HANDLE start_child_process(char *cmdline, HANDLE *input, HANDLE *output)
{
    SECURITY_ATTRIBUTES inherit = {sizeof(inherit), NULL, TRUE};
    STARTUPINFOA startup = {sizeof(startup)};
    HANDLE child_in = NULL, child_out = NULL;
    PROCESS_INFORMATION info = {0};
    DWORD error = 0;

    *input = *output = NULL;
    if (!CreatePipe(&child_in, input, &inherit, 0) || !CreatePipe(output, &child_out, &inherit, 0))
        error = GetLastError();
    else
    {
        /* Only the child's ends are inherited. */
        SetHandleInformation(*input, HANDLE_FLAG_INHERIT, 0);
        SetHandleInformation(*output, HANDLE_FLAG_INHERIT, 0);
        startup.dwFlags = STARTF_USESTDHANDLES;
        startup.hStdInput = child_in;
        startup.hStdOutput = child_out;
        startup.hStdError = GetStdHandle(STD_ERROR_HANDLE);
        if (!CreateProcessA(NULL, cmdline, NULL, NULL, TRUE, 0, NULL, NULL, &startup, &info)) error = GetLastError();
    }
    if (child_in) CloseHandle(child_in);
    if (child_out) CloseHandle(child_out);
    if (error)
    {
        if (*input) CloseHandle(*input);
        if (*output) CloseHandle(*output);
        *input = *output = NULL;
        SetLastError(error);
        return NULL;
    }
    CloseHandle(info.hThread);
    return info.hProcess;
}
