/* SPDX-License-Identifier: GPL-2.0-only */
/* The host view of `top` without a PID: every process (and cgroup) ranked by growth, live. */
#ifndef MEMSLEUTH_TUI_HOST_VIEW_H
#define MEMSLEUTH_TUI_HOST_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "tui/panel.h"
#include "tui/tui.h"

enum { HOST_TAB_PROCS, HOST_TAB_GROUPS, HOST_TABS };

/* What the user typed after / (a filter), and whether they are still typing. */
struct host_filter {
	char text[32];
	bool typing;
};

/* Draws the whole screen: title, figures, tabs, the focused table, the status line. */
void host_view_draw(const struct tui_host *h, int focus, struct list_state *st,
		    const struct host_filter *f, struct rect all);
/*
 * Rows of table `tab` that pass the filter: a process whose PID is the text
 * or whose command holds it, a group whose path holds it.
 */
int host_view_rows(const struct tui_host *h, int tab, const struct host_filter *f);
/* Sort orders of table `tab`, NULL-terminated. */
const char *const *host_view_sorts(int tab);
/* The process the selection of the processes table is on. false when none. */
bool host_view_process(const struct tui_host *h, const struct list_state *st, int32_t *pid,
		       uint64_t *start_time);

#endif
