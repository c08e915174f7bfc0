/*
 * vmidl-worker.exe's parts.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMIDL_WORKER_H
#define __VMIDL_WORKER_H

/* --pci (pci.c): the PCI device demo; the exit status. */
extern int pci_demo(const GUID *runtime_id);

#endif /* __VMIDL_WORKER_H */
