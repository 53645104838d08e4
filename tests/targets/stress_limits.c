// SPDX-License-Identifier: GPL-2.0-only
/* Test target: a process that is large in every dimension memsleuth keeps per tick. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "target.h"

/*
 * Usage: stress_limits MAPS THREADS FDS FILES [DIR]
 * On "go": splits one anonymous mapping into MAPS separate mappings (alternating
 * protections), starts THREADS threads (64 KiB stacks; each mallocs once, so the
 * first ones get their own glibc arena, then blocks in read()), opens FDS
 * descriptors (a mix of /dev/null, sockets, eventfds and pipes, raising
 * RLIMIT_NOFILE as needed), and maps FILES distinct one-page files created in DIR.
 * It never writes to memsleuth's side; everything it creates lives until it exits.
 */

static int block_fd[2];
static atomic_long started;

static void *thread_main(void *arg)
{
	char c;
	void *p = malloc(1024);

	(void)arg;
	if (p)
		memset(p, 1, 1024);
	atomic_fetch_add(&started, 1);
	while (read(block_fd[0], &c, 1) < 0 && errno == EINTR)
		;
	free(p);
	return NULL;
}

static int split_maps(long maps)
{
	long page = sysconf(_SC_PAGESIZE), i;
	char *base;

	if (!maps)
		return 0;
	base = mmap(NULL, (size_t)maps * (size_t)page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return -1;
	for (i = 1; i < maps; i += 2)
		if (mprotect(base + i * page, (size_t)page, PROT_READ))
			return -1;
	return 0;
}

static int start_threads(long n)
{
	pthread_attr_t attr;
	long i;

	if (pipe(block_fd))
		return -1;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (i = 0; i < n; i++) {
		pthread_t t;

		if (pthread_create(&t, &attr, thread_main, NULL))
			return -1;
		pthread_detach(t);
	}
	while (atomic_load(&started) < n)
		usleep(1000);
	return 0;
}

static int open_fds(long n)
{
	struct rlimit rl;
	long opened = 0;

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = (rlim_t)n + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			return -1;
	}
	while (opened < n) {
		int fds[2];

		switch (opened % 4) {
		case 0:
			if ((fds[0] = open("/dev/null", O_RDONLY)) < 0)
				return -1;
			opened++;
			break;
		case 1:
			if ((fds[0] = eventfd(0, 0)) < 0)
				return -1;
			opened++;
			break;
		default:
			if (n - opened < 2) {
				if ((fds[0] = open("/dev/null", O_RDONLY)) < 0)
					return -1;
				opened++;
			} else if (opened % 4 == 2 ? socketpair(AF_UNIX, SOCK_STREAM, 0, fds)
						   : pipe(fds)) {
				return -1;
			} else {
				opened += 2;
			}
		}
	}
	return 0;
}

static int map_files(long n, const char *dir)
{
	char path[4096];
	long i;

	for (i = 0; i < n; i++) {
		char *p;
		int fd;

		snprintf(path, sizeof(path), "%s/f%06ld", dir, i);
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || ftruncate(fd, 4096))
			return -1;
		p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
		close(fd);
		if (p == MAP_FAILED)
			return -1;
		/* A read makes the page resident; the mapping is read-only. */
		(void)*(volatile char *)p;
	}
	return 0;
}

int main(int argc, char **argv)
{
	long maps, threads, fds, files;

	if (argc < 5 || (atol(argv[4]) > 0 && argc < 6)) {
		fprintf(stderr, "usage: stress_limits MAPS THREADS FDS FILES [DIR]\n");
		return 2;
	}
	maps = atol(argv[1]);
	threads = atol(argv[2]);
	fds = atol(argv[3]);
	files = atol(argv[4]);
	target_ready();
	target_wait();
	if (split_maps(maps)) {
		perror("maps");
		return 1;
	}
	if (start_threads(threads)) {
		perror("threads");
		return 1;
	}
	if (open_fds(fds)) {
		perror("fds");
		return 1;
	}
	if (files && map_files(files, argv[5])) {
		perror("files");
		return 1;
	}
	target_done("maps=%ld threads=%ld fds=%ld files=%ld", maps, threads, fds, files);
	target_wait();
	return 0;
}
