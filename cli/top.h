/* SPDX-License-Identifier: GPL-2.0-only */
/* memsleuth top's three views, run by cmd_top: a live process, a recording, every process. */
#ifndef MEMSLEUTH_TOP_H
#define MEMSLEUTH_TOP_H

#include <stdbool.h>

#include "cli/exporter.h"
#include "cli/session.h"
#include "tui/tui.h"

struct top_args {
	struct session_opts s;		/* what a live process view reads; s.pid its target */
	struct exporter_opts ex;	/* --listen, --textfile, --pprof: one process's */
	const char *replay;		/* --replay FILE */
	const char *name;		/* --name NAME: the newest process so called */
	/*
	 * --cgroup, --children: the host view limited to a group of the
	 * hierarchy that accounts memory, or to the process given (s.pid, also
	 * when --name found it) and its descendants; `scoped` when either was.
	 */
	const char *cgroup;		/* --cgroup PATH, as given */
	bool children;			/* --children */
	bool scoped;
	long frames;			/* --frames: stop after FRAMES refreshes (0: never) */
	long count;			/* -n: stop after COUNT windows (0: never) */
	bool window_set;		/* -i given */
	bool host;			/* no PID: every process */
	double host_tick_s;		/* the host view's tick */
};

/* What a run has used of --frames and -n, across the views it opened. */
struct top_budget {
	long frames, windows;
};

/* Whether the run has used up --frames or -n. */
bool top_budget_spent(const struct top_args *a, const struct top_budget *b);

/* The next window in the steps of + and - after `cur` in direction `dir`, or `cur` at either end. */
double top_window_step(double cur, int dir);

/*
 * The live view of process `pid` with the live options of `a`. With `t` it
 * draws on that terminal, opened from the host view: Esc returns (*back set)
 * and a failure to attach is said in `err` and returned as EXIT_RUNTIME
 * without printing. Without, it takes the terminal itself. Returns an exit
 * status.
 */
int top_live(const struct top_args *a, int pid, struct tui *t, struct top_budget *b, bool *back,
	     char *err, size_t errlen);

/* The view over the recording a->replay. Returns an exit status. */
int top_replay(const struct top_args *a);

/* Every process on the host, live; Enter opens one in top_live. Returns an exit status. */
int top_host(const struct top_args *a);

#endif
