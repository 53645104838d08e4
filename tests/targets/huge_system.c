// SPDX-License-Identifier: GPL-2.0-only
/* Test target: a main arena whose system figure claims terabytes it never mapped. */
#include <malloc.h>
#include <stdint.h>

#include "target.h"

/*
 * Usage: huge_system
 * Finds its own main_arena through a chunk freed into the unsorted bin (whose
 * links point at the bin inside malloc_state) and, on "go", overwrites
 * system_mem and max_system_mem with HUGE and marks the arena's lock held, as
 * if a thread stopped inside malloc: a reader that trusted the figure would
 * scan 8 TiB of address space from the heap's start. Prints "done ok" once
 * written, "done unsupported" when the layout is not the one of glibc 2.27 to
 * 2.42 on x86-64 (checked against mallinfo2 first). Makes no allocation
 * until the last line, when it puts the arena back and exits.
 */
#define HUGE ((uint64_t)1 << 43)
#define OFF_UNSORTED 96		/* bin_at(av, 1): &bins[0] - 16, where `top` is */
#define OFF_SYSTEM 2184
#define OFF_MAX_SYSTEM 2192

int main(void)
{
	char *freed, *guard;
	uint64_t *system, *max_system, saved_system, saved_max;
	volatile int *mutex;
	int saved_mutex;
	uintptr_t arena;
	volatile uintptr_t at;
	struct mallinfo2 mi;

	freed = malloc(2000);	/* above tcache's largest size: freed into the unsorted bin */
	guard = malloc(64);	/* keeps it from merging into top */
	if (!freed || !guard)
		return 1;
	target_ready();
	target_wait();
	/* Read on purpose after free: the links glibc wrote into the freed chunk. */
	at = (uintptr_t)freed;
	free(freed);
	arena = *(volatile uintptr_t *)at - OFF_UNSORTED;
	system = (uint64_t *)(arena + OFF_SYSTEM);
	max_system = (uint64_t *)(arena + OFF_MAX_SYSTEM);
	mutex = (volatile int *)arena;
	mi = mallinfo2();
	if (*(volatile uintptr_t *)(at + 8) != arena + OFF_UNSORTED || *system != mi.arena ||
	    *max_system < *system) {
		target_done("unsupported");
		target_wait();
		return 0;
	}
	saved_system = *system;
	saved_max = *max_system;
	saved_mutex = *mutex;
	*system = HUGE;
	*max_system = HUGE;
	*mutex = 1;
	target_done("ok");
	target_wait();
	*mutex = saved_mutex;
	*system = saved_system;
	*max_system = saved_max;
	return 0;
}
