/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by alloc.bpf.c and user space: the malloc-probe maps' keys, values and counters. */
#ifndef MEMSLEUTH_BPF_ALLOC_H
#define MEMSLEUTH_BPF_ALLOC_H

/* Fixed-width types and explicit padding only: clang's BPF target and gcc must agree on the layout. */

#include "capture.h"

/* Frames kept per allocation stack (walked at the allocator's return). */
#define ALLOC_STACK_DEPTH 48

/* Which allocator entry point a pending call came through. */
#define ALLOC_FN_MALLOC 0
#define ALLOC_FN_CALLOC 1
#define ALLOC_FN_REALLOC 2
#define ALLOC_FN_MEMALIGN 3	/* memalign, aligned_alloc: (align, size) */
#define ALLOC_FN_POSIX_MEMALIGN 4
#define ALLOC_FN_VALLOC 5	/* valloc, pvalloc: (size) */

/* Arena keys that are not arena addresses. */
#define ALLOC_ARENA_MAIN 0	/* glibc's main arena (its address is not known here) */
#define ALLOC_ARENA_MMAPPED 1	/* chunks glibc mapped on their own */

/* One tracked allocation, keyed by its address. */
struct alloc_rec {
	__u64 size;		/* bytes requested */
	__u64 weight;		/* bytes this record stands for (size, or the sampling weight) */
	__u64 cweight;		/* calls it stands for, in 1/256 units */
	__u64 stack_id;		/* see below; ALLOC_NO_STACK when none could be taken */
	__u32 born;		/* when recorded: CLOCK_MONOTONIC ns >> ALLOC_BORN_SHIFT */
	__u32 pad;
};

/*
 * A record's birth, in units of 2^20 ns (1.05 ms). It wraps after 52 days;
 * user space takes ages modulo 2^32 units. This is what tells a structure
 * that turns over from memory that is never freed (analyzer/detect_leak.c):
 * of the records live at one reading, how many are still live at the next.
 * It costs 8 bytes of kernel memory per live entry: the padding it once took
 * went to the stack id when that grew to 64 bits.
 */
#define ALLOC_BORN_SHIFT 20

#define ALLOC_NO_STACK 0xffffffffffffffffull

/*
 * A record's stack is one of three kinds, told apart by its id:
 *
 * - below 2^32: a frame-pointer walk, in the `stacks` map (bpf_get_stackid),
 *   where the allocator returned into a module that keeps frame pointers;
 * - ALLOC_WALK_BIT set: a walk by unwinding rules, in the `walks` map, where
 *   it returned into code without them. User space learns the rule of each
 *   return address from the module's CFI (.eh_frame) the first time a stack
 *   through it is copied, and puts it in `rules`; the walk follows them in
 *   the kernel: the caller's sp (the CFA) is sp or rbp plus an offset, its
 *   return address is 8 bytes below, its rbp saved at an offset or kept.
 *   A walk that meets a return address without a rule stops there (cut) and
 *   asks for a copy of the stack, at most one per address per second and
 *   capture_rate per second in all;
 * - ALLOC_CAPTURE_BIT set: such a copy (and every stack with --alloc-sample):
 *   the registers and the top of the stack (bpf/capture.h) sent through the
 *   `captures` ring for user space to unwind with DWARF; the id is the bit
 *   and a sequence number.
 */
#define ALLOC_CAPTURE_BIT (1ull << 32)
#define ALLOC_WALK_BIT (1ull << 63)
/* A walk's id has ALLOC_WALK_BIT and any other bits: test a capture's with this. */
#define ALLOC_IS_CAPTURE(id) (((id) & (ALLOC_WALK_BIT | ALLOC_CAPTURE_BIT)) == ALLOC_CAPTURE_BIT)

/* The largest capture record: the stack chunks copied follow `cap`. */
struct alloc_capture {
	__u64 id;		/* the stack id the record carries */
	__u32 tid;
	__u32 pad;
	struct stack_capture cap;
	__u8 stack[CAPTURE_STACK_BYTES];
};

/* How to step from a return address to its caller (collectors/unwind.h, unwind_rule). */
#define ALLOC_RULE_SP 0		/* CFA = sp + cfa_off */
#define ALLOC_RULE_BP 1		/* CFA = rbp + cfa_off */
#define ALLOC_RULE_END 2	/* the outermost frame */

struct alloc_unwind_rule {
	__s32 cfa_off;
	__s32 bp_off;		/* rbp saved at CFA + bp_off; 0: unchanged */
	__u32 kind;		/* ALLOC_RULE_* */
	__u32 pad;
};

/* A walk by rules: its return addresses, and how it ended. */
#define ALLOC_WALK_WHOLE 1	/* at a frame whose rule says the stack ends */
#define ALLOC_WALK_CUT 2	/* no rule, a failed read, or the depth */

struct alloc_walk {
	__u32 n;
	__u32 end;		/* ALLOC_WALK_* */
	__u64 pcs[ALLOC_STACK_DEPTH];
};

/* Executable ranges of modules that keep frame pointers: there the kernel's walk is right. */
#define ALLOC_MAX_FP_RANGES 32

struct alloc_range {
	__u64 start, end;
};

/* Outstanding figures of one stack, cumulative since attach. */
struct alloc_stack_val {
	__s64 bytes;
	__s64 count256;		/* calls, in 1/256 units (sampled weights are fractional) */
};

/* Net chunk bytes of one arena since attach (exact mode only). */
struct alloc_arena_val {
	__s64 bytes;
	__s64 count;
};

/*
 * Frees that match no record, by log2 of the block's usable bytes (read from
 * the glibc chunk header; the last class holds frees whose size is not
 * known). Counted while allocations are recorded, beside what the records
 * say should go unmatched (allocations not recorded because they were
 * sampled out, made while the probes were off, or lost): what exceeds that
 * is memory allocated before attach being freed. See analyzer/preattach.h.
 */
#define ALLOC_FREE_CLASSES 48
#define ALLOC_FREE_UNSIZED (ALLOC_FREE_CLASSES - 1)

struct alloc_free_class {
	__u64 unmatched;	/* frees of no record, while recording */
	__u64 unmatched_bytes;
	__u64 expected256;	/* unmatched frees the records stand for, in 1/256 units */
	__u64 expected_bytes;
};

/* Counters in the program's .bss (indexes of `counters`). */
#define ALLOC_CNT_ALLOCS 0	/* allocator calls that returned memory */
#define ALLOC_CNT_FREES 1	/* free() calls of a non-null pointer */
#define ALLOC_CNT_SAMPLED 2	/* allocations recorded */
#define ALLOC_CNT_FREED_TRACKED 3	/* frees (and realloc moves) of a recorded allocation */
#define ALLOC_CNT_REUSED 4	/* an address came back while still recorded: its free was missed */
#define ALLOC_CNT_LOST_LIVE 5	/* the allocation map was full */
#define ALLOC_CNT_LOST_STACK 6	/* the stack walk failed or the stack map was full */
#define ALLOC_CNT_LOST_PENDING 7	/* the per-thread pending map was full */
#define ALLOC_CNT_NESTED 8	/* calls made inside another allocator call (not counted twice) */
#define ALLOC_CNT_FREES_RECORDING 9	/* free() calls made while allocations were recorded */
#define ALLOC_CNT_WALKS 10	/* stacks walked by rules */
#define ALLOC_CNT_WALKS_CUT 11	/* of which stopped at a return address without a rule */
#define ALLOC_CNT_LEARN 12	/* stacks copied to learn rules */
#define ALLOC_NCOUNTERS 13

#endif
