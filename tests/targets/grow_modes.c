// SPDX-License-Identifier: GPL-2.0-only
/* Test target: one way of growing (or, for controls, of not growing) per mode, for SECONDS. */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>

#include "target.h"

/*
 * Usage: grow_modes MODE [SECONDS] (default 7). After "go", MODE runs in
 * TICK_MS steps for SECONDS, then the target reports "done" with its figures.
 *
 * Defects:
 *   leak      malloc'd 1000-byte blocks, never freed: 40 to 63 per step, about
 *             2 MiB/s of live heap
 *   fragment  starts a thread every 500 ms that fills its own arena with 5 MiB
 *             of small blocks and frees all but the last: each arena keeps
 *             5 MiB that is free and resident (up to glibc's arena limit,
 *             8 per core), about 10 MiB/s of free space
 *   chunks    appends fresh 64 KiB chunks (mmap, fully written) to a list:
 *             bursts of 1 to 3 chunks every 100 ms
 *   heapchunks  the same with malloc(64 KiB) chunks, from [heap]
 *   mmap      maps and writes anonymous memory of varying sizes directly:
 *             about 2.5 MiB/s outside malloc
 *   fds       opens a socket and a pipe every step (never closed)
 * Controls (same work, no defect):
 *   cache     the leak's allocations kept in a bounded ring (the oldest freed)
 *   churn     malloc and free of the same sizes, steady
 *   startup   one 16 MiB allocation at go, then idle
 *   double    one buffer doubled by realloc from 64 KiB to 16 MiB early on
 *   fdchurn   opens and closes a socket and a pipe every step
 *   busy      four threads malloc, fill, check and free without pause, so that
 *             freezes often find an arena lock held (the check aborts on any
 *             byte changed behind the program's back)
 */

#define TICK_MS 25
#define LEAK_BLOCK 1000
#define LEAK_PER_TICK 52	/* ~2 MiB/s */
#define CACHE_SLOTS 2048
#define CHUNK (64 * 1024)
/*
 * The controls' one-time growth (startup, double): well above every growth
 * threshold, and small enough to be over within one 2 s window even when a
 * busy machine gives the target a fraction of a core (64 MiB took 3-4 s).
 */
#define ONCE_BYTES ((size_t)16 << 20)
#define FRAG_BYTES (5u << 20)
#define FRAG_EVERY 20		/* ticks between fragmenting threads */
/*
 * Ticks between bursts of 1 to 3 chunks: ~1.25 MiB/s, so that a 2 s window
 * still grows by more than rss_growth's 1 MiB when a busy machine slows the
 * target down (naps overrun).
 */
#define CHUNK_EVERY 4

static pthread_mutex_t hold = PTHREAD_MUTEX_INITIALIZER;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap(void)
{
	struct timespec ts = { 0, TICK_MS * 1000000L };

	nanosleep(&ts, NULL);
}

static void *touched(size_t n)
{
	void *p = malloc(n);

	if (!p)
		abort();
	target_touch(p, n);
	return p;
}

/*
 * A worker of `fragment`: fills its own arena with small blocks, frees all but
 * the last (which pins the arena's top), and stays alive so that the next
 * worker gets a new arena instead of reusing this one's free memory.
 */
static void *fragment(void *arg)
{
	size_t n = FRAG_BYTES / LEAK_BLOCK, i;
	void **blocks = target_blocks(n, LEAK_BLOCK);

	(void)arg;
	for (i = 0; i + 1 < n; i++)
		free(blocks[i]);
	pthread_mutex_lock(&hold);
	pthread_mutex_unlock(&hold);
	return NULL;
}

static double busy_until;
static pthread_barrier_t busy_gate;

/*
 * A worker of `busy`: takes its own arena (its first malloc) before the target
 * is ready, so that every freeze finds all five; at go, churns blocks of
 * varied sizes as fast as it can, checking them.
 */
static void *busy(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;

	free(touched(64));
	pthread_barrier_wait(&busy_gate);
	pthread_barrier_wait(&busy_gate);
	while (now() < busy_until) {
		unsigned char *p[16];
		size_t n[16];
		int i;

		for (i = 0; i < 16; i++) {
			n[i] = 16 + (size_t)(rand_r(&seed) % 4000);
			p[i] = malloc(n[i]);
			if (!p[i])
				abort();
			memset(p[i], i + 1, n[i]);
		}
		for (i = 0; i < 16; i++) {
			if (p[i][0] != i + 1 || p[i][n[i] - 1] != i + 1)
				abort();
			free(p[i]);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "leak";
	double secs = argc > 2 ? atof(argv[2]) : 7, until;
	void *ring[CACHE_SLOTS] = { NULL };
	long steps = 0, units = 0;
	size_t slot = 0;
	char *buf = NULL;
	pthread_t workers[4];
	int w;

	if (strcmp(mode, "busy") == 0) {
		if (pthread_barrier_init(&busy_gate, NULL, 5))
			return 1;
		for (w = 0; w < 4; w++)
			if (pthread_create(&workers[w], NULL, busy, (void *)(uintptr_t)(w + 1)))
				return 1;
		pthread_barrier_wait(&busy_gate);	/* every worker has its arena */
	}
	target_ready();
	target_wait();
	until = now() + secs;
	if (strcmp(mode, "startup") == 0) {
		touched(ONCE_BYTES);
		units = ONCE_BYTES;
	} else if (strcmp(mode, "busy") == 0) {
		busy_until = until;
		pthread_barrier_wait(&busy_gate);
		for (w = 0; w < 4; w++)
			pthread_join(workers[w], NULL);
	}
	pthread_mutex_lock(&hold);
	while (now() < until) {
		int i, fds[2];
		pthread_t t;

		if (strcmp(mode, "leak") == 0) {
			int n = 40 + (int)(steps * 7 % 24);

			for (i = 0; i < n; i++)
				touched(LEAK_BLOCK);
			units += n;
		} else if (strcmp(mode, "cache") == 0) {
			for (i = 0; i < LEAK_PER_TICK; i++) {
				free(ring[slot]);
				ring[slot] = touched(LEAK_BLOCK);
				slot = (slot + 1) % CACHE_SLOTS;
			}
		} else if (strcmp(mode, "churn") == 0) {
			void *p[LEAK_PER_TICK];

			for (i = 0; i < LEAK_PER_TICK; i++)
				p[i] = touched(LEAK_BLOCK + (size_t)i * 64);
			for (i = 0; i < LEAK_PER_TICK; i++)
				free(p[i]);
		} else if (strcmp(mode, "double") == 0) {
			if ((size_t)units < ONCE_BYTES) {
				size_t len = units ? (size_t)units * 2 : CHUNK;

				buf = realloc(buf, len);
				if (!buf)
					abort();
				target_touch(buf, len);
				units = (long)len;
			}
		} else if (strcmp(mode, "fragment") == 0) {
			if (steps % FRAG_EVERY == 0) {
				if (pthread_create(&t, NULL, fragment, NULL))
					abort();
				units++;
			}
		} else if (strcmp(mode, "heapchunks") == 0 && steps % CHUNK_EVERY == 0) {
			for (i = 0; i < 1 + (int)(steps / CHUNK_EVERY % 3); i++)
				touched(CHUNK);
			units += 1 + steps / CHUNK_EVERY % 3;
		} else if (strcmp(mode, "chunks") == 0 && steps % CHUNK_EVERY == 0) {
			for (i = 0; i < 1 + (int)(steps / CHUNK_EVERY % 3); i++) {
				void *c = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
					       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

				if (c == MAP_FAILED)
					abort();
				target_touch(c, CHUNK);
				units++;
			}
		} else if (strcmp(mode, "mmap") == 0) {
			size_t len = ((size_t)40 << 10) + (size_t)(steps % 7) * 12288 + 4096 * 5;
			void *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (m == MAP_FAILED)
				abort();
			target_touch(m, len);
			units += (long)len;
		} else if (strcmp(mode, "fds") == 0 || strcmp(mode, "fdchurn") == 0) {
			int s = socket(AF_UNIX, SOCK_STREAM, 0);

			if (s < 0 || pipe(fds))
				abort();
			if (strcmp(mode, "fdchurn") == 0) {
				close(s);
				close(fds[0]);
				close(fds[1]);
			} else {
				units += 3;
			}
		} else if (strcmp(mode, "idle") != 0 && strcmp(mode, "startup") != 0 &&
			   strcmp(mode, "chunks") != 0 && strcmp(mode, "fragment") != 0 &&
			   strcmp(mode, "heapchunks") != 0 &&
			   strcmp(mode, "busy") != 0) {
			return 2;
		}
		steps++;
		nap();
	}
	target_done("mode=%s steps=%ld units=%ld", mode, steps, units);
	target_wait();
	/* Fragmenting workers block on `hold` for good: leave without joining them. */
	_exit(0);
}
