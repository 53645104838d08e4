// SPDX-License-Identifier: GPL-2.0-only
/* The --alloc benchmark: two threads doing malloc/free of mixed sizes, one small steady leak. */
#include <pthread.h>
#include <stdint.h>

#include "target.h"

/*
 * usage: alloc_bench PAIRS [THREADS]
 * After "go", each thread (2 by default) runs PAIRS iterations: it replaces
 * one of 64 live blocks of mixed sizes (a malloc and a free), and every
 * LEAK_EVERY iterations bench_leak() keeps LEAK_BYTES for good. Prints
 * "done elapsed=SECONDS leaked=BYTES" (elapsed: from go to the last join).
 */

#define LIVE 64
#define LEAK_EVERY 512
#define LEAK_BYTES 128

static long pairs;
static volatile uint64_t sink;

__attribute__((noinline)) static void *bench_leak(void)
{
	char *p = malloc(LEAK_BYTES);

	p[0] = 1;
	return p;
}

__attribute__((noinline)) static void *bench_alloc(uint64_t i)
{
	static const size_t sizes[] = { 16, 32, 48, 64, 96, 128, 256, 512, 1024, 4096 };
	char *p = malloc(sizes[(i * 2654435761u) % 10]);

	p[0] = (char)i;
	return p;
}

static void *run(void *arg)
{
	void *live[LIVE] = { 0 }, **kept;
	long i, nkept = 0;

	(void)arg;
	kept = calloc((size_t)(pairs / LEAK_EVERY + 1), sizeof(*kept));
	for (i = 0; i < pairs; i++) {
		size_t slot = (size_t)i % LIVE;

		free(live[slot]);
		live[slot] = bench_alloc((uint64_t)i);
		if (i % LEAK_EVERY == LEAK_EVERY - 1)
			kept[nkept++] = bench_leak();
	}
	for (i = 0; i < LIVE; i++)
		free(live[i]);
	sink ^= (uint64_t)(uintptr_t)kept[0];
	return (void *)(intptr_t)nkept;
}

int main(int argc, char **argv)
{
	pthread_t th[16];
	long leaked = 0;
	int threads, k;
	double t0;

	if (argc < 2)
		return 2;
	pairs = atol(argv[1]);
	threads = argc > 2 ? atoi(argv[2]) : 2;
	if (pairs < 1 || threads < 1 || threads > 16)
		return 2;
	target_ready();
	target_wait();
	t0 = target_now();
	for (k = 0; k < threads; k++)
		pthread_create(&th[k], NULL, run, NULL);
	for (k = 0; k < threads; k++) {
		void *r;

		pthread_join(th[k], &r);
		leaked += (long)(intptr_t)r * LEAK_BYTES;
	}
	target_done("elapsed=%.6f leaked=%ld", target_now() - t0, leaked);
	target_wait();
	return 0;
}
