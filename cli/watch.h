/* SPDX-License-Identifier: GPL-2.0-only */
/* memsleuth watch: what it was asked (cmd_watch.c parses it) and the run over its targets (watch_run.c). */
#ifndef MEMSLEUTH_WATCH_H
#define MEMSLEUTH_WATCH_H

#include <stdbool.h>
#include <sys/types.h>

#include "cli/exporter.h"
#include "cli/session.h"
#include "collectors/targets.h"

struct watch_args {
	struct session_opts s;		/* what is read of each target; s.pid unused */
	struct exporter_opts ex;
	long count;
	bool json, folded, summary;
	char **cmd;			/* -- CMD ARGS: the command to start, or NULL */
	/*
	 * The command started for -- CMD, stopped before any of its code ran:
	 * let go once the probes are on it, killed if they cannot be. 0: none.
	 */
	pid_t started;
	/*
	 * Which processes: one spec (a PID, the command started, a name, a
	 * cgroup), and with `children` every descendant of what it names.
	 */
	struct target_spec spec;
	bool children;
};

/*
 * Whether the targets can change during the run (every process of a name, a
 * cgroup, a process's children): names and groups are resolved again every
 * window and new processes join. Otherwise there is one target, fixed.
 */
static inline bool watch_follows(const struct watch_args *a)
{
	return a->children || a->spec.by == TARGET_CGROUP ||
	       (a->spec.by == TARGET_NAME && a->spec.all);
}

/*
 * Watches what `a` names until every target has gone, -n windows have
 * passed, a signal stops it, or output fails: one report per target and
 * window, a last partial window per target, a run summary per target when
 * asked for (or on Ctrl-C in text). Returns an exit status.
 */
int watch_run(const struct watch_args *a);

#endif
