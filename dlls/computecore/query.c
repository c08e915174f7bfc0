/*
 * Property queries (HCS schema's System_PropertyQuery): this DLL has the
 * basic properties only, so a query is read far enough to tell that it
 * asks for nothing more.  The JSON is checked whole, as HCS does.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "computecore_private.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(vmidl);

/* Nesting deeper than this is refused rather than recursed into. */
#define MAX_DEPTH 32

struct parser
{
    const WCHAR *next;
    unsigned int depth;
};

static void skip_space(struct parser *parser)
{
    while (*parser->next == ' ' || *parser->next == '\t' || *parser->next == '\n' || *parser->next == '\r')
        parser->next++;
}

static BOOL take(struct parser *parser, WCHAR c)
{
    skip_space(parser);
    if (*parser->next != c) return FALSE;
    parser->next++;
    return TRUE;
}

static BOOL take_word(struct parser *parser, const WCHAR *word)
{
    size_t length = wcslen(word);

    if (wcsncmp(parser->next, word, length)) return FALSE;
    parser->next += length;
    return TRUE;
}

/* A string; its characters into Buffer (BufferSize, truncated) when given. */
static BOOL parse_string(struct parser *parser, WCHAR *buffer, size_t buffer_size)
{
    size_t length = 0;
    unsigned int i;

    if (!take(parser, '"')) return FALSE;
    for (;;)
    {
        WCHAR c = *parser->next++;

        if (!c || c < 0x20) return FALSE;
        if (c == '"') break;
        if (c == '\\')
        {
            c = *parser->next++;
            if (c == 'u')
            {
                for (i = 0; i < 4; i++)
                    if (!iswxdigit(parser->next[i])) return FALSE;
                parser->next += 4;
                c = '?';
            }
            else if (!c || !wcschr(L"\"\\/bfnrt", c)) return FALSE;
        }
        if (buffer && length + 1 < buffer_size) buffer[length++] = c;
    }
    if (buffer) buffer[length] = 0;
    return TRUE;
}

static BOOL parse_number(struct parser *parser)
{
    const WCHAR *start;

    take(parser, '-');
    start = parser->next;
    while (iswdigit(*parser->next)) parser->next++;
    if (parser->next == start) return FALSE;
    if (*parser->next == '.')
    {
        start = ++parser->next;
        while (iswdigit(*parser->next)) parser->next++;
        if (parser->next == start) return FALSE;
    }
    if (*parser->next == 'e' || *parser->next == 'E')
    {
        parser->next++;
        if (*parser->next == '+' || *parser->next == '-') parser->next++;
        start = parser->next;
        while (iswdigit(*parser->next)) parser->next++;
        if (parser->next == start) return FALSE;
    }
    return TRUE;
}

/* Any value; *Count receives the members of an object or array. */
static BOOL parse_value(struct parser *parser, unsigned int *count)
{
    WCHAR close;

    *count = 0;
    skip_space(parser);
    if (*parser->next == '"') return parse_string(parser, NULL, 0);
    if (*parser->next != '{' && *parser->next != '[')
        return take_word(parser, L"true") || take_word(parser, L"false") || take_word(parser, L"null")
                || parse_number(parser);

    close = *parser->next++ == '{' ? '}' : ']';
    if (++parser->depth > MAX_DEPTH) return FALSE;
    if (!take(parser, close))
    {
        do
        {
            unsigned int inner;

            if (close == '}' && (!parse_string(parser, NULL, 0) || !take(parser, ':'))) return FALSE;
            if (!parse_value(parser, &inner)) return FALSE;
            ++*count;
        } while (take(parser, ','));
        if (!take(parser, close)) return FALSE;
    }
    parser->depth--;
    return TRUE;
}

HRESULT check_property_query(const WCHAR *query)
{
    struct parser parser = {query};
    BOOL more = FALSE;
    WCHAR key[32];

    if (!query) return S_OK;
    skip_space(&parser);
    if (!*parser.next) return S_OK;
    if (!take(&parser, '{')) return HCS_E_INVALID_JSON;
    if (!take(&parser, '}'))
    {
        do
        {
            unsigned int count;

            if (!parse_string(&parser, key, ARRAY_SIZE(key)) || !take(&parser, ':')) return HCS_E_INVALID_JSON;
            if (!parse_value(&parser, &count)) return HCS_E_INVALID_JSON;
            /* "PropertyTypes": [] and "Queries": {} ask for nothing. */
            if (count || (wcscmp(key, L"PropertyTypes") && wcscmp(key, L"Queries"))) more = TRUE;
        } while (take(&parser, ','));
        if (!take(&parser, '}')) return HCS_E_INVALID_JSON;
    }
    skip_space(&parser);
    if (*parser.next) return HCS_E_INVALID_JSON;
    if (more)
    {
        FIXME("only the basic properties: %s\n", debugstr_w(query));
        return HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED);
    }
    return S_OK;
}
