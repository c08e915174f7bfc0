/*
 * GUIDs as text and child processes on pipes (see child.h).
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "child.h"
#include "objbase.h"

void guid_to_text(const GUID *guid, char text[GUID_TEXT_LENGTH])
{
    WCHAR buffer[GUID_TEXT_LENGTH];

    StringFromGUID2(guid, buffer, ARRAYSIZE(buffer));
    WideCharToMultiByte(CP_ACP, 0, buffer, -1, text, GUID_TEXT_LENGTH, NULL, NULL);
}

BOOL guid_from_text(const char *text, GUID *guid)
{
    WCHAR buffer[64];

    MultiByteToWideChar(CP_ACP, 0, text, -1, buffer, ARRAYSIZE(buffer));
    return SUCCEEDED(CLSIDFromString(buffer, guid));
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
