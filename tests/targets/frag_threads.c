// SPDX-License-Identifier: GPL-2.0-only
/* Test target: THREADS threads each fragment their own glibc arena; malloc_info on request. */
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>

#include "malloc_report.h"
#include "target.h"

/*
 * Usage: frag_threads THREADS MIB INFO_PATH [control]
 *
 * Each thread allocates MIB MiB in 1 KiB blocks from its own arena, then frees
 * seven blocks of every eight (the first seven frees land in its tcache, the
 * rest in the arena's bins, in runs of seven adjacent chunks that hold whole
 * pages). The eighth block stays live, so the runs cannot merge back into top:
 * the arena keeps its memory while most of it is free. With `control`, every
 * block is freed and the main thread then calls malloc_trim(0), which hands
 * the free pages of every arena back to the kernel (the chunks stay in the
 * bins, but no longer cost RSS).
 *
 * After "done", the test may send "info": the main thread writes malloc_info()
 * to INFO_PATH (opened at start, with a static buffer, so that writing it
 * allocates nothing) and answers "info fordblks=N fsmblks=N arena=N" (mallinfo2).
 * The threads stay alive (blocked) so that their arenas, attachments and
 * tcaches stay as they are.
 */

#define BLOCK 1024

static int nthreads;
static size_t per_thread;
static int control;
static pthread_barrier_t done_barrier;
static pthread_mutex_t hold = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
	size_t n = per_thread / BLOCK, i;
	void **blocks = target_blocks(n, BLOCK);

	(void)arg;
	if (control) {
		for (i = n; i-- > 0;)
			free(blocks[i]);
	} else {
		for (i = 0; i < n; i++)
			if (i % 8 != 7)
				free(blocks[i]);
	}
	pthread_barrier_wait(&done_barrier);
	/* Stay attached to the arena, tcache intact, until the process exits. */
	pthread_mutex_lock(&hold);
	pthread_mutex_unlock(&hold);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t tids[64];
	FILE *info;
	int i;

	if (argc < 4)
		return 2;
	nthreads = atoi(argv[1]);
	per_thread = (size_t)atoi(argv[2]) << 20;
	control = argc > 4 && strcmp(argv[4], "control") == 0;
	if (nthreads < 1 || nthreads > 64)
		return 2;
	info = malloc_report_open(argv[3]);
	if (!info)
		return 1;
	pthread_barrier_init(&done_barrier, NULL, (unsigned int)nthreads + 1);
	pthread_mutex_lock(&hold);
	target_ready();
	target_wait();
	for (i = 0; i < nthreads; i++)
		if (pthread_create(&tids[i], NULL, worker, NULL))
			return 1;
	pthread_barrier_wait(&done_barrier);
	if (control)
		malloc_trim(0);
	target_done("threads=%d bytes_per_thread=%zu", nthreads, per_thread);
	if (malloc_report_serve(info, NULL))
		return 1;
	/* The threads block on `hold` forever; exiting the process ends them. */
	_exit(0);
}
