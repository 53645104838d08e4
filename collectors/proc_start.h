/* SPDX-License-Identifier: GPL-2.0-only */
/* When a process started, as unix time: what the live view's "up" figure counts from. */
#ifndef MEMSLEUTH_PROC_START_H
#define MEMSLEUTH_PROC_START_H

/*
 * Reads the start of process `pid` from /proc/PID/stat (ticks after boot) and
 * the boot time in /proc/stat. Returns 0 with *unix_start, or a negative errno
 * (-ESRCH gone, -EINVAL unreadable format).
 */
int proc_start_read(int pid, double *unix_start);

#endif
