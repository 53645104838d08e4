// SPDX-License-Identifier: GPL-2.0-only
/* Test target: grows [heap] by exactly HEAP_MIB and an anonymous mapping by ANON_MIB. */
#include <stdint.h>
#include <sys/mman.h>

#include "target.h"

/*
 * Usage: grow_heap_anon [HEAP_MIB [ANON_MIB]] (defaults 48 and 32).
 * The heap grows through sbrk so the figure is exact, and every page is touched;
 * the anonymous mapping is one mmap, touched whole.
 */
int main(int argc, char **argv)
{
	size_t heap = (size_t)(argc > 1 ? atoi(argv[1]) : 48) << 20;
	size_t anon = (size_t)(argc > 2 ? atoi(argv[2]) : 32) << 20;
	void *h, *a = NULL;

	target_ready();
	target_wait();
	h = sbrk((intptr_t)heap);
	if (h == (void *)-1)
		return 1;
	target_touch(h, heap);
	if (anon) {
		a = mmap(NULL, anon, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (a == MAP_FAILED)
			return 1;
		target_touch(a, anon);
	}
	target_done("heap=%zu anon=%zu", heap, anon);
	target_wait();
	return 0;
}
