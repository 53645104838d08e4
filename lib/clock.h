/* SPDX-License-Identifier: GPL-2.0-only */
/* Clocks: wall time for timestamps, monotonic time for intervals and deadlines. */
#ifndef MEMSLEUTH_CLOCK_H
#define MEMSLEUTH_CLOCK_H

/* Unix time now, in seconds (CLOCK_REALTIME): for what is recorded or shown. */
double clock_unix(void);

/* Monotonic seconds (CLOCK_MONOTONIC): for intervals, deadlines and budgets. */
double clock_mono(void);

#endif
