// SPDX-License-Identifier: GPL-2.0-only
/* Linked with Debian's libjemalloc, no frame pointers: cache_insert() leaks while parse_message() churns. */
#include <stdint.h>

#include "target.h"

/*
 * usage: site_jemalloc_nofp RATE SECONDS
 * Built -O2 -fomit-frame-pointer and linked with -ljemalloc, so that malloc
 * is jemalloc's (libjemalloc.so.2), as in redis. After "go", serves RATE
 * requests a second for SECONDS: parse_message() allocates and frees three
 * buffers (balanced), cache_insert() keeps a 768-byte entry that is never
 * evicted. Prints "done leaked=BYTES".
 */

#define ENTRY_BYTES 768

static void **entries;
static size_t nentries;
static volatile uint64_t sink;

__attribute__((noinline)) static void cache_insert(long id)
{
	char *e = malloc(ENTRY_BYTES);

	if (!e)
		abort();
	memset(e, (int)id, ENTRY_BYTES);
	entries[nentries++] = e;
}

__attribute__((noinline)) static uint64_t parse_message(long id)
{
	char *a = malloc(64 + (size_t)(id % 5) * 64), *b = calloc(1, 1024), *c = strdup("message");
	uint64_t v;

	if (!a || !b || !c)
		abort();
	a[0] = (char)id;
	v = (uint64_t)(uintptr_t)a ^ (uint64_t)(uintptr_t)b ^ (uint64_t)(uintptr_t)c;
	free(a);
	free(b);
	free(c);
	return v;
}

static void serve(long i)
{
	sink ^= parse_message(i);
	cache_insert(i);
}

int main(int argc, char **argv)
{
	/* Room for every entry: RATE * SECONDS of them. */
	entries = malloc(((size_t)(argc < 3 ? 0 : strtod(argv[1], NULL) * strtod(argv[2], NULL)) + 1) *
			 sizeof(*entries));
	if (!entries)
		return 1;
	if (target_serve(argc, argv, serve) < 0)
		return 2;
	target_done("leaked=%zu", nentries * ENTRY_BYTES);
	target_wait();
	return 0;
}
