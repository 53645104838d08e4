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

int main(int argc, char **argv)
{
	double rate, seconds, t0;
	long i, n;
	uint64_t acc = 0;

	if (argc < 3)
		return 2;
	rate = strtod(argv[1], NULL);
	seconds = strtod(argv[2], NULL);
	n = (long)(rate * seconds);
	entries = malloc(((size_t)n + 1) * sizeof(*entries));
	if (!entries)
		return 1;
	target_ready();
	target_wait();
	t0 = target_now();
	for (i = 0; i < n; i++) {
		target_sleep_until(t0 + (double)i / rate);
		acc ^= parse_message(i);
		cache_insert(i);
	}
	sink = acc;
	target_done("leaked=%zu", nentries * ENTRY_BYTES);
	target_wait();
	return 0;
}
