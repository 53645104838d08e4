// SPDX-License-Identifier: GPL-2.0-only
/* Decodes glibc malloc's arenas, bins, fastbins and tcaches from raw target memory. */
#include "collectors/arena_decode.h"

#include <errno.h>
#include <string.h>

#define CHUNK_ALIGN 16u
#define MIN_CHUNK 32u
#define SIZE_FLAGS 7u
#define NON_MAIN_ARENA 4u
#define PAGE 4096u
/* No chunk of a 64-bit process is this large; anything bigger is garbage. */
#define MAX_CHUNK ((uint64_t)1 << 44)
/* Hops along arena `next` rings and heap `prev` chains that no real process needs. */
#define MAX_RING 4096

int arena_layout_for(unsigned int minor, struct arena_layout *out)
{
	/* 2.26 lacked have_fastchunks: everything after the mutex and flags sits 8 bytes lower. */
	uint32_t shift = minor == 26 ? 8 : 0;

	if (minor < 26 || minor > 42)
		return -ENOTSUP;
	memset(out, 0, sizeof(*out));
	out->glibc_minor = minor;
	out->off_mutex = 0;
	out->off_fastbins = 16 - shift;
	out->off_top = 96 - shift;
	out->off_bins = 112 - shift;
	out->off_next = 2160 - shift;
	out->off_attached = 2176 - shift;
	out->off_system = 2184 - shift;
	out->off_max_system = 2192 - shift;
	out->state_size = 2200 - shift;
	/* 2.35 added heap_info.pagesize; the padding keeps the arena after it aligned. */
	out->heap_info_size = minor >= 35 ? 48 : 32;
	out->hi_ar_ptr = 0;
	out->hi_prev = 8;
	out->hi_size = 16;
	out->safe_linking = minor >= 32;
	/* tcache_perthread_struct: counts[64] (char, then uint16_t from 2.30) + entries[64]. */
	out->tcache_count_width = minor >= 30 ? 2 : 1;
	out->tcache_chunk = minor >= 30 ? 0x290 : 0x250;
	return 0;
}

static int rd(const struct mem_reader *m, uint64_t addr, void *buf, size_t len)
{
	int ret;

	if (addr + len < addr)
		return -EFAULT;
	ret = m->read(m->ctx, addr, buf, len);
	return ret > 0 ? -EFAULT : ret;
}

static int rd64(const struct mem_reader *m, uint64_t addr, uint64_t *v)
{
	return rd(m, addr, v, sizeof(*v));
}

static uint64_t heap_of(uint64_t addr)
{
	return addr & ~(ARENA_HEAP_MAX - 1);
}

static uint64_t bin_at(const struct arena_layout *l, uint64_t arena, unsigned int i)
{
	/* bin i is a fake chunk whose fd/bk overlay bins[2(i-1)] and bins[2(i-1)+1]. */
	return arena + l->off_bins + (uint64_t)(i - 1) * 16 - 16;
}

static uint64_t reveal(const struct arena_layout *l, uint64_t pos, uint64_t stored)
{
	return l->safe_linking ? (pos >> 12) ^ stored : stored;
}

static uint32_t le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static int fixed_from_bytes(const struct arena_layout *l, uint64_t addr, const uint8_t *st,
			    struct arena_fixed *out)
{
	memset(out, 0, sizeof(*out));
	out->addr = addr;
	out->mutex = le32(st + l->off_mutex);
	out->top = arena_u64(st + l->off_top);
	out->next = arena_u64(st + l->off_next);
	out->attached = arena_u64(st + l->off_attached);
	out->system = arena_u64(st + l->off_system);
	out->max_system = arena_u64(st + l->off_max_system);
	if (out->system % PAGE || out->max_system < out->system || out->system > MAX_CHUNK)
		return -EINVAL;
	if (out->next % 8 || out->top % CHUNK_ALIGN || !out->next)
		return -EINVAL;
	return 0;
}

int arena_read_fixed(const struct arena_layout *l, const struct mem_reader *m, uint64_t addr,
		     struct arena_fixed *out)
{
	uint8_t st[ARENA_STATE_MAX];
	uint64_t raw;
	int ret;

	if (l->state_size > sizeof(st) || addr % 8)
		return -EINVAL;
	ret = rd(m, addr, st, l->state_size);
	if (ret)
		return ret;
	ret = fixed_from_bytes(l, addr, st, out);
	if (ret)
		return ret;
	/* An arena that never allocated has the unsorted bin as its top, and no memory. */
	if (out->system == 0)
		return out->top == bin_at(l, addr, 1) || out->top == 0 ? 0 : -EINVAL;
	ret = rd64(m, out->top + 8, &raw);
	if (ret)
		return ret;
	out->top_size = raw & ~(uint64_t)SIZE_FLAGS;
	if (out->top_size > out->system || out->top_size % CHUNK_ALIGN)
		return -EAGAIN;
	return 0;
}

int arena_committed_end(const struct arena_layout *l, const struct mem_reader *m,
			const struct arena_fixed *a, bool is_main, uint64_t sbrk_base,
			uint64_t *end)
{
	uint64_t hsize = 0;
	int ret;

	if (is_main) {
		*end = sbrk_base + a->system;
		return sbrk_base ? 0 : -EINVAL;
	}
	ret = rd64(m, heap_of(a->top) + l->hi_size, &hsize);
	*end = heap_of(a->top) + hsize;
	return ret;
}

int arena_check_top(const struct arena_layout *l, const struct mem_reader *m,
		    const struct arena_fixed *a, bool is_main, uint64_t sbrk_base)
{
	uint64_t end;
	int ret;

	if (a->system == 0)
		return 0;
	ret = arena_committed_end(l, m, a, is_main, sbrk_base, &end);
	if (ret == -EINVAL)
		return -EAGAIN;
	if (ret)
		return ret;
	return a->top + a->top_size == end ? 0 : -EAGAIN;
}

int arena_heaps(const struct arena_layout *l, const struct mem_reader *m,
		const struct arena_fixed *a, uint32_t max_heaps, arena_heap_fn fn, void *ctx)
{
	uint64_t h = heap_of(a->top);
	int n = 0, ret;

	if (a->system == 0)
		return 0;
	while (h) {
		uint64_t hi[3];

		if ((uint32_t)n >= max_heaps || n >= MAX_RING)
			return -E2BIG;
		if (h % ARENA_HEAP_MAX)
			return -EINVAL;
		ret = rd(m, h, hi, sizeof(hi));
		if (ret)
			return ret;
		/* hi[0] ar_ptr, hi[1] prev, hi[2] size: see arena_layout. */
		if (hi[l->hi_ar_ptr / 8] != a->addr || hi[l->hi_size / 8] > ARENA_HEAP_MAX ||
		    hi[l->hi_size / 8] < PAGE || hi[l->hi_size / 8] % PAGE)
			return -EINVAL;
		if (fn)
			fn(ctx, h, hi[l->hi_size / 8]);
		n++;
		h = hi[l->hi_prev / 8];
	}
	return n;
}

/* Brent's cycle detection over a singly linked list, one step at a time. */
struct cycle {
	uint64_t tortoise;
	uint64_t power, steps;
};

static bool cycle_step(struct cycle *c, uint64_t node)
{
	if (node == c->tortoise)
		return true;
	if (++c->steps == c->power) {
		c->tortoise = node;
		c->power *= 2;
		c->steps = 0;
	}
	return false;
}

static void emit(arena_chunk_fn fn, void *ctx, enum free_list where, uint64_t p, uint64_t raw)
{
	if (fn)
		fn(ctx, where, p, raw & ~(uint64_t)SIZE_FLAGS, raw);
}

static int walk_bin(const struct arena_layout *l, const struct mem_reader *m,
		    const struct arena_fixed *a, unsigned int i, uint64_t *budget,
		    uint64_t *room, arena_chunk_fn fn, void *ctx, struct arena_walk_result *out)
{
	uint64_t head = bin_at(l, a->addr, i), links[2], prev = head, p;
	int ret;

	ret = rd(m, head + 16, links, sizeof(links));
	if (ret)
		return ret;
	p = links[0];
	/* A bin that was never initialised (arena without memory) reads as zeros. */
	if (p == 0 && links[1] == 0 && a->system == 0)
		return 0;
	while (p != head) {
		uint64_t c[4];	/* prev_size, size, fd, bk */
		uint64_t size;

		if (*budget == 0)
			return -E2BIG;
		if (p % CHUNK_ALIGN || p == 0)
			return -EAGAIN;
		ret = rd(m, p, c, sizeof(c));
		if (ret)
			return ret == -EFAULT ? -EAGAIN : ret;
		size = c[1] & ~(uint64_t)SIZE_FLAGS;
		/*
		 * Each chunk's bk must name the chunk before it: besides catching a list
		 * being rewritten, this rules out cycles (a revisited chunk would need
		 * two different predecessors).
		 */
		if (c[3] != prev || size < MIN_CHUNK || size % CHUNK_ALIGN || size > *room)
			return -EAGAIN;
		*room -= size;
		(*budget)--;
		out->chunks++;
		out->bin_bytes += size;
		emit(fn, ctx, FREE_BIN, p, c[1]);
		prev = p;
		p = c[2];
	}
	/* The list must close: the head's bk names the last chunk. */
	return links[1] == prev ? 0 : -EAGAIN;
}

static int walk_fastbin(const struct arena_layout *l, const struct mem_reader *m,
			uint64_t head, unsigned int i, uint64_t *budget, uint64_t *room,
			arena_chunk_fn fn, void *ctx, struct arena_walk_result *out)
{
	struct cycle cy = { .tortoise = 0, .power = 1, .steps = 0 };
	uint64_t want = MIN_CHUNK + 16u * i, p = head;
	int ret;

	while (p) {
		uint64_t c[3];	/* prev_size, size, fd */

		if (*budget == 0)
			return -E2BIG;
		if (p % CHUNK_ALIGN)
			return -EAGAIN;
		if (cycle_step(&cy, p))
			return -ELOOP;
		ret = rd(m, p, c, sizeof(c));
		if (ret)
			return ret == -EFAULT ? -EAGAIN : ret;
		if ((c[1] & ~(uint64_t)SIZE_FLAGS) != want || want > *room)
			return -EAGAIN;
		*room -= want;
		(*budget)--;
		out->chunks++;
		out->fast_bytes += want;
		emit(fn, ctx, FREE_FAST, p, c[1]);
		p = reveal(l, p + 16, c[2]);
	}
	return 0;
}

int arena_walk_bins(const struct arena_layout *l, const struct mem_reader *m,
		    const struct arena_fixed *a, uint64_t *budget, arena_chunk_fn fn, void *ctx,
		    struct arena_walk_result *out)
{
	/*
	 * Free chunks and top are disjoint parts of the arena's memory: lists that
	 * hold more than the rest of it are garbage (or a chunk is on two lists).
	 */
	uint64_t fast[ARENA_NFASTBINS], room = 0;
	unsigned int i;
	int ret;

	if (a->system > a->top_size)
		room = a->system - a->top_size;
	ret = rd(m, a->addr + l->off_fastbins, fast, sizeof(fast));
	for (i = 0; !ret && i < ARENA_NFASTBINS; i++)
		ret = walk_fastbin(l, m, fast[i], i, budget, &room, fn, ctx, out);
	for (i = 1; !ret && i < ARENA_NBINS; i++)
		ret = walk_bin(l, m, a, i, budget, &room, fn, ctx, out);
	if (ret && !out->error)
		out->error = ret;
	return ret;
}

static int tcache_read(const struct arena_layout *l, const struct mem_reader *m, uint64_t user,
		       uint16_t *counts, uint64_t *entries)
{
	uint8_t raw[ARENA_TCACHE_BINS * 2];
	uint64_t hdr;
	unsigned int i;
	uint32_t ncount = ARENA_TCACHE_BINS * l->tcache_count_width;
	int ret;

	if (!l->tcache_chunk || !user || user % CHUNK_ALIGN)
		return -EINVAL;
	ret = rd64(m, user - 8, &hdr);
	if (ret)
		return ret;
	if ((hdr & ~(uint64_t)SIZE_FLAGS) != l->tcache_chunk)
		return -EINVAL;
	ret = rd(m, user, raw, ncount);
	if (!ret)
		ret = rd(m, user + ncount, entries, ARENA_TCACHE_BINS * sizeof(uint64_t));
	if (ret)
		return ret;
	for (i = 0; i < ARENA_TCACHE_BINS; i++)
		counts[i] = l->tcache_count_width == 2
				    ? (uint16_t)(raw[2 * i] | (uint16_t)raw[2 * i + 1] << 8)
				    : raw[i];
	return 0;
}

int arena_tcache_check(const struct arena_layout *l, const struct mem_reader *m, uint64_t user)
{
	uint16_t counts[ARENA_TCACHE_BINS];
	uint64_t entries[ARENA_TCACHE_BINS];
	unsigned int i;
	int ret = tcache_read(l, m, user, counts, entries);

	if (ret)
		return ret;
	for (i = 0; i < ARENA_TCACHE_BINS; i++)
		if ((counts[i] == 0) != (entries[i] == 0) || entries[i] % CHUNK_ALIGN)
			return -EINVAL;
	return 0;
}

int arena_walk_tcache(const struct arena_layout *l, const struct mem_reader *m, uint64_t user,
		      uint64_t *budget, arena_chunk_fn fn, void *ctx,
		      struct arena_walk_result *out)
{
	uint16_t counts[ARENA_TCACHE_BINS];
	uint64_t entries[ARENA_TCACHE_BINS];
	unsigned int i;
	int ret = tcache_read(l, m, user, counts, entries);

	for (i = 0; !ret && i < ARENA_TCACHE_BINS; i++) {
		struct cycle cy = { .tortoise = 0, .power = 1, .steps = 0 };
		uint64_t want = MIN_CHUNK + 16u * i, e = entries[i];
		uint32_t n;

		/* A list longer than its count is being rewritten; the count bounds the walk. */
		for (n = 0; e && n < counts[i]; n++) {
			uint64_t c[3];	/* prev_size, size, next (the entry starts at c[2]) */

			if (*budget == 0) {
				ret = -E2BIG;
				break;
			}
			if (e % CHUNK_ALIGN || cycle_step(&cy, e)) {
				ret = e % CHUNK_ALIGN ? -EAGAIN : -ELOOP;
				break;
			}
			ret = rd(m, e - 16, c, sizeof(c));
			/* As in the bins: an unmapped link is torn, a deadline or exit is not. */
			if (ret || (c[1] & ~(uint64_t)SIZE_FLAGS) != want) {
				ret = ret && ret != -EFAULT ? ret : -EAGAIN;
				break;
			}
			(*budget)--;
			out->chunks++;
			out->tcache_bytes += want;
			emit(fn, ctx, FREE_TCACHE, e - 16, c[1]);
			e = reveal(l, e, c[2]);
		}
	}
	if (ret && !out->error)
		out->error = ret;
	return ret;
}

int arena_owner(const struct arena_layout *l, const struct mem_reader *m, uint64_t chunk,
		uint64_t raw_size, uint64_t main_arena, uint64_t *arena)
{
	if (!(raw_size & NON_MAIN_ARENA)) {
		*arena = main_arena;
		return 0;
	}
	return rd64(m, heap_of(chunk) + l->hi_ar_ptr, arena);
}

/* A non-main arena sits right after the heap_info of the heap that created it. */
static bool is_heap_arena(const struct arena_layout *l, uint64_t a)
{
	return (a & (ARENA_HEAP_MAX - 1)) == l->heap_info_size;
}

int arena_is_main(const struct arena_layout *l, const struct mem_reader *m, uint64_t addr,
		  const uint8_t *state, uint64_t heap_lo, uint64_t heap_hi, uint32_t max_arenas)
{
	struct arena_fixed fx;
	uint64_t a;
	unsigned int i, self = 0;

	if (fixed_from_bytes(l, addr, state, &fx) || fx.system == 0)
		return 0;
	if (fx.top < heap_lo || fx.top >= heap_hi || fx.system > heap_hi - heap_lo)
		return 0;
	if (fx.attached > (1u << 24) || fx.mutex > 2)
		return 0;
	for (i = 1; i < ARENA_NBINS; i++) {
		uint64_t b = bin_at(l, addr, i);
		const uint8_t *lk = state + l->off_bins + (size_t)(i - 1) * 16;
		uint64_t fd = arena_u64(lk), bk = arena_u64(lk + 8);

		if (fd == b && bk == b)
			self++;
		else if (fd == b || bk == b || fd % CHUNK_ALIGN || bk % CHUNK_ALIGN || !fd || !bk)
			return 0;
	}
	/* Empty bins pointing at themselves encode the candidate's own address. */
	if (self < 4)
		return 0;
	a = fx.next;
	for (i = 0; a != addr; i++) {
		if (i >= max_arenas || i >= MAX_RING || !is_heap_arena(l, a))
			return 0;
		if (rd64(m, a + l->off_next, &a))
			return 0;
	}
	return 1;
}
