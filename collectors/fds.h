/* SPDX-License-Identifier: GPL-2.0-only */
/* The target's file descriptor table by type, and its RLIMIT_NOFILE. */
#ifndef MEMSLEUTH_FDS_H
#define MEMSLEUTH_FDS_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer/sample.h"
#include "collectors/proc.h"

/* Classifies a /proc/PID/fd/N link target ("socket:[12]", "/dev/null", ...). */
enum fd_type fds_classify_link(const char *target);

/*
 * Finds the soft "Max open files" limit in /proc/PID/limits text. Returns 0
 * and sets *soft (UINT64_MAX for unlimited), or -EINVAL when absent.
 */
int fds_parse_limits(const char *buf, size_t len, uint64_t *soft);

/*
 * Counts the open fds of the target by type and reads its limit. Returns 0,
 * -ESRCH when the target is gone, -EACCES without permission.
 */
int fds_scan(const struct proc_target *t, struct fd_summary *out);

#endif
