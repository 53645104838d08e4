/* SPDX-License-Identifier: GPL-2.0-only */
/* BPF side only: copies a thread's registers and the top of its user stack into a ring buffer record. */
#ifndef MEMSLEUTH_BPF_CAPTURE_BPF_H
#define MEMSLEUTH_BPF_CAPTURE_BPF_H

/*
 * Every probe that names the code responsible for an event (the growth
 * tracepoints, the sampled malloc probes) copies what user space needs to
 * unwind with DWARF CFI (bpf/capture.h): right also for code built without
 * frame pointers, where bpf_get_stack's frame-pointer walk stops after one
 * frame or follows garbage. A copy costs the target about 20 us, nearly all
 * of it in reading the stack, so it is taken only for rare or sampled events,
 * under a budget. The record takes only the chunks the stack needs: a few
 * KiB for most, instead of always the maximum.
 */

#include "capture.h"
#include "uretprobe.bpf.h"

#if !defined(__TARGET_ARCH_x86)
#error "captures copy x86_64 registers: only x86_64 is supported"
#endif

/* Where a capture's stack copy starts and how many chunks its record holds. */
struct capture_pos {
	__u64 base;
	__u32 nchunks;
	__u32 pad;
};

struct capture_stack_end {
	__u64 end;
};

static long capture_stack_end_cb(struct task_struct *task, struct vm_area_struct *vma,
				 struct capture_stack_end *c)
{
	c->end = vma->vm_end;
	return 0;
}

/* Chunks from `base` to the end of the mapping holding it (the top of the stack), at most all. */
static __always_inline __u32 capture_chunks(__u64 base)
{
	struct capture_stack_end c = { .end = 0 };
	__u64 n;

	if (bpf_find_vma(bpf_get_current_task_btf(), base, capture_stack_end_cb, &c, 0) ||
	    c.end <= base)
		return CAPTURE_STACK_CHUNKS;
	n = (c.end - base + CAPTURE_STACK_CHUNK - 1) / CAPTURE_STACK_CHUNK;
	return n < CAPTURE_STACK_CHUNKS ? (__u32)n : CAPTURE_STACK_CHUNKS;
}

/*
 * Reserves in `ring` a record of `hdr` bytes (the caller's fields, ending
 * with a struct stack_capture) and the stack chunks the thread's stack holds
 * above sp. Returns 0 with `rec` to fill, or -1 when the ring buffer is full
 * (`rec` is released; the caller counts the loss).
 */
static __always_inline int capture_reserve(void *ring, __u32 hdr, const struct pt_regs *regs,
					   struct bpf_dynptr *rec, struct capture_pos *pos)
{
	pos->base = regs->sp & ~(__u64)(CAPTURE_STACK_CHUNK - 1);
	pos->nchunks = capture_chunks(pos->base);
	if (bpf_ringbuf_reserve_dynptr(ring, hdr + pos->nchunks * CAPTURE_STACK_CHUNK, 0, rec)) {
		bpf_ringbuf_discard_dynptr(rec, 0);
		return -1;
	}
	return 0;
}

/*
 * Fills `cap` (the end of the record's first `hdr` bytes) with the registers
 * in DWARF order, then the stack chunks after it, then puts back the return
 * addresses that pending uretprobes replaced in the copy (uretprobe.bpf.h).
 */
static __always_inline void capture_fill(struct bpf_dynptr *rec, __u32 hdr, struct stack_capture *cap,
					 const struct pt_regs *regs, const struct capture_pos *pos)
{
	__u32 i;

	cap->regs[0] = regs->ax;
	cap->regs[1] = regs->dx;
	cap->regs[2] = regs->cx;
	cap->regs[3] = regs->bx;
	cap->regs[4] = regs->si;
	cap->regs[5] = regs->di;
	cap->regs[6] = regs->bp;
	cap->regs[7] = regs->sp;
	cap->regs[8] = regs->r8;
	cap->regs[9] = regs->r9;
	cap->regs[10] = regs->r10;
	cap->regs[11] = regs->r11;
	cap->regs[12] = regs->r12;
	cap->regs[13] = regs->r13;
	cap->regs[14] = regs->r14;
	cap->regs[15] = regs->r15;
	cap->regs[16] = regs->ip;
	cap->stack_base = pos->base;
	cap->stack_valid = 0;
	cap->pad = 0;
	for (i = 0; i < CAPTURE_STACK_CHUNKS && i < pos->nchunks; i++) {
		void *chunk = bpf_dynptr_data(rec, hdr + i * CAPTURE_STACK_CHUNK, CAPTURE_STACK_CHUNK);

		if (!chunk || bpf_probe_read_user(chunk, CAPTURE_STACK_CHUNK,
						  (const void *)(pos->base + i * CAPTURE_STACK_CHUNK)))
			break;
		cap->stack_valid |= 1U << i;
	}
	uretprobe_restore(rec, hdr, pos->base);
}

#endif
