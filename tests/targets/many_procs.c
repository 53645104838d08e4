// SPDX-License-Identifier: GPL-2.0-only
/* Bench target: N idle child processes, for the cost of a host-wide scan. */
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "target.h"

/*
 * Usage: many_procs N. Forks N children that sleep until their parent dies
 * (PR_SET_PDEATHSIG), then says "ready". Any line or EOF on stdin ends it:
 * the children are killed and reaped. Children share the parent's pages, so
 * 10,000 of them cost a few hundred MiB of kernel memory, not copies.
 */
int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000, i;
	pid_t *kids = calloc((size_t)(n > 0 ? n : 1), sizeof(*kids));

	if (!kids)
		return 1;
	for (i = 0; i < n; i++) {
		kids[i] = fork();
		if (kids[i] < 0) {
			fprintf(stderr, "many_procs: fork %ld: failed\n", i);
			break;
		}
		if (kids[i] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() == 1)
				_exit(0);
			for (;;)
				pause();
		}
	}
	n = i;
	target_ready();
	target_wait();
	for (i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	for (i = 0; i < n; i++)
		waitpid(kids[i], NULL, 0);
	return 0;
}
