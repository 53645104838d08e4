/* SPDX-License-Identifier: GPL-2.0-only */
/* Reads a glibc target's arenas into a sample: frozen for the free lists, or fixed fields only. */
#ifndef MEMSLEUTH_ARENA_H
#define MEMSLEUTH_ARENA_H

#include <stdbool.h>

#include "analyzer/sample.h"
#include "analyzer/vma.h"

struct arena_opts {
	bool freeze;		/* stop the target to walk free lists (else fixed fields only) */
	bool debuginfo;		/* use libc's debug info when installed */
	double freeze_max_s;	/* hard bound on one freeze, stopping included */
};

/* The default bound on one freeze: stopping every thread, walking, resuming. */
#define ARENA_FREEZE_MAX_S 0.2

/* Bounds of one read, also used by the decoder's fuzz harness. */
#define ARENA_MAX_ARENAS 1024
#define ARENA_MAX_HEAPS 1024		/* 64 GiB per arena */
#define ARENA_MAX_CHUNKS 4000000u	/* fastbin and tcache nodes walked per read, all lists */
/*
 * Fastbin nodes read per list while frozen: a busy thread pops and pushes a
 * list's first nodes (a tcache refill takes up to 8), not the old ones behind
 * them, which the heap parse then finds as it left them.
 */
#define ARENA_FAST_FROZEN_LEVELS 16

struct arena_reader;

/*
 * Creates a reader for process `pid`, whose /proc/PID directory is open as
 * `dirfd` (borrowed: it must stay open while the reader lives); NULL on
 * ENOMEM. Nothing is read yet.
 */
struct arena_reader *arena_reader_new(int pid, int dirfd, const struct arena_opts *o);

/*
 * Reads every arena into `s` (s->arenas, has_arenas, arenas_frozen,
 * arenas_complete, freeze_us, malloc_mmapped) given this tick's mappings.
 * A process that does not use glibc's malloc, or whose arenas cannot be read,
 * leaves has_arenas false: the reason is logged once. Returns 0, or -ENOMEM.
 * The target is resumed before this returns, whatever happened.
 */
int arena_reader_read(struct arena_reader *r, const struct vma_list *vmas, struct sample *s);

/*
 * Lets go of threads left held by a timed-out freeze (a thread in
 * uninterruptible sleep stops late); cheap: call it at every tick.
 */
void arena_reader_release(struct arena_reader *r);

/* Lets go of any thread still held and frees; NULL is accepted. */
void arena_reader_free(struct arena_reader *r);

#endif
