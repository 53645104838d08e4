// SPDX-License-Identifier: GPL-2.0-only
/* Feeds the arena decoder random memory images: it must end every call, crash on none. */
#include "collectors/arena_chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Usage: arena_garbage ITERATIONS SEED. The image is IMAGE bytes at BASE:
 * half its words are pointers back into it (some aligned, some not), so that
 * lists, rings and cycles form by chance; the rest is noise. Reads outside the
 * image fail as unmapped memory does.
 */
#define BASE 0x7f0000000000ull
#define IMAGE (1u << 20)

static uint8_t *image;
static uint64_t reads;

static int read_image(void *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	reads++;
	if (addr < BASE || addr - BASE > IMAGE || len > IMAGE - (addr - BASE))
		return -14;	/* EFAULT */
	memcpy(buf, image + (addr - BASE), len);
	return 0;
}

static long read_image_v(void *ctx, const struct mem_piece *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && read_image(ctx, p[i].addr, p[i].buf, p[i].len) == 0; i++)
		;
	return (long)i;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void fill(uint64_t *s)
{
	uint64_t *w = (uint64_t *)image;
	size_t i;

	for (i = 0; i < IMAGE / 8; i++) {
		uint64_t r = rnd(s);

		switch (r % 4) {
		case 0:
			w[i] = BASE + (rnd(s) % IMAGE & ~15ull);
			break;
		case 1:
			w[i] = BASE + rnd(s) % IMAGE;
			break;
		case 2:
			w[i] = r % 4096;
			break;
		default:
			w[i] = r;
		}
	}
}

static void on_chunk(void *ctx, enum free_list where, uint64_t chunk, uint64_t size, uint64_t raw)
{
	(void)ctx, (void)where, (void)chunk, (void)size, (void)raw;
}

/* Views of the image as the heap parse asks for them, often cut short. */
static uint64_t view_seed;

static int view_image(void *ctx, uint64_t addr, size_t want, uint64_t limit, struct mem_view *v)
{
	uint64_t end = BASE + IMAGE < limit ? BASE + IMAGE : limit;

	(void)ctx;
	reads++;
	if (addr < BASE || addr >= end)
		return -14;	/* EFAULT */
	v->base = addr;
	v->len = (size_t)(end - addr);
	if (rnd(&view_seed) % 4 == 0 && v->len > want)
		v->len = want + rnd(&view_seed) % 64;
	v->bytes = image + (addr - BASE);
	return 0;
}

/* Answers lookups from the image itself, as if every chunk had been kept. */
static int lookup_image(void *ctx, uint64_t chunk, uint64_t *raw, uint64_t *stored)
{
	uint64_t w[3];

	(void)ctx;
	if (read_image(NULL, chunk, w, sizeof(w)))
		return 0;
	*raw = w[1];
	*stored = w[2];
	return 1;
}

static void on_heap(void *ctx, uint64_t start, uint64_t size)
{
	(void)ctx, (void)start, (void)size;
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 200;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 1, s = seed | 1;
	struct mem_reader m = { read_image, NULL, NULL };
	unsigned int minors[] = { 26, 29, 31, 35, 36, 42 };
	long i;

	image = malloc(IMAGE);
	if (!image)
		return 1;
	for (i = 0; i < iters; i++) {
		struct arena_layout l;
		struct arena_fixed fx;
		struct arena_list lists[ARENA_TCACHE_BINS];
		struct chain_heap h;
		struct chain_result res;
		uint64_t addr = BASE + (rnd(&s) % IMAGE & ~7ull), budget = 1 + rnd(&s) % 100000;
		uint8_t state[ARENA_STATE_MAX];
		size_t k;

		if (i % 16 == 0)
			fill(&s);
		view_seed = s;
		arena_layout_for(minors[rnd(&s) % 6], &l);
		m.readv = rnd(&s) % 2 ? read_image_v : NULL;
		if (arena_read_fixed(&l, &m, addr, &fx) == 0) {
			uint64_t end;

			arena_check_top(&l, &m, &fx, rnd(&s) & 1, BASE + rnd(&s) % IMAGE);
			arena_committed_end(&l, &m, &fx, rnd(&s) & 1, rnd(&s) % 2 ? BASE : 0, &end);
			arena_heaps(&l, &m, &fx, 64, on_heap, NULL);
		} else {
			/* Walk garbage as if it had passed the checks. */
			memset(&fx, 0, sizeof(fx));
			fx.addr = addr;
			for (k = 0; k < ARENA_NFASTBINS; k++)
				fx.fastbins[k] = BASE + rnd(&s) % IMAGE;
		}
		arena_fastbin_lists(&l, &fx, lists);
		arena_lists_walk(&l, &m, lists, ARENA_NFASTBINS, (uint32_t)(rnd(&s) % 64), &budget,
				 on_chunk, NULL);
		for (k = 0; k < ARENA_NFASTBINS; k++)
			arena_list_follow(&l, &lists[k], lookup_image, NULL, &budget, on_chunk, NULL);
		budget = 1 + rnd(&s) % 100000;
		if (arena_tcache_lists(&l, &m, addr + 16, lists) == 0)
			arena_lists_walk(&l, &m, lists, ARENA_TCACHE_BINS, UINT32_MAX, &budget,
					 on_chunk, NULL);
		h.first = BASE + (rnd(&s) % IMAGE & ~15ull);
		h.end = h.first + rnd(&s) % (IMAGE / 4);
		h.top = rnd(&s) & 1;
		h.main = rnd(&s) & 1;
		arena_chain_parse(&l, &h, view_image, NULL, NULL, &res);
		if (read_image(NULL, addr, state, l.state_size) == 0)
			arena_is_main(&l, &m, addr, state, BASE, BASE + IMAGE, 64);
	}
	printf("ok iterations=%ld reads=%llu\n", iters, (unsigned long long)reads);
	free(image);
	return 0;
}
