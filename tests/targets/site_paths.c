// SPDX-License-Identifier: GPL-2.0-only
/* One leaking function reached by two call paths: keep_copy() called from on_get() and from on_put(). */
#include <stdint.h>

#include "target.h"

/*
 * usage: site_paths RATE SECONDS
 * After "go", serves RATE requests a second for SECONDS: even requests go
 * through on_get(), odd ones through on_put(), and both call keep_copy(),
 * which keeps a 256-byte copy for good. One site (keep_copy), two stacks.
 * Prints "done leaked=BYTES".
 */

#define COPY_BYTES 256

static void **copies;
static size_t ncopies;

__attribute__((noinline)) static void keep_copy(long id)
{
	char *c = malloc(COPY_BYTES);

	if (!c)
		abort();
	memset(c, (int)id, COPY_BYTES);
	copies[ncopies++] = c;
}

__attribute__((noinline)) static void on_get(long id)
{
	keep_copy(id);
	__asm__ volatile("" ::: "memory");
}

/* Not the same body as on_get's, or the compiler folds the two functions into one. */
__attribute__((noinline)) static void on_put(long id)
{
	keep_copy(~id);
	__asm__ volatile("" ::: "memory");
}

static void serve(long i)
{
	if (i % 2)
		on_put(i);
	else
		on_get(i);
}

int main(int argc, char **argv)
{
	/* Room for every copy: RATE * SECONDS of them. */
	copies = malloc(((size_t)(argc < 3 ? 0 : strtod(argv[1], NULL) * strtod(argv[2], NULL)) + 1) *
			sizeof(*copies));
	if (!copies)
		return 1;
	if (target_serve(argc, argv, serve) < 0)
		return 2;
	target_done("leaked=%zu", ncopies * COPY_BYTES);
	target_wait();
	return 0;
}
