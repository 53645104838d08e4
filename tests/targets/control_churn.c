// SPDX-License-Identifier: GPL-2.0-only
/* Control target: allocates, touches and frees in a loop, with no net growth. */
#include <stdint.h>
#include <time.h>

#include "target.h"

/*
 * Usage: control_churn [SECONDS] (default 4). After "go" it churns for SECONDS:
 * malloc/free of mixed sizes (small, medium, above the mmap threshold), a
 * bounded cache that replaces its entries, and fds opened and closed.
 * Steady state after the first pass: no region should grow beyond noise.
 */
#define CACHE 512

static void *cache[CACHE];

static void churn_pass(unsigned long *i)
{
	int k;

	for (k = 0; k < 1000; k++, (*i)++) {
		size_t sz = (*i % 7 == 0) ? 256 * 1024 : 16 + (*i * 37) % 4000;
		void *p = malloc(sz);

		target_touch(p, sz < 8192 ? sz : 8192);
		free(p);
		free(cache[*i % CACHE]);
		cache[*i % CACHE] = malloc(64 + (*i % 32) * 128);
		target_touch(cache[*i % CACHE], 64);
	}
	FILE *f = fopen("/proc/self/stat", "r");

	if (f)
		fclose(f);
}

static double since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 4;
	struct timespec t0;
	unsigned long i = 0;

	/* Warm up before "ready": the cache and malloc's thresholds settle first. */
	for (int pass = 0; pass < 20; pass++)
		churn_pass(&i);
	target_ready();
	target_wait();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		churn_pass(&i);
	while (since(&t0) < secs);
	target_done("iterations=%lu", i);
	target_wait();
	return 0;
}
