/*
 * Stress guest: loops until the host sets "stop", and in every loop
 *  - rings each counted doorbell whose previous ring the host has
 *    acknowledged, so a waiter can expect exactly one wake-up per ring;
 *  - reads each probed address and counts values that are neither the
 *    mapped nor the trapped one;
 *  - writes each plain address (doorbells that come and go).
 * Then reports done on port 0x10.  Ring 3, 64-bit, like interp.S.
 *
 * Entry: rdi = guest address of the control block (struct stress_control in
 * tests/stress.c):
 *   0  u64 stop            8  u64 loops          16 u64 bad_reads
 *   24 u32 bell_count      28 u32 probe_count    32 u32 write_count
 *   40 bells[16]   {u64 address, value, rung, acked}
 *   552 probes[64] {u64 address, mapped, trapped}
 *   2088 writes[64] {u64 address, value}
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

    .intel_syntax noprefix
    .code64
    .text
    .globl _start

    .equ STOP, 0
    .equ LOOPS, 8
    .equ BAD_READS, 16
    .equ BELL_COUNT, 24
    .equ PROBE_COUNT, 28
    .equ WRITE_COUNT, 32
    .equ BELLS, 40
    .equ PROBES, BELLS + 16 * 32
    .equ WRITES, PROBES + 64 * 24

    .equ PORT_DONE, 0x10

_start:
    mov rbx, rdi
loop:
    cmp qword ptr [rbx + STOP], 0
    jne done

    mov ecx, [rbx + BELL_COUNT]
    lea rsi, [rbx + BELLS]
ring:
    test ecx, ecx
    jz probe_start
    mov rax, [rsi + 16]
    cmp rax, [rsi + 24]
    jne 1f
    inc rax
    mov [rsi + 16], rax
    mov rdx, [rsi]
    mov rax, [rsi + 8]
    mov [rdx], rax
1:  add rsi, 32
    dec ecx
    jmp ring

probe_start:
    mov ecx, [rbx + PROBE_COUNT]
    lea rsi, [rbx + PROBES]
probe:
    test ecx, ecx
    jz write_start
    mov rdx, [rsi]
    mov rax, [rdx]
    cmp rax, [rsi + 8]
    je 1f
    cmp rax, [rsi + 16]
    je 1f
    inc qword ptr [rbx + BAD_READS]
1:  add rsi, 24
    dec ecx
    jmp probe

write_start:
    mov ecx, [rbx + WRITE_COUNT]
    lea rsi, [rbx + WRITES]
write:
    test ecx, ecx
    jz next
    mov rdx, [rsi]
    mov rax, [rsi + 8]
    mov [rdx], rax
    add rsi, 16
    dec ecx
    jmp write

next:
    inc qword ptr [rbx + LOOPS]
    jmp loop

done:
    xor eax, eax
    mov dx, PORT_DONE
    out dx, eax
    jmp done
