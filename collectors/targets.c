// SPDX-License-Identifier: GPL-2.0-only
/* Which processes a target specification names: a PID, a process name, or a cgroup. */
#include "collectors/targets.h"
#include "collectors/proc.h"
#include "lib/vec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CGROUP_ROOT "/sys/fs/cgroup"
/* A cgroup.procs or cmdline larger than this is read in part: a PID list of 4 MiB is ~500,000 processes. */
#define READ_MAX (4u << 20)

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* argv[0] of `pid`, or its executable's path: whichever is called `name`. */
static bool program_called(int pid, const char *name)
{
	char path[64], *buf = NULL, exe[PATH_MAX];
	size_t len;
	ssize_t n;
	bool match = false;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	if (file_read(path, &buf, &len, READ_MAX) == 0 && len)
		match = strcmp(base_name(buf), name) == 0;
	free(buf);
	if (match)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;
	exe[n] = '\0';
	return strcmp(base_name(exe), name) == 0;
}

bool targets_name_matches(int pid, const char *comm, const char *name)
{
	size_t n = strlen(name);

	if (pid == getpid() || !n)
		return false;
	if (n < 16)
		return strcmp(comm, name) == 0;
	/* The kernel cut the name at 15 bytes: the rest must agree with the program's own name. */
	return strncmp(comm, name, 15) == 0 && strlen(comm) == 15 && program_called(pid, name);
}

/* /proc/PID/comm without its newline. 0 or a negative errno. */
static int read_comm(int pid, char comm[16])
{
	char path[64], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	n = (ssize_t)strcspn(buf, "\n");
	/* The kernel keeps 15 bytes of a name. */
	if (n > 15)
		n = 15;
	memcpy(comm, buf, (size_t)n);
	comm[n] = '\0';
	return 0;
}

int targets_stat(int pid, uint64_t *start_time, char comm[16])
{
	unsigned long flags = 0;
	char path[64], state = 0;
	int dirfd, ret;

	snprintf(path, sizeof(path), "/proc/%d", pid);
	dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	ret = proc_stat_fields(dirfd, &state, start_time, &flags);
	close(dirfd);
	if (ret)
		return ret;
	/* A kernel thread has no user memory; a zombie has none left. */
	if ((flags & PF_KTHREAD) || state == 'Z' || state == 'X')
		return -ESRCH;
	return read_comm(pid, comm);
}

bool target_list_has(const struct target_list *l, int pid, uint64_t start_time)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->procs[i].pid == pid && l->procs[i].start_time == start_time)
			return true;
	return false;
}

static int add(struct target_list *l, int pid, uint64_t start_time, const char *comm)
{
	struct target_proc *p;

	if (target_list_has(l, pid, start_time))
		return 0;
	p = VEC_PUSH(l->procs, l->n, l->cap);
	if (!p)
		return -ENOMEM;
	p->pid = pid;
	p->start_time = start_time;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	return 0;
}

static int by_pid(int pid, struct target_list *out)
{
	uint64_t start;
	char comm[16];

	if (targets_stat(pid, &start, comm))
		return 0;
	return add(out, pid, start, comm);
}

void targets_cache_free(struct targets_cache *c)
{
	free(c->e);
	memset(c, 0, sizeof(*c));
}

/*
 * The name of `pid`, from the cache when read lately. /proc lists PIDs in
 * ascending order, so the cache (kept in that order) is walked alongside
 * from *at; entries of processes that went are dropped at the end of a scan.
 */
static int cached_comm(struct targets_cache *c, size_t *at, int pid, double now, char comm[16])
{
	struct targets_cached *e;
	int ret;

	while (*at < c->n && c->e[*at].pid < pid)
		(*at)++;
	if (*at < c->n && c->e[*at].pid == pid && now - c->e[*at].read_at < TARGETS_NAME_REREAD_S) {
		c->e[*at].seen = c->scan;
		memcpy(comm, c->e[*at].comm, 16);
		return 0;
	}
	ret = read_comm(pid, comm);
	if (ret)
		return ret;
	if (*at >= c->n || c->e[*at].pid != pid) {
		/* A new PID: inserted in PID order, as /proc lists them. */
		if (!VEC_PUSH(c->e, c->n, c->cap))
			return 0;
		memmove(&c->e[*at + 1], &c->e[*at], (c->n - 1 - *at) * sizeof(*c->e));
	}
	e = &c->e[*at];
	e->pid = pid;
	memcpy(e->comm, comm, 16);
	e->read_at = now;
	e->seen = c->scan;
	return 0;
}

static void cache_sweep(struct targets_cache *c)
{
	size_t i, k = 0;

	for (i = 0; i < c->n; i++)
		if (c->e[i].seen == c->scan)
			c->e[k++] = c->e[i];
	c->n = k;
}

/* Every process whose name matches, or the newest of them, in PID order. */
static int by_name(const char *name, bool all, struct target_list *out, struct targets_cache *c,
		   double now)
{
	size_t at = 0;
	struct target_proc best = { .pid = 0 };
	struct dirent *de;
	DIR *d;
	int ret = 0;

	d = opendir("/proc");
	if (!d)
		return -errno;
	if (c)
		c->scan++;
	/* readdir lists /proc's processes in ascending PID order. */
	while ((de = readdir(d))) {
		char *end, comm[16];
		uint64_t start;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0 || pid > INT_MAX)
			continue;
		/* The name first (one read per process of the host, or none when cached), the rest
		 * for matches only. */
		if ((c ? cached_comm(c, &at, (int)pid, now, comm) : read_comm((int)pid, comm)) ||
		    !targets_name_matches((int)pid, comm, name) ||
		    targets_stat((int)pid, &start, comm))
			continue;
		if (all) {
			ret = add(out, (int)pid, start, comm);
			if (ret)
				break;
		} else if (!best.pid || start >= best.start_time) {
			best.pid = (int)pid;
			best.start_time = start;
			memcpy(best.comm, comm, sizeof(best.comm));
		}
	}
	closedir(d);
	if (c)
		cache_sweep(c);
	if (!ret && !all && best.pid)
		ret = add(out, best.pid, best.start_time, best.comm);
	return ret;
}

int targets_cgroup_dir(const char *path, const char *root, char *out, size_t len)
{
	size_t rl = strlen(root);
	const char *p;
	int n;

	/* ".." would leave the hierarchy: a group is named, not a directory anywhere. */
	for (p = path; (p = strstr(p, "..")); p += 2)
		if ((p == path || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
			return -EINVAL;
	if (strncmp(path, root, rl) == 0 && (path[rl] == '/' || path[rl] == '\0'))
		n = snprintf(out, len, "%s", path);
	else
		n = snprintf(out, len, "%s/%s", root, path + (path[0] == '/'));
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	/* "/sys/fs/cgroup/x/" and "/sys/fs/cgroup/x" are one group. */
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	return 0;
}

const char *targets_cgroup_root(void)
{
	static char root[PATH_MAX];
	char *buf = NULL, *line, *save = NULL, dev[64], mnt[PATH_MAX], type[64];
	size_t len;

	if (root[0])
		return root;
	snprintf(root, sizeof(root), "%s", CGROUP_ROOT);
	/* A hybrid hierarchy mounts cgroup v2 beside the v1 controllers (/sys/fs/cgroup/unified). */
	if (file_read("/proc/self/mounts", &buf, &len, READ_MAX))
		return root;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, "%63s %4095s %63s", dev, mnt, type) == 3 &&
		    strcmp(type, "cgroup2") == 0) {
			snprintf(root, sizeof(root), "%s", mnt);
			break;
		}
	free(buf);
	return root;
}

static int by_cgroup(const char *path, struct target_list *out)
{
	char dir[PATH_MAX], file[PATH_MAX + 16], *buf = NULL, *line, *save = NULL;
	size_t len;
	int ret;

	ret = targets_cgroup_dir(path, targets_cgroup_root(), dir, sizeof(dir));
	if (ret)
		return ret;
	snprintf(file, sizeof(file), "%s/cgroup.procs", dir);
	ret = file_read(file, &buf, &len, READ_MAX);
	if (ret)
		return ret;
	for (line = strtok_r(buf, "\n", &save); line && !ret; line = strtok_r(NULL, "\n", &save)) {
		char *end;
		long pid = strtol(line, &end, 10);

		if (*end || pid <= 0 || pid > INT_MAX || pid == getpid())
			continue;
		ret = by_pid((int)pid, out);
	}
	free(buf);
	return ret;
}

int targets_resolve(const struct target_spec *spec, struct target_list *out,
		    struct targets_cache *cache, double now)
{
	switch (spec->by) {
	case TARGET_PID:
		return by_pid(spec->pid, out);
	case TARGET_NAME:
		return by_name(spec->name, spec->all, out, cache, now);
	case TARGET_CGROUP:
		return by_cgroup(spec->name, out);
	}
	return -EINVAL;
}

char *targets_cgroup_of(int pid)
{
	char path[64], *buf = NULL, *line, *save = NULL, *cg = NULL;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	if (file_read(path, &buf, &len, 1 << 16))
		return NULL;
	/* cgroup v2's line is "0::/path". */
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "0::", 3) == 0) {
			cg = strdup(line + 3);
			break;
		}
	free(buf);
	return cg;
}

void target_list_clear(struct target_list *l)
{
	l->n = 0;
}

void target_list_free(struct target_list *l)
{
	free(l->procs);
	l->procs = NULL;
	l->n = l->cap = 0;
}
