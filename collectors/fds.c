// SPDX-License-Identifier: GPL-2.0-only
/* The target's file descriptor table by type, and its RLIMIT_NOFILE. */
#include "collectors/fds.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

enum fd_type fds_classify_link(const char *target)
{
	static const struct {
		const char *prefix;
		enum fd_type type;
	} kinds[] = {
		{ "socket:", FD_SOCKET },
		{ "pipe:", FD_PIPE },
		{ "anon_inode:[eventfd]", FD_EVENTFD },
		{ "anon_inode:[eventpoll]", FD_EPOLL },
		{ "anon_inode:[timerfd]", FD_TIMERFD },
		{ "anon_inode:[signalfd]", FD_SIGNALFD },
		{ "anon_inode:inotify", FD_INOTIFY },
		{ "anon_inode:[inotify]", FD_INOTIFY },
		{ "anon_inode:", FD_ANON_INODE },
		{ "/memfd:", FD_MEMFD },
		{ "/dev/", FD_DEVICE },
	};
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (starts_with(target, kinds[i].prefix))
			return kinds[i].type;
	if (target[0] == '/')
		return FD_FILE;
	return FD_OTHER;
}

/* A decimal limit in [p, end): the text is not NUL-terminated, so no strtoull. */
static int parse_limit(const char *p, const char *end, uint64_t *out)
{
	uint64_t v = 0;

	if (p >= end || *p < '0' || *p > '9')
		return -EINVAL;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		unsigned int d = (unsigned int)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int fds_parse_limits(const char *buf, size_t len, uint64_t *soft)
{
	static const char key[] = "Max open files";
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;

		if ((size_t)(eol - p) > sizeof(key) && memcmp(p, key, sizeof(key) - 1) == 0) {
			const char *v = p + sizeof(key) - 1;

			while (v < eol && *v == ' ')
				v++;
			if (eol - v >= 9 && memcmp(v, "unlimited", 9) == 0) {
				*soft = UINT64_MAX;
				return 0;
			}
			return parse_limit(v, eol, soft);
		}
		p = nl ? nl + 1 : end;
	}
	return -EINVAL;
}

int fds_scan(const struct proc_target *t, struct fd_summary *out)
{
	char link[4096], *buf = NULL;
	struct dirent *de;
	size_t len;
	DIR *dir;
	int fd, ret = 0;

	memset(out, 0, sizeof(*out));
	fd = openat(t->dirfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return proc_errno_gone(errno) ? -ESRCH : -errno;
	dir = fdopendir(fd);
	if (!dir) {
		ret = -errno;
		close(fd);
		return ret;
	}
	while ((errno = 0, de = readdir(dir))) {
		ssize_t n;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		n = readlinkat(fd, de->d_name, link, sizeof(link) - 1);
		if (n < 0)
			continue;	/* closed between readdir and readlink */
		link[n] = '\0';
		out->by_type[fds_classify_link(link)]++;
		out->total++;
	}
	if (errno && !ret)
		ret = proc_errno_gone(errno) ? -ESRCH : -errno;
	closedir(dir);
	if (ret)
		return ret;

	if (proc_read(t, "limits", &buf, &len) == 0) {
		if (fds_parse_limits(buf, len, &out->limit))
			out->limit = 0;
		free(buf);
	}
	return 0;
}
