// SPDX-License-Identifier: GPL-2.0-only
/* Parses a glibc heap's chain of chunks from bulk reads: free and in-use bytes, top, links. */
#include "collectors/arena_chain.h"

#include <errno.h>
#include <string.h>

#define CHUNK_ALIGN 16u
#define MIN_CHUNK 32u
#define HDR 16u			/* a chunk header; also the size of glibc's fencepost */
#define SIZE_FLAGS 7u
#define PREV_INUSE 1u
#define IS_MMAPPED 2u
#define NON_MAIN_ARENA 4u
#define FAST_MAX (MIN_CHUNK + 16u * (ARENA_NFASTBINS - 1))

uint64_t arena_heap_first(const struct arena_layout *l, uint64_t start, uint64_t arena,
			  bool is_main)
{
	uint64_t p = start;

	if (!is_main)
		p = arena == start + l->heap_info_size ? arena + l->state_size
						       : start + l->heap_info_size;
	return (p + CHUNK_ALIGN - 1) & ~(uint64_t)(CHUNK_ALIGN - 1);
}

struct cursor {
	mem_view_fn view;
	void *ctx;
	uint64_t limit;
	struct mem_view v;
	bool have;
};

static bool in_view(const struct mem_view *v, uint64_t addr, size_t n)
{
	return addr >= v->base && addr - v->base <= v->len && n <= v->len - (addr - v->base);
}

/* The `n` bytes at `addr`, or NULL with *err set. */
static const uint8_t *bytes_at(struct cursor *c, uint64_t addr, size_t n, int *err)
{
	if (!c->have || !in_view(&c->v, addr, n)) {
		int ret = c->view(c->ctx, addr, n, c->limit, &c->v);

		c->have = ret == 0;
		if (ret || !in_view(&c->v, addr, n)) {
			*err = ret ? ret : -EFAULT;
			return NULL;
		}
	}
	return c->v.bytes + (addr - c->v.base);
}

/* The chunk before the one being read, whose status that one's PREV_INUSE bit gives. */
struct prev {
	uint64_t addr, size, raw, stored;
	bool link;		/* fastbin-sized, its first word a possible link */
};

/*
 * Accounts for the chunk before `raw`'s; `fence` says raw is the fencepost
 * that ends an old heap (the chunk before it, a fencepost or the little that
 * was left of an old top, carries no arena bit). Returns 0 or -EAGAIN.
 */
static int settle(const struct chain_heap *h, const struct prev *pv, uint64_t raw,
		  uint64_t prev_size_field, bool fence, const struct chain_calls *cb,
		  struct chain_result *out)
{
	if (!(raw & PREV_INUSE)) {
		/* glibc merges free neighbours, and repeats a free chunk's size after it. */
		if (!(pv->raw & PREV_INUSE) || prev_size_field != pv->size)
			return -EAGAIN;
		out->free_bytes += pv->size;
		out->free_chunks++;
		if (cb && cb->free_chunk)
			cb->free_chunk(cb->ctx, pv->addr, pv->size);
		return 0;
	}
	if (!fence && !(pv->raw & NON_MAIN_ARENA) != h->main)
		return -EAGAIN;
	out->used_bytes += pv->size;
	out->used_chunks++;
	if (pv->link && cb && cb->link)
		cb->link(cb->ctx, pv->addr, pv->raw, pv->stored);
	return 0;
}

int arena_chain_parse(const struct arena_layout *l, const struct chain_heap *h,
		      mem_view_fn view, void *vctx, const struct chain_calls *cb,
		      struct chain_result *out)
{
	struct cursor c = { .view = view, .ctx = vctx, .limit = h->end };
	struct prev pv = { 0 };
	uint64_t p = h->first;
	int err = 0;

	memset(out, 0, sizeof(*out));
	out->reached = p;
	if (p % CHUNK_ALIGN || p >= h->end || h->end - p < 2 * HDR)
		return -EINVAL;
	/* Each step moves on by a whole chunk of at least HDR bytes: the loop ends. */
	for (;;) {
		const uint8_t *b;
		uint64_t raw, size;
		bool fence, top;

		if (h->end - p < HDR)
			return -EAGAIN;
		b = bytes_at(&c, p, HDR, &err);
		if (!b)
			return err;
		raw = arena_u64(b + 8);
		size = raw & ~(uint64_t)SIZE_FLAGS;
		fence = !h->top && raw == PREV_INUSE && p + HDR == h->end;
		top = h->top && size == h->end - p && size >= MIN_CHUNK;
		if (pv.addr) {
			if (settle(h, &pv, raw, arena_u64(b), fence, cb, out))
				return -EAGAIN;
		} else if (!(raw & PREV_INUSE)) {
			return -EAGAIN;		/* nothing precedes a heap's first chunk */
		}
		out->reached = p;
		if (top || fence) {
			/* A free chunk next to top would have merged into it. */
			if (top && (!(raw & PREV_INUSE) || (raw & IS_MMAPPED)))
				return -EAGAIN;
			out->top = top ? p : 0;
			out->top_size = top ? size : 0;
			out->used_bytes += fence ? HDR : 0;
			out->reached = h->end;
			return 0;
		}
		if ((raw & IS_MMAPPED) || size % CHUNK_ALIGN || size > h->end - p - HDR)
			return -EAGAIN;
		/* Chunks are MIN_CHUNK or more, but for the fencepost before an old heap's end. */
		if (size < MIN_CHUNK && !(!h->top && size == HDR && p + 2 * HDR == h->end))
			return -EAGAIN;
		pv = (struct prev){ .addr = p, .size = size, .raw = raw };
		if (size >= MIN_CHUNK && size <= FAST_MAX) {
			uint64_t next;

			b = bytes_at(&c, p + HDR, 8, &err);
			if (!b)
				return err;
			pv.stored = arena_u64(b);
			next = arena_reveal(l, p + HDR, pv.stored);
			pv.link = next % CHUNK_ALIGN == 0;
		}
		p += size;
	}
}
