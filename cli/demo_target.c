// SPDX-License-Identifier: GPL-2.0-only
/* The demo's target: a small service that misbehaves in the ways memsleuth detects. */
#include "cli/commands.h"
#include "cli/util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 * Every tick (100 ms) the demo:
 *  - appends one 64 KiB block to a request log it never trims: [heap] grows
 *    in 64 KiB steps (a loop accumulator overflowing a chunk pool);
 *  - leaks one 1000-byte "session" object;
 *  - churns a bounded cache of 4 KiB entries (steady state, no growth);
 * and every second it opens a socket it never closes.
 * It never grows past DEMO_LIMIT so a forgotten demo cannot hurt the machine.
 */
#define DEMO_CHUNK (64 * 1024)
#define DEMO_LEAK 1000
#define DEMO_CACHE 256
#define DEMO_LIMIT (512u << 20)
#define DEMO_MAX_FDS 900

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

int cmd_demo_target(int argc, char **argv)
{
	struct timespec tick = { .tv_sec = 0, .tv_nsec = 100 * 1000 * 1000 };
	struct block *log_head = NULL;
	void *cache[DEMO_CACHE] = { 0 };
	size_t grown = 0, i = 0, fds = 0;

	(void)argc;
	(void)argv;
	prctl(PR_SET_NAME, "memsleuth-demo");
	/* Dies with the memsleuth that started it. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);

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
		nanosleep(&tick, NULL);
	}
	return EXIT_OK;
}
