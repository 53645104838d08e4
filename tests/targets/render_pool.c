// SPDX-License-Identifier: GPL-2.0-only
/* Test target: a render loop whose concatenations overflow a 64 KiB chunk pool by the same chunks every request, or (the control) one buffer that doubles. */
#include <stdint.h>

#include "target.h"

/*
 * usage: render_pool staircase|doubling SECONDS
 * After "go", one request a second (paced on the clock) for SECONDS, or until
 * the test writes another line:
 *   staircase  render_page() builds a page of PIECES pieces of PIECE bytes by
 *              concatenation, every step a fresh copy from a long-lived
 *              pool (render_concat() -> pool_alloc()); the pool frees nothing
 *              and takes a new POOL_CHUNK (64 KiB) chunk from malloc, in
 *              [heap], written whole, whenever the current one is too full
 *              (pool_chunk_new()). Every request takes the same number of
 *              new chunks (31 here: [heap] grows by 31 x 64 KiB a request)
 *   doubling   builder_grow() doubles one buffer with realloc and writes
 *              its new half (a vector resized), from 64 KiB up to
 *              DOUBLE_MAX (8 MiB); a full buffer is kept as a finished
 *              document and a new one starts at 64 KiB: growth in bursts of
 *              64 KiB, 64 KiB, 128 KiB, ..., 4 MiB, multiples of 64 KiB
 *              that are never equal for long (the negative control)
 * Prints "done requests=N chunks=N chunks_per_request=N bytes=B": pool chunks
 * taken since "go" and by the last request (0 for doubling), and the bytes
 * the pool or the buffers grew by.
 */

#define POOL_CHUNK (64 * 1024)
/* malloc's chunk header (8 bytes, 16-byte rounding): 65520 asked is 65536 taken. */
#define POOL_ASK (POOL_CHUNK - 16)
#define PIECES 190
#define PIECE 100
#define DOUBLE_START (64 * 1024)
#define DOUBLE_MAX (8 * 1024 * 1024)

struct chunk {
	struct chunk *prev;
	size_t used;
	char data[];
};

struct pool {
	struct chunk *current;
	size_t chunks;
};

static struct pool page_pool;

/*
 * The pool fills a new chunk with a pattern (as debug builds of pools do), so
 * the chunk is resident whole: every request grows [heap] by whole 64 KiB
 * chunks. (A memset to 0 would be folded into calloc, which leaves fresh heap
 * pages untouched, and only the written part of each chunk would count.)
 */
__attribute__((noinline)) static struct chunk *pool_chunk_new(struct pool *p)
{
	struct chunk *c = malloc(POOL_ASK);

	if (!c)
		abort();
	memset(c, 0xa5, POOL_ASK);
	c->used = 0;
	c->prev = p->current;
	p->current = c;
	p->chunks++;
	return c;
}

__attribute__((noinline)) static char *pool_alloc(struct pool *p, size_t n)
{
	const size_t room = POOL_ASK - sizeof(struct chunk);
	struct chunk *c = p->current;

	n = (n + 15) & ~(size_t)15;
	if (n > room)
		abort();
	if (!c || c->used + n > room)
		c = pool_chunk_new(p);
	c->used += n;
	return c->data + c->used - n;
}

/* s + piece in a fresh copy from the pool: the old copy stays in the pool. */
__attribute__((noinline)) static char *render_concat(struct pool *p, const char *s, size_t len,
						     const char *piece)
{
	char *out = pool_alloc(p, len + PIECE + 1);

	memcpy(out, s, len);
	memcpy(out + len, piece, PIECE);
	out[len + PIECE] = '\0';
	return out;
}

__attribute__((noinline)) static size_t render_page(struct pool *p, uint64_t request)
{
	char piece[PIECE];
	char *page = pool_alloc(p, 1);
	size_t len = 0;
	int i;

	page[0] = '\0';
	for (i = 0; i < PIECES; i++) {
		memset(piece, 'a' + (int)((request + (uint64_t)i) % 26), PIECE);
		page = render_concat(p, page, len, piece);
		len += PIECE;
	}
	return len;
}

struct builder {
	char *buf;
	size_t cap;
};

static char **documents;
static size_t ndocuments;

__attribute__((noinline)) static size_t builder_grow(struct builder *b)
{
	size_t grown;

	if (!b->buf) {
		b->buf = malloc(DOUBLE_START);
		if (!b->buf)
			abort();
		b->cap = DOUBLE_START;
		memset(b->buf, 'd', b->cap);
		return b->cap;
	}
	b->buf = realloc(b->buf, 2 * b->cap);
	if (!b->buf)
		abort();
	memset(b->buf + b->cap, 'd', b->cap);
	grown = b->cap;
	b->cap *= 2;
	if (b->cap >= DOUBLE_MAX) {
		documents[ndocuments++] = b->buf;
		b->buf = NULL;
	}
	return grown;
}

int main(int argc, char **argv)
{
	struct builder b = { NULL, 0 };
	size_t requests, i, chunks0, last = 0, bytes = 0, served = 0;
	double secs, t0;
	int staircase;

	if (argc != 3 || (strcmp(argv[1], "staircase") && strcmp(argv[1], "doubling"))) {
		fprintf(stderr, "usage: render_pool staircase|doubling SECONDS\n");
		return 2;
	}
	staircase = strcmp(argv[1], "staircase") == 0;
	secs = atof(argv[2]);
	requests = secs > 0 ? (size_t)secs : 0;
	documents = calloc(requests + 1, sizeof(*documents));
	if (!documents)
		return 1;
	/* The pool's first chunks exist before attach, as in a running service. */
	if (staircase)
		render_page(&page_pool, 0);
	chunks0 = page_pool.chunks;
	target_ready();
	target_wait();
	t0 = target_now();
	for (i = 0; i < requests; i++, served++) {
		size_t before = page_pool.chunks;

		if (target_sleep_until(t0 + (double)i))
			break;
		if (staircase) {
			render_page(&page_pool, i + 1);
			last = page_pool.chunks - before;
			bytes += last * POOL_CHUNK;
		} else {
			bytes += builder_grow(&b);
		}
	}
	target_done("requests=%zu chunks=%zu chunks_per_request=%zu bytes=%zu", served,
		    page_pool.chunks - chunks0, last, bytes);
	target_wait();
	return 0;
}
