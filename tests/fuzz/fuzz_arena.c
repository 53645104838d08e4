// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz harness: the glibc arena decoder on sparse memory images, walked as the reader walks. */
#include "collectors/arena.h"
#include "collectors/arena_decode.h"
#include "collectors/arena_locate.h"
#include "fuzz_common.h"

#include <errno.h>

/*
 * Input (little-endian), a memory image and what the reader knows about it:
 *   0  u8   glibc 2.(26 + b % 17)
 *   1  u8   bit 0: mp_.sbrk_base unknown; bits 1-3: number of thread `tcache` pointers;
 *           bits 4-7: N, when not 0 the chunk budget is 8N, as left for the last lists
 *           walked when the others used up the reader's budget
 *   2  u16  reads that succeed before every read fails with -ETIMEDOUT, as past a freeze
 *           deadline (0: never)
 *   4  u64  main_arena; 12 u64 [heap] start (mp_.sbrk_base); 20 u64 [heap] end
 *   28 u64  each thread's `tcache` pointer
 * then segments to the end of the input: u64 address, u32 length, the bytes (the last
 * one may be cut short). Reads outside every segment fail with -EFAULT, as
 * process_vm_readv fails on unmapped memory; where segments overlap, the one
 * starting lower (or listed first) serves the bytes. Seeds are real arena
 * memory (make_seeds.py), so the pointers in them resolve.
 *
 * With FUZZ_ARENA_TRACE=FILE (replay driver only), every successful read and the
 * figures of each arena are written to FILE: make_seeds.py cuts images down to the
 * bytes the walk reads and checks that the cut image decodes the same.
 */

#define HEADER 28
#define SEG_HEADER 12
#define MAX_SEGMENTS 1024
#define MAX_TCACHES 7
#define INJECTED (-ETIMEDOUT)
#define MIN_CHUNK 32u
#define PAGE 4096u

struct segment {
	uint64_t addr;
	const uint8_t *bytes;
	size_t len;
	size_t order;		/* place in the input */
};

struct image {
	unsigned int minor;
	bool sbrk_unknown;
	uint32_t fail_after, reads;
	uint32_t failed, injected;	/* reads that failed: in all, and by the deadline */
	uint64_t main_arena, heap_lo, heap_hi;
	uint64_t tcaches[MAX_TCACHES];
	unsigned int ntcaches;
	uint64_t budget;
	struct segment segs[MAX_SEGMENTS];
	size_t nsegs;
};

/* One arena as the reader sees it during a read. */
struct seen {
	struct arena_fixed fx;
	struct arena_walk_result walk;
	int walk_ret;
	uint64_t tcache;	/* bytes in threads' tcaches whose chunks belong here */
	int heaps;
};

/* Per-walk sums of what the decoder reported chunk by chunk. */
struct chunk_sum {
	uint64_t bin, fast, tcache, chunks;
	const struct arena_layout *l;
	const struct mem_reader *m;
	size_t nseen;
};

static struct image im;
static struct seen seen[ARENA_MAX_ARENAS];
static FILE *trace;

static int segment_cmp(const void *a, const void *b)
{
	const struct segment *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->order < y->order ? -1 : 1;
}

/* Sorts the segments by address and cuts each where the one before it ends. */
static void segments_sort(void)
{
	uint64_t end = 0;
	size_t i, n = 0;

	qsort(im.segs, im.nsegs, sizeof(im.segs[0]), segment_cmp);
	for (i = 0; i < im.nsegs; i++) {
		struct segment s = im.segs[i];

		if (n && s.addr < end) {
			if (s.addr + s.len <= end)
				continue;
			s.bytes += end - s.addr;
			s.len -= end - s.addr;
			s.addr = end;
		}
		if (s.len) {
			im.segs[n++] = s;
			end = s.addr + s.len;
		}
	}
	im.nsegs = n;
}

static void image_parse(const uint8_t *data, size_t size)
{
	size_t off = HEADER, i;

	im.minor = 26 + data[0] % 17;
	im.sbrk_unknown = data[1] & 1;
	im.ntcaches = (data[1] >> 1) & 7;
	im.budget = data[1] >> 4 ? 8u * (data[1] >> 4) : ARENA_MAX_CHUNKS;
	im.fail_after = (uint32_t)data[2] | (uint32_t)data[3] << 8;
	im.reads = im.failed = im.injected = 0;
	im.main_arena = arena_u64(data + 4);
	im.heap_lo = arena_u64(data + 12);
	im.heap_hi = arena_u64(data + 20);
	for (i = 0; i < im.ntcaches && off + 8 <= size; i++, off += 8)
		im.tcaches[i] = arena_u64(data + off);
	im.ntcaches = (unsigned int)i;
	im.nsegs = 0;
	while (off + SEG_HEADER <= size && im.nsegs < MAX_SEGMENTS) {
		struct segment *s = &im.segs[im.nsegs];
		uint32_t len;

		memcpy(&len, data + off + 8, sizeof(len));
		s->addr = arena_u64(data + off);
		s->bytes = data + off + SEG_HEADER;
		off += SEG_HEADER;
		s->len = len < size - off ? len : size - off;
		off += s->len;
		s->order = im.nsegs;
		/* A segment running past the top of the address space is no mapping. */
		if (s->addr + s->len >= s->addr)
			im.nsegs++;
	}
	segments_sort();
}

/* Finds the segment holding `addr` by bisection: the segments are sorted and disjoint. */
static const struct segment *segment_at(uint64_t addr)
{
	size_t lo = 0, hi = im.nsegs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < im.segs[mid].addr)
			hi = mid;
		else if (addr - im.segs[mid].addr >= im.segs[mid].len)
			lo = mid + 1;
		else
			return &im.segs[mid];
	}
	return NULL;
}

static int image_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	uint64_t at = addr;
	uint8_t *out = buf;
	size_t left = len;

	(void)ctx;
	if (im.fail_after && im.reads >= im.fail_after) {
		im.failed++;
		im.injected++;
		return INJECTED;
	}
	im.reads++;
	while (left) {
		const struct segment *s = segment_at(at);
		size_t n;

		if (!s) {
			im.failed++;
			return -EFAULT;
		}
		n = s->len - (size_t)(at - s->addr);
		n = n < left ? n : left;
		memcpy(out, s->bytes + (at - s->addr), n);
		out += n;
		at += n;
		left -= n;
	}
	if (trace)
		fprintf(trace, "read %llx %zu\n", (unsigned long long)addr, len);
	return 0;
}

/* Failures any reader call may pass on: unmapped memory, or the injected deadline. */
static bool read_error(int ret)
{
	return ret == -EFAULT || ret == INJECTED;
}

/*
 * Around each decoder call: a call that succeeded had no read fail, and one
 * whose reads hit the deadline returns the reader's error unchanged (a
 * deadline is not a torn list to be read again).
 */
struct call {
	uint32_t failed, injected;
};

static struct call call_begin(void)
{
	return (struct call){ .failed = im.failed, .injected = im.injected };
}

static void call_end(struct call c, bool ok, int ret)
{
	if (ok)
		FUZZ_CHECK(im.failed == c.failed);
	if (im.injected != c.injected)
		FUZZ_CHECK(ret == INJECTED);
}

static void check_layout(const struct arena_layout *l, const uint8_t *data)
{
	struct arena_layout other;
	int ret = arena_layout_for(data[0], &other);

	FUZZ_CHECK(ret == ((data[0] >= 26 && data[0] <= 42) ? 0 : -ENOTSUP));
	FUZZ_CHECK(l->glibc_minor == im.minor);
	FUZZ_CHECK(l->state_size <= ARENA_STATE_MAX && l->off_system + 8 <= l->state_size);
	FUZZ_CHECK(l->off_bins + (ARENA_NBINS - 1) * 16 <= l->off_next);
	FUZZ_CHECK(l->off_top + 8 <= l->off_bins && l->hi_size + 8 <= l->heap_info_size);
}

/* What arena_read_fixed promises about an arena it accepted. */
static void check_fixed(int ret, const struct arena_fixed *fx, uint64_t addr)
{
	FUZZ_CHECK(ret == 0 || ret == -EINVAL || read_error(ret));
	if (ret)
		return;
	FUZZ_CHECK(fx->addr == addr && fx->next && fx->next % 8 == 0 && fx->top % 16 == 0);
	FUZZ_CHECK(fx->system % PAGE == 0 && fx->max_system >= fx->system);
	FUZZ_CHECK(fx->top_size <= fx->system && fx->top_size % 16 == 0);
}

struct heap_walk {
	const struct arena_fixed *fx;
	int n;
};

static void on_heap(void *ctx, uint64_t start, uint64_t size)
{
	struct heap_walk *hw = ctx;

	FUZZ_CHECK(start && start % ARENA_HEAP_MAX == 0);
	FUZZ_CHECK(size >= PAGE && size <= ARENA_HEAP_MAX && size % PAGE == 0);
	/* The newest heap holds top, and arena_check_top found top ending where it ends. */
	if (hw->n++ == 0)
		FUZZ_CHECK(start == (hw->fx->top & ~(ARENA_HEAP_MAX - 1)) &&
			   hw->fx->top + hw->fx->top_size == start + size);
}

static int check_heaps(const struct arena_layout *l, const struct mem_reader *m,
		       const struct arena_fixed *fx)
{
	struct heap_walk hw = { .fx = fx, .n = 0 };
	struct call c = call_begin();
	int n = arena_heaps(l, m, fx, ARENA_MAX_HEAPS, on_heap, &hw);

	call_end(c, n >= 0, n);

	if (n >= 0)
		FUZZ_CHECK(n == hw.n && n <= (int)ARENA_MAX_HEAPS && (n > 0 || fx->system == 0 ||
			   fx->top < ARENA_HEAP_MAX));
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
	uint64_t addr = im.main_arena;
	size_t n = 0;

	do {
		struct seen *s = &seen[n];
		uint64_t base = sbrk;
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
		if (n == 0 && s->fx.system)
			FUZZ_CHECK(s->fx.top + s->fx.top_size == base + s->fx.system);
		if (n > 0)
			s->heaps = check_heaps(l, m, &s->fx);
		addr = s->fx.next;
		n++;
	} while (addr != im.main_arena && n < ARENA_MAX_ARENAS);
	return n;
}

static void on_chunk(void *ctx, enum free_list where, uint64_t chunk, uint64_t size,
		     uint64_t raw)
{
	struct chunk_sum *c = ctx;
	struct call call;
	uint64_t owner;
	size_t i;
	int ret;

	FUZZ_CHECK(chunk % 16 == 0 && size == (raw & ~(uint64_t)7));
	FUZZ_CHECK(size >= MIN_CHUNK && size % 16 == 0);
	c->chunks++;
	switch (where) {
	case FREE_BIN:
		c->bin += size;
		return;
	case FREE_FAST:
		FUZZ_CHECK(size < MIN_CHUNK + 16 * ARENA_NFASTBINS);
		c->fast += size;
		return;
	case FREE_TCACHE:
		FUZZ_CHECK(size < MIN_CHUNK + 16 * ARENA_TCACHE_BINS);
		c->tcache += size;
		break;
	default:
		FUZZ_CHECK(!"free list kind");
	}
	/* A thread caches chunks of whichever arena they came from. */
	call = call_begin();
	ret = arena_owner(c->l, c->m, chunk, raw, im.main_arena, &owner);
	call_end(call, ret == 0, ret);
	FUZZ_CHECK(ret == 0 || read_error(ret));
	/* The walk around this callback answers for its own reads only. */
	im.failed = call.failed;
	im.injected = call.injected;
	if (ret)
		return;
	FUZZ_CHECK((raw & 4) || owner == im.main_arena);
	for (i = 0; i < c->nseen; i++) {
		if (seen[i].fx.addr == owner) {
			seen[i].tcache += size;
			break;
		}
	}
}

static bool walk_error(int ret)
{
	return ret == 0 || ret == -EAGAIN || ret == -ELOOP || ret == -E2BIG || read_error(ret);
}

/* Checks one walk's totals against what it reported chunk by chunk and against its budget. */
static void check_walk(int ret, const struct arena_walk_result *w, const struct chunk_sum *c,
		       uint64_t before, uint64_t budget)
{
	FUZZ_CHECK(w->error == ret && budget <= before && before - budget == w->chunks);
	FUZZ_CHECK(c->chunks == w->chunks && c->bin == w->bin_bytes && c->fast == w->fast_bytes &&
		   c->tcache == w->tcache_bytes);
	FUZZ_CHECK(ret != -E2BIG || budget == 0);
}

static void walk_arenas(const struct arena_layout *l, const struct mem_reader *m, size_t n,
			uint64_t *budget)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct seen *s = &seen[i];
		struct chunk_sum c = { .l = l, .m = m, .nseen = n };
		uint64_t before = *budget;
		struct call call = call_begin();

		s->walk_ret = arena_walk_bins(l, m, &s->fx, budget, on_chunk, &c, &s->walk);
		call_end(call, s->walk_ret == 0, s->walk_ret);
		FUZZ_CHECK(walk_error(s->walk_ret));
		check_walk(s->walk_ret, &s->walk, &c, before, *budget);
		/* Free chunks and top are disjoint parts of the arena, however far walked. */
		FUZZ_CHECK(s->walk.bin_bytes + s->walk.fast_bytes + s->fx.top_size <= s->fx.system);
	}
}

static void walk_tcaches(const struct arena_layout *l, const struct mem_reader *m, size_t n,
			 uint64_t *budget)
{
	unsigned int i;

	for (i = 0; i < im.ntcaches; i++) {
		struct arena_walk_result w = { 0 };
		struct chunk_sum c = { .l = l, .m = m, .nseen = n };
		uint64_t before = *budget;
		struct call call = call_begin();
		int ret = arena_tcache_check(l, m, im.tcaches[i]);

		call_end(call, ret == 0, ret);
		FUZZ_CHECK(ret == 0 || ret == -EINVAL || read_error(ret));
		if (trace)
			fprintf(trace, "tcache %llx %d\n", (unsigned long long)im.tcaches[i], ret);
		if (ret)
			continue;
		call = call_begin();
		ret = arena_walk_tcache(l, m, im.tcaches[i], budget, on_chunk, &c, &w);
		call_end(call, ret == 0, ret);
		FUZZ_CHECK(walk_error(ret) || ret == -EINVAL);
		check_walk(ret, &w, &c, before, *budget);
		FUZZ_CHECK(w.chunks <= (uint64_t)ARENA_TCACHE_BINS * 65535);
		if (trace)
			fprintf(trace, "tcache_walk %llx %d chunks %llu bytes %llu\n",
				(unsigned long long)im.tcaches[i], ret,
				(unsigned long long)w.chunks, (unsigned long long)w.tcache_bytes);
	}
}

/* The scan that finds main_arena without debug info, around the given address. */
static void check_is_main(const struct arena_layout *l, const struct mem_reader *m)
{
	uint8_t state[ARENA_STATE_MAX];
	int k;

	for (k = -4; k <= 4; k++) {
		uint64_t addr = im.main_arena + (uint64_t)(int64_t)(k * 8);
		uint64_t top, system;
		struct call call;
		int ret;

		if (image_read(NULL, addr, state, l->state_size))
			continue;
		/* A yes-or-no answer: a failed read is a no. */
		call = call_begin();
		ret = arena_is_main(l, m, addr, state, im.heap_lo, im.heap_hi,
				    ARENA_LOCATE_MAX_ARENAS);
		call_end(call, ret == 1, INJECTED);
		FUZZ_CHECK(ret == 0 || ret == 1);
		if (trace && k == 0)
			fprintf(trace, "is_main %d\n", ret);
		if (!ret)
			continue;
		top = arena_u64(state + l->off_top);
		system = arena_u64(state + l->off_system);
		FUZZ_CHECK(top >= im.heap_lo && top < im.heap_hi && system && system % PAGE == 0);
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
	if (path && !(trace = fopen(path, "w")))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mem_reader m = { image_read, NULL };
	struct arena_layout l;
	uint64_t budget, sbrk;
	size_t n, i;

	if (size < HEADER)
		return 0;
	trace_open();
	image_parse(data, size);
	budget = im.budget;
	FUZZ_CHECK(arena_layout_for(im.minor, &l) == 0);
	check_layout(&l, data);
	sbrk = im.sbrk_unknown ? 0 : im.heap_lo;
	n = list_arenas(&l, &m, sbrk);
	/* The reader stops at a failed list; walking what was read goes deeper. */
	walk_arenas(&l, &m, n, &budget);
	if (l.tcache_chunk)
		walk_tcaches(&l, &m, n, &budget);
	check_is_main(&l, &m);
	for (i = 0; trace && i < n; i++)
		fprintf(trace, "arena %llx system %llu top %llu heaps %d walk %d bins %llu "
			"fast %llu tcache %llu chunks %llu\n", (unsigned long long)seen[i].fx.addr,
			(unsigned long long)seen[i].fx.system,
			(unsigned long long)seen[i].fx.top_size, seen[i].heaps, seen[i].walk_ret,
			(unsigned long long)seen[i].walk.bin_bytes,
			(unsigned long long)seen[i].walk.fast_bytes,
			(unsigned long long)seen[i].tcache,
			(unsigned long long)seen[i].walk.chunks);
	if (trace)
		fflush(trace);
	return 0;
}
