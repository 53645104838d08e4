// SPDX-License-Identifier: GPL-2.0-only
/* Decodes glibc malloc's arenas, bins, fastbins and tcaches from raw target memory. */
#include "collectors/arena_decode.h"

#include <errno.h>
#include <string.h>

#define CHUNK_ALIGN 16u
#define MIN_CHUNK 32u
#define SIZE_FLAGS 7u
#define IS_MMAPPED 2u
#define PAGE 4096u
/* Nodes read per batch: one system call's worth. */
#define BATCH 256u
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
	return addr & ~(ARENA_HEAP_SIZE - 1);
}

static uint64_t bin_at(const struct arena_layout *l, uint64_t arena, unsigned int i)
{
	/* bin i is a fake chunk whose fd/bk overlay bins[2(i-1)] and bins[2(i-1)+1]. */
	return arena + l->off_bins + (uint64_t)(i - 1) * 16 - 16;
}

uint64_t arena_reveal(const struct arena_layout *l, uint64_t pos, uint64_t stored)
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
	memcpy(out->fastbins, st + l->off_fastbins, sizeof(out->fastbins));
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
		if (h % ARENA_HEAP_SIZE)
			return -EINVAL;
		ret = rd(m, h, hi, sizeof(hi));
		if (ret)
			return ret;
		/* hi[0] ar_ptr, hi[1] prev, hi[2] size: see arena_layout. */
		if (hi[l->hi_ar_ptr / 8] != a->addr || hi[l->hi_size / 8] > ARENA_HEAP_SIZE ||
		    hi[l->hi_size / 8] < PAGE || hi[l->hi_size / 8] % PAGE)
			return -EINVAL;
		if (fn)
			fn(ctx, h, hi[l->hi_size / 8]);
		n++;
		h = hi[l->hi_prev / 8];
	}
	return n;
}

/* Brent's cycle detection over a list, one step at a time: true when `node` was seen. */
static bool cycle_step(struct arena_list *x, uint64_t node)
{
	if (node == x->tortoise)
		return true;
	if (++x->steps == x->power) {
		x->tortoise = node;
		x->power *= 2;
		x->steps = 0;
	}
	return false;
}

static void list_init(struct arena_list *x, uint64_t node, unsigned int bin, uint32_t left,
		      bool tcache)
{
	memset(x, 0, sizeof(*x));
	x->node = node;
	x->want = MIN_CHUNK + 16u * bin;
	x->left = left;
	x->tcache = tcache;
	x->power = 1;
}

void arena_fastbin_lists(const struct arena_layout *l, const struct arena_fixed *a,
			 struct arena_list out[ARENA_NFASTBINS])
{
	unsigned int i;

	(void)l;
	for (i = 0; i < ARENA_NFASTBINS; i++)
		list_init(&out[i], a->fastbins[i], i, UINT32_MAX, false);
}

/* Whether the next node of `x` may be read: 0, or why the list stops here. */
static int list_check(struct arena_list *x)
{
	if (x->node % CHUNK_ALIGN)
		return -EAGAIN;
	return cycle_step(x, x->node) ? -ELOOP : 0;
}

/*
 * Takes the node of `x` whose size field is `raw` and whose link is `stored`,
 * and moves to the next one. Returns 0, or why the list stops at this node.
 */
static int list_visit(const struct arena_layout *l, struct arena_list *x, uint64_t raw,
		      uint64_t stored, uint64_t *budget, arena_chunk_fn fn, void *ctx)
{
	uint64_t next;

	if ((raw & ~(uint64_t)SIZE_FLAGS) != x->want || (raw & IS_MMAPPED))
		return -EAGAIN;
	if (*budget == 0)
		return -E2BIG;
	(*budget)--;
	x->chunks++;
	x->bytes += x->want;
	if (fn)
		fn(ctx, x->tcache ? FREE_TCACHE : FREE_FAST, x->node, x->want, raw);
	next = arena_reveal(l, x->node + 16, stored);
	/* A tcache link names the next chunk's user memory, 16 bytes into it. */
	if (x->tcache && next)
		next -= 16;
	if (x->left != UINT32_MAX)
		x->left--;
	/* A list longer than its count is being rewritten; the count bounds the walk. */
	x->node = x->left ? next : 0;
	return 0;
}

/*
 * Reads a batch of nodes, marking in ok[] the ones read whole. Returns 0, or
 * the error that ends the read (anything but unreadable memory).
 */
static int read_batch(const struct mem_reader *m, struct mem_piece *p, size_t n, bool *ok)
{
	size_t i = 0;

	while (i < n) {
		long got;

		if (m->readv) {
			got = m->readv(m->ctx, p + i, n - i);
			if (got < 0)
				return (int)got;
			if ((size_t)got > n - i)
				got = (long)(n - i);
		} else {
			int ret = p[i].addr + p[i].len < p[i].addr ? -EFAULT
				  : m->read(m->ctx, p[i].addr, p[i].buf, p[i].len);

			if (ret < 0 && ret != -EFAULT)
				return ret;
			got = ret == 0;
		}
		while (got-- > 0)
			ok[i++] = true;
		if (i < n)
			ok[i++] = false;
	}
	return 0;
}

int arena_lists_walk(const struct arena_layout *l, const struct mem_reader *m,
		     struct arena_list *lists, size_t n, uint32_t levels, uint64_t *budget,
		     arena_chunk_fn fn, void *ctx)
{
	struct mem_piece pieces[BATCH];
	uint64_t words[BATCH][3];	/* prev_size, size, link */
	size_t at[BATCH];
	bool ok[BATCH];
	uint32_t level;

	for (level = 0; level < levels; level++) {
		size_t i = 0, visited = 0;

		while (i < n) {
			size_t k = 0, j;
			int ret;

			for (; i < n && k < BATCH; i++) {
				struct arena_list *x = &lists[i];

				if (!x->node || x->error)
					continue;
				if ((x->error = list_check(x)))
					continue;
				pieces[k] = (struct mem_piece){ x->node, words[k], sizeof(words[k]) };
				at[k++] = i;
			}
			ret = read_batch(m, pieces, k, ok);
			if (ret)
				return ret;
			for (j = 0; j < k; j++) {
				struct arena_list *x = &lists[at[j]];

				/* An unreadable node is a link torn by a writer, or garbage. */
				x->error = ok[j] ? list_visit(l, x, words[j][1], words[j][2], budget,
							      fn, ctx)
						 : -EAGAIN;
			}
			visited += k;
		}
		if (!visited)
			break;
	}
	return 0;
}

int arena_list_follow(const struct arena_layout *l, struct arena_list *x, arena_lookup_fn look,
		      void *lctx, uint64_t *budget, arena_chunk_fn fn, void *ctx)
{
	while (x->node && !x->error) {
		uint64_t raw, stored;
		int ret = list_check(x);

		if (!ret) {
			ret = look(lctx, x->node, &raw, &stored);
			ret = ret < 0 ? ret : ret == 0 ? -EAGAIN : list_visit(l, x, raw, stored,
									      budget, fn, ctx);
		}
		x->error = ret;
	}
	return x->error;
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
	for (i = 0; i < ARENA_TCACHE_BINS; i++) {
		counts[i] = l->tcache_count_width == 2
				    ? (uint16_t)(raw[2 * i] | (uint16_t)raw[2 * i + 1] << 8)
				    : raw[i];
		/* An entry is a chunk's user memory, 16 bytes into it: no chunk is at 0. */
		if ((counts[i] == 0) != (entries[i] == 0) || entries[i] % CHUNK_ALIGN ||
		    entries[i] == 16)
			return -EINVAL;
	}
	return 0;
}

int arena_tcache_check(const struct arena_layout *l, const struct mem_reader *m, uint64_t user)
{
	uint16_t counts[ARENA_TCACHE_BINS];
	uint64_t entries[ARENA_TCACHE_BINS];

	return tcache_read(l, m, user, counts, entries);
}

int arena_tcache_lists(const struct arena_layout *l, const struct mem_reader *m, uint64_t user,
		       struct arena_list out[ARENA_TCACHE_BINS])
{
	uint16_t counts[ARENA_TCACHE_BINS];
	uint64_t entries[ARENA_TCACHE_BINS];
	unsigned int i;
	int ret = tcache_read(l, m, user, counts, entries);

	if (ret)
		return ret;
	/* An entry points at the chunk's user memory: the chunk starts 16 bytes lower. */
	for (i = 0; i < ARENA_TCACHE_BINS; i++)
		list_init(&out[i], entries[i] ? entries[i] - 16 : 0, i, counts[i], true);
	return 0;
}

/* A non-main arena sits right after the heap_info of the heap that created it. */
static bool is_heap_arena(const struct arena_layout *l, uint64_t a)
{
	return (a & (ARENA_HEAP_SIZE - 1)) == l->heap_info_size;
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
