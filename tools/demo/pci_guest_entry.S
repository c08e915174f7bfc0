/*
 * Entry and interrupt handler of the PCI test guest (tools/demo/pci_guest.c).
 * Both run at CPL3: the handler is reached through a DPL-3 trap gate.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

    .intel_syntax noprefix
    .code64
    .text
    .globl _start, pci_irq_entry, pci_irq_counter

    /* rdi: the guest address of struct pci_guest. */
_start:
    and rsp, -16
    call pci_main
1:  jmp 1b

    /* Counts the interrupt and ends it at the local APIC (EOI). */
pci_irq_entry:
    push rax
    mov rax, [rip + pci_irq_counter]
    lock inc qword ptr [rax]
    mov eax, 0xfee000b0
    mov dword ptr [rax], 0
    pop rax
    iretq

    .data
    .balign 8
pci_irq_counter:
    .quad 0
