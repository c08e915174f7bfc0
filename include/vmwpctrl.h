/*
 * vmwpctrl.dll's GetVmWorkerProcess, as a device host finds its VM worker
 * on Windows.  Windows ships neither a header nor an import library for
 * it, and device hosts written for Windows load it by name:
 *
 *     PFN_GET_VM_WORKER_PROCESS get_vm_worker_process =
 *         (PFN_GET_VM_WORKER_PROCESS)GetProcAddress(LoadLibraryW(L"vmwpctrl.dll"), "GetVmWorkerProcess");
 *
 * which is the way under Wine too.
 *
 * GetVmWorkerProcess(VirtualMachineId, riid, &Object) finds the partition
 * whose RuntimeId is VirtualMachineId among those a VM worker of the
 * prefix published (VmidlPublishPartition) and returns its riid
 * (IID_IVmVirtualDeviceAccess) in *Object: the worker's own object in the
 * worker's process, a proxy to a view of this process's own in any other.
 * The calling thread must be in a COM apartment (or its process must have
 * a multithreaded one).
 *
 *   S_OK                    *Object holds a reference (S_OK with a NULL
 *                           object does not happen: E_NOINTERFACE instead).
 *   E_POINTER               Object is NULL.
 *   E_INVALIDARG            VirtualMachineId or riid is NULL.
 *   HRESULT_FROM_WIN32(ERROR_NOT_FOUND)  no published partition has that
 *                           RuntimeId (never published, being published,
 *                           deleted, its worker ended, or the name is
 *                           another program's section).
 *   CO_E_NOTINITIALIZED     no COM apartment.
 *   E_NOINTERFACE           the worker's object does not answer riid.
 *   HRESULT_FROM_WIN32(ERROR_NO_SYSTEM_RESOURCES)  63 other processes are
 *                           connected to the worker's process.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __VMWPCTRL_H
#define __VMWPCTRL_H

#include <windows.h>
#include <unknwn.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef HRESULT (WINAPI *PFN_GET_VM_WORKER_PROCESS)(REFGUID VirtualMachineId, REFIID riid, IUnknown **Object);

HRESULT WINAPI GetVmWorkerProcess(REFGUID VirtualMachineId, REFIID riid, IUnknown **Object);

#ifdef __cplusplus
}
#endif

#endif /* __VMWPCTRL_H */
