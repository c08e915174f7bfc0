/*
 * Embeds the flat guest binaries, assembled at build time, in PE programs.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

    .section .rdata,"dr"

    .globl interp_guest_start, interp_guest_end
    .balign 16
interp_guest_start:
    .incbin "tests/guests/interp.bin"
interp_guest_end:

    .globl stress_guest_start, stress_guest_end
    .balign 16
stress_guest_start:
    .incbin "tests/guests/stress.bin"
stress_guest_end:

    .globl ring_guest_start, ring_guest_end
    .balign 16
ring_guest_start:
    .incbin "tools/demo/ring.bin"
ring_guest_end:

    .globl pci_guest_start, pci_guest_end
    .balign 16
pci_guest_start:
    .incbin "tools/demo/pci_guest.bin"
pci_guest_end:

    .globl bench_guest_start, bench_guest_end
    .balign 16
bench_guest_start:
    .incbin "tools/bench/guest.bin"
bench_guest_end:
