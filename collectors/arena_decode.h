/* SPDX-License-Identifier: GPL-2.0-only */
/* Decodes glibc malloc's arenas, bins, fastbins and tcaches from raw target memory. */
#ifndef MEMSLEUTH_ARENA_DECODE_H
#define MEMSLEUTH_ARENA_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/regions.h"

/*
 * Everything here is a pure function of the bytes a reader callback returns:
 * no I/O of its own, no clock, no global state. Every loop is bounded and
 * every pointer read from the target is checked before it is followed, so
 * garbage (a torn read, a corrupt heap, a fuzzer) yields an error code, never
 * a crash or a hang.
 */

/* Reads `len` bytes at target address `addr` into `buf`; returns 0 or a negative errno. */
typedef int (*mem_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

/* One piece of a batched read: `len` bytes at target address `addr` into `buf`. */
struct mem_piece {
	uint64_t addr;
	void *buf;
	size_t len;
};

/*
 * Reads the pieces in order, as one system call reads them; returns how many
 * leading pieces were read whole (n when all were), or a negative errno that
 * ends the read (-ESRCH, -ETIMEDOUT). The piece after the last read one failed.
 */
typedef long (*mem_readv_fn)(void *ctx, const struct mem_piece *p, size_t n);

/* `readv` is optional: without it batches are read piece by piece with `read`. */
struct mem_reader {
	mem_read_fn read;
	mem_readv_fn readv;
	void *ctx;
};

#define ARENA_NBINS 128
#define ARENA_NFASTBINS 10
#define ARENA_TCACHE_BINS 64
/* A malloc_state read whole; every layout fits. */
#define ARENA_STATE_MAX 2400

/*
 * Byte offsets of the fields memsleuth reads, x86_64. glibc 2.27-2.42: malloc_state
 * is 2200 bytes: mutex 0, flags 4, have_fastchunks 8, fastbinsY[10] 16, top 96,
 * last_remainder 104, bins[254] 112, binmap 2144, next 2160, next_free 2168,
 * attached_threads 2176, system_mem 2184, max_system_mem 2192. 2.26 lacks
 * have_fastchunks (every later field 8 lower). heap_info: ar_ptr 0, prev 8, size 16,
 * mprotect_size 24; 48 bytes from 2.35, 32 before. A chunk's size is at +8 (its low
 * 3 bits are flags, 0x4 = not the main arena), fd at +16, bk at +24. From 2.32 fastbin
 * and tcache links are mangled: next = (address of the link >> 12) ^ stored value.
 * With libc's debug info the offsets come from DWARF instead (arena_locate.c).
 */
struct arena_layout {
	unsigned int glibc_minor;	/* 2.N */
	uint32_t state_size;		/* sizeof(struct malloc_state) */
	uint32_t off_mutex, off_fastbins, off_top, off_bins, off_next;
	uint32_t off_attached, off_system, off_max_system;
	uint32_t heap_info_size;	/* sizeof(heap_info): the first arena of a heap follows it */
	uint32_t hi_ar_ptr, hi_prev, hi_size;
	bool safe_linking;		/* fastbin/tcache links mangled (2.32+) */
	uint32_t tcache_chunk;		/* chunk size of tcache_perthread_struct; 0 none */
	uint32_t tcache_count_width;	/* bytes per tcache count: 1 before 2.30, 2 after */
};

/*
 * Fills the layout of glibc 2.`minor` on x86_64. Returns 0, or -ENOTSUP for a
 * version whose layout memsleuth does not know (before 2.26, after 2.42).
 */
int arena_layout_for(unsigned int minor, struct arena_layout *out);

/* The fields of one malloc_state that need no walk. */
struct arena_fixed {
	uint64_t addr;
	uint32_t mutex;
	uint64_t top;			/* address of the top chunk */
	uint64_t top_size;		/* its size, flags masked */
	uint64_t next;
	uint64_t attached;
	uint64_t system, max_system;
	uint64_t fastbins[ARENA_NFASTBINS];	/* heads (plain pointers; links are mangled) */
};

/*
 * Reads the fixed fields of the arena at `addr` and checks them for sense
 * (aligned top, page-multiple system_mem, top inside the heap it claims).
 * Returns 0, -EFAULT when memory cannot be read, -EINVAL when the bytes are
 * not an arena, -EAGAIN when they are but the top chunk's size is not sane (a
 * thread is moving top: read again); *out is filled in all but the first two cases.
 */
int arena_read_fixed(const struct arena_layout *l, const struct mem_reader *m, uint64_t addr,
		     struct arena_fixed *out);

/*
 * Where the memory committed to an arena ends: `sbrk_base + system` for the
 * main arena, the heap holding top plus its heap_info.size for another.
 * Returns 0 with *end, -EINVAL for the main arena when sbrk_base is unknown (0),
 * -EFAULT when the heap header cannot be read.
 */
int arena_committed_end(const struct arena_layout *l, const struct mem_reader *m,
			const struct arena_fixed *a, bool is_main, uint64_t sbrk_base,
			uint64_t *end);

/*
 * The consistency check of an unfrozen read: the top chunk must end where the
 * committed area ends (arena_committed_end).
 * Returns 0 when consistent, -EAGAIN when not (a torn read: read again),
 * -EFAULT when the heap header cannot be read.
 */
int arena_check_top(const struct arena_layout *l, const struct mem_reader *m,
		    const struct arena_fixed *a, bool is_main, uint64_t sbrk_base);

/*
 * Calls `fn` for each heap of a non-main arena, newest first, following
 * heap_info.prev from the heap that holds top (at most `max_heaps`). Each heap
 * must be aligned, claim this arena and have a sane size. Returns the number of
 * heaps, or -EINVAL for a broken chain, -EFAULT when unreadable, -E2BIG past
 * the bound.
 */
typedef void (*arena_heap_fn)(void *ctx, uint64_t start, uint64_t size);
int arena_heaps(const struct arena_layout *l, const struct mem_reader *m,
		const struct arena_fixed *a, uint32_t max_heaps, arena_heap_fn fn, void *ctx);

/* Where a free chunk was found. */
enum free_list { FREE_BIN, FREE_FAST, FREE_TCACHE };

/* Called for each free chunk: its address (the header), size (flags masked), raw size field. */
typedef void (*arena_chunk_fn)(void *ctx, enum free_list where, uint64_t chunk, uint64_t size,
			       uint64_t raw_size);

/*
 * A fastbin or a tcache bin being walked. Both are singly linked through the
 * chunk's first user word (at chunk + 16); a fastbin link names the next
 * chunk, a tcache link the next chunk's user memory. Nodes are chunk addresses.
 */
struct arena_list {
	uint64_t node;		/* the next chunk to visit; 0 once the list has ended */
	uint64_t want;		/* the chunk size every node of this list has */
	uint32_t left;		/* nodes the list may still hold (a tcache count); UINT32_MAX */
	bool tcache;
	uint64_t bytes, chunks;	/* visited so far */
	int error;		/* why the walk stopped: see arena_lists_walk */
	/* Brent's cycle detection, carried from one step to the next. */
	uint64_t tortoise, power, steps;
};

/* Sets up the fastbin lists of an arena from the heads its fixed fields hold. */
void arena_fastbin_lists(const struct arena_layout *l, const struct arena_fixed *a,
			 struct arena_list out[ARENA_NFASTBINS]);

/*
 * Checks that `user` (a pointer as stored in a thread's `tcache` variable)
 * looks like a tcache_perthread_struct: aligned, the right chunk size, and
 * each bin's count matching whether its list is empty. Returns 0, -EINVAL or
 * -EFAULT.
 */
int arena_tcache_check(const struct arena_layout *l, const struct mem_reader *m, uint64_t user);

/*
 * Sets up the lists of one thread's tcache (checked as arena_tcache_check
 * does), each bounded by its count. Returns 0, -EINVAL or -EFAULT.
 */
int arena_tcache_lists(const struct arena_layout *l, const struct mem_reader *m, uint64_t user,
		       struct arena_list out[ARENA_TCACHE_BINS]);

/*
 * Advances every list by at most `levels` nodes, one node of every unfinished
 * list per batch (one m->readv: a system call per level, not per node), calling
 * `fn` for each chunk visited (when not NULL) and counting it against `*budget`.
 * A list that stops early says why in its `error`: -EAGAIN a node that is not
 * a chunk of the list's size (a list being rewritten, or garbage), -ELOOP a
 * cycle, -E2BIG the budget ran out, -EFAULT, and `node` stays where it
 * stopped. Returns 0, or the reader's -ESRCH or -ETIMEDOUT, which stop all.
 */
int arena_lists_walk(const struct arena_layout *l, const struct mem_reader *m,
		     struct arena_list *lists, size_t n, uint32_t levels, uint64_t *budget,
		     arena_chunk_fn fn, void *ctx);

/*
 * Finds a chunk among those the heap parse saw in use with a first word that
 * may be a link: returns 1 with its raw size field and that word as stored,
 * 0 when it is not among them, or a negative errno (a reader's).
 */
typedef int (*arena_lookup_fn)(void *ctx, uint64_t chunk, uint64_t *raw, uint64_t *stored);

/*
 * Walks the rest of a list through `look` instead of reading the target: what
 * the heap parse saw, with the target running. Returns 0 at the list's end,
 * -EAGAIN when a node is not found or not a chunk of the list's size (the list
 * changed since its head was read), -ELOOP, -E2BIG, or the lookup's error;
 * the list's `error` says the same.
 */
int arena_list_follow(const struct arena_layout *l, struct arena_list *list, arena_lookup_fn look,
		      void *lctx, uint64_t *budget, arena_chunk_fn fn, void *ctx);

/* A fastbin or tcache link stored at `pos`, demangled (from 2.32: (pos >> 12) ^ stored). */
uint64_t arena_reveal(const struct arena_layout *l, uint64_t pos, uint64_t stored);

/*
 * Decides whether `addr` holds the main arena, for locating it without debug
 * information: `state` holds the bytes there (l->state_size of them). The
 * `next` ring must close on `addr` within `max_arenas` hops through readable
 * non-main arenas; top must lie in [heap_lo, heap_hi); system_mem must be a
 * page multiple; every bin must be empty (both links to itself) or hold
 * links into memory. Returns 1 when it is, 0 when not.
 */
int arena_is_main(const struct arena_layout *l, const struct mem_reader *m, uint64_t addr,
		  const uint8_t *state, uint64_t heap_lo, uint64_t heap_hi, uint32_t max_arenas);

/* Reads a little-endian 64-bit word from a byte buffer. */
static inline uint64_t arena_u64(const uint8_t *p)
{
	uint64_t v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

#endif
