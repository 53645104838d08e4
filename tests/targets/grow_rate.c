// SPDX-License-Identifier: GPL-2.0-only
/* Test target: grows [heap] at RATE MiB/s on a clock schedule until it has grown by MAX MiB. */
#include <stdint.h>
#include <time.h>

#include "target.h"

/*
 * Usage: grow_rate [RATE_MIB_PER_S [MAX_MIB]] (defaults 12, 256). After "go"
 * it extends [heap] with sbrk every 50 ms and touches what it added, so that
 * after t seconds it has grown by RATE * t MiB (to within one step), however
 * late a tick runs on a loaded machine: a late tick catches up. So what it
 * added between two moments is RATE times their distance. Prints "done
 * heap=BYTES" at MAX, then waits.
 */
#define TICK_S 0.05

int main(int argc, char **argv)
{
	double rate = (argc > 1 ? atof(argv[1]) : 12) * (1 << 20);
	size_t max = (size_t)(argc > 2 ? atoi(argv[2]) : 256) << 20, grown = 0;
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)(TICK_S * 1e9) };
	double start;

	target_ready();
	target_wait();
	start = target_now();
	while (grown < max) {
		size_t due = (size_t)((target_now() - start) * rate) & ~(size_t)4095;

		if (due > max)
			due = max;
		if (due > grown) {
			void *p = sbrk((intptr_t)(due - grown));

			if (p == (void *)-1)
				return 1;
			target_touch(p, due - grown);
			grown = due;
		}
		nanosleep(&ts, NULL);
	}
	target_done("heap=%zu", grown);
	target_wait();
	return 0;
}
