// SPDX-License-Identifier: GPL-2.0-only
/* Test target: grows [heap] in N exact 64 KiB sbrk steps from step_heap_here(). */
#include <stdint.h>

#include "target.h"

#define STEP (64 * 1024)

/*
 * Usage: sbrk_steps [N] (default 50). After "go", step_heap_here() calls
 * sbrk(64 KiB) N times in a burst, touching each step: N brk calls exactly.
 */
__attribute__((noinline)) static void step_heap_here(int n)
{
	int i;

	for (i = 0; i < n; i++) {
		void *p = sbrk(STEP);

		if (p == (void *)-1)
			exit(1);
		target_touch(p, STEP);
	}
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 50;

	target_ready();
	target_wait();
	step_heap_here(n);
	target_done("steps=%d step=%d", n, STEP);
	target_wait();
	return 0;
}
