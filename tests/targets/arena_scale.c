// SPDX-License-Identifier: GPL-2.0-only
/* Test target: THREADS arenas of MIB MiB each, ~85% free in separate chunks; malloc_info on request. */
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>

#include "malloc_report.h"
#include "target.h"

/*
 * Usage: arena_scale THREADS MIB INFO_PATH [idle|busy|race]
 *
 * Each thread fills its own arena with MIB MiB of pairs of blocks, a larger
 * one (32 B to 2.8 KiB) then a smaller one (32 to 480 B), all touched, then
 * frees every larger block in a shuffled order. The small blocks stay live
 * and keep every freed chunk apart (none can merge with a neighbour), so an
 * arena holds about 85% of its memory free in one chunk per pair: 8 threads
 * of 300 MiB make ~2 GiB free in ~1.5 million chunks, most in the bins, the
 * smallest in fastbins, seven of each size in the thread's tcache.
 *
 * `busy`: after "done" every thread keeps allocating and freeing blocks of
 * 32 B to 2 KiB in a ring of RING slots (at most RING * 2 KiB per thread
 * outstanding, so its arena's free bytes move by less than that; free
 * chunks that large abound, so the arena does not grow), paced to leave the
 * machine to the tool that reads it.
 *
 * `race` (one thread only): on "mutate" the thread frees everything and
 * takes its arena's memory back in 64 KiB blocks that it fills with 0xa5,
 * which overwrites the chunk headers a reader may have planned to visit; it
 * then answers "mutated".
 *
 * "info" writes malloc_info() to INFO_PATH (opened at start with a static
 * buffer, so writing it allocates nothing) and answers "info fordblks=N
 * fsmblks=N arena=N" (mallinfo2: free bytes with top, fastbin bytes, system). The threads
 * stay alive, attached to their arenas, until the process exits.
 */

#define MAX_THREADS 64
#define RING 256
#define BURST 64		/* ring operations between pauses in busy mode */
#define MUTATE_BLOCK (64u << 10)

enum mode { IDLE, BUSY, RACE };

static int nthreads;
static size_t per_thread;
static enum mode mode;
static pthread_barrier_t done_barrier;
static pthread_mutex_t hold = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mutate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t mutate_cond = PTHREAD_COND_INITIALIZER;
static int mutate_asked, mutate_done;

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Pointer arrays live outside malloc, so that they take nothing from the arenas. */
static void **map_slots(size_t n)
{
	void *p = mmap(NULL, n * sizeof(void *), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		abort();
	return p;
}

static void churn(uint64_t *seed)
{
	void *ring[RING] = { NULL };
	struct timespec pause = { 0, 200 * 1000 };

	for (;;) {
		int i;

		for (i = 0; i < BURST; i++) {
			size_t slot = next_rand(seed) % RING, size = 32 + next_rand(seed) % 2017;

			free(ring[slot]);
			ring[slot] = malloc(size);
			if (!ring[slot])
				abort();
			memset(ring[slot], (int)slot, size);
		}
		nanosleep(&pause, NULL);
	}
}

static void mutate(void **small, size_t pairs)
{
	size_t i, filled;

	for (i = 0; i < pairs; i++)
		free(small[i]);
	/* Blocks under the mmap threshold: they take the arena's memory back from its start. */
	for (filled = 0; filled < per_thread; filled += MUTATE_BLOCK) {
		void *p = malloc(MUTATE_BLOCK);

		if (!p)
			abort();
		memset(p, 0xa5, MUTATE_BLOCK);
	}
}

static void *worker(void *arg)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull * (uint64_t)((intptr_t)arg + 1);
	size_t cap = per_thread / 64 + 16, pairs = 0, used = 0, i;
	void **big = map_slots(cap), **small = map_slots(cap);

	while (used < per_thread && pairs < cap) {
		size_t b = 32 + next_rand(&seed) % 2785, s = 32 + next_rand(&seed) % 449;

		big[pairs] = malloc(b);
		small[pairs] = malloc(s);
		if (!big[pairs] || !small[pairs])
			abort();
		target_touch(big[pairs], b);
		target_touch(small[pairs], s);
		used += b + s + 16;
		pairs++;
	}
	/* Shuffled, so that the free lists run all over the arena, as after real traffic. */
	for (i = pairs; i-- > 1;) {
		size_t j = next_rand(&seed) % (i + 1);
		void *t = big[i];

		big[i] = big[j];
		big[j] = t;
	}
	for (i = 0; i < pairs; i++)
		free(big[i]);
	pthread_barrier_wait(&done_barrier);
	if (mode == BUSY)
		churn(&seed);
	if (mode == RACE) {
		pthread_mutex_lock(&mutate_lock);
		while (!mutate_asked)
			pthread_cond_wait(&mutate_cond, &mutate_lock);
		mutate(small, pairs);
		mutate_done = 1;
		pthread_cond_broadcast(&mutate_cond);
		pthread_mutex_unlock(&mutate_lock);
	}
	/* Stay attached to the arena, tcache intact, until the process exits. */
	pthread_mutex_lock(&hold);
	pthread_mutex_unlock(&hold);
	return NULL;
}

/* Answers "mutate" once the worker has rewritten its arena; 0 for any other line. */
static int mutation(const char *line)
{
	if (strncmp(line, "mutate", 6) != 0)
		return 0;
	pthread_mutex_lock(&mutate_lock);
	mutate_asked = 1;
	pthread_cond_broadcast(&mutate_cond);
	while (!mutate_done)
		pthread_cond_wait(&mutate_cond, &mutate_lock);
	pthread_mutex_unlock(&mutate_lock);
	fputs("mutated\n", stdout);
	fflush(stdout);
	return 1;
}

int main(int argc, char **argv)
{
	pthread_t tids[MAX_THREADS];
	FILE *info;
	intptr_t i;

	if (argc < 4)
		return 2;
	nthreads = atoi(argv[1]);
	per_thread = (size_t)atoi(argv[2]) << 20;
	mode = argc > 4 && strcmp(argv[4], "busy") == 0   ? BUSY
	       : argc > 4 && strcmp(argv[4], "race") == 0 ? RACE
							  : IDLE;
	if (nthreads < 1 || nthreads > MAX_THREADS || (mode == RACE && nthreads != 1))
		return 2;
	info = malloc_report_open(argv[3]);
	if (!info)
		return 1;
	pthread_barrier_init(&done_barrier, NULL, (unsigned int)nthreads + 1);
	pthread_mutex_lock(&hold);
	target_ready();
	target_wait();
	for (i = 0; i < nthreads; i++)
		if (pthread_create(&tids[i], NULL, worker, (void *)i))
			return 1;
	pthread_barrier_wait(&done_barrier);
	target_done("threads=%d bytes_per_thread=%zu", nthreads, per_thread);
	if (malloc_report_serve(info, mode == RACE ? mutation : NULL))
		return 1;
	/* The threads block on `hold` (or churn) forever; exiting the process ends them. */
	_exit(0);
}
