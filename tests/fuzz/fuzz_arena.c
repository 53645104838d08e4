// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz harness: the glibc arena decoder on sparse memory images, read as the arena reader reads. */
#include "collectors/arena.h"
#include "collectors/arena_chain.h"
#include "collectors/arena_decode.h"
#include "collectors/arena_locate.h"
#include "fuzz_image.h"

/*
 * Input (little-endian), a memory image and what the reader knows about it:
 *   0  u8   glibc 2.(26 + b % 17); b / 17: bit 0 reads lists piece by piece (no
 *           readv), bits 1-3 K: fastbin nodes read "frozen" before the rest is
 *           followed through the heap parse, ARENA_FAST_FROZEN_LEVELS when 0, else K - 1
 *   1  u8   bit 0: mp_.sbrk_base unknown; bits 1-3: number of thread `tcache` pointers;
 *           bits 4-7: N, when not 0 the node budget is 8N, as left for the last lists
 *           walked when the others used up the reader's budget
 *   2  u16  reads that succeed before every read fails with -ETIMEDOUT, as past a
 *           deadline (0: never)
 *   4  u64  main_arena; 12 u64 [heap] start (mp_.sbrk_base); 20 u64 [heap] end
 *   28 u64  each thread's `tcache` pointer
 * then segments to the end of the input: u64 address, u32 length, the bytes (the last
 * one may be cut short); see fuzz_image.h. Seeds are real arena memory
 * (make_seeds.py), so the pointers in them resolve.
 *
 * The harness reads as collectors/arena.c does: the arena ring and each
 * arena's heaps, the first nodes of every fastbin and every tcache (batched),
 * each heap's chain of chunks, then the rest of each fastbin through the
 * chunks the parse saw. With FUZZ_ARENA_TRACE=FILE (replay driver only), every
 * byte read and the figures of each arena are written to FILE: make_seeds.py
 * cuts images down to the bytes read and checks that the cut image decodes
 * the same.
 */

#define HEADER 28
#define MAX_TCACHES 7
#define MAX_RANGES 4096
#define MAX_LINKS 65536
#define MIN_CHUNK 32u
#define PAGE 4096u

struct range {
	uint64_t lo, hi;
	uint64_t first;		/* the main arena's first chunk; 0: from the heap's start */
};

/* One arena as the reader sees it during a read. */
struct seen {
	struct arena_fixed fx;
	struct range *ranges;	/* in the pool */
	size_t nranges;
	int heaps;
	struct arena_list fast[ARENA_NFASTBINS];
	uint64_t tcache, bins, fastb;
	bool complete;
};

struct link {
	uint64_t chunk, raw, stored;
};

static struct {
	unsigned int minor;
	bool sbrk_unknown, readv;
	uint32_t levels;
	uint64_t main_arena, heap_lo, heap_hi, budget;
	uint64_t tcaches[MAX_TCACHES];
	unsigned int ntcaches;
} in;
static struct seen seen[ARENA_MAX_ARENAS];
static struct range pool[MAX_RANGES];
static size_t npool;
static struct link links[MAX_LINKS];
static size_t nlinks;
static bool links_full;

static void input_parse(const uint8_t *data, size_t size)
{
	size_t off = HEADER, i;
	unsigned int k = (unsigned int)(data[0] / 17) >> 1;

	in.minor = 26 + data[0] % 17;
	in.readv = !((data[0] / 17) & 1);
	in.levels = k ? k - 1 : ARENA_FAST_FROZEN_LEVELS;
	in.sbrk_unknown = data[1] & 1;
	in.ntcaches = (data[1] >> 1) & 7;
	in.budget = data[1] >> 4 ? 8u * (data[1] >> 4) : ARENA_MAX_CHUNKS;
	im.fail_after = (uint32_t)data[2] | (uint32_t)data[3] << 8;
	in.main_arena = arena_u64(data + 4);
	in.heap_lo = arena_u64(data + 12);
	in.heap_hi = arena_u64(data + 20);
	for (i = 0; i < in.ntcaches && off + 8 <= size; i++, off += 8)
		in.tcaches[i] = arena_u64(data + off);
	in.ntcaches = (unsigned int)i;
	image_segments(data, size, off);
	npool = 0;
}

static void check_layout(const struct arena_layout *l, const uint8_t *data)
{
	struct arena_layout other;
	int ret = arena_layout_for(data[0], &other);

	FUZZ_CHECK(ret == ((data[0] >= 26 && data[0] <= 42) ? 0 : -ENOTSUP));
	FUZZ_CHECK(l->glibc_minor == in.minor);
	FUZZ_CHECK(l->state_size <= ARENA_STATE_MAX && l->off_system + 8 <= l->state_size);
	FUZZ_CHECK(l->off_bins + (ARENA_NBINS - 1) * 16 <= l->off_next);
	FUZZ_CHECK(l->off_top + 8 <= l->off_bins && l->hi_size + 8 <= l->heap_info_size);
}

/* What arena_read_fixed promises about an arena it accepted. */
static void check_fixed(int ret, const struct arena_fixed *fx, uint64_t addr)
{
	/* -EAGAIN: an arena whose top chunk's size is not sane (a thread moving top). */
	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -EAGAIN || read_error(ret));
	if (ret)
		return;
	FUZZ_CHECK(fx->addr == addr && fx->next && fx->next % 8 == 0 && fx->top % 16 == 0);
	FUZZ_CHECK(fx->system % PAGE == 0 && fx->max_system >= fx->system);
	FUZZ_CHECK(fx->top_size <= fx->system && fx->top_size % 16 == 0);
}

static void add_range(struct seen *s, uint64_t lo, uint64_t hi, uint64_t first)
{
	if (npool >= MAX_RANGES || hi <= lo)
		return;
	if (!s->ranges)
		s->ranges = &pool[npool];
	pool[npool++] = (struct range){ lo, hi, first };
	s->nranges++;
}

static void on_heap(void *ctx, uint64_t start, uint64_t size)
{
	struct seen *s = ctx;

	FUZZ_CHECK(start && start % ARENA_HEAP_SIZE == 0);
	FUZZ_CHECK(size >= PAGE && size <= ARENA_HEAP_SIZE && size % PAGE == 0);
	/* The newest heap holds top, and arena_check_top found top ending where it ends. */
	if (s->nranges == 0)
		FUZZ_CHECK(start == (s->fx.top & ~(ARENA_HEAP_SIZE - 1)) &&
			   s->fx.top + s->fx.top_size == start + size);
	add_range(s, start, start + size, 0);
}

static int check_heaps(const struct arena_layout *l, const struct mem_reader *m, struct seen *s)
{
	struct call c = call_begin();
	size_t before = s->nranges;
	int n = arena_heaps(l, m, &s->fx, ARENA_MAX_HEAPS, on_heap, s);

	call_end(c, n >= 0, n);
	if (n >= 0)
		FUZZ_CHECK((npool == MAX_RANGES || (size_t)n == s->nranges - before) &&
			   n <= (int)ARENA_MAX_HEAPS &&
			   (n > 0 || s->fx.system == 0 || s->fx.top < ARENA_HEAP_SIZE));
	else
		FUZZ_CHECK(n == -EINVAL || n == -E2BIG || read_error(n));
	return n;
}

static bool seen_before(uint64_t addr, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (seen[i].fx.addr == addr)
			return true;
	return false;
}

/* Follows `next` from main_arena as the reader does; returns the number of arenas read. */
static size_t list_arenas(const struct arena_layout *l, const struct mem_reader *m,
			  uint64_t sbrk)
{
	uint64_t addr = in.main_arena;
	size_t n = 0;

	do {
		struct seen *s = &seen[n];
		uint64_t base = sbrk, len;
		struct call c;
		int ret;

		if (seen_before(addr, n))
			break;
		memset(s, 0, sizeof(*s));
		c = call_begin();
		ret = arena_read_fixed(l, m, addr, &s->fx);
		call_end(c, ret == 0, ret);
		check_fixed(ret, &s->fx, addr);
		if (ret)
			break;
		if (n == 0 && !base)
			base = s->fx.top + s->fx.top_size - s->fx.system;
		c = call_begin();
		ret = arena_check_top(l, m, &s->fx, n == 0, base);
		call_end(c, ret == 0, ret);
		FUZZ_CHECK(ret == 0 || ret == -EAGAIN || read_error(ret));
		if (ret)
			break;
		if (n == 0 && s->fx.system) {
			FUZZ_CHECK(s->fx.top + s->fx.top_size == base + s->fx.system);
			/* As the reader does: no more than the process maps. */
			len = s->fx.system;
			if (in.heap_hi > in.heap_lo && len > in.heap_hi - in.heap_lo)
				len = in.heap_hi - in.heap_lo;
			add_range(s, (s->fx.top + s->fx.top_size - len) & ~(uint64_t)(PAGE - 1),
				  s->fx.top + s->fx.top_size,
				  arena_heap_first(l, s->fx.top + s->fx.top_size - len, addr, true));
		}
		if (n > 0)
			s->heaps = check_heaps(l, m, s);
		arena_fastbin_lists(l, &s->fx, s->fast);
		addr = s->fx.next;
		n++;
	} while (addr != in.main_arena && n < ARENA_MAX_ARENAS);
	return n;
}

static bool in_ranges(const struct seen *s, uint64_t p)
{
	size_t j;

	for (j = 0; j < s->nranges; j++)
		if (p >= s->ranges[j].lo && p < s->ranges[j].hi)
			return true;
	return false;
}

static struct seen *owner_of(size_t n, uint64_t p)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (in_ranges(&seen[i], p))
			return &seen[i];
	return NULL;
}

struct chunk_sum {
	size_t nseen;
	uint64_t bytes, chunks;
};

static void on_chunk(void *ctx, enum free_list where, uint64_t chunk, uint64_t size, uint64_t raw)
{
	struct chunk_sum *c = ctx;
	struct seen *owner;

	FUZZ_CHECK(chunk % 16 == 0 && size == (raw & ~(uint64_t)7) && size >= MIN_CHUNK);
	FUZZ_CHECK(where == FREE_TCACHE ? size < MIN_CHUNK + 16 * ARENA_TCACHE_BINS
					: size < MIN_CHUNK + 16 * ARENA_NFASTBINS);
	c->bytes += size;
	c->chunks++;
	/* A thread caches chunks of whichever arena they came from. */
	owner = (raw & 4) ? owner_of(c->nseen, chunk) : c->nseen ? &seen[0] : NULL;
	if (where == FREE_TCACHE && owner)
		owner->tcache += size;
}

static bool list_error(int e)
{
	return e == 0 || e == -EAGAIN || e == -ELOOP || e == -E2BIG || read_error(e);
}

/* Walks lists as the reader does while the target is frozen; checks what they report. */
static void walk(const struct arena_layout *l, const struct mem_reader *m,
		 struct arena_list *lists, size_t n, uint32_t levels, size_t nseen, uint64_t *budget)
{
	struct chunk_sum c = { .nseen = nseen };
	uint64_t before = *budget, bytes = 0, chunks = 0;
	struct call call = call_begin();
	size_t i;
	int ret = arena_lists_walk(l, m, lists, n, levels, budget, on_chunk, &c);

	call_end(call, false, ret);
	FUZZ_CHECK(ret == 0 || ret == INJECTED);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(list_error(lists[i].error) && lists[i].bytes == lists[i].chunks * lists[i].want);
		bytes += lists[i].bytes;
		chunks += lists[i].chunks;
	}
	FUZZ_CHECK(c.bytes == bytes && c.chunks == chunks && before - *budget == chunks);
}

static void walk_lists(const struct arena_layout *l, const struct mem_reader *m, size_t n,
		       uint64_t *budget)
{
	static struct arena_list lists[ARENA_TCACHE_BINS * MAX_TCACHES];
	size_t i, k, nl = 0;

	for (i = 0; i < n; i++)
		walk(l, m, seen[i].fast, ARENA_NFASTBINS, in.levels, n, budget);
	for (i = 0; l->tcache_chunk && i < in.ntcaches; i++) {
		struct call call = call_begin();
		int ret = arena_tcache_check(l, m, in.tcaches[i]);

		call_end(call, ret == 0, ret);
		FUZZ_CHECK(ret == 0 || ret == -EINVAL || read_error(ret));
		if (im.trace)
			fprintf(im.trace, "tcache %llx %d\n", (unsigned long long)in.tcaches[i], ret);
		if (ret || arena_tcache_lists(l, m, in.tcaches[i], lists + nl))
			continue;
		for (k = 0; k < ARENA_TCACHE_BINS; k++)
			FUZZ_CHECK(!lists[nl + k].node == !lists[nl + k].left);
		nl += ARENA_TCACHE_BINS;
	}
	walk(l, m, lists, nl, UINT32_MAX, n, budget);
}

struct parse_sum {
	struct seen *s;
	uint64_t first, end, free, nfree;
	const struct arena_layout *l;
};

static void on_free(void *ctx, uint64_t chunk, uint64_t size)
{
	struct parse_sum *ps = ctx;

	FUZZ_CHECK(chunk >= ps->first && chunk % 16 == 0 && size >= MIN_CHUNK && size % 16 == 0);
	FUZZ_CHECK(size <= ps->end - chunk);
	ps->free += size;
	ps->nfree++;
}

static void on_link(void *ctx, uint64_t chunk, uint64_t raw, uint64_t stored)
{
	struct parse_sum *ps = ctx;
	uint64_t next = arena_reveal(ps->l, chunk + 16, stored), size = raw & ~(uint64_t)7;

	FUZZ_CHECK(chunk >= ps->first && chunk < ps->end && size >= MIN_CHUNK &&
		   size < MIN_CHUNK + 16 * ARENA_NFASTBINS && next % 16 == 0);
	/* As the reader does: a fastbin links chunks of its own arena. */
	if (next && !in_ranges(ps->s, next))
		return;
	if (nlinks == MAX_LINKS) {
		links_full = true;
		return;
	}
	links[nlinks++] = (struct link){ chunk, raw, stored };
}

static void parse_heap(const struct arena_layout *l, struct seen *s, const struct range *g)
{
	struct parse_sum ps = { .s = s, .l = l };
	struct chain_calls cb = { on_free, on_link, &ps };
	struct chain_heap h = { .end = g->hi, .main = s == &seen[0],
				.top = s->fx.top >= g->lo && s->fx.top < g->hi };
	struct chain_result res;
	struct call call;
	int ret;

	h.first = g->first ? g->first : arena_heap_first(l, g->lo, s->fx.addr, h.main);
	ps.first = h.first;
	ps.end = h.end;
	call = call_begin();
	ret = arena_chain_parse(l, &h, image_view, NULL, &cb, &res);
	call_end(call, ret == 0, ret);
	FUZZ_CHECK(ret == 0 || ret == -EAGAIN || ret == -EINVAL || read_error(ret));
	FUZZ_CHECK(ps.free == res.free_bytes && ps.nfree == res.free_chunks);
	if (ret == 0) {
		/* Every byte of the heap is in exactly one chunk. */
		FUZZ_CHECK(res.free_bytes + res.used_bytes + res.top_size == h.end - h.first);
		FUZZ_CHECK(res.reached == h.end && !res.top_size == !h.top);
		FUZZ_CHECK(!h.top || (res.top + res.top_size == h.end && res.top_size >= MIN_CHUNK));
	} else if (ret != -EINVAL) {
		FUZZ_CHECK(res.reached >= h.first && res.reached <= h.end);
		FUZZ_CHECK(res.free_bytes + res.used_bytes <= res.reached - h.first);
	}
	s->bins += res.free_bytes;
	s->complete = s->complete && ret == 0;
}

static int link_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct link *)a)->chunk, y = ((const struct link *)b)->chunk;

	return x < y ? -1 : x > y;
}

static int lookup(void *ctx, uint64_t chunk, uint64_t *raw, uint64_t *stored)
{
	struct link key = { .chunk = chunk }, *k = bsearch(&key, links, nlinks, sizeof(key), link_cmp);

	(void)ctx;
	if (!k)
		return 0;
	*raw = k->raw;
	*stored = k->stored;
	return 1;
}

/* Parses an arena's heaps, then follows the rest of its fastbins through what they held. */
static void parse_arena(const struct arena_layout *l, struct seen *s, uint64_t *budget)
{
	size_t i;

	nlinks = 0;
	links_full = false;
	s->complete = true;
	for (i = 0; i < s->nranges; i++)
		parse_heap(l, s, &s->ranges[i]);
	qsort(links, nlinks, sizeof(links[0]), link_cmp);
	for (i = 0; i < ARENA_NFASTBINS; i++) {
		struct arena_list *x = &s->fast[i];
		uint64_t before = *budget, chunks = x->chunks;
		int ret = arena_list_follow(l, x, lookup, NULL, budget, NULL, NULL);

		FUZZ_CHECK(ret == x->error && list_error(ret) && !ret == !x->node);
		FUZZ_CHECK(x->bytes == x->chunks * x->want && before - *budget == x->chunks - chunks);
		s->fastb += x->bytes;
		s->complete = s->complete && ret == 0;
	}
}

/* The scan that finds main_arena without debug info, around the given address. */
static void check_is_main(const struct arena_layout *l, const struct mem_reader *m)
{
	uint8_t state[ARENA_STATE_MAX];
	int k;

	for (k = -4; k <= 4; k++) {
		uint64_t addr = in.main_arena + (uint64_t)(int64_t)(k * 8);
		uint64_t top, system;
		struct call call;
		int ret;

		if (image_read(NULL, addr, state, l->state_size))
			continue;
		/* A yes-or-no answer: a failed read is a no. */
		call = call_begin();
		ret = arena_is_main(l, m, addr, state, in.heap_lo, in.heap_hi,
				    ARENA_LOCATE_MAX_ARENAS);
		call_end(call, ret == 1, INJECTED);
		FUZZ_CHECK(ret == 0 || ret == 1);
		if (im.trace && k == 0)
			fprintf(im.trace, "is_main %d\n", ret);
		if (!ret)
			continue;
		top = arena_u64(state + l->off_top);
		system = arena_u64(state + l->off_system);
		FUZZ_CHECK(top >= in.heap_lo && top < in.heap_hi && system && system % PAGE == 0);
	}
}

static void trace_open(void)
{
	static bool tried;
	const char *path;

	if (tried)
		return;
	tried = true;
	path = getenv("FUZZ_ARENA_TRACE");
	if (path && !(im.trace = fopen(path, "w")))
		abort();
	im.tiny_views = im.trace != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mem_reader m = { image_read, NULL, NULL };
	struct arena_layout l;
	uint64_t budget, sbrk;
	size_t n, i;

	if (size < HEADER)
		return 0;
	trace_open();
	input_parse(data, size);
	if (in.readv)
		m.readv = image_readv;
	budget = in.budget;
	FUZZ_CHECK(arena_layout_for(in.minor, &l) == 0);
	check_layout(&l, data);
	sbrk = in.sbrk_unknown ? 0 : in.heap_lo;
	n = list_arenas(&l, &m, sbrk);
	walk_lists(&l, &m, n, &budget);
	for (i = 0; i < n; i++)
		parse_arena(&l, &seen[i], &budget);
	check_is_main(&l, &m);
	for (i = 0; im.trace && i < n; i++)
		fprintf(im.trace, "arena %llx system %llu top %llu heaps %zu complete %d bins %llu "
			"fast %llu tcache %llu\n", (unsigned long long)seen[i].fx.addr,
			(unsigned long long)seen[i].fx.system,
			(unsigned long long)seen[i].fx.top_size, seen[i].nranges, seen[i].complete,
			(unsigned long long)seen[i].bins, (unsigned long long)seen[i].fastb,
			(unsigned long long)seen[i].tcache);
	if (im.trace)
		fflush(im.trace);
	return 0;
}
