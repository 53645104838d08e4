// SPDX-License-Identifier: GPL-2.0-only
/* Test target for watch -- CMD: allocates before main and first thing in main, keeps it, exits. */
#include <stdint.h>
#include <time.h>

#include "target.h"

/*
 * Usage: alloc_first [SECONDS [STATUS]] (defaults 3, 0). A constructor, run
 * by the dynamic loader before main, allocates CTOR_BLOCKS blocks of BLOCK
 * bytes; main's first statement allocates MAIN_BLOCKS more. Every block is
 * touched and kept. It then sleeps SECONDS and exits with STATUS. It takes no
 * handshake: memsleuth starts it (watch -- alloc_first), and must see both.
 */
#define BLOCK 65536
#define CTOR_BLOCKS 24
#define MAIN_BLOCKS 40

static void *kept_ctor[CTOR_BLOCKS];

static void __attribute__((noinline)) ctor_blocks(void)
{
	int i;

	for (i = 0; i < CTOR_BLOCKS; i++) {
		kept_ctor[i] = malloc(BLOCK);
		target_touch(kept_ctor[i], BLOCK);
	}
}

static void __attribute__((constructor)) before_main(void)
{
	ctor_blocks();
}

static void *__attribute__((noinline)) main_block(void)
{
	void *p = malloc(BLOCK);

	target_touch(p, BLOCK);
	return p;
}

int main(int argc, char **argv)
{
	static void *kept[MAIN_BLOCKS];
	double seconds = argc > 1 ? atof(argv[1]) : 3;
	int status = argc > 2 ? atoi(argv[2]) : 0, i;
	struct timespec ts;

	for (i = 0; i < MAIN_BLOCKS; i++)
		kept[i] = main_block();
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
	return kept[0] && kept_ctor[0] ? status : 1;
}
