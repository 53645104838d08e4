// SPDX-License-Identifier: GPL-2.0-only
/* The demo's target: a small service that misbehaves in the ways memsleuth detects. */
#include "cli/commands.h"
#include "cli/util.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 * Every tick (100 ms) the main thread:
 *  - appends one 64 KiB block to a request log it never trims: [heap] grows
 *    in 64 KiB steps (a loop accumulator overflowing a chunk pool);
 *  - leaks one 1000-byte "session" object;
 *  - churns a bounded cache of 4 KiB entries (steady state, no growth);
 * and every second it opens a socket it never closes.
 * Meanwhile DEMO_FRAG_THREADS workers, each in its own glibc arena, fragment
 * it: every round allocates many small blocks, then gives back all of each
 * but a small record at its start (realloc shrinks in place), so the arena
 * holds free holes between sparse live records, and no later block (each
 * round's are a size class larger) fits in a hole: RSS grows, live bytes
 * barely do. It never grows past its caps, so a forgotten demo cannot hurt
 * the machine.
 */
#define DEMO_CHUNK (64 * 1024)
#define DEMO_LEAK 1000
#define DEMO_CACHE 256
#define DEMO_LIMIT (512u << 20)
#define DEMO_MAX_FDS 900

#define DEMO_FRAG_THREADS 3
#define DEMO_FRAG_BLOCKS 1024		/* blocks per round */
#define DEMO_FRAG_BASE 128		/* block size in the first round */
#define DEMO_FRAG_STEP 16		/* a chunk size class more every round */
#define DEMO_FRAG_RECORD 24		/* the live record left between holes */
#define DEMO_FRAG_LIMIT (16u << 20)	/* block bytes per worker */
#define DEMO_FRAG_ROUND_MS 500

static volatile sig_atomic_t demo_stop;

static void on_term(int sig)
{
	(void)sig;
	demo_stop = 1;
}

struct block {
	struct block *next;
	char data[];
};

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L };

	nanosleep(&ts, NULL);
}

/* One fragmenting worker; its records stay allocated until the process exits. */
static void *fragment(void *arg)
{
	char *blocks[DEMO_FRAG_BLOCKS];
	size_t total = 0, round = 0, i;

	(void)arg;
	while (!demo_stop && total < DEMO_FRAG_LIMIT) {
		size_t size = DEMO_FRAG_BASE + DEMO_FRAG_STEP * round++;

		/* Consecutive blocks from the top of the arena, each touched whole. */
		for (i = 0; i < DEMO_FRAG_BLOCKS; i++) {
			blocks[i] = malloc(size);
			if (blocks[i])
				memset(blocks[i], 'b', size);
		}
		/* A shrinking realloc stays in place and frees the tail: holes between records. */
		for (i = 0; i < DEMO_FRAG_BLOCKS; i++) {
			char *record = blocks[i] ? realloc(blocks[i], DEMO_FRAG_RECORD) : NULL;

			if (record)
				record[0] = 'r';
		}
		total += size * DEMO_FRAG_BLOCKS;
		sleep_ms(DEMO_FRAG_ROUND_MS);
	}
	while (!demo_stop)
		sleep_ms(100);
	return NULL;
}

int cmd_demo_target(int argc, char **argv)
{
	pthread_t workers[DEMO_FRAG_THREADS];
	struct block *log_head = NULL;
	void *cache[DEMO_CACHE] = { 0 };
	size_t grown = 0, i = 0, fds = 0, nworkers = 0;
	struct sigaction sa;

	(void)argc;
	(void)argv;
	prctl(PR_SET_NAME, "memsleuth-demo");
	/* Dies with the memsleuth that started it. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	for (; nworkers < DEMO_FRAG_THREADS; nworkers++)
		if (pthread_create(&workers[nworkers], NULL, fragment, NULL))
			break;
	while (!demo_stop) {
		if (grown < DEMO_LIMIT) {
			struct block *b = malloc(sizeof(*b) + DEMO_CHUNK - 64);
			char *leak = malloc(DEMO_LEAK);

			if (b) {
				memset(b->data, 'r', DEMO_CHUNK - 64);
				b->next = log_head;
				log_head = b;
				grown += DEMO_CHUNK;
			}
			if (leak) {
				memset(leak, 's', DEMO_LEAK);
				grown += DEMO_LEAK;
			}
		}
		free(cache[i % DEMO_CACHE]);
		cache[i % DEMO_CACHE] = malloc(4096);
		if (cache[i % DEMO_CACHE])
			memset(cache[i % DEMO_CACHE], 'c', 4096);
		if (i % 10 == 0 && fds < DEMO_MAX_FDS && socket(AF_UNIX, SOCK_STREAM, 0) >= 0)
			fds++;
		i++;
		sleep_ms(100);
	}
	while (nworkers--)
		pthread_join(workers[nworkers], NULL);
	/* Leaking is this process's purpose: leave without the exit-time leak checks. */
	_exit(EXIT_OK);
}
