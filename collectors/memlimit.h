/* SPDX-License-Identifier: GPL-2.0-only */
/* The memory a target may use before trouble: its cgroup's limit, else the machine's RAM. */
#ifndef MEMSLEUTH_MEMLIMIT_H
#define MEMSLEUTH_MEMLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/host.h"
#include "collectors/proc.h"

/*
 * Parses /proc/PID/cgroup text and returns, in `path` (size `len`), the file
 * holding its memory limit: cgroup v2 `memory.max`, or v1
 * `memory.limit_in_bytes`, below `root` (normally /sys/fs/cgroup). Returns 0
 * or -ENOENT when no memory controller is listed.
 */
int memlimit_cgroup_file(const char *cgroup, const char *root, char *path, size_t len);

/*
 * Where memory cgroups are accounted on this host: the cgroup v2 hierarchy
 * when its root lists the memory controller, else the v1 hierarchy holding
 * it (a hybrid system mounts v2 without it, at /sys/fs/cgroup/unified). Sets
 * `root` (size `len`) to the mount point. Returns enum host_hierarchy:
 * HOST_CG_NONE when no hierarchy has the memory controller (root then "").
 */
int memlimit_hierarchy(char *root, size_t len);

/*
 * The path of the process's group in hierarchy `h` (HOST_CG_V1 or V2), from
 * /proc/PID/cgroup text: the "0::PATH" line for v2, the line whose
 * controllers include memory for v1. Returns a pointer into `cgroup` and
 * sets *n to the path's length, or NULL when no line names one.
 */
const char *memlimit_group_path(const char *cgroup, int h, size_t *n);

/* MemTotal and MemAvailable of /proc/meminfo, in bytes. Returns 0 or a negative errno. */
int memlimit_meminfo(uint64_t *total, uint64_t *available);

/*
 * Parses a limit file's text: a byte count, or "max" (no limit: returns
 * -ERANGE, as do v1's near-2^63 "unlimited" values). Returns 0 or -EINVAL.
 */
int memlimit_parse(const char *text, uint64_t *out);

/*
 * The target's limit: the smaller of its cgroup's (when set) and MemTotal.
 * Returns 0 with *limit and *from_cgroup, or a negative errno.
 */
int memlimit_read(const struct proc_target *t, uint64_t *limit, bool *from_cgroup);

#endif
