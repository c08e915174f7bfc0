/*
 * Minimal intrusive doubly linked list, shared by both halves (Debian ships
 * no wine/list.h).
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_LIST_H
#define __VMIDL_LIST_H

#include <stddef.h>

struct list
{
    struct list *next, *prev;
};

#define LIST_INIT(list) { &(list), &(list) }
static inline void list_init(struct list *l) { l->next = l->prev = l; }
static inline void list_add_tail(struct list *head, struct list *e)
{
    e->next = head; e->prev = head->prev; head->prev->next = e; head->prev = e;
}
static inline void list_add_before(struct list *at, struct list *e)
{
    list_add_tail(at, e);
}
static inline int list_empty(const struct list *head) { return head->next == head; }
static inline unsigned int list_count(const struct list *head)
{
    const struct list *cur;
    unsigned int count = 0;
    for (cur = head->next; cur != head; cur = cur->next) count++;
    return count;
}
static inline void list_remove(struct list *e)
{
    e->prev->next = e->next; e->next->prev = e->prev;
}
#define LIST_ENTRY(e, type, field) ((type *)((char *)(e) - offsetof(type, field)))
#define LIST_FOR_EACH(cur, head) \
    for ((cur) = (head)->next; (cur) != (head); (cur) = (cur)->next)
#define LIST_FOR_EACH_ENTRY(elem, head, type, field) \
    for ((elem) = LIST_ENTRY((head)->next, type, field); &(elem)->field != (head); \
         (elem) = LIST_ENTRY((elem)->field.next, type, field))
#define LIST_FOR_EACH_SAFE(cur, next, head) \
    for ((cur) = (head)->next, (next) = (cur)->next; (cur) != (head); (cur) = (next), (next) = (cur)->next)

#endif /* __VMIDL_LIST_H */
