/* SPDX-License-Identifier: GPL-2.0-only */
/* The frames of allocation stacks: frame-pointer walks and DWARF captures, symbolized once. */
#ifndef MEMSLEUTH_ALLOC_STACKS_H
#define MEMSLEUTH_ALLOC_STACKS_H

#include <stddef.h>
#include <stdint.h>

#include "collectors/proc.h"

/*
 * A stack id of the malloc probes is either a frame-pointer walk in the BPF
 * stack map, or (ALLOC_CAPTURE_BIT set) a copy of registers and stack that
 * came through the capture ring buffer and is unwound here with DWARF (the
 * unwinder of collectors/unwind.h). Either way its frames are symbolized the
 * first time they are asked for and kept until forgotten.
 */
struct alloc_frames {
	char **v;		/* innermost first; the allocator has returned into v[0] */
	uint32_t n;
};

struct alloc_stacks;

/*
 * Opens the modules of target `t` (borrowed: it must outlive `out`); `stackmap_fd` is the BPF stack map,
 * `ring_fd` the capture ring buffer (-1: none). Without the modules, frames
 * are addresses (logged once). Returns 0 with *out, or -ENOMEM.
 */
int alloc_stacks_new(const struct proc_target *t, int stackmap_fd, int ring_fd,
		     struct alloc_stacks **out);

/* Unwinds every capture waiting in the ring buffer. Returns 0 or a negative errno. */
int alloc_stacks_drain(struct alloc_stacks *s);

/*
 * The frames of stack `id` (borrowed until it is forgotten), marked as in
 * use for alloc_stacks_sweep. A capture that never arrived (the ring buffer
 * was full) reads as one "[stack lost]" frame. NULL on ENOMEM.
 */
const struct alloc_frames *alloc_stacks_frames(struct alloc_stacks *s, uint32_t id);

/* Drops a capture nothing refers to any more (its allocations were all freed). */
void alloc_stacks_forget(struct alloc_stacks *s, uint32_t id);

/*
 * Drops the captures not asked for since the previous sweep, except those
 * that arrived since: called after every id in use was asked for. A capture
 * whose allocation found the maps full is never in use, and would otherwise
 * be kept for good.
 */
void alloc_stacks_sweep(struct alloc_stacks *s);

/* Frees; NULL is accepted. */
void alloc_stacks_free(struct alloc_stacks *s);

#endif
