/* SPDX-License-Identifier: GPL-2.0-only */
/* The stacks of the malloc probes' records: frame-pointer walks and DWARF captures, by BPF stack id. */
#ifndef MEMSLEUTH_ALLOC_STACKS_H
#define MEMSLEUTH_ALLOC_STACKS_H

#include <stdint.h>

#include "collectors/stackres.h"

/*
 * A record of the malloc probes names its stack by a BPF stack id: either a
 * frame-pointer walk in the BPF stack map, or (ALLOC_CAPTURE_BIT set) a copy
 * of registers and stack that came through the capture ring buffer. Either
 * way it is resolved by the target's stack pipeline (stackres.h) the first
 * time it is asked for, and its stack id kept until forgotten.
 */
struct alloc_stacks;

/*
 * Resolves through `res` (borrowed: it must outlive `out`); `stackmap_fd` is
 * the BPF stack map, `ring_fd` the capture ring buffer (-1: none). Returns 0
 * with *out, or a negative errno.
 */
int alloc_stacks_new(struct stackres *res, int stackmap_fd, int ring_fd, struct alloc_stacks **out);

/* Resolves every capture waiting in the ring buffer. Returns 0 or a negative errno. */
int alloc_stacks_drain(struct alloc_stacks *s);

/*
 * The stack id (in stackres_table) of BPF stack `id`, marked as in use for
 * alloc_stacks_sweep. A capture that never arrived (the ring buffer was
 * full) reads as a stack of one "[stack lost]" frame. 0 on ENOMEM.
 */
uint64_t alloc_stacks_id(struct alloc_stacks *s, uint32_t id);

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
