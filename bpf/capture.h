/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by the BPF programs and user space: a copy of a thread's registers and the top of its stack. */
#ifndef MEMSLEUTH_BPF_CAPTURE_H
#define MEMSLEUTH_BPF_CAPTURE_H

/* Fixed-width types and explicit padding only: clang's BPF target and gcc must agree on the layout. */

/*
 * The stack is copied from sp & ~(CHUNK-1) upwards in CHUNK-byte pieces, up
 * to the end of the mapping holding sp and at most CHUNKS pieces, stopping at
 * the first piece that cannot be read: one large read fails as a whole near
 * the top of a stack, and unaligned pieces can straddle a page that is not
 * present. Reaching main took 88-504 bytes typically, ~3.3 KB through a
 * signal frame, and more than 8 KiB with large stack buffers: 16 KiB did.
 */
#define CAPTURE_STACK_CHUNK 512
#define CAPTURE_STACK_CHUNKS 32
#define CAPTURE_STACK_BYTES (CAPTURE_STACK_CHUNK * CAPTURE_STACK_CHUNKS)

/* x86_64 registers in DWARF numbering: rax rdx rcx rbx rsi rdi rbp rsp r8-r15 rip. */
#define CAPTURE_NREGS 17
#define CAPTURE_REG_IP 16

/*
 * A record that carries a capture ends with this struct, followed directly
 * by the stack chunks copied (as many as the record's size holds).
 */
struct stack_capture {
	__u64 regs[CAPTURE_NREGS];
	__u64 stack_base;	/* user address of the first stack byte copied */
	__u32 stack_valid;	/* bit i: chunk i was read */
	__u32 pad;
};

#endif
