// SPDX-License-Identifier: GPL-2.0-only
/* Test target: loads new code, faults pages in from it, then executes another program. */
#include <dlfcn.h>
#include <sys/mman.h>

#include "target.h"

/*
 * Usage: exec_after_dlopen LIBRARY PROGRAM [ARGS...]. On "go" it dlopens
 * LIBRARY (libdlmap.so: new code, so a stack through it sends memsleuth back
 * to /proc/PID/maps), maps 1 MiB from the library's lib_map_here(), touches
 * 4 MiB (page faults with stacks), prints "done" and executes PROGRAM at once:
 * the stack events of the old image are still queued when it is gone.
 */
__attribute__((noinline)) static void fault_here(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		exit(1);
	target_touch(p, len);
}

int main(int argc, char **argv)
{
	int (*fn)(size_t);
	void *h;

	if (argc < 3)
		return 2;
	target_ready();
	target_wait();
	h = dlopen(argv[1], RTLD_NOW);
	fn = h ? (int (*)(size_t))dlsym(h, "lib_map_here") : NULL;
	if (!fn)
		return 1;
	fn(1 << 20);
	fault_here(4 << 20);
	target_done("exec=%s", argv[2]);
	execv(argv[2], argv + 2);
	perror("execv");
	return 1;
}
