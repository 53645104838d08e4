/* SPDX-License-Identifier: GPL-2.0-only */
/* The memory a target may use before trouble: its cgroup's limit, else the machine's RAM. */
#ifndef MEMSLEUTH_MEMLIMIT_H
#define MEMSLEUTH_MEMLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collectors/proc.h"

/*
 * Parses /proc/PID/cgroup text and returns, in `path` (size `len`), the file
 * holding its memory limit: cgroup v2 `memory.max`, or v1
 * `memory.limit_in_bytes`, below `root` (normally /sys/fs/cgroup). Returns 0
 * or -ENOENT when no memory controller is listed.
 */
int memlimit_cgroup_file(const char *cgroup, const char *root, char *path, size_t len);

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
