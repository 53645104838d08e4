// SPDX-License-Identifier: GPL-2.0-only
/* Test target: a comm and a mapped file name full of control bytes and invalid UTF-8. */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "target.h"

/*
 * Usage: odd_names DIR
 * Renames itself to "\x01\x1b[31m\xffodd" (a C0 control, an escape sequence
 * that would turn a terminal red, an invalid UTF-8 byte) before "ready"; on
 * "go" maps MAP_MIB MiB of a file named "evil\n\x1b[2J\xfe\xc2\x9b.dat" in DIR
 * (a newline, "clear screen", an invalid byte and a C1 CSI), reading every page.
 */
#define MAP_MIB 2

int main(int argc, char **argv)
{
	static const char comm[] = "\x01\x1b[31m\xff" "odd";
	static const char name[] = "evil\n\x1b[2J\xfe\xc2\x9b.dat";
	size_t len = (size_t)MAP_MIB << 20, i;
	char path[4096];
	volatile char sum = 0;
	char *p;
	int fd;

	if (argc < 2)
		return 2;
	snprintf(path, sizeof(path), "%s/%s", argv[1], name);
	if (prctl(PR_SET_NAME, comm))
		return 1;
	target_ready();
	target_wait();
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)len))
		return 1;
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return 1;
	for (i = 0; i < len; i += 4096)
		sum += p[i];
	target_done("bytes=%zu", len);
	target_wait();
	return 0;
}
