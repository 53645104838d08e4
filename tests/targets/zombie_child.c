// SPDX-License-Identifier: GPL-2.0-only
/* Test target: a child that exits and stays a zombie, because its parent never reaps it. */
#include <signal.h>
#include <sys/prctl.h>

#include "target.h"

/*
 * The child follows the handshake (its "ready" line names its own PID) and
 * exits on "go" after printing "done"; the parent only waits to be killed and
 * dies with the test that started it.
 */
int main(void)
{
	pid_t child;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fflush(stdout);
	child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		target_ready();
		target_wait();
		target_done("exited=%d", (int)getpid());
		_exit(0);
	}
	for (;;)
		pause();
}
