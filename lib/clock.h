/* SPDX-License-Identifier: GPL-2.0-only */
/* Clocks: wall time for timestamps, monotonic time for intervals and deadlines, CPU time. */
#ifndef MEMSLEUTH_CLOCK_H
#define MEMSLEUTH_CLOCK_H

/* Unix time now, in seconds (CLOCK_REALTIME): for what is recorded or shown. */
double clock_unix(void);

/* Monotonic seconds (CLOCK_MONOTONIC): for intervals, deadlines and budgets. */
double clock_mono(void);

/* CPU seconds the calling thread has used (CLOCK_THREAD_CPUTIME_ID): for a step's own cost. */
double clock_thread_cpu(void);

#endif
