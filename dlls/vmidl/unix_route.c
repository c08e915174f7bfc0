/*
 * Where intercepted MMIO goes: the device BARs the guest can reach, sorted
 * by guest physical address.  BARs never overlap, so a binary search finds
 * the one that decodes an address.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <string.h>

#include "unix_private.h"

void route_table_cleanup(struct route_table *table)
{
    free(table->routes);
}

NTSTATUS route_reserve(struct route_table *table, unsigned int count)
{
    unsigned int capacity = table->capacity;
    struct route *routes;

    if (table->count + count <= capacity) return STATUS_SUCCESS;
    while (capacity < table->count + count) capacity = capacity ? capacity * 2 : 16;
    if (!(routes = realloc(table->routes, capacity * sizeof(*routes)))) return STATUS_NO_MEMORY;
    table->routes = routes;
    table->capacity = capacity;
    return STATUS_SUCCESS;
}

/* The first route that ends above gpa. */
static unsigned int route_position(const struct route_table *table, uint64_t gpa)
{
    unsigned int low = 0, high = table->count;

    while (low < high)
    {
        unsigned int mid = low + (high - low) / 2;

        if (table->routes[mid].gpa + table->routes[mid].size <= gpa) low = mid + 1;
        else high = mid;
    }
    return low;
}

void route_add(struct route_table *table, uint64_t gpa, uint64_t size, struct device *device, unsigned int bar)
{
    unsigned int pos = route_position(table, gpa);
    struct route *route = &table->routes[pos];

    memmove(route + 1, route, (table->count - pos) * sizeof(*route));
    route->gpa = gpa;
    route->size = size;
    route->device = device;
    route->bar = bar;
    table->count++;
}

void route_remove_device(struct route_table *table, struct device *device)
{
    unsigned int i, kept = 0;

    for (i = 0; i < table->count; i++)
        if (table->routes[i].device != device) table->routes[kept++] = table->routes[i];
    table->count = kept;
}

void route_remove_bar(struct route_table *table, struct device *device, unsigned int bar)
{
    unsigned int i;

    for (i = 0; i < table->count; i++)
        if (table->routes[i].device == device && table->routes[i].bar == bar) break;
    if (i == table->count) return;
    memmove(&table->routes[i], &table->routes[i + 1], (table->count - i - 1) * sizeof(*table->routes));
    table->count--;
}

void route_move(struct route_table *table, struct device *device, unsigned int bar, uint64_t gpa, uint64_t size)
{
    route_remove_bar(table, device, bar);
    route_add(table, gpa, size, device, bar);
}

const struct route *route_find(const struct route_table *table, uint64_t gpa)
{
    unsigned int pos = route_position(table, gpa);

    if (pos < table->count && gpa - table->routes[pos].gpa < table->routes[pos].size) return &table->routes[pos];
    return NULL;
}
