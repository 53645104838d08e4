// SPDX-License-Identifier: GPL-2.0-only
/* Test target: opens exactly N sockets, N/2 pipes (N fds) and N/4 files, and keeps them. */
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "target.h"

/* Usage: grow_fds [N] (default 40): +N sockets, +N pipe ends, +N/4 files, +1 eventfd. */
int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 40, i, p[2];

	target_ready();
	target_wait();
	for (i = 0; i < n; i++)
		if (socket(AF_INET, SOCK_STREAM, 0) < 0)
			return 1;
	for (i = 0; i < n / 2; i++)
		if (pipe(p))
			return 1;
	for (i = 0; i < n / 4; i++)
		if (open("/etc/hostname", O_RDONLY) < 0 && open("/proc/self/stat", O_RDONLY) < 0)
			return 1;
	if (eventfd(0, 0) < 0)
		return 1;
	target_done("sockets=%d pipes=%d files=%d eventfd=1", n, (n / 2) * 2, n / 4);
	target_wait();
	return 0;
}
