// SPDX-License-Identifier: GPL-2.0-only
/* The memory a target may use before trouble: its cgroup's limit, else the machine's RAM. */
#include "collectors/memlimit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cgroup v1 writes "unlimited" as the largest page multiple below 2^63. */
#define V1_UNLIMITED ((uint64_t)1 << 62)

int memlimit_parse(const char *text, uint64_t *out)
{
	unsigned long long v;
	char *end;

	while (*text == ' ' || *text == '\t')
		text++;
	if (strncmp(text, "max", 3) == 0)
		return -ERANGE;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (end == text || errno)
		return -EINVAL;
	if (v >= V1_UNLIMITED)
		return -ERANGE;
	*out = v;
	return 0;
}

static int read_small(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return 0;
}

int memlimit_meminfo(uint64_t *total, uint64_t *available)
{
	char buf[4096];
	const char *p;

	if (read_small("/proc/meminfo", buf, sizeof(buf)))
		return -EIO;
	p = strstr(buf, "MemTotal:");
	if (!p)
		return -EIO;
	*total = strtoull(p + 9, NULL, 10) * 1024;
	p = strstr(buf, "MemAvailable:");
	*available = p ? strtoull(p + 13, NULL, 10) * 1024 : 0;
	return *total ? 0 : -EIO;
}

/* Whether the space-separated list `list` holds the word `w`. */
static bool has_word(const char *list, const char *w)
{
	size_t n = strlen(w);
	const char *p;

	for (p = list; (p = strstr(p, w)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

const char *memlimit_group_path(const char *cgroup, int h, size_t *n)
{
	const char *line = cgroup;

	while (line && *line) {
		const char *nl = strchr(line, '\n'), *end = nl ? nl : line + strlen(line);
		const char *c1 = memchr(line, ':', (size_t)(end - line)), *c2 = NULL, *p;

		if (c1)
			c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1));
		if (c2 && h == HOST_CG_V2 && c1 - line == 1 && line[0] == '0' && c2 == c1 + 1) {
			*n = (size_t)(end - c2 - 1);
			return c2 + 1;
		}
		/* v1: "4:memory:/path", or with co-mounted controllers "5:cpu,memory:/path". */
		for (p = c1 ? c1 + 1 : end; h == HOST_CG_V1 && c2 && p < c2;) {
			const char *comma = memchr(p, ',', (size_t)(c2 - p)), *ce = comma ? comma : c2;

			if (ce - p == 6 && strncmp(p, "memory", 6) == 0) {
				*n = (size_t)(end - c2 - 1);
				return c2 + 1;
			}
			p = ce + 1;
		}
		line = nl ? nl + 1 : NULL;
	}
	return NULL;
}

int memlimit_cgroup_file(const char *cgroup, const char *root, char *path, size_t len)
{
	const char *p;
	size_t n;

	/* A v1 memory controller line wins over the v2 unified line. */
	if ((p = memlimit_group_path(cgroup, HOST_CG_V1, &n))) {
		snprintf(path, len, "%s/memory%.*s/memory.limit_in_bytes", root, (int)n, p);
		return 0;
	}
	if ((p = memlimit_group_path(cgroup, HOST_CG_V2, &n)) && n) {
		snprintf(path, len, "%s%.*s/memory.max", root, (int)n, p);
		return 0;
	}
	return -ENOENT;
}

/* Whether the mount options `opts` (comma separated) include `opt`. */
static bool has_option(const char *opts, const char *opt)
{
	size_t n = strlen(opt);

	for (const char *p = opts; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, opt, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

int memlimit_hierarchy(char *root, size_t len)
{
	char *buf = NULL, *line, *save = NULL, dev[64], mnt[4096], type[64], opts[1024];
	char v1[4096] = "", v2[4096] = "", file[4200], ctl[256];
	int h = HOST_CG_NONE;
	size_t n;

	root[0] = '\0';
	if (file_read("/proc/self/mounts", &buf, &n, 1 << 22))
		return HOST_CG_NONE;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%63s %4095s %63s %1023s", dev, mnt, type, opts) != 4)
			continue;
		if (strcmp(type, "cgroup2") == 0 && !v2[0])
			snprintf(v2, sizeof(v2), "%s", mnt);
		else if (strcmp(type, "cgroup") == 0 && has_option(opts, "memory") && !v1[0])
			snprintf(v1, sizeof(v1), "%s", mnt);
	}
	free(buf);
	snprintf(file, sizeof(file), "%s/cgroup.controllers", v2);
	/* A controller bound to v1 is missing from the v2 root's list. */
	if (v2[0] && read_small(file, ctl, sizeof(ctl)) == 0 && has_word(ctl, "memory")) {
		snprintf(root, len, "%s", v2);
		h = HOST_CG_V2;
	} else if (v1[0]) {
		snprintf(root, len, "%s", v1);
		h = HOST_CG_V1;
	}
	return h;
}

int memlimit_read(const struct proc_target *t, uint64_t *limit, bool *from_cgroup)
{
	char path[4096], text[64], *cg = NULL;
	uint64_t total = 0, avail, cgl;
	size_t len;
	int ret;

	*from_cgroup = false;
	ret = memlimit_meminfo(&total, &avail);
	if (proc_read(t, "cgroup", &cg, &len) == 0 &&
	    memlimit_cgroup_file(cg, "/sys/fs/cgroup", path, sizeof(path)) == 0 &&
	    read_small(path, text, sizeof(text)) == 0 && memlimit_parse(text, &cgl) == 0 &&
	    (ret || cgl < total)) {
		total = cgl;
		*from_cgroup = true;
		ret = 0;
	}
	free(cg);
	if (ret)
		return ret;
	*limit = total;
	return 0;
}
