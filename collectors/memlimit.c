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

int memlimit_cgroup_file(const char *cgroup, const char *root, char *path, size_t len)
{
	const char *line = cgroup;

	/* A v1 memory controller line wins over the v2 unified line. */
	while (line && *line) {
		const char *nl = strchr(line, '\n'), *c1 = strchr(line, ':'), *c2;
		size_t n = nl ? (size_t)(nl - line) : strlen(line);

		c2 = c1 && c1 < line + n ? memchr(c1 + 1, ':', (size_t)(line + n - c1 - 1)) : NULL;
		if (c2 && (size_t)(c2 - c1 - 1) == 6 && strncmp(c1 + 1, "memory", 6) == 0) {
			snprintf(path, len, "%s/memory%.*s/memory.limit_in_bytes", root,
				 (int)(line + n - c2 - 1), c2 + 1);
			return 0;
		}
		line = nl ? nl + 1 : NULL;
	}
	for (line = cgroup; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);

		if (n > 3 && strncmp(line, "0::", 3) == 0) {
			snprintf(path, len, "%s%.*s/memory.max", root, (int)(n - 3), line + 3);
			return 0;
		}
		line = nl ? nl + 1 : NULL;
	}
	return -ENOENT;
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

static int mem_total(uint64_t *out)
{
	char buf[4096];
	const char *p;

	if (read_small("/proc/meminfo", buf, sizeof(buf)))
		return -EIO;
	p = strstr(buf, "MemTotal:");
	if (!p)
		return -EIO;
	*out = strtoull(p + 9, NULL, 10) * 1024;
	return *out ? 0 : -EIO;
}

int memlimit_read(const struct proc_target *t, uint64_t *limit, bool *from_cgroup)
{
	char path[4096], text[64], *cg = NULL;
	uint64_t total = 0, cgl;
	size_t len;
	int ret;

	*from_cgroup = false;
	ret = mem_total(&total);
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
