// SPDX-License-Identifier: GPL-2.0-only
/* Test target: a bounded cache filled before memsleuth attaches, then turned over slowly. */
#include <stdint.h>
#include <time.h>

#include "target.h"

/*
 * usage: lru_cache MODE ENTRIES SIZE RATE SECONDS
 * Before "ready", cache_insert() fills the cache with ENTRIES blocks of SIZE
 * bytes. After "go", for SECONDS, at RATE inserts a second (paced on the
 * clock, so the figures hold under load), beside REQUEST_RATE requests a
 * second that malloc and free short-lived buffers in serve():
 *   steady  each insert evicts the oldest entry first (an LRU at its bound):
 *           live bytes do not change (the control)
 *   grow    only every other insert evicts: the cache grows by RATE/2 entries
 *           a second, a true leak from cache_insert()
 *   leak    steady, and beside it leak_beside() keeps LEAK_BLOCK bytes,
 *           RATE/4 times a second: a true leak from another stack
 * Prints "done inserted=N evicted=M grown=B leaked=B".
 */

#define REQUEST_RATE 1000
#define LEAK_BLOCK 4096

static void **ring;		/* the cache, oldest first from `head` */
static size_t head, count, cap;
static void **leaked;
static size_t nleaked;
static volatile uint64_t sink;

__attribute__((noinline)) static void cache_insert(size_t size)
{
	void *p = malloc(size);

	if (!p)
		abort();
	target_touch(p, size);
	ring[(head + count++) % cap] = p;
}

__attribute__((noinline)) static void cache_evict(void)
{
	free(ring[head]);
	head = (head + 1) % cap;
	count--;
}

__attribute__((noinline)) static void leak_beside(void)
{
	void *p = malloc(LEAK_BLOCK);

	if (!p)
		abort();
	target_touch(p, LEAK_BLOCK);
	leaked[nleaked++] = p;
}

__attribute__((noinline)) static void serve(uint64_t i)
{
	static const size_t sizes[] = { 32, 200, 1000, 3000 };
	char *a = malloc(sizes[i % 4]), *b = malloc(sizes[(i + 1) % 4]);

	if (!a || !b)
		abort();
	a[0] = (char)i;
	b[0] = (char)i;
	sink ^= (uint64_t)(uintptr_t)a ^ (uint64_t)(uintptr_t)b;
	free(b);
	free(a);
}

static void sleep_until(double t)
{
	struct timespec ts;

	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

int main(int argc, char **argv)
{
	const char *mode;
	size_t entries, size, inserts, evicted = 0, i;
	uint64_t req = 0;
	double rate, secs, t0, now;
	int grow, leak;

	if (argc != 6) {
		fprintf(stderr, "usage: lru_cache steady|grow|leak ENTRIES SIZE RATE SECONDS\n");
		return 2;
	}
	mode = argv[1];
	entries = strtoul(argv[2], NULL, 10);
	size = strtoul(argv[3], NULL, 10);
	rate = atof(argv[4]);
	secs = atof(argv[5]);
	grow = strcmp(mode, "grow") == 0;
	leak = strcmp(mode, "leak") == 0;
	if ((!grow && !leak && strcmp(mode, "steady") != 0) || !entries || !size || rate <= 0 ||
	    secs <= 0) {
		fprintf(stderr, "lru_cache: bad arguments\n");
		return 2;
	}
	inserts = (size_t)(rate * secs);
	cap = entries + inserts;
	ring = malloc(cap * sizeof(*ring));
	leaked = malloc((inserts / 4 + 1) * sizeof(*leaked));
	if (!ring || !leaked)
		return 1;
	for (i = 0; i < entries; i++)
		cache_insert(size);
	target_ready();
	target_wait();
	t0 = target_now();
	for (i = 0; i < inserts; i++) {
		/* The requests due by this insert's time, then the insert itself. */
		now = t0 + (double)(i + 1) / rate;
		for (; req < (uint64_t)((now - t0) * REQUEST_RATE); req++)
			serve(req);
		sleep_until(now);
		if (!grow || i % 2 == 0) {
			cache_evict();
			evicted++;
		}
		cache_insert(size);
		if (leak && i % 4 == 0)
			leak_beside();
	}
	target_done("inserted=%zu evicted=%zu grown=%zu leaked=%zu", inserts, evicted,
		    (inserts - evicted) * size, nleaked * (size_t)LEAK_BLOCK);
	target_wait();
	return 0;
}
