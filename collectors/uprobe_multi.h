/* SPDX-License-Identifier: GPL-2.0-only */
/* uprobe_multi links (Linux 6.6+), which libbpf 1.1 cannot create: many offsets, one fd. */
#ifndef MEMSLEUTH_UPROBE_MULTI_H
#define MEMSLEUTH_UPROBE_MULTI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The program's expected attach type, to set before loading it. */
#define UPROBE_MULTI_ATTACH_TYPE 48	/* BPF_TRACE_UPROBE_MULTI */

/*
 * Attaches program `prog_fd` at `n` file offsets of `path`, in process `pid`
 * only, each with its cookie (bpf_get_attach_cookie); as return probes when
 * `retprobe`. Returns the link fd, or a negative errno. Closing the fd
 * removes every breakpoint at once, before it waits for in-flight handlers:
 * unlike one perf-event link per offset, which keeps its breakpoint armed
 * through a grace period.
 */
int uprobe_multi_attach(int prog_fd, const char *path, const uint64_t *offsets,
			const uint64_t *cookies, size_t n, int pid, bool retprobe);

#endif
