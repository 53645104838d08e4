// SPDX-License-Identifier: GPL-2.0-only
/* Test target: after "go", maps memory, then executes itself anew (same PID, new program). */
#include <string.h>
#include <sys/mman.h>

#include "target.h"

/*
 * Run without arguments it follows the handshake, then on "go" maps 1 MiB in
 * before_exec_here() and executes /proc/self/exe with "execed". The new image
 * prints "done execed=1" and waits for a line or EOF.
 */
__attribute__((noinline)) static void before_exec_here(void)
{
	void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		exit(1);
	target_touch(p, 1 << 20);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "execed") == 0) {
		target_done("execed=1");
		target_wait();
		return 0;
	}
	target_ready();
	target_wait();
	before_exec_here();
	fflush(stdout);
	execl("/proc/self/exe", argv[0], "execed", (char *)NULL);
	return 1;
}
