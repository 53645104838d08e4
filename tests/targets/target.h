/* SPDX-License-Identifier: GPL-2.0-only */
/* The handshake every test target follows, so that memsleuth attaches before it misbehaves. */
#ifndef MEMSLEUTH_TEST_TARGET_H
#define MEMSLEUTH_TEST_TARGET_H

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * Protocol on stdin/stdout, one line each:
 *   target -> "ready PID"        set up, waiting
 *   test   -> "go" (any line)    misbehave now
 *   target -> "done ..."         finished, with figures the test may check
 *   test   -> any line or EOF    exit
 * Targets abort when stdin closes early, so a dead test leaves nothing behind.
 */

static inline void target_ready(void)
{
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
}

/* Blocks until the test writes a line; exits when stdin is closed. */
static inline void target_wait(void)
{
	char line[256];

	if (!fgets(line, sizeof(line), stdin))
		exit(0);
}

static inline void target_done(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#include <stdarg.h>

static inline void target_done(const char *fmt, ...)
{
	va_list ap;

	fputs("done", stdout);
	if (fmt && *fmt) {
		fputc(' ', stdout);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	fputc('\n', stdout);
	fflush(stdout);
}

/* Monotonic seconds, for targets that pace themselves or time their own work. */
static inline double target_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Sleeps until monotonic time `t` (millisecond precision); returns 1 early when the
 * test writes a line (read and dropped: "stop now"), 0 when `t` came. Exits when stdin
 * is closed, like target_wait().
 */
static inline int target_sleep_until(double t)
{
	struct pollfd in = { .fd = 0, .events = POLLIN, .revents = 0 };
	double left;

	while ((left = t - target_now()) > 0) {
		if (poll(&in, 1, (int)(left * 1000) + 1) > 0) {
			target_wait();
			return 1;
		}
	}
	return 0;
}

/*
 * The paced service of targets that take "RATE SECONDS": after "go", calls
 * request(i) RATE times a second for SECONDS (i from 0), each at its time,
 * so that work follows requests as in a real service; a line from the test
 * stops it early. Returns the requests served, or
 * -1 when the arguments are missing (the caller exits 2).
 */
static inline long target_serve(int argc, char **argv, void (*request)(long))
{
	double rate, seconds, t0;
	long i, n;

	if (argc < 3)
		return -1;
	rate = strtod(argv[1], NULL);
	seconds = strtod(argv[2], NULL);
	n = (long)(rate * seconds);
	target_ready();
	target_wait();
	t0 = target_now();
	for (i = 0; i < n; i++) {
		if (target_sleep_until(t0 + (double)i / rate))
			break;
		request(i);
	}
	return i;
}

/* Touches every page so that the bytes count in RSS. */
static inline void target_touch(void *p, size_t len)
{
	volatile char *c = (volatile char *)p;
	size_t i;

	for (i = 0; i < len; i += 4096)
		c[i] = 1;
	if (len)
		c[len - 1] = 1;
}

/* Allocates n blocks of `size` bytes with malloc, each touched; aborts when out of memory. */
static inline void **target_blocks(size_t n, size_t size)
{
	void **blocks = (void **)malloc((n ? n : 1) * sizeof(*blocks));
	size_t i;

	if (!blocks)
		abort();
	for (i = 0; i < n; i++) {
		blocks[i] = malloc(size);
		if (!blocks[i])
			abort();
		target_touch(blocks[i], size);
	}
	return blocks;
}

#endif
