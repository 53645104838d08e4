/* SPDX-License-Identifier: GPL-2.0-only */
/* Stop requests (SIGINT, SIGTERM, SIGHUP) and sleeping until a deadline or a key press. */
#ifndef MEMSLEUTH_SIGNALS_H
#define MEMSLEUTH_SIGNALS_H

#include <stdbool.h>

/*
 * Installs handlers that only record the signal, and blocks those signals
 * except while sleeping in signals_wait(), so that none is missed between a
 * check and a sleep.
 */
void signals_install(void);

/* The signal that asked memsleuth to stop, or 0. */
int signals_stop_requested(void);
/* Forgets it, to wait for the next one (watch -- CMD waiting for its command). */
void signals_clear(void);

/*
 * Sleeps until CLOCK_MONOTONIC reaches `deadline` (seconds), a stop signal
 * arrives, or `fd` (when >= 0) becomes readable. Returns 1 when fd is
 * readable, 0 otherwise.
 */
int signals_wait(double deadline, int fd);

/*
 * Like signals_wait, but also returns 2 when any other signal interrupted the
 * sleep (SIGWINCH: the terminal was resized, and curses has a key for it).
 */
int signals_wait_wake(double deadline, int fd);

#endif
