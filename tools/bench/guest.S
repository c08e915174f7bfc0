/*
 * Benchmark guest: a 64-bit ring-3 program driven by a control block in
 * guest RAM (struct bench_ctl in tools/bench/bench.h; keep the offsets in
 * step).  Both benchmark hosts, the project's bench.exe under Wine and the
 * native KVM program, run this same code.  After each mode it reports on
 * port 0x10 (eax = failures) and starts over, reading the control block
 * again, so the host only rewrites the block and resumes.
 *
 * Entry: rdi = guest address of the control block.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

    .intel_syntax noprefix
    .code64
    .text
    .globl _start

    .equ CTL_MODE, 0x00
    .equ CTL_COUNT, 0x08
    .equ CTL_ADDRESS, 0x10
    .equ CTL_VALUE, 0x18
    .equ CTL_SIZE, 0x20
    .equ CTL_REPS, 0x28
    .equ CTL_RESULT, 0x30
    .equ CTL_FAILURES, 0x38
    .equ CTL_ACK, 0x40
    .equ CTL_ACK_ADDRESS, 0x48
    .equ CTL_GUEST_SEQ, 0x80
    .equ CTL_GUEST_TSC, 0x88
    .equ CTL_HOST_SEQ, 0xc0
    .equ CTL_STORM_ADDR, 0x100
    .equ CTL_STORM_RUNG, 0x300
    .equ CTL_STORM_ACK, 0x500
    .equ SAMPLES, 0x200000
    .equ BENCH_CTL_ADDRESS, 0x100000
    .equ STORM_BELLS, 64

    .equ MODE_SYNC, 1
    .equ MODE_WAKE, 2
    .equ MODE_WRITES, 3
    .equ MODE_BANDWIDTH, 4
    .equ MODE_STORM, 5
    .equ MODE_ROUNDTRIP, 6
    .equ MODE_MSI, 7

    .equ PORT_DONE, 0x10
    .equ SPIN_LIMIT, 0x8000000      /* pause iterations: a few seconds */

    /* reg = the TSC as one 64-bit value, not reordered; clobbers rax, rdx */
    .macro TSC reg
    lfence
    rdtsc
    lfence
    shl rdx, 32
    or rax, rdx
    mov \reg, rax
    .endm

_start:
    mov rbx, rdi
    xor r15, r15                    /* failures */
    mov qword ptr [rbx + CTL_FAILURES], 0
    mov rax, [rbx + CTL_MODE]
    cmp rax, MODE_SYNC
    je mode_sync
    cmp rax, MODE_WAKE
    je mode_wake
    cmp rax, MODE_WRITES
    je mode_writes
    cmp rax, MODE_BANDWIDTH
    je mode_bandwidth
    cmp rax, MODE_STORM
    je mode_storm
    cmp rax, MODE_ROUNDTRIP
    je mode_roundtrip
    cmp rax, MODE_MSI
    je mode_msi
    inc r15
done:
    mov [rbx + CTL_FAILURES], r15
    mov eax, r15d
    mov dx, PORT_DONE
    out dx, eax
    mov rdi, rbx
    jmp _start

    /* Clock ping-pong: for i = 1..count, wait for host_seq == i, then
     * store the TSC and guest_seq = i. */
mode_sync:
    mov r12, [rbx + CTL_COUNT]
    mov r13, 1
sync_next:
    cmp r13, r12
    ja done
    mov rcx, SPIN_LIMIT
1:  cmp [rbx + CTL_HOST_SEQ], r13
    je 2f
    pause
    dec rcx
    jnz 1b
    inc r15
    jmp done
2:  TSC r8
    mov [rbx + CTL_GUEST_TSC], r8
    mov [rbx + CTL_GUEST_SEQ], r13
    inc r13
    jmp sync_next

    /* P1, P9: wait until the qword at ack_address (the control block's
     * ack, or a section-backed BAR page that a driver in another process
     * writes) is 0: the host is ready.  Then for each i: samples[i] = TSC;
     * ring; wait until the ack == i + 1. */
mode_wake:
    mov r12, [rbx + CTL_COUNT]
    mov rsi, [rbx + CTL_ADDRESS]
    mov r9, [rbx + CTL_VALUE]
    mov rdi, [rbx + CTL_ACK_ADDRESS]
    xor r13, r13
    mov r14, SAMPLES
    mov rcx, SPIN_LIMIT
1:  cmp qword ptr [rdi], 0
    je wake_next
    pause
    dec rcx
    jnz 1b
    inc r15                         /* the host never got ready */
    jmp done
wake_next:
    cmp r13, r12
    je done
    TSC r8
    mov [r14 + r13 * 8], r8
    mov [rsi], r9d                  /* the doorbell */
    inc r13
    mov rcx, SPIN_LIMIT
1:  cmp [rdi], r13
    je wake_next
    pause
    dec rcx
    jnz 1b
    inc r15                         /* lost: give up */
    jmp done

    /* P2: count dword writes; result = TSC ticks for all of them. */
mode_writes:
    mov rcx, [rbx + CTL_COUNT]
    mov rsi, [rbx + CTL_ADDRESS]
    mov r9, [rbx + CTL_VALUE]
    TSC r8
1:  mov [rsi], r9d
    dec rcx
    jnz 1b
    TSC r10
    sub r10, r8
    mov [rbx + CTL_RESULT], r10
    jmp done

    /* P3: touch size bytes at address, then reps times: samples[2r] =
     * ticks of rep stosq over them, samples[2r + 1] = ticks of reading
     * them 8 bytes at a time (64 bytes per iteration). */
mode_bandwidth:
    mov rdi, [rbx + CTL_ADDRESS]
    mov rcx, [rbx + CTL_SIZE]
    shr rcx, 3
    mov rax, [rbx + CTL_VALUE]
    rep stosq
    xor r13, r13
    mov r14, SAMPLES
bw_next:
    cmp r13, [rbx + CTL_REPS]
    je done
    mov rdi, [rbx + CTL_ADDRESS]
    mov rcx, [rbx + CTL_SIZE]
    shr rcx, 3
    mov rax, r13
    TSC r8
    mov rax, r13
    rep stosq
    TSC r10
    sub r10, r8
    mov [r14], r10
    mov rsi, [rbx + CTL_ADDRESS]
    mov rcx, [rbx + CTL_SIZE]
    shr rcx, 6
    xor r11, r11
    TSC r8
1:  add r11, [rsi]
    add r11, [rsi + 8]
    add r11, [rsi + 16]
    add r11, [rsi + 24]
    add r11, [rsi + 32]
    add r11, [rsi + 40]
    add r11, [rsi + 48]
    add r11, [rsi + 56]
    add rsi, 64
    dec rcx
    jnz 1b
    TSC r10
    sub r10, r8
    mov [r14 + 8], r10
    mov [rbx + CTL_RESULT], r11     /* keep the reads */
    add r14, 16
    inc r13
    jmp bw_next

    /* P6: ring the 64 storm doorbells round robin, each again only once
     * the host has acked its previous ring, until count rings; then wait
     * for every ack.  result = TSC ticks from the first ring to the last ack. */
mode_storm:
    mov r12, [rbx + CTL_COUNT]
    mov r9, [rbx + CTL_VALUE]
    xor r13, r13                    /* rings issued */
    TSC r10
storm_pass:
    mov rcx, SPIN_LIMIT             /* passes without progress before giving up */
storm_scan:
    xor esi, esi
    xor r11, r11                    /* progress in this pass */
1:  cmp r13, r12
    je storm_drain
    mov rax, [rbx + CTL_STORM_RUNG + rsi * 8]
    cmp rax, [rbx + CTL_STORM_ACK + rsi * 8]
    jne 2f
    mov rdx, [rbx + CTL_STORM_ADDR + rsi * 8]
    mov [rdx], r9d                  /* ring */
    inc rax
    mov [rbx + CTL_STORM_RUNG + rsi * 8], rax
    inc r13
    inc r11
2:  inc esi
    cmp esi, STORM_BELLS
    jne 1b
    test r11, r11
    jnz storm_pass
    pause
    dec rcx
    jnz storm_scan
    inc r15
    jmp done
storm_drain:
    mov rcx, SPIN_LIMIT
3:  xor esi, esi
4:  mov rax, [rbx + CTL_STORM_RUNG + rsi * 8]
    cmp rax, [rbx + CTL_STORM_ACK + rsi * 8]
    jne 5f
    inc esi
    cmp esi, STORM_BELLS
    jne 4b
    TSC r8
    sub r8, r10
    mov [rbx + CTL_RESULT], r8
    jmp done
5:  pause
    dec rcx
    jnz 3b
    inc r15
    jmp done

    /* P8: for i = 0.. until count, or until the host sets host_seq:
     * samples[i] = TSC ticks from just before one intercepted dword read
     * at address to just after its value arrived; the host answers i + 1,
     * anything else is a failure.  A sample starts reps ticks after the
     * previous one at the earliest, so a long run fits the buffer.
     * guest_seq = samples so far; result = samples taken. */
mode_roundtrip:
    mov r12, [rbx + CTL_COUNT]
    mov rsi, [rbx + CTL_ADDRESS]
    mov rdi, [rbx + CTL_REPS]
    xor r13, r13
    mov r14, SAMPLES
    TSC r11                         /* earliest start of the next sample */
rt_next:
    cmp r13, r12
    je rt_end
    cmp qword ptr [rbx + CTL_HOST_SEQ], 0
    jne rt_end
1:  TSC r8
    cmp r8, r11
    jae 2f
    pause
    jmp 1b
2:  lea r11, [r8 + rdi]
    mov r9d, [rsi]                  /* intercepted: exits to the host and back */
    TSC r10
    sub r10, r8
    mov [r14 + r13 * 8], r10
    inc r13
    cmp r9, r13
    je 3f
    inc r15                         /* not the answer to this access */
3:  mov [rbx + CTL_GUEST_SEQ], r13
    jmp rt_next
rt_end:
    mov [rbx + CTL_RESULT], r13
    jmp done

    /* P10: take count interrupts at vector value, which the handler counts
     * in guest_seq; result = 1 says the guest is ready for them.  First the gate, the descriptors its iretq loads and
     * the local APIC: the IDT and GDT are at linear address 0
     * (VMIDL_VP_REGISTERS), the host starts the guest with IF set.  Gives
     * up when the count stays put for SPIN_LIMIT turns. */
mode_msi:
    mov rax, 0x00affa000000ffff     /* 0x1b: 64-bit code, DPL 3 */
    mov [0x18], rax
    mov rax, 0x00cff2000000ffff     /* 0x23: data, DPL 3 */
    mov [0x20], rax
    mov rcx, [rbx + CTL_VALUE]
    shl rcx, 4
    lea rax, [rip + msi_handler]
    mov edx, eax
    and edx, 0xffff
    mov r8, 0x0000ef00001b0000      /* present DPL-3 trap gate, selector 0x1b */
    or rdx, r8
    mov r8, rax
    shr r8, 16
    and r8, 0xffff
    shl r8, 48
    or rdx, r8
    mov [rcx], rdx
    shr rax, 32
    mov [rcx + 8], rax
    mov eax, 0xfee000f0             /* spurious vector register: enabled */
    mov dword ptr [rax], 0x1ff
    mov qword ptr [rbx + CTL_RESULT], 1     /* ready */
    mov r12, [rbx + CTL_COUNT]
    xor r13, r13
1:  mov rcx, SPIN_LIMIT
2:  mov rax, [rbx + CTL_GUEST_SEQ]
    cmp rax, r12
    jae done
    cmp rax, r13
    jne 3f
    pause
    dec rcx
    jnz 2b
    inc r15
    jmp done
3:  mov r13, rax
    jmp 1b

msi_handler:
    push rax
    mov rax, BENCH_CTL_ADDRESS
    lock inc qword ptr [rax + CTL_GUEST_SEQ]
    mov eax, 0xfee000b0             /* EOI */
    mov dword ptr [rax], 0
    pop rax
    iretq
