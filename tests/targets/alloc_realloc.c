// SPDX-License-Identifier: GPL-2.0-only
/* realloc-heavy: grow_kept() keeps what it grows by realloc; grow_dropped() frees it. */
#include <stdint.h>

#include "target.h"

/*
 * usage: alloc_realloc BUFFERS FINAL
 * After "go", grow_kept() and grow_dropped() each build BUFFERS buffers,
 * starting with realloc(NULL, 16) and growing by half until FINAL bytes (the
 * last step lands on FINAL exactly), with a shrink on the way. grow_kept()
 * keeps its buffers; grow_dropped() frees each. Prints "done kept=BYTES".
 */

static volatile uint64_t sink;

__attribute__((noinline)) static char *grow(size_t final)
{
	size_t size = 16;
	char *p = realloc(NULL, size);

	p[0] = 1;
	while (size < final) {
		size_t next = size + size / 2 + 1;

		if (next > final)
			next = final;
		/* A shrink before growing again: realloc in place, counted as free + alloc. */
		p = realloc(p, size / 2 + 1);
		p = realloc(p, next);
		p[next - 1] = 1;
		size = next;
	}
	return p;
}

__attribute__((noinline)) static char *grow_kept(size_t final)
{
	char *p = grow(final);

	p[0] = 2;	/* not a tail call: grow_kept stays on the stack */
	return p;
}

__attribute__((noinline)) static void grow_dropped(size_t final)
{
	char *p = grow(final);

	sink ^= (uint64_t)(uintptr_t)p;
	free(p);
}

int main(int argc, char **argv)
{
	size_t n, final, i;
	char **kept;

	if (argc < 3)
		return 2;
	n = strtoull(argv[1], NULL, 0);
	final = strtoull(argv[2], NULL, 0);
	kept = calloc(n + 1, sizeof(*kept));
	target_ready();
	target_wait();
	for (i = 0; i < n; i++) {
		kept[i] = grow_kept(final);
		grow_dropped(final);
	}
	target_done("kept=%zu", n * final);
	target_wait();
	return 0;
}
