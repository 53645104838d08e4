// SPDX-License-Identifier: GPL-2.0-only
/* Clocks: wall time for timestamps, monotonic time for intervals and deadlines, CPU time. */
#include "lib/clock.h"

#include <time.h>

static double read_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double clock_unix(void)
{
	return read_clock(CLOCK_REALTIME);
}

double clock_mono(void)
{
	return read_clock(CLOCK_MONOTONIC);
}

double clock_thread_cpu(void)
{
	return read_clock(CLOCK_THREAD_CPUTIME_ID);
}
