// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz harness: what ps reads of every process and cgroup (stat, /proc/PID/cgroup, memory.stat, limits). */
#include "collectors/hostscan.h"
#include "collectors/memlimit.h"
#include "fuzz_common.h"

#include <errno.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The scan reads each file into a NUL-terminated buffer; so does this. */
	char *text = strndup((const char *)data, size);
	struct host_proc p = { .pid = 1 };
	struct host_group g = { 0 };
	unsigned long flags = 0;
	char state = 0;
	const char *path;
	uint64_t v = 77;
	size_t len, n;
	int h, ret;

	if (!text)
		return 0;
	len = strlen(text);
	ret = hostscan_parse_stat(text, len, &p, &state, &flags);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL);
	FUZZ_CHECK(strlen(p.comm) < sizeof(p.comm));
	for (h = HOST_CG_V2; h <= HOST_CG_V1; h++) {
		hostscan_parse_memstat(text, len, h, &g);
		path = memlimit_group_path(text, h, &n);
		/* The path lies inside the text, on one line. */
		FUZZ_CHECK(!path || (path >= text && path + n <= text + len &&
				     !memchr(path, '\n', n)));
	}
	ret = memlimit_parse(text, &v);
	FUZZ_CHECK(ret == 0 || ((ret == -EINVAL || ret == -ERANGE) && v == 77));
	free(text);
	return 0;
}
