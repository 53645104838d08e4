// SPDX-License-Identifier: GPL-2.0-only
/* Test target: maps a file of FILE_MIB and reads it all, growing a file region exactly. */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "target.h"

/* Usage: grow_file PATH [FILE_MIB] (default 16). Creates PATH, maps it shared read-only. */
int main(int argc, char **argv)
{
	size_t len = (size_t)(argc > 2 ? atoi(argv[2]) : 16) << 20;
	volatile char sum = 0;
	char *p;
	size_t i;
	int fd;

	if (argc < 2)
		return 2;
	fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)len))
		return 1;
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 1;
	close(fd);
	target_ready();
	target_wait();
	/* Reading faults every page in: RSS of the file region grows by len. */
	for (i = 0; i < len; i += 4096)
		sum += p[i];
	target_done("file=%zu", len);
	target_wait();
	return sum == 42;
}
