// SPDX-License-Identifier: GPL-2.0-only
/* Test target: loads a library after attach and maps memory from a function inside it. */
#include <dlfcn.h>

#include "target.h"

/*
 * Usage: dlopen_late LIBRARY. On "go" it dlopens LIBRARY (libdlmap.so) and
 * calls its lib_map_here(2 MiB) from call_library_here(): one mapping of
 * 2 MiB and one socket, both kept, made by code that was not mapped when
 * memsleuth attached.
 */
__attribute__((noinline)) static int call_library_here(const char *path)
{
	int (*fn)(size_t);
	void *h = dlopen(path, RTLD_NOW);
	int fd;

	if (!h)
		exit(1);
	fn = (int (*)(size_t))dlsym(h, "lib_map_here");
	if (!fn)
		exit(1);
	fd = fn(2 << 20);
	__asm__ volatile("" ::: "memory");
	return fd;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	target_ready();
	target_wait();
	call_library_here(argv[1]);
	target_done("map_bytes=%d sockets=1", 2 << 20);
	target_wait();
	return 0;
}
