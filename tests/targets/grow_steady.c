// SPDX-License-Identifier: GPL-2.0-only
/* Test target: grows [heap] by STEP_KIB every PERIOD_MS until it has grown by MAX_MIB. */
#include <stdint.h>
#include <time.h>

#include "target.h"

/*
 * Usage: grow_steady [STEP_KIB [PERIOD_MS [MAX_MIB]]] (defaults 64, 100, 64).
 * Growth goes through sbrk, touched whole, so [heap] and RSS rise steadily
 * while a live view watches. Prints "done heap=BYTES" once the cap is reached.
 */
int main(int argc, char **argv)
{
	size_t step = (size_t)(argc > 1 ? atoi(argv[1]) : 64) << 10;
	long period = argc > 2 ? atol(argv[2]) : 100;
	size_t max = (size_t)(argc > 3 ? atoi(argv[3]) : 64) << 20, grown = 0;
	struct timespec ts = { .tv_sec = period / 1000, .tv_nsec = period % 1000 * 1000000L };

	target_ready();
	target_wait();
	while (grown + step <= max) {
		void *p = sbrk((intptr_t)step);

		if (p == (void *)-1)
			return 1;
		target_touch(p, step);
		grown += step;
		nanosleep(&ts, NULL);
	}
	target_done("heap=%zu", grown);
	target_wait();
	return 0;
}
