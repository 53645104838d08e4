/* SPDX-License-Identifier: GPL-2.0-only */
/* The stacks of the malloc probes' records: frame-pointer walks, walks by rules and DWARF captures, by BPF stack id. */
#ifndef MEMSLEUTH_ALLOC_STACKS_H
#define MEMSLEUTH_ALLOC_STACKS_H

#include <stdint.h>

#include "collectors/stackres.h"

/*
 * A record of the malloc probes names its stack by a BPF stack id (bpf/alloc.h):
 * a frame-pointer walk in the BPF stack map, a walk by unwinding rules in the
 * walks map, or (ALLOC_CAPTURE_BIT set) a copy of registers and stack that
 * came through the capture ring buffer. Each is resolved by the target's
 * stack pipeline (stackres.h) the first time it is asked for, and its stack
 * id kept until forgotten. Each copy also teaches the kernel side the rules
 * of its return addresses (stackres_unwind_rule), so that the next stacks
 * through them are walked in the kernel instead of copied.
 */
struct alloc_stacks;

/* The BPF maps the stacks come from (-1: not used). */
struct alloc_stacks_maps {
	int stackmap;		/* frame-pointer walks */
	int walks;		/* walks by rules */
	int rules;		/* the rules, written here */
	int ring;		/* the capture ring buffer */
};

/*
 * Resolves through `res` (borrowed: it must outlive `out`). Returns 0 with
 * *out, or a negative errno.
 */
int alloc_stacks_new(struct stackres *res, const struct alloc_stacks_maps *maps,
		     struct alloc_stacks **out);

/* Resolves every capture waiting in the ring buffer. Returns 0 or a negative errno. */
int alloc_stacks_drain(struct alloc_stacks *s);

/* An epoll fd that is readable when captures wait in the ring (-EINVAL: no ring). */
int alloc_stacks_epoll_fd(const struct alloc_stacks *s);

/*
 * The stack id (in stackres_table) of BPF stack `id`, marked as in use for
 * alloc_stacks_sweep. A capture that never arrived (the ring buffer was
 * full) reads as a stack of one "[stack lost]" frame. 0 on ENOMEM.
 */
uint64_t alloc_stacks_id(struct alloc_stacks *s, uint64_t id);

/* Drops a capture nothing refers to any more (its allocations were all freed). */
void alloc_stacks_forget(struct alloc_stacks *s, uint64_t id);

/*
 * Forgets every rule taught to the kernel side: a module they were learned
 * in may have been unmapped, and another mapped at its address.
 */
void alloc_stacks_forget_rules(struct alloc_stacks *s);

/* Rules taught to the kernel side, and return addresses found to have none it can follow. */
void alloc_stacks_rule_stats(const struct alloc_stacks *s, uint64_t *taught, uint64_t *refused);

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
