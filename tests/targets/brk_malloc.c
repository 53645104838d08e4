// SPDX-License-Identifier: GPL-2.0-only
/* Test target: grows [heap] through malloc from grow_heap_here(), and churns it elsewhere. */
#include <stdint.h>

#include "target.h"

#define BLOCK (32 * 1024)

/*
 * Usage: brk_malloc [MIB] (default 8). After "go", churn_heap_elsewhere()
 * mallocs and frees small blocks (no net growth), then run_workload() ->
 * grow_heap_here() keeps MIB MiB of 32 KiB blocks, below the mmap threshold,
 * so the heap grows by brk calls issued inside malloc. "done" reports the
 * exact growth of the break during grow_heap_here().
 */
static void *kept[4096];

__attribute__((noinline)) static void churn_heap_elsewhere(void)
{
	int i;

	for (i = 0; i < 10000; i++) {
		void *p = malloc(64 + i % 512);

		target_touch(p, 64);
		free(p);
	}
}

__attribute__((noinline)) static size_t grow_heap_here(size_t bytes)
{
	size_t i, n = bytes / BLOCK;

	for (i = 0; i < n && i < sizeof(kept) / sizeof(kept[0]); i++) {
		kept[i] = malloc(BLOCK);
		target_touch(kept[i], BLOCK);
	}
	return i;
}

__attribute__((noinline)) static size_t run_workload(size_t bytes)
{
	size_t n = grow_heap_here(bytes);

	__asm__ volatile("" ::: "memory");
	return n;
}

int main(int argc, char **argv)
{
	size_t bytes = (size_t)(argc > 1 ? atoi(argv[1]) : 8) << 20;
	uintptr_t before, after;
	size_t n;

	target_ready();
	target_wait();
	churn_heap_elsewhere();
	before = (uintptr_t)sbrk(0);
	n = run_workload(bytes);
	after = (uintptr_t)sbrk(0);
	target_done("blocks=%zu brk_grown=%zu", n, (size_t)(after - before));
	target_wait();
	return 0;
}
