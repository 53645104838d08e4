// SPDX-License-Identifier: GPL-2.0-only
/* Shared library for dlopen_late: maps memory and opens a socket from lib_map_here(). */
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>

/* Keeps one mapping of `len` bytes and one socket; returns the socket. */
__attribute__((noinline)) int lib_map_here(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd;

	if (p == MAP_FAILED)
		exit(1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		exit(1);
	return fd;
}
