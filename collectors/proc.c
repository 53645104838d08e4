// SPDX-License-Identifier: GPL-2.0-only
/* Access to one target process through a /proc/PID directory fd. */
#include "collectors/proc.h"
#include "lib/vec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#define READ_CHUNK (256 * 1024)

bool proc_self_has_cap(int cap)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (cap < 0 || cap >= 64 || syscall(SYS_capget, &hdr, data))
		return false;
	return data[cap / 32].effective & (1U << (cap % 32));
}

int proc_errno_gone(int err)
{
	return err == ENOENT || err == ESRCH;
}

/* Appends the rest of fd to b->data (b->len bytes kept); on failure b->len is reset to 0. */
static int read_fd_into(int fd, struct readbuf *b, size_t max)
{
	ssize_t r;

	b->len = 0;
	for (;;) {
		if (vec_reserve((void **)&b->data, &b->cap, b->len + READ_CHUNK + 1, 1))
			return -ENOMEM;
		r = read(fd, b->data + b->len, b->cap - b->len - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			b->len = 0;
			return -errno;
		}
		if (r == 0)
			break;
		b->len += (size_t)r;
		if (max && b->len > max) {
			b->len = 0;
			return -EFBIG;
		}
	}
	b->data[b->len] = '\0';
	return 0;
}

int fd_read_all(int fd, char **buf, size_t *len, size_t max)
{
	struct readbuf b = { 0 };
	int ret = read_fd_into(fd, &b, max);

	if (ret) {
		free(b.data);
		return ret;
	}
	*buf = b.data;
	*len = b.len;
	return 0;
}

int proc_read_buf(const struct proc_target *t, const char *name, struct readbuf *b)
{
	int fd, ret;

	fd = openat(t->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = read_fd_into(fd, b, 0);
	close(fd);
	return ret;
}

void readbuf_free(struct readbuf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int proc_read(const struct proc_target *t, const char *name, char **buf, size_t *len)
{
	int fd, ret;

	fd = openat(t->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = fd_read_all(fd, buf, len, 0);
	close(fd);
	return ret;
}

char *proc_path(const struct proc_target *t, const char *name)
{
	char *path;

	if (asprintf(&path, "/proc/self/fd/%d/%s", t->dirfd, name) < 0)
		return NULL;
	return path;
}

int proc_open_regular(const struct proc_target *t, const char *name)
{
	struct stat st;
	int fd;

	if (fstatat(t->dirfd, name, &st, 0))
		return -1;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	fd = openat(t->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -1;
	/* The file may have been replaced between the two calls. */
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

int file_read(const char *path, char **buf, size_t *len, size_t max)
{
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = fd_read_all(fd, buf, len, max);
	close(fd);
	return ret;
}

int proc_stat_fields(int dirfd, char *state, uint64_t *start_time, unsigned long *flags)
{
	char *buf = NULL, *p;
	size_t len;
	int fd, ret, field;
	unsigned long long v;

	fd = openat(dirfd, "stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = fd_read_all(fd, &buf, &len, 1 << 16);
	close(fd);
	if (ret)
		return ret;
	p = strrchr(buf, ')');
	if (!p) {
		free(buf);
		return -EIO;
	}
	p++;
	/* p is now before field 3 (state). */
	for (field = 3; field <= 22 && *p; field++) {
		while (*p == ' ')
			p++;
		if (field == 3 && state)
			*state = *p;
		if (field == 9 && flags)
			*flags = strtoul(p, NULL, 10);
		if (field == 22 && start_time) {
			v = strtoull(p, NULL, 10);
			*start_time = v;
		}
		while (*p && *p != ' ')
			p++;
	}
	free(buf);
	return field > 22 ? 0 : -EIO;
}

/* The State: letter of /proc/PID/status ('R', 'S', 'Z', ...) and PPid:, or 0 when unreadable. */
static char read_state(const struct proc_target *t, int *ppid)
{
	char *buf = NULL, state = 0;
	const char *line;
	size_t len;

	if (proc_read(t, "status", &buf, &len))
		return 0;
	if ((line = strstr(buf, "\nState:\t")))
		state = line[8];
	if (ppid && (line = strstr(buf, "\nPPid:")))
		*ppid = atoi(line + 6);
	free(buf);
	return state;
}

int proc_open(int pid, struct proc_target *t, char *err, size_t errlen)
{
	char path[64], *buf = NULL;
	unsigned long flags = 0;
	size_t len;
	int ret, tgid = -1;
	const char *line;

	t->pid = pid;
	t->dirfd = -1;
	snprintf(path, sizeof(path), "/proc/%d", pid);
	t->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->dirfd < 0) {
		ret = -errno;
		if (proc_errno_gone(-ret))
			snprintf(err, errlen, "no process with PID %d", pid);
		else
			snprintf(err, errlen, "cannot open %s: %s", path, strerror(-ret));
		return ret == -ENOENT ? -ESRCH : ret;
	}
	ret = proc_stat_fields(t->dirfd, NULL, &t->start_time, &flags);
	if (ret) {
		snprintf(err, errlen, "no process with PID %d", pid);
		goto fail;
	}
	if (flags & PF_KTHREAD) {
		snprintf(err, errlen, "PID %d is a kernel thread: it has no user memory to watch", pid);
		ret = -EINVAL;
		goto fail;
	}
	/* /proc/TID exists for threads too, hidden from listings; name the process instead. */
	ret = proc_read(t, "status", &buf, &len);
	if (ret == 0 && (line = strstr(buf, "\nTgid:")))
		tgid = atoi(line + 6);
	free(buf);
	buf = NULL;
	if (tgid > 0 && tgid != pid) {
		snprintf(err, errlen, "PID %d is a thread of process %d; watch %d instead", pid,
			 tgid, tgid);
		ret = -ESRCH;
		goto fail;
	}
	ret = proc_read(t, "smaps_rollup", &buf, &len);
	free(buf);
	if (ret == -EACCES || ret == -EPERM) {
		if (proc_self_has_cap(CAP_SYS_PTRACE))
			snprintf(err, errlen,
				 "cannot read /proc/%d/smaps: permission denied although memsleuth has "
				 "CAP_SYS_PTRACE: the kernel keeps this process from it (a security "
				 "module, or a user namespace above memsleuth's)", pid);
		else if (geteuid() == 0)
			snprintf(err, errlen,
				 "cannot read /proc/%d/smaps: permission denied: memsleuth runs as root "
				 "but without CAP_SYS_PTRACE (or CAP_PERFMON), which other users' "
				 "processes need", pid);
		else
			snprintf(err, errlen,
				 "cannot read /proc/%d/smaps: permission denied (run as root, or as the "
				 "process's owner; other users' processes need CAP_SYS_PTRACE)", pid);
		goto fail;
	}
	if (ret) {
		int ppid = 0;

		if (proc_errno_gone(-ret) && read_state(t, &ppid) == 'Z')
			snprintf(err, errlen,
				 "PID %d has exited: it is a zombie (its parent, PID %d, has not reaped "
				 "it) with no memory left to watch", pid, ppid);
		else if (proc_errno_gone(-ret))
			snprintf(err, errlen, "no process with PID %d", pid);
		else
			snprintf(err, errlen, "cannot read /proc/%d/smaps_rollup: %s", pid,
				 strerror(-ret));
		goto fail;
	}
	return 0;
fail:
	proc_close(t);
	return ret;
}

void proc_close(struct proc_target *t)
{
	if (t && t->dirfd >= 0) {
		close(t->dirfd);
		t->dirfd = -1;
	}
}

int proc_alive(const struct proc_target *t)
{
	uint64_t st = 0;
	char state;

	/* A different start time is another process that was given the same PID. */
	if (proc_stat_fields(t->dirfd, NULL, &st, NULL) || st != t->start_time)
		return 0;
	/* A zombie keeps its /proc entry but has no memory left to watch. */
	state = read_state(t, NULL);
	return state && state != 'Z' && state != 'X';
}

int proc_started(const struct proc_target *t, double *unix_start)
{
	long hz = sysconf(_SC_CLK_TCK);
	unsigned long long btime;
	char *buf = NULL, *p;
	size_t len;
	int ret;

	if (hz <= 0)
		return -EINVAL;
	ret = file_read("/proc/stat", &buf, &len, 0);
	if (ret)
		return ret;
	p = strstr(buf, "\nbtime ");
	ret = p && sscanf(p + 7, "%llu", &btime) == 1 ? 0 : -EINVAL;
	free(buf);
	if (!ret)
		*unix_start = (double)btime + (double)t->start_time / (double)hz;
	return ret;
}

char *proc_comm(const struct proc_target *t)
{
	char *buf = NULL;
	size_t len;

	if (proc_read(t, "comm", &buf, &len))
		return NULL;
	if (len && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	return buf;
}

uint32_t proc_threads(const struct proc_target *t)
{
	char *buf = NULL;
	const char *line;
	size_t len;
	uint32_t n = 0;

	if (proc_read(t, "status", &buf, &len))
		return 0;
	line = strstr(buf, "\nThreads:");
	if (line)
		n = (uint32_t)strtoul(line + 9, NULL, 10);
	free(buf);
	return n;
}

size_t proc_thread_sps(const struct proc_target *t, uint64_t **sps)
{
	size_t n = 0, cap = 0;
	uint64_t *out = NULL;
	struct dirent *de;
	DIR *dir;
	int fd;

	*sps = NULL;
	fd = openat(t->dirfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return 0;
	}
	while ((de = readdir(dir))) {
		char path[sizeof(de->d_name) + 16], *buf = NULL, *p;
		unsigned long long sp;
		size_t len;
		int i;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "task/%s/syscall", de->d_name);
		if (proc_read(t, path, &buf, &len))
			continue;
		/* "nr a1 a2 a3 a4 a5 a6 sp pc" for a blocked thread; "running" otherwise. */
		p = buf;
		for (i = 0; i < 7 && p; i++) {
			p = strchr(p, ' ');
			if (p)
				p++;
		}
		if (p && (sp = strtoull(p, NULL, 16)) != 0) {
			uint64_t *slot = VEC_PUSH(out, n, cap);

			if (slot)
				*slot = sp;
		}
		free(buf);
	}
	closedir(dir);
	*sps = out;
	return n;
}

uint64_t proc_self_peak_rss(void)
{
	char *buf = NULL;
	const char *line;
	uint64_t kib = 0;
	size_t len;

	if (file_read("/proc/self/status", &buf, &len, 1 << 20))
		return 0;
	if ((line = strstr(buf, "\nVmHWM:")))
		kib = strtoull(line + 7, NULL, 10);
	free(buf);
	return kib * 1024;
}
