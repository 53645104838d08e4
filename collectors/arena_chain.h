/* SPDX-License-Identifier: GPL-2.0-only */
/* Parses a glibc heap's chain of chunks from bulk reads: free and in-use bytes, top, links. */
#ifndef MEMSLEUTH_ARENA_CHAIN_H
#define MEMSLEUTH_ARENA_CHAIN_H

#include "collectors/arena_decode.h"

/*
 * A heap is a chain of chunks, each header giving the size of its chunk, so
 * one pass from the heap's first chunk to its end visits every chunk without
 * following a single list pointer, and checks itself: the sizes must chain
 * exactly to the end. A chunk is in a bin (unsorted, small or large) when the
 * next chunk's PREV_INUSE bit is clear; chunks in fastbins and tcaches keep
 * that bit set and look in use (their lists tell them apart, see
 * arena_list_follow). Pure as the rest of the decoder: memory comes from a
 * callback, every loop is bounded (each step moves forward by at least a
 * chunk header) and garbage yields an error, never a crash.
 *
 * The chain is read with the target running, so what it checks is also how a
 * read racing the target's malloc is caught: a header written between two
 * reads leaves a size that does not chain, a free chunk whose size its
 * neighbour's prev_size does not repeat, two free chunks side by side (glibc
 * always merges them), or an in-use chunk without the NON_MAIN_ARENA bit that
 * every in-use chunk of a thread arena carries.
 */

/* Contiguous target memory the reader could read, every byte of it. */
struct mem_view {
	uint64_t base;
	size_t len;
	const uint8_t *bytes;
};

/*
 * Fills `v` with readable memory holding `addr` and, unless it cannot be read,
 * the `want` bytes from it; no further than `limit`. The view stays valid
 * until the next call. Returns 0, -EFAULT when the bytes at `addr` cannot be
 * read (unmapped, or in a page not in RAM, which a read would allocate), or an
 * error that ends the parse (-ESRCH, -ETIMEDOUT).
 */
typedef int (*mem_view_fn)(void *ctx, uint64_t addr, size_t want, uint64_t limit,
			   struct mem_view *v);

/* One heap to parse. */
struct chain_heap {
	uint64_t first;		/* its first chunk (see arena_heap_first) */
	uint64_t end;		/* where its committed memory ends */
	bool top;		/* holds the arena's top, which ends it; else glibc's fenceposts do */
	bool main;		/* the main arena's: its in-use chunks have no NON_MAIN_ARENA bit */
};

/* What the parse reports chunk by chunk; either callback may be NULL. */
struct chain_calls {
	/* A chunk in a bin. */
	void (*free_chunk)(void *ctx, uint64_t chunk, uint64_t size);
	/*
	 * A chunk that looks in use, of a fastbin size, whose first word could be a
	 * fastbin link (demangled, it is 0 or an aligned address): `stored` as read.
	 */
	void (*link)(void *ctx, uint64_t chunk, uint64_t raw, uint64_t stored);
	void *ctx;
};

struct chain_result {
	uint64_t free_bytes, free_chunks;	/* in bins */
	uint64_t used_bytes, used_chunks;	/* in use, or in a fastbin or tcache */
	uint64_t top, top_size;			/* the top chunk, in the heap that holds it */
	uint64_t reached;	/* the chain was followed this far: h->end when whole */
};

/*
 * The first chunk of a heap: right after its heap_info, and after the
 * malloc_state too when the arena lives in this heap (a thread arena's first
 * heap); for the main arena, `start` is mp_.sbrk_base. Aligned as glibc aligns it.
 */
uint64_t arena_heap_first(const struct arena_layout *l, uint64_t start, uint64_t arena,
			  bool is_main);

/*
 * Parses the chain of `h`, reading it through `view`. Returns 0 when the
 * chain ends exactly as a heap ends (with top, or with the fenceposts glibc
 * leaves at the end of a heap that is no longer the newest), -EAGAIN when it
 * breaks (a racing writer, or garbage), -EFAULT when a header cannot be read,
 * -EINVAL for a heap that cannot hold a chunk, or the view's error. `out`
 * counts the chunks before the break, and `reached` says where it was.
 */
int arena_chain_parse(const struct arena_layout *l, const struct chain_heap *h,
		      mem_view_fn view, void *vctx, const struct chain_calls *cb,
		      struct chain_result *out);

#endif
