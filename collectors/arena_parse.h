/* SPDX-License-Identifier: GPL-2.0-only */
/* The part of an arena read done with the target running: its heaps parsed, its fastbins ended. */
#ifndef MEMSLEUTH_ARENA_PARSE_H
#define MEMSLEUTH_ARENA_PARSE_H

#include "collectors/arena_decode.h"
#include "collectors/procmem.h"

/* A heap's committed memory and which of its pages are in RAM. */
struct arena_range {
	uint64_t lo, hi;
	uint64_t first;		/* its first chunk when known apart from lo (the main arena's); else 0 */
	uint64_t *bits;		/* residency, one bit per page; NULL until read */
};

/* One arena during one read: what its freeze captured, then what its parse found. */
struct arena_acc {
	struct arena_fixed fx;
	bool main;
	struct arena_range *ranges;
	size_t nranges, cap;
	/* Fastbins: the first nodes walked frozen, the rest through the parse. */
	struct arena_list fast[ARENA_NFASTBINS];
	uint64_t tcache;	/* bytes of its chunks in threads' tcaches */
	uint64_t rss, bins, fastb, reclaimable;
	uint64_t unread;	/* bytes of its heaps beyond a chain that broke */
	bool walked;		/* its heaps were parsed (whole, or up to a break) */
	bool complete;		/* every heap parsed whole and every fastbin to its end */
};

/* Frees what `a` owns and zeroes it. */
void arena_acc_clear(struct arena_acc *a);

/* A chunk the parse saw in use whose first word may be a fastbin link. */
struct arena_link {
	uint64_t chunk, raw, stored;
};

/*
 * Chunks remembered per read as possible fastbin nodes: enough for every
 * fastbin chunk of a large service; the first word of most live chunks cannot
 * pass for a link from glibc 2.32, whose links are mangled. Past it, the rest
 * of a fastbin is read from the target, node by node.
 */
#define ARENA_MAX_LINKS (1u << 20)

/* What parsing needs, kept across arenas and reads (its buffers are reused). */
struct arena_parser {
	const struct arena_layout *layout;
	struct procmem *mem;
	const struct mem_reader *mr;
	struct arena_link *links;	/* of the arena being parsed, by address */
	size_t nlinks, cap;
	bool links_full;
	uint32_t reparses;		/* heaps parsed again after their chain broke */
	/* Test hook (MEMSLEUTH_TEST_PARSE_STOP=N): memsleuth stops itself before its Nth view. */
	long stop_before_view;
};

/*
 * Reads the residency of a's heaps, parses each of them with the target
 * running (a heap whose chain breaks is parsed again, HEAP_REPARSES times),
 * then walks the rest of its fastbins through the chunks the parse saw. Fills
 * rss, bins, fastb, reclaimable, unread, walked and complete. `budget` bounds
 * the fastbin nodes visited. Returns 0 whether or not the parse was complete,
 * or -ENOMEM, -ESRCH (the target has gone).
 */
int arena_parse(struct arena_parser *p, struct arena_acc *a, uint64_t *budget);

void arena_parser_free(struct arena_parser *p);

#endif
