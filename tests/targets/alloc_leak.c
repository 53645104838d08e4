// SPDX-License-Identifier: GPL-2.0-only
/* Leaks exactly N bytes from leak_slowly() over a few seconds while churn() mallocs and frees. */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "target.h"

/*
 * usage: alloc_leak LEAK_BYTES CHUNK SECONDS [THREADS]
 * A paced service: after "go", every thread serves REQUEST_RATE requests a
 * second for SECONDS; each request calls churn() twice (mallocs and frees of
 * mixed sizes). Thread 0 also leaks: leak_slowly() keeps CHUNK bytes on its
 * share of the requests, LEAK_BYTES in all, evenly. Work and leak follow the
 * requests, as in a real service, not a clock of their own. Prints
 * "done leaked=N churn_ops=M".
 */

#define REQUEST_RATE 2000

static size_t leak_total, chunk;
static double seconds;
static void **kept;
static size_t nkept;
static volatile uint64_t sink;

__attribute__((noinline)) static void leak_slowly(void)
{
	void *p = malloc(chunk);

	target_touch(p, chunk);
	kept[nkept++] = p;
}

__attribute__((noinline)) static uint64_t churn(uint64_t i)
{
	static const size_t sizes[] = { 24, 40, 100, 250, 600, 1500, 4000, 9000 };
	void *a = malloc(sizes[i % 8]), *b = malloc(sizes[(i * 7 + 3) % 8]);
	uint64_t v;

	((volatile char *)a)[0] = (char)i;
	((volatile char *)b)[0] = (char)i;
	v = (uint64_t)(uintptr_t)a ^ (uint64_t)(uintptr_t)b;
	free(a);
	free(b);
	return v;
}

/* Sleeps until `t` (monotonic seconds); a late request starts at once. */
static void sleep_until(double t)
{
	struct timespec ts;

	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static void *run(void *arg)
{
	int leaker = arg != NULL;
	size_t steps = leak_total / chunk;
	uint64_t i, n = (uint64_t)(seconds * REQUEST_RATE), acc = 0;
	double t0 = target_now();

	for (i = 0; i < n; i++) {
		size_t due = (size_t)((double)steps * (double)(i + 1) / (double)n);

		sleep_until(t0 + (double)i / REQUEST_RATE);
		acc ^= churn(2 * i);
		acc ^= churn(2 * i + 1);
		while (leaker && nkept < due)
			leak_slowly();
	}
	sink ^= acc;
	return (void *)(uintptr_t)(2 * n);
}

int main(int argc, char **argv)
{
	pthread_t th[16];
	uint64_t ops = 0;
	int threads, k;

	if (argc < 4)
		return 2;
	leak_total = strtoull(argv[1], NULL, 0);
	chunk = strtoull(argv[2], NULL, 0);
	seconds = atof(argv[3]);
	threads = argc > 4 ? atoi(argv[4]) : 1;
	if (!chunk || threads < 1 || threads > 16)
		return 2;
	kept = calloc(leak_total / chunk + 1, sizeof(*kept));
	target_ready();
	target_wait();
	for (k = 1; k < threads; k++)
		pthread_create(&th[k], NULL, run, NULL);
	ops += (uint64_t)(uintptr_t)run((void *)1);
	for (k = 1; k < threads; k++) {
		void *r;

		pthread_join(th[k], &r);
		ops += (uint64_t)(uintptr_t)r;
	}
	target_done("leaked=%zu churn_ops=%llu", nkept * chunk, (unsigned long long)ops);
	target_wait();
	return 0;
}
