// SPDX-License-Identifier: GPL-2.0-only
/* Test target: a thread arena whose full first heap and next heap are adjacent: one merged VMA. */
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>

#include "target.h"

/*
 * Usage: arena_merge STEPS STEP_MIB PAUSE_MS
 *
 * glibc maps each thread heap as a 64 MiB-aligned 64 MiB reservation, by
 * mapping twice that and unmapping the misaligned ends; when the mapping
 * came out aligned it remembers the 64 MiB above as the place to try first
 * for the next heap. So, before the worker's first malloc, the main thread
 * leaves a free hole of exactly 192 MiB, 64 MiB-aligned, at the top of the
 * mmap area (inside a larger reservation, so nothing else fits above it):
 * the worker's first heap lands aligned in the middle of the hole, and its
 * second heap right above it. The worker fills the first heap (1 KiB
 * blocks, touched) until glibc needs the second one; mprotect then commits
 * the second heap's start next to the full first heap, and the kernel merges
 * the two into one read-write VMA larger than 64 MiB. The worker then adds
 * STEP_MIB MiB to the second heap STEPS times, PAUSE_MS apart, and the target
 * says "done" with both heaps' addresses: the test finds the merge in the maps.
 */

#define BLOCK 1024
#define HEAP ((uintptr_t)64 << 20)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int started, steps;
static size_t step;
static struct timespec pause_between;
static uintptr_t first_heap, last_heap;

static void fill(size_t bytes)
{
	size_t i;

	for (i = 0; i < bytes / BLOCK; i++) {
		char *p = malloc(BLOCK);

		if (!p)
			abort();
		target_touch(p, BLOCK);
		if (!first_heap)
			first_heap = (uintptr_t)p & ~(HEAP - 1);
		last_heap = (uintptr_t)p & ~(HEAP - 1);
	}
}

static void *worker(void *arg)
{
	pthread_mutex_lock(&lock);
	while (!started)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	/* Fills the first heap; the block that does not fit starts the second. */
	while (!first_heap || last_heap == first_heap)
		fill(HEAP / 8);
	while (steps-- > 0) {
		nanosleep(&pause_between, NULL);
		fill(step);
	}
	(void)arg;
	return NULL;
}

/* A 192 MiB hole, 64 MiB-aligned, walled in by what is left of a larger reservation. */
static void leave_hole(void)
{
	size_t len = (size_t)1 << 30;
	char *r = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uintptr_t hole;

	if (r == MAP_FAILED)
		abort();
	hole = ((uintptr_t)r + len / 2) & ~(HEAP - 1);
	if (munmap((void *)hole, 3 * HEAP))
		abort();
}

int main(int argc, char **argv)
{
	pthread_t tid;

	if (argc < 4)
		return 2;
	steps = atoi(argv[1]);
	step = (size_t)atoi(argv[2]) << 20;
	pause_between.tv_sec = atoi(argv[3]) / 1000;
	pause_between.tv_nsec = (long)(atoi(argv[3]) % 1000) * 1000000;
	if (steps < 0 || !step)
		return 2;
	/* The worker's stack is mapped before the hole is made, so it does not take the hole. */
	if (pthread_create(&tid, NULL, worker, NULL))
		return 1;
	target_ready();
	target_wait();
	leave_hole();
	pthread_mutex_lock(&lock);
	started = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	if (pthread_join(tid, NULL))
		return 1;
	target_done("first_heap=0x%lx second_heap=0x%lx", (unsigned long)first_heap,
		    (unsigned long)last_heap);
	target_wait();
	return 0;
}
