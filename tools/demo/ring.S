/*
 * Demo guest: a 64-bit ring-3 driver for the demo's "summing" device.
 *
 * For each request it fills a ring entry in the section-backed part of
 * BAR0 with eight pseudo-random numbers, publishes it, rings the doorbell
 * and spins (no exit) until the emulation driver has answered; then it
 * checks the answer against its own sum.
 *
 * It starts once the driver says the ring is served (until then the ring's
 * page is the VM worker's, whose emulator reads 0 there), and tells the
 * driver when it is done.
 *
 * Entry: rdi = number of requests, rsi = guest address of BAR0.
 * Exit:  out 0x10 with eax = number of wrong answers (or of timeouts).
 * Layout and ports: see tools/demo/ring.h.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

    .intel_syntax noprefix
    .code64
    .text
    .globl _start

    .equ RING_PRODUCED, 0x000
    .equ RING_READY, 0x008
    .equ RING_DONE, 0x010
    .equ RING_CONSUMED, 0x040
    .equ RING_ENTRIES, 0x100
    .equ RING_ENTRY_SHIFT, 7        /* 128-byte entries */
    .equ RING_SIZE, 64
    .equ ENTRY_SEQ, 0
    .equ ENTRY_VALUES, 8            /* 8 x u64 */
    .equ ENTRY_ANSWER, 72
    .equ DOORBELL, 0x4000
    .equ READY, 0x676e6972796d6964
    .equ PORT_DONE, 0x10
    .equ PORT_WAITING, 0x11
    .equ PORT_STARTED, 0x12

_start:
    mov r12, rdi                    /* requests */
    mov r13, rsi                    /* BAR0 */
    xor r14, r14                    /* sequence number */
    xor r15, r15                    /* errors */
    mov r10, 0x2545f4914f6cdd1d     /* pseudo-random state */

    mov rax, READY
ready:
    cmp [r13 + RING_READY], rax
    je 1f
    mov dx, PORT_WAITING
    out dx, eax
    jmp ready
1:  mov dx, PORT_STARTED
    out dx, eax

request:
    cmp r14, r12
    je finish
    mov rax, r14
    and rax, RING_SIZE - 1
    shl rax, RING_ENTRY_SHIFT
    lea rbx, [r13 + RING_ENTRIES + rax]
    lea rax, [r14 + 1]
    mov [rbx + ENTRY_SEQ], rax
    mov qword ptr [rbx + ENTRY_ANSWER], 0

    xor r11, r11                    /* expected sum */
    xor ecx, ecx
fill:
    /* xorshift64 */
    mov rax, r10
    shl rax, 13
    xor r10, rax
    mov rax, r10
    shr rax, 7
    xor r10, rax
    mov rax, r10
    shl rax, 17
    xor r10, rax
    mov rax, r10
    shr rax, 44                     /* 20-bit numbers */
    mov [rbx + ENTRY_VALUES + rcx * 8], rax
    add r11, rax
    inc ecx
    cmp ecx, 8
    jne fill

    lea rax, [r14 + 1]
    mov [r13 + RING_PRODUCED], rax  /* x86 keeps stores in order */
    mov [r13 + DOORBELL], eax       /* the doorbell: an ioeventfd, no user-mode exit */

    mov rcx, 0x400000000            /* a few seconds of spinning at most */
wait:
    cmp [r13 + RING_CONSUMED], rax
    je answered
    pause
    dec rcx
    jnz wait
    inc r15                         /* no answer: give up */
    jmp finish

answered:
    cmp [rbx + ENTRY_ANSWER], r11
    je 1f
    inc r15
1:  inc r14
    jmp request

finish:
    mov qword ptr [r13 + RING_DONE], 1
    mov [r13 + DOORBELL], eax
    mov rax, r15
report:
    mov dx, PORT_DONE
    out dx, eax
    jmp report
