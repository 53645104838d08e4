// SPDX-License-Identifier: GPL-2.0-only
/* Test target: leaks sockets from one function while opening and closing fds elsewhere. */
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "target.h"

/*
 * Usage: fd_leak [K] (default 20). After "go", open_close_elsewhere() opens
 * and closes files, pipes, socket pairs, eventfds and dups (nothing stays
 * open), and leak_sockets_here() opens K sockets that stay open. Between
 * them, reopen_elsewhere() opens one file and keeps it, closing it only on
 * the next line from the test (then "done closed=1").
 */
__attribute__((noinline)) static void open_close_elsewhere(int rounds)
{
	int i, p[2], sv[2];

	for (i = 0; i < rounds; i++) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		int d = dup(fd), e = eventfd(0, EFD_CLOEXEC);
		int f = fcntl(fd, F_DUPFD_CLOEXEC, 10);

		if (fd < 0 || d < 0 || e < 0 || f < 0 || pipe2(p, O_CLOEXEC) ||
		    socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
			exit(1);
		close(fd);
		close(d);
		close(e);
		close(f);
		close(p[0]);
		close(p[1]);
		close(sv[0]);
		close(sv[1]);
	}
}

__attribute__((noinline)) static int reopen_elsewhere(void)
{
	return open("/dev/zero", O_RDONLY | O_CLOEXEC);
}

__attribute__((noinline)) static void leak_sockets_here(int k)
{
	int i;

	for (i = 0; i < k; i++)
		if (socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) < 0)
			exit(1);
}

int main(int argc, char **argv)
{
	int k = argc > 1 ? atoi(argv[1]) : 20;
	int kept;

	target_ready();
	target_wait();
	open_close_elsewhere(10);
	kept = reopen_elsewhere();
	leak_sockets_here(k);
	open_close_elsewhere(10);
	target_done("sockets=%d kept_file=1", k);
	target_wait();
	close(kept);
	target_done("closed=1");
	target_wait();
	return 0;
}
