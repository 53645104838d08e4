// SPDX-License-Identifier: GPL-2.0-only
/* Benchmark target: two threads doing millions of malloc/free of mixed sizes; reports its time. */
#include <pthread.h>
#include <sys/resource.h>
#include <stdint.h>
#include <time.h>

#include "target.h"

/*
 * Usage: malloc_bench [OPS] (default 4000000 per thread). After "go", two
 * threads each keep a working set of 4096 blocks and replace a random one per
 * operation: mostly small sizes, some up to 64 KiB, 1 in 1000 of 256 KiB
 * (above the mmap threshold), so that the heap grows, trims and maps. "done"
 * gives the elapsed time and the CPU time (user + system) of the work alone,
 * in nanoseconds.
 */
#define SLOTS 4096

static long ops = 4000000;

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static size_t pick_size(uint64_t r)
{
	unsigned k = (unsigned)(r % 1000);

	if (k == 0)
		return 256 * 1024;
	if (k < 700)
		return 16 + (r >> 10) % 240;
	if (k < 950)
		return 256 + (r >> 10) % 3840;
	return 4096 + (r >> 10) % (60 * 1024);
}

static void *worker(void *arg)
{
	uint64_t seed = (uintptr_t)arg * 0x9e3779b97f4a7c15ULL + 1;
	void **slot = calloc(SLOTS, sizeof(*slot));
	long i;

	if (!slot)
		exit(1);
	for (i = 0; i < ops; i++) {
		uint64_t r = xorshift(&seed);
		unsigned s = (unsigned)(r >> 40) % SLOTS;
		size_t len = pick_size(r);

		free(slot[s]);
		slot[s] = malloc(len);
		if (!slot[s])
			exit(1);
		((volatile char *)slot[s])[0] = (char)i;
		((volatile char *)slot[s])[len - 1] = (char)i;
	}
	for (i = 0; i < SLOTS; i++)
		free(slot[i]);
	free(slot);
	return NULL;
}

static uint64_t cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ULL +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ULL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	pthread_t t[2];
	uint64_t start, cpu;
	int i;

	if (argc > 1)
		ops = atol(argv[1]);
	target_ready();
	target_wait();
	cpu = cpu_ns();
	start = now_ns();
	for (i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1)))
			return 1;
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	start = now_ns() - start;
	target_done("elapsed_ns=%llu cpu_ns=%llu ops=%ld threads=2", (unsigned long long)start,
		    (unsigned long long)(cpu_ns() - cpu), 2 * ops);
	target_wait();
	return 0;
}
