/*
 * Where intercepted MMIO goes: the device BARs the guest can reach, sorted
 * by guest physical address.  The VM's route lock guards a table.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_UNIX_ROUTE_H
#define __VMIDL_UNIX_ROUTE_H

#include "unix_private.h"

struct device;

struct route
{
    uint64_t gpa;
    uint64_t size;
    struct device *device;
    unsigned int bar;
};

struct route_table
{
    struct route *routes;
    unsigned int count, capacity;
};

extern void route_table_cleanup(struct route_table *table);
/* Room for count more routes, so that adding them cannot fail. */
extern NTSTATUS route_reserve(struct route_table *table, unsigned int count);
extern void route_add(struct route_table *table, uint64_t gpa, uint64_t size, struct device *device, unsigned int bar);
extern void route_move(struct route_table *table, struct device *device, unsigned int bar, uint64_t gpa);
extern void route_remove_device(struct route_table *table, struct device *device);
extern const struct route *route_find(const struct route_table *table, uint64_t gpa);

#endif /* __VMIDL_UNIX_ROUTE_H */
