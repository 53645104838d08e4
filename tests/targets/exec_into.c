// SPDX-License-Identifier: GPL-2.0-only
/* Test target: replaces itself with another program (exec) when told to, keeping its PID. */
#include "target.h"

/*
 * Usage: exec_into PROGRAM [ARGS...]
 * On "go": prints "done exec" and execs PROGRAM with ARGS: the same process
 * (PID, start time, stdin and stdout) goes on with another image and comm.
 */
int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	target_ready();
	target_wait();
	target_done("exec=%s", argv[1]);
	execv(argv[1], argv + 1);
	perror("execv");
	return 1;
}
