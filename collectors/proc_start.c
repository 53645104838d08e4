// SPDX-License-Identifier: GPL-2.0-only
/* When a process started, as unix time: what the live view's "up" figure counts from. */
#include "collectors/proc_start.h"
#include "collectors/proc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* /proc files are small; a larger one is not what we expect. */
#define MAX_STAT (64 * 1024)

/* Field 22 (starttime) of /proc/PID/stat; the comm before it may hold spaces and ')'. */
static int start_ticks(int pid, uint64_t *ticks)
{
	char path[64], *buf, *p;
	size_t len;
	int ret, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	ret = file_read(path, &buf, &len, MAX_STAT);
	if (ret)
		return proc_errno_gone(-ret) ? -ESRCH : ret;
	p = strrchr(buf, ')');
	/* After ')' come field 3 (state) and on; starttime is the 20th of them. */
	for (field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	ret = p && sscanf(p + 1, "%" SCNu64, ticks) == 1 ? 0 : -EINVAL;
	free(buf);
	return ret;
}

static int boot_time(uint64_t *btime)
{
	char *buf, *p;
	size_t len;
	int ret;

	ret = file_read("/proc/stat", &buf, &len, 0);
	if (ret)
		return ret;
	p = strstr(buf, "\nbtime ");
	ret = p && sscanf(p + 7, "%" SCNu64, btime) == 1 ? 0 : -EINVAL;
	free(buf);
	return ret;
}

int proc_start_read(int pid, double *unix_start)
{
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t ticks, btime;
	int ret;

	if (hz <= 0)
		return -EINVAL;
	ret = start_ticks(pid, &ticks);
	if (!ret)
		ret = boot_time(&btime);
	if (ret)
		return ret;
	*unix_start = (double)btime + (double)ticks / (double)hz;
	return 0;
}
