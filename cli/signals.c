// SPDX-License-Identifier: GPL-2.0-only
/* Stop requests (SIGINT, SIGTERM, SIGHUP) and sleeping until a deadline or a key press. */
#include "cli/signals.h"
#include "lib/clock.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stop_signal;
static sigset_t wait_mask;

static void on_stop(int sig)
{
	stop_signal = sig;
}

void signals_install(void)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	sigdelset(&wait_mask, SIGINT);
	sigdelset(&wait_mask, SIGTERM);
	sigdelset(&wait_mask, SIGHUP);
}

int signals_stop_requested(void)
{
	return stop_signal;
}

void signals_clear(void)
{
	stop_signal = 0;
}

static int wait_until(double deadline, int fd, bool wake)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	while (!stop_signal) {
		double left = deadline - clock_mono();
		struct timespec ts;
		int n;

		if (left <= 0)
			return 0;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - floor(left)) * 1e9);
		n = ppoll(fd >= 0 ? &pfd : NULL, fd >= 0 ? 1 : 0, &ts, &wait_mask);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return 0;
		if (n < 0 && wake && !stop_signal)
			return 2;
	}
	return 0;
}

int signals_wait(double deadline, int fd)
{
	return wait_until(deadline, fd, false);
}

int signals_wait_wake(double deadline, int fd)
{
	return wait_until(deadline, fd, true);
}
