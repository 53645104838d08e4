/* SPDX-License-Identifier: GPL-2.0-only */
/* The host scan: cheap memory and fd figures of every process and memory cgroup, for `ps`. */
#ifndef MEMSLEUTH_HOSTSCAN_H
#define MEMSLEUTH_HOSTSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/host.h"

/*
 * One scan reads, per process, four small /proc files through its /proc/PID
 * directory fd: stat (name, parent, flags, start time), smaps_rollup (RSS,
 * PSS and its anon/file/shmem split, swap: the kernel walks the page tables,
 * so a process with many mappings costs more), cgroup, and the size of its fd
 * directory (the number of open fds, since Linux 6.2; counted by listing the
 * directory on older kernels). A process memsleuth may not inspect
 * (smaps_rollup refused) keeps its RSS from statm, which anyone may read, and
 * is counted as unreadable. Kernel threads and zombies are counted, not
 * listed. Then, per memory cgroup that holds a process (and every group of
 * the hierarchy with `groups`), its usage and limit, and with `groups` its
 * memory.stat; every ancestor's limit, for the limit that binds.
 */

struct hostscan_opts {
	bool groups;		/* walk every group of the memory hierarchy (ps --cgroups) */
};

struct hostscan;

/*
 * Opens /proc and finds the memory hierarchy. Returns 0 with *out, or a
 * negative errno with a one-line reason in `err`.
 */
int hostscan_open(const struct hostscan_opts *o, struct hostscan **out, char *err,
		  size_t errlen);

/*
 * Scans the host. Returns 0 with *out (one reference, the caller's) or
 * -ENOMEM; processes that vanish during the scan are counted, not errors.
 */
int hostscan_take(struct hostscan *h, struct host_snapshot **out);

/* The memory hierarchy used (enum host_hierarchy) and its mount point ("" without one). */
int hostscan_hierarchy(const struct hostscan *h, const char **root);

void hostscan_close(struct hostscan *h);

/*
 * Parsers of what the kernel writes, exposed for the fuzz harness. Each reads
 * `len` bytes of `buf` (NUL-terminated at buf[len]).
 */
/*
 * /proc/PID/stat: the command name (between the first '(' and the last ')',
 * which may hold any byte), state, parent, flags and start time. Returns 0 or
 * -EINVAL.
 */
int hostscan_parse_stat(const char *buf, size_t len, struct host_proc *p, char *state,
			unsigned long *flags);
/* memory.stat's anon, file and shmem (v2; v1's total_rss, total_cache less total_shmem, total_shmem). */
void hostscan_parse_memstat(const char *buf, size_t len, int hierarchy, struct host_group *g);

#endif
