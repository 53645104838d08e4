/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by alloc.bpf.c and user space: the malloc-probe maps' keys, values and counters. */
#ifndef MEMSLEUTH_BPF_ALLOC_H
#define MEMSLEUTH_BPF_ALLOC_H

/* Fixed-width types and explicit padding only: clang's BPF target and gcc must agree on the layout. */

#include "capture.h"

/* Frames kept per allocation stack (frame-pointer walk at the allocator's return). */
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
	__u32 stack_id;		/* in the stack map; ALLOC_NO_STACK when the walk failed */
	__u32 born;		/* when recorded: CLOCK_MONOTONIC ns >> ALLOC_BORN_SHIFT */
};

/*
 * A record's birth, in units of 2^20 ns (1.05 ms): it takes the record's
 * padding, so a live entry costs no more. It wraps after 52 days; user space
 * takes ages modulo 2^32 units. This is what tells a structure that turns
 * over from memory that is never freed (analyzer/detect_leak.c): of the
 * records live at one reading, how many are still live at the next.
 */
#define ALLOC_BORN_SHIFT 20

#define ALLOC_NO_STACK 0xffffffffu

/*
 * Sampled records (sample_bytes set) carry a copy of the registers and the
 * top of the stack (bpf/capture.h) instead of a frame-pointer walk, for user
 * space to unwind with DWARF: right also for code without frame pointers.
 * Their stack id is ALLOC_CAPTURE_BIT | a sequence number; frame-pointer
 * stack ids stay below.
 */
#define ALLOC_CAPTURE_BIT 0x80000000u

/* The largest capture record: the stack chunks copied follow `cap`. */
struct alloc_capture {
	__u32 id;		/* the stack id the record carries */
	__u32 tid;
	struct stack_capture cap;
	__u8 stack[CAPTURE_STACK_BYTES];
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
#define ALLOC_NCOUNTERS 10

#endif
