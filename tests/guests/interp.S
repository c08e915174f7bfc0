/*
 * Test guest: a 64-bit ring-3 interpreter of a list of operations that the
 * host writes into guest RAM.  It runs natively even where KVM emulates
 * ring 0, and only exits for intercepted MMIO and port I/O.
 *
 * Entry: rdi = guest address of the operation list (struct guest_op in
 * tools/guest.h: u32 op, u32 size, u64 address, u64 value, u64 result).
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

    .intel_syntax noprefix
    .code64
    .text
    .globl _start

    .equ OP_END, 0
    .equ OP_READ, 1
    .equ OP_WRITE, 2
    .equ OP_CALL, 3
    .equ OP_OUT, 4
    .equ OP_WAIT, 5
    .equ OP_RDTSC, 6

    .equ PORT_DONE, 0x10

_start:
    mov rbx, rdi
next:
    mov eax, [rbx]
    mov ecx, [rbx + 4]
    mov rsi, [rbx + 8]
    mov rdx, [rbx + 16]
    cmp eax, OP_READ
    je op_read
    cmp eax, OP_WRITE
    je op_write
    cmp eax, OP_CALL
    je op_call
    cmp eax, OP_OUT
    je op_out
    cmp eax, OP_WAIT
    je op_wait
    cmp eax, OP_RDTSC
    je op_rdtsc
    /* OP_END and anything unknown: report the op index and stop. */
done:
    mov rax, rbx
    sub rax, rdi
    shr rax, 5
    mov dx, PORT_DONE
    out dx, eax
    jmp done

op_read:
    cmp ecx, 1
    je 1f
    cmp ecx, 2
    je 2f
    cmp ecx, 4
    je 4f
    mov rax, [rsi]
    jmp store
1:  movzx eax, byte ptr [rsi]
    jmp store
2:  movzx eax, word ptr [rsi]
    jmp store
4:  mov eax, [rsi]
store:
    mov [rbx + 24], rax
advance:
    add rbx, 32
    jmp next

op_write:
    cmp ecx, 1
    je 1f
    cmp ecx, 2
    je 2f
    cmp ecx, 4
    je 4f
    mov [rsi], rdx
    jmp advance
1:  mov [rsi], dl
    jmp advance
2:  mov [rsi], dx
    jmp advance
4:  mov [rsi], edx
    jmp advance

op_call:
    push rdi
    push rbx
    call rsi
    pop rbx
    pop rdi
    jmp store

    /* Port write: a checkpoint where the host can look before going on. */
op_out:
    mov rax, rdx
    mov edx, esi
    out dx, eax
    jmp advance

    /* Spin until the qword at address equals value, at most size * 2^20
     * times; result 1 when it did. */
op_wait:
    shl rcx, 20
1:  cmp [rsi], rdx
    je 2f
    pause
    dec rcx
    jnz 1b
    xor eax, eax
    jmp store
2:  mov eax, 1
    jmp store

op_rdtsc:
    rdtsc
    shl rdx, 32
    or rax, rdx
    jmp store
