// SPDX-License-Identifier: GPL-2.0-only
/* C with its own allocation wrapper: store_record() leaks through xmalloc() while handle_request() churns through it. */
#include <stdint.h>

#include "target.h"

/*
 * usage: site_xmalloc RATE SECONDS
 * After "go", serves RATE requests a second for SECONDS: each request runs
 * handle_request() (two buffers from xmalloc, freed: balanced) and
 * store_record(), which keeps a 512-byte record from xmalloc for good. Every
 * allocation goes through xmalloc(), a wrapper that aborts when malloc
 * fails, as many C programs have. Prints "done leaked=BYTES".
 */

#define RECORD_BYTES 512

static void **records;
static size_t nrecords;
static volatile uint64_t sink;

__attribute__((noinline)) static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		abort();
	return p;
}

__attribute__((noinline)) static void store_record(long id)
{
	char *r = xmalloc(RECORD_BYTES);

	memset(r, (int)id, RECORD_BYTES);
	records[nrecords++] = r;
}

__attribute__((noinline)) static uint64_t handle_request(long id)
{
	char *in = xmalloc(300 + (size_t)(id % 7) * 100), *out = xmalloc(2000);
	uint64_t v;

	in[0] = (char)id;
	out[0] = (char)id;
	v = (uint64_t)(uintptr_t)in ^ (uint64_t)(uintptr_t)out;
	free(in);
	free(out);
	return v;
}

static void serve(long i)
{
	sink ^= handle_request(i);
	store_record(i);
}

int main(int argc, char **argv)
{
	/* Room for every record: RATE * SECONDS of them. */
	records = malloc(((size_t)(argc < 3 ? 0 : strtod(argv[1], NULL) * strtod(argv[2], NULL)) + 1) *
			 sizeof(*records));
	if (!records)
		return 1;
	if (target_serve(argc, argv, serve) < 0)
		return 2;
	target_done("leaked=%zu", nrecords * RECORD_BYTES);
	target_wait();
	return 0;
}
