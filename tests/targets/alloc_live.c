// SPDX-License-Identifier: GPL-2.0-only
/* Test target: holds COUNT small malloc blocks at once, made by four functions in turn. */
#include <stdint.h>
#include <sys/mman.h>

#include "target.h"

/*
 * usage: alloc_live COUNT SIZE [SECONDS]
 * On "go": keep_a() .. keep_d() malloc COUNT blocks of SIZE bytes between
 * them, in turn (keep_a makes the first, and one more when COUNT is not a
 * multiple of four), and keep every one; in 100 even batches over SECONDS
 * when given (so that sampled probes see their share), else at once. The pointers go into an anonymous
 * mapping, not a malloc'd array, so that COUNT is exactly the number of
 * allocations made after "go". Prints "done live=COUNT bytes=B", then holds
 * the blocks until told to exit.
 */

static void **kept;

#define KEEPER(name)                                            \
	__attribute__((noinline)) static void name(size_t i, size_t size) \
	{                                                       \
		kept[i] = malloc(size);                         \
		if (!kept[i])                                   \
			abort();                                \
		*(volatile char *)kept[i] = 1;                  \
	}

KEEPER(keep_a)
KEEPER(keep_b)
KEEPER(keep_c)
KEEPER(keep_d)

int main(int argc, char **argv)
{
	static void (*const keepers[])(size_t, size_t) = { keep_a, keep_b, keep_c, keep_d };
	size_t count, size, i, batch;
	double seconds = argc > 3 ? atof(argv[3]) : 0, t0;

	if (argc < 3 || atol(argv[1]) <= 0 || atol(argv[2]) <= 0 || seconds < 0) {
		fprintf(stderr, "usage: alloc_live COUNT SIZE [SECONDS]\n");
		return 2;
	}
	count = (size_t)atol(argv[1]);
	size = (size_t)atol(argv[2]);
	kept = mmap(NULL, count * sizeof(*kept), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (kept == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	target_ready();
	target_wait();
	t0 = target_now();
	for (batch = 0, i = 0; batch < 100; batch++) {
		struct timespec ts;
		double due = t0 + seconds * (double)batch / 100;

		ts.tv_sec = (time_t)due;
		ts.tv_nsec = (long)((due - (double)ts.tv_sec) * 1e9);
		if (seconds > 0)
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		for (; i < count * (batch + 1) / 100; i++)
			keepers[i % 4](i, size);
	}
	target_done("live=%zu bytes=%zu", count, count * size);
	target_wait();
	return 0;
}
