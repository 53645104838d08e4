// SPDX-License-Identifier: GPL-2.0-only
/* The host scan: cheap memory and fd figures of every process and memory cgroup, for `ps`. */
#include "collectors/hostscan.h"
#include "collectors/memlimit.h"
#include "collectors/proc.h"
#include "collectors/smaps.h"
#include "lib/clock.h"
#include "lib/strmap.h"
#include "lib/vec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PF_KTHREAD_FLAG 0x00200000UL
/* Room for the small files at the first read: a v1 memory.stat is ~1.5 KiB. */
#define SMALL_FILE 8192
/* Depth of the cgroup tree walked at most (the kernel's own default allows any). */
#define GROUP_DEPTH_MAX 64

struct hostscan {
	struct hostscan_opts opts;
	int procfd;
	int hierarchy;			/* enum host_hierarchy */
	char root[PATH_MAX];
	long page;
	struct readbuf buf;
	/* Per scan: group path -> index in the snapshot's groups. */
	struct strmap groups;
	size_t groups_room;
	char *key;
	size_t key_cap;
};

int hostscan_open(const struct hostscan_opts *o, struct hostscan **out, char *err, size_t errlen)
{
	struct hostscan *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	h->opts = *o;
	h->page = sysconf(_SC_PAGESIZE);
	h->procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (h->procfd < 0) {
		int e = errno;

		snprintf(err, errlen, "cannot open /proc: %s", strerror(e));
		free(h);
		return -e;
	}
	h->hierarchy = memlimit_hierarchy(h->root, sizeof(h->root));
	*out = h;
	return 0;
}

void hostscan_close(struct hostscan *h)
{
	if (!h)
		return;
	close(h->procfd);
	readbuf_free(&h->buf);
	strmap_free(&h->groups);
	free(h->key);
	free(h);
}

int hostscan_hierarchy(const struct hostscan *h, const char **root)
{
	*root = h->root;
	return h->hierarchy;
}

/*
 * Reads small kernel-made file `name` below `dirfd` into h->buf. Each file the
 * scan reads (stat, statm, smaps_rollup, cgroup, a group's memory files) is
 * made whole at the first read (one seq_file record), so a read that returns
 * less than it asked for has it all: one read instead of two a file, a third
 * of the scan's system calls. A file that fills the buffer is read on whole.
 */
static int read_small(struct hostscan *h, int dirfd, const char *name)
{
	struct readbuf *b = &h->buf;
	ssize_t n;
	int fd;

	if (vec_reserve((void **)&b->data, &b->cap, SMALL_FILE, 1))
		return -ENOMEM;
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do
		n = read(fd, b->data, b->cap - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return -errno;
	if ((size_t)n < b->cap - 1) {
		b->len = (size_t)n;
		b->data[n] = '\0';
		return 0;
	}
	return readbuf_at(dirfd, name, b);
}

/* ---- parsers ---- */

int hostscan_parse_stat(const char *buf, size_t len, struct host_proc *p, char *state,
			unsigned long *flags)
{
	const char *open = memchr(buf, '(', len), *close = NULL, *q, *end = buf + len;
	unsigned long long v;
	int field;
	size_t n;

	for (q = end; q > buf; q--)
		if (q[-1] == ')') {
			close = q - 1;
			break;
		}
	if (!open || !close || close < open)
		return -EINVAL;
	n = (size_t)(close - open - 1);
	if (n >= sizeof(p->comm))
		n = sizeof(p->comm) - 1;
	memcpy(p->comm, open + 1, n);
	p->comm[n] = '\0';
	/* Fields from 3 (state) on, after the name. */
	q = close + 1;
	for (field = 3; field <= 22; field++) {
		while (q < end && *q == ' ')
			q++;
		if (q >= end)
			return -EINVAL;
		v = strtoull(q, NULL, 10);
		if (field == 3)
			*state = *q;
		else if (field == 4)
			p->ppid = (int32_t)v;
		else if (field == 9)
			*flags = (unsigned long)v;
		else if (field == 22)
			p->start_time = v;
		while (q < end && *q != ' ')
			q++;
	}
	return 0;
}

/* The value of "key N" lines (memory.stat), or 0. */
static uint64_t stat_field(const char *buf, size_t len, const char *key)
{
	size_t kl = strlen(key);
	const char *line = buf, *end = buf + len;

	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));

		if ((size_t)(end - line) > kl + 1 && strncmp(line, key, kl) == 0 && line[kl] == ' ')
			return strtoull(line + kl + 1, NULL, 10);
		line = nl ? nl + 1 : end;
	}
	return 0;
}

void hostscan_parse_memstat(const char *buf, size_t len, int hierarchy, struct host_group *g)
{
	if (hierarchy == HOST_CG_V2) {
		g->anon = stat_field(buf, len, "anon");
		g->file = stat_field(buf, len, "file");
		g->shmem = stat_field(buf, len, "shmem");
		return;
	}
	/* v1: the total_ figures count the subtree, as usage_in_bytes does; cache holds shmem. */
	g->anon = stat_field(buf, len, "total_rss");
	g->shmem = stat_field(buf, len, "total_shmem");
	g->file = stat_field(buf, len, "total_cache");
	g->file = g->file > g->shmem ? g->file - g->shmem : 0;
}

/* ---- processes ---- */

/*
 * Sets *idx to the index of group `path` (n bytes) in the snapshot, added
 * when new; HOST_NO_GROUP past HOST_GROUPS_MAX (counted). Returns 0 or -ENOMEM.
 */
static int group_add(struct hostscan *h, struct host_snapshot *s, const char *path, size_t n,
		     uint32_t *idx)
{
	struct host_group *g;
	size_t i;

	*idx = HOST_NO_GROUP;
	if (vec_reserve((void **)&h->key, &h->key_cap, n + 1, 1))
		return -ENOMEM;
	memcpy(h->key, path, n);
	h->key[n] = '\0';
	i = h->groups_room ? strmap_get(&h->groups, 0, h->key) : SIZE_MAX;
	if (i != SIZE_MAX) {
		*idx = (uint32_t)i;
		return 0;
	}
	if (s->ngroups >= HOST_GROUPS_MAX) {
		s->counts.groups_skipped++;
		return 0;
	}
	/* The map holds at most half its slots: rebuild it twice as large. */
	if (s->ngroups + 1 > h->groups_room) {
		struct strmap bigger;
		size_t room = h->groups_room ? h->groups_room * 2 : 256;

		if (strmap_init(&bigger, room))
			return -ENOMEM;
		for (i = 0; i < s->ngroups; i++)
			strmap_put(&bigger, 0, s->groups[i].path, i);
		strmap_free(&h->groups);
		h->groups = bigger;
		h->groups_room = room;
	}
	g = VEC_PUSH(s->groups, s->ngroups, s->groups_cap);
	if (!g)
		return -ENOMEM;
	g->path = strdup(h->key);
	if (!g->path) {
		s->ngroups--;
		return -ENOMEM;
	}
	g->max = g->limit = g->headroom = HOST_UNKNOWN;
	strmap_put(&h->groups, 0, g->path, s->ngroups - 1);
	*idx = (uint32_t)(s->ngroups - 1);
	return 0;
}

/* Open descriptors: the fd directory's size (Linux 6.2+), else its entries. */
static uint64_t count_fds(int pfd)
{
	struct dirent *de;
	struct stat st;
	uint64_t n = 0;
	DIR *d;
	int fd;

	if (fstatat(pfd, "fd", &st, 0))
		return HOST_UNKNOWN;
	if (st.st_size > 0)
		return (uint64_t)st.st_size;
	fd = openat(pfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return HOST_UNKNOWN;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return HOST_UNKNOWN;
	}
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The figures of smaps_rollup text in h->buf. Returns 0 or -EINVAL. */
static int rollup(struct hostscan *h, struct host_proc *p)
{
	struct parse_error perr;
	struct pss_split split;
	struct totals t;
	int ret = smaps_rollup_parse(h->buf.data, h->buf.len, &t, &split, &perr);

	if (ret)
		return ret;
	p->rss = t.rss;
	p->pss = t.pss;
	p->swap = t.swap;
	p->pss_anon = split.anon;
	p->pss_file = split.file;
	p->pss_shmem = split.shmem;
	return 0;
}

/* RSS from statm (resident pages), for a process whose smaps_rollup is refused. */
static int statm_rss(struct hostscan *h, int pfd, struct host_proc *p)
{
	unsigned long long size, resident;
	int ret = read_small(h, pfd, "statm");

	if (ret)
		return ret;
	if (sscanf(h->buf.data, "%llu %llu", &size, &resident) != 2)
		return -EINVAL;
	p->rss = (uint64_t)resident * (uint64_t)h->page;
	p->pss = p->pss_anon = p->pss_file = p->pss_shmem = p->swap = HOST_UNKNOWN;
	return 0;
}

/* Reads one process into the snapshot; what it skips is counted. Returns 0 or -ENOMEM. */
static int scan_proc(struct hostscan *h, struct host_snapshot *s, const char *name)
{
	struct host_proc p = { .group = HOST_NO_GROUP };
	unsigned long flags = 0;
	char state = 0;
	int pfd, ret;

	pfd = openat(h->procfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0) {
		s->counts.vanished++;
		return 0;
	}
	p.pid = (int32_t)strtol(name, NULL, 10);
	ret = read_small(h, pfd, "stat");
	if (ret || hostscan_parse_stat(h->buf.data, h->buf.len, &p, &state, &flags)) {
		s->counts.vanished++;
		goto out;
	}
	if (flags & PF_KTHREAD_FLAG) {
		s->counts.kernel_threads++;
		goto out;
	}
	if (state == 'Z' || state == 'X') {
		s->counts.zombies++;
		goto out;
	}
	ret = read_small(h, pfd, "smaps_rollup");
	p.t = clock_unix();
	if (ret == -EACCES || ret == -EPERM) {
		s->counts.unreadable++;
		ret = statm_rss(h, pfd, &p);
	} else if (!ret) {
		/* An exiting process has no memory left to roll up. */
		ret = rollup(h, &p);
	}
	if (ret) {
		s->counts.vanished++;
		goto out;
	}
	p.fds = count_fds(pfd);
	s->counts.fds_unreadable += p.fds == HOST_UNKNOWN;
	if (h->hierarchy != HOST_CG_NONE && read_small(h, pfd, "cgroup") == 0) {
		size_t n;
		const char *path = memlimit_group_path(h->buf.data, h->hierarchy, &n);

		if (path && n && group_add(h, s, path, n, &p.group)) {
			ret = -ENOMEM;
			goto out;
		}
	}
	ret = 0;
	{
		struct host_proc *slot = VEC_PUSH(s->procs, s->nprocs, s->procs_cap);

		if (!slot)
			ret = -ENOMEM;
		else
			*slot = p;
	}
out:
	close(pfd);
	return ret == -ENOMEM ? ret : 0;
}

/* ---- groups ---- */

/* Adds every ancestor of the groups seen, so that each group's binding limit can be found. */
static int add_ancestors(struct hostscan *h, struct host_snapshot *s)
{
	size_t i, n = s->ngroups;
	uint32_t idx;
	char *path;
	int ret = 0;

	for (i = 0; i < n && !ret; i++) {
		path = strdup(s->groups[i].path);
		if (!path)
			return -ENOMEM;
		for (char *slash; !ret && (slash = strrchr(path, '/'));) {
			*slash = '\0';
			ret = group_add(h, s, path[0] ? path : "/", path[0] ? strlen(path) : 1, &idx);
			if (!path[0])
				break;
		}
		free(path);
	}
	return ret;
}

/* Adds every group below directory `fd_dir` (group `path`; closed here), depth first. */
static int walk_groups(struct hostscan *h, struct host_snapshot *s, int fd_dir, const char *path,
		       int depth)
{
	struct dirent *de;
	DIR *d;
	int ret = 0;

	if (depth > GROUP_DEPTH_MAX)
		return 0;
	d = fdopendir(fd_dir);
	if (!d) {
		close(fd_dir);
		return 0;
	}
	while (!ret && (de = readdir(d))) {
		uint32_t idx;
		char *child;
		int fd;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (asprintf(&child, "%s/%s", strcmp(path, "/") ? path : "", de->d_name) < 0) {
			ret = -ENOMEM;
			break;
		}
		ret = group_add(h, s, child, strlen(child), &idx);
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (!ret && fd >= 0)
			ret = walk_groups(h, s, fd, child, depth + 1);
		else if (fd >= 0)
			close(fd);
		free(child);
	}
	closedir(d);
	return ret;
}

/* A small file of group directory `gfd` as a byte count; HOST_UNKNOWN when absent or "max". */
static uint64_t group_figure(struct hostscan *h, int gfd, const char *name)
{
	uint64_t v;

	if (read_small(h, gfd, name) || memlimit_parse(h->buf.data, &v))
		return HOST_UNKNOWN;
	return v;
}

static uint64_t min_known(uint64_t a, uint64_t b)
{
	return a == HOST_UNKNOWN ? b : b == HOST_UNKNOWN ? a : a < b ? a : b;
}

/* Reads each group's usage and limit, parents first (the groups are sorted by path). */
static void read_groups(struct hostscan *h, struct host_snapshot *s)
{
	bool v2 = h->hierarchy == HOST_CG_V2;
	size_t i;

	for (i = 0; i < s->ngroups; i++) {
		struct host_group *g = &s->groups[i];
		const struct host_group *parent = NULL;
		char *dir, *slash;
		int gfd;

		if (asprintf(&dir, "%s%s", h->root, strcmp(g->path, "/") ? g->path : "") < 0)
			continue;
		gfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		slash = strrchr(g->path, '/');
		if (slash && slash != g->path) {
			*slash = '\0';
			parent = host_snapshot_group(s, g->path);
			*slash = '/';
		} else if (strcmp(g->path, "/") != 0) {
			parent = host_snapshot_group(s, "/");
		}
		free(dir);
		if (gfd < 0)
			continue;
		g->current = group_figure(h, gfd, v2 ? "memory.current" : "memory.usage_in_bytes");
		g->has_memory = g->current != HOST_UNKNOWN;
		if (!g->has_memory)
			g->current = 0;
		g->max = group_figure(h, gfd, v2 ? "memory.max" : "memory.limit_in_bytes");
		g->limit = min_known(g->max, parent ? parent->limit : HOST_UNKNOWN);
		g->headroom = parent ? parent->headroom : HOST_UNKNOWN;
		if (g->max != HOST_UNKNOWN && g->has_memory)
			g->headroom = min_known(g->headroom, g->max > g->current ? g->max - g->current
										 : 0);
		if (g->listed && read_small(h, gfd, "memory.stat") == 0)
			hostscan_parse_memstat(h->buf.data, h->buf.len, h->hierarchy, g);
		close(gfd);
	}
}

int hostscan_take(struct hostscan *h, struct host_snapshot **out)
{
	struct host_snapshot *s = host_snapshot_new();
	double t0 = clock_mono(), t_unix = clock_unix();
	struct dirent *de;
	uint32_t idx;
	size_t i;
	DIR *d = NULL;
	int ret = -ENOMEM, fd;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	memlimit_meminfo(&s->mem_total, &s->mem_available);
	s->hierarchy = (uint8_t)h->hierarchy;
	strmap_free(&h->groups);
	h->groups_room = 0;
	fd = dup(h->procfd);
	if (fd < 0 || !(d = fdopendir(fd))) {
		ret = -errno;
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		if (scan_proc(h, s, de->d_name))
			goto fail;
	}
	if (h->hierarchy != HOST_CG_NONE) {
		if (h->opts.groups) {
			fd = open(h->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (group_add(h, s, "/", 1, &idx) || (fd >= 0 && walk_groups(h, s, fd, "/", 1)))
				goto fail;
			for (i = 0; i < s->ngroups; i++)
				s->groups[i].listed = true;
		}
		if (add_ancestors(h, s))
			goto fail;
	}
	if (host_snapshot_finish(s))
		goto fail;
	read_groups(h, s);
	s->t = t_unix;
	s->scan_s = clock_mono() - t0;
	closedir(d);
	*out = s;
	return 0;
fail:
	if (d)
		closedir(d);
	host_snapshot_unref(s);
	return ret;
}
