// SPDX-License-Identifier: GPL-2.0-only
/* The part of an arena read done with the target running: its heaps parsed, its fastbins ended. */
#include "collectors/arena_parse.h"
#include "collectors/arena_chain.h"
#include "lib/vec.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096u
/*
 * A heap whose chain broke is parsed again at once this many times: a break
 * is a header the target rewrote between two reads, which it seldom does
 * twice at the same place. A heap that moved (grew, shrank, or gained a heap)
 * needs a new capture instead: the caller freezes again.
 */
#define HEAP_REPARSES 2

void arena_acc_clear(struct arena_acc *a)
{
	size_t i;

	for (i = 0; i < a->nranges; i++)
		free(a->ranges[i].bits);
	free(a->ranges);
	memset(a, 0, sizeof(*a));
}

void arena_parser_free(struct arena_parser *p)
{
	free(p->links);
	p->links = NULL;
	p->nlinks = p->cap = 0;
}

static int read_residency(struct arena_parser *p, struct arena_acc *a)
{
	size_t i;

	a->rss = 0;
	for (i = 0; i < a->nranges; i++) {
		struct arena_range *g = &a->ranges[i];
		long n;

		free(g->bits);
		g->bits = calloc(((g->hi - g->lo) / PAGE + 63) / 64, sizeof(uint64_t));
		if (!g->bits)
			return -ENOMEM;
		n = procmem_resident(p->mem, g->lo, g->hi, g->bits);
		if (n == -ESRCH || n == -ENOENT)
			return -ESRCH;
		if (n > 0)
			a->rss += (uint64_t)n * PAGE;
	}
	return 0;
}

static const struct arena_range *range_of(const struct arena_acc *a, uint64_t p)
{
	size_t i;

	for (i = 0; i < a->nranges; i++)
		if (p >= a->ranges[i].lo && p < a->ranges[i].hi)
			return &a->ranges[i];
	return NULL;
}

/* Resident whole pages inside a free chunk: what malloc_trim would hand back (see mtrim). */
static uint64_t resident_inside(const struct arena_acc *a, uint64_t p, uint64_t size)
{
	/* malloc_trim keeps the chunk's header and links: the first 48 bytes. */
	uint64_t lo = (p + 48 + PAGE - 1) & ~(uint64_t)(PAGE - 1), hi, n = 0, pg;
	const struct arena_range *g = range_of(a, p);

	if (p + size <= lo || !g || !g->bits)
		return 0;
	hi = lo + ((p + size - lo) & ~(uint64_t)(PAGE - 1));
	if (hi > g->hi)
		return 0;
	for (pg = (lo - g->lo) / PAGE; pg < (hi - g->lo) / PAGE; pg++)
		n += (g->bits[pg / 64] >> (pg % 64)) & 1;
	return n * PAGE;
}

struct heap_ctx {
	struct arena_parser *p;
	struct arena_acc *a;
	int err;
};

static void on_free(void *ctx, uint64_t chunk, uint64_t size)
{
	struct heap_ctx *hc = ctx;

	hc->a->reclaimable += resident_inside(hc->a, chunk, size);
}

static void on_link(void *ctx, uint64_t chunk, uint64_t raw, uint64_t stored)
{
	struct heap_ctx *hc = ctx;
	struct arena_parser *p = hc->p;
	uint64_t next = arena_reveal(p->layout, chunk + 16, stored);
	struct arena_link *k;

	/* A fastbin links chunks of its own arena. */
	if (next && !range_of(hc->a, next))
		return;
	if (p->nlinks >= ARENA_MAX_LINKS) {
		p->links_full = true;
		return;
	}
	k = VEC_PUSH(p->links, p->nlinks, p->cap);
	if (!k) {
		hc->err = -ENOMEM;
		return;
	}
	*k = (struct arena_link){ chunk, raw, stored };
}

static int view(void *ctx, uint64_t addr, size_t want, uint64_t limit, struct mem_view *v)
{
	struct heap_ctx *hc = ctx;

	if (hc->p->stop_before_view > 0 && --hc->p->stop_before_view == 0)
		raise(SIGSTOP);
	return procmem_view(hc->p->mem, addr, want, limit, v);
}

/* Parses one heap into `a`; returns 0, or why it stopped short (see arena_chain_parse). */
static int parse_heap(struct arena_parser *p, struct arena_acc *a, const struct arena_range *g)
{
	struct heap_ctx hc = { .p = p, .a = a };
	struct chain_calls cb = { .free_chunk = on_free, .link = on_link, .ctx = &hc };
	struct chain_heap h = {
		.first = g->first ? g->first
				  : arena_heap_first(p->layout, g->lo, a->fx.addr, a->main),
		.end = g->hi,
		.top = a->fx.top >= g->lo && a->fx.top < g->hi,
		.main = a->main,
	};
	struct chain_result res;
	size_t links = p->nlinks;
	uint64_t reclaimable = a->reclaimable;
	int ret, tries;

	for (tries = 0;; tries++) {
		ret = arena_chain_parse(p->layout, &h, view, &hc, &cb, &res);
		if (hc.err)
			return hc.err;
		if (ret == 0 || (ret != -EAGAIN && ret != -EFAULT) || tries == HEAP_REPARSES)
			break;
		/* Forget what the broken pass saw, and read the heap again. */
		p->nlinks = links;
		a->reclaimable = reclaimable;
		p->reparses++;
	}
	a->bins += res.free_bytes;
	if (ret)
		a->unread += g->hi - res.reached;
	return ret;
}

static int link_cmp(const void *key, const void *elem)
{
	uint64_t k = *(const uint64_t *)key, c = ((const struct arena_link *)elem)->chunk;

	return k < c ? -1 : k > c;
}

/* An arena_lookup_fn over the links the parse collected, sorted by address. */
static int lookup(void *ctx, uint64_t chunk, uint64_t *raw, uint64_t *stored)
{
	struct arena_parser *p = ctx;
	const struct arena_link *k = NULL;
	uint64_t w[3];
	int ret;

	if (p->nlinks)
		k = bsearch(&chunk, p->links, p->nlinks, sizeof(*k), link_cmp);
	if (k) {
		*raw = k->raw;
		*stored = k->stored;
		return 1;
	}
	/* Not kept for want of room: read the node itself. */
	if (!p->links_full)
		return 0;
	ret = p->mr->read(p->mr->ctx, chunk, w, sizeof(w));
	if (ret)
		return ret == -EFAULT ? 0 : ret;
	*raw = w[1];
	*stored = w[2];
	return 1;
}

static int link_order(const void *pa, const void *pb)
{
	const struct arena_link *a = pa, *b = pb;

	return a->chunk < b->chunk ? -1 : a->chunk > b->chunk;
}

static int range_cmp(const void *pa, const void *pb)
{
	const struct arena_range *a = pa, *b = pb;

	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

int arena_parse(struct arena_parser *p, struct arena_acc *a, uint64_t *budget)
{
	bool whole = true;
	size_t i;
	int ret;

	p->nlinks = 0;
	p->links_full = false;
	ret = read_residency(p, a);
	if (ret)
		return ret;
	/* Heaps in address order: the links come out sorted. */
	if (a->nranges > 1)
		qsort(a->ranges, a->nranges, sizeof(*a->ranges), range_cmp);
	for (i = 0; i < a->nranges; i++) {
		ret = parse_heap(p, a, &a->ranges[i]);
		if (ret == -ENOMEM || ret == -ESRCH)
			return ret;
		whole = whole && ret == 0;
	}
	a->walked = true;
	/* Heaps that overlap (garbage) leave the links out of order: bsearch needs them sorted. */
	for (i = 1; i < p->nlinks; i++) {
		if (p->links[i - 1].chunk > p->links[i].chunk) {
			qsort(p->links, p->nlinks, sizeof(*p->links), link_order);
			break;
		}
	}
	for (i = 0; i < ARENA_NFASTBINS; i++) {
		ret = arena_list_follow(p->layout, &a->fast[i], lookup, p, budget, NULL, NULL);
		if (ret == -ESRCH)
			return ret;
		a->fastb += a->fast[i].bytes;
		whole = whole && ret == 0;
	}
	a->complete = whole;
	return 0;
}
