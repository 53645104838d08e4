// SPDX-License-Identifier: GPL-2.0-only
/* memsleuth top without a PID: every process ranked by growth, live; Enter opens one. */
#include "analyzer/host.h"
#include "cli/commands.h"
#include "cli/signals.h"
#include "cli/top.h"
#include "cli/util.h"
#include "collectors/hostscan.h"
#include "collectors/targets.h"
#include "lib/clock.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#define MAX_ACTIONS 64

struct host_run {
	struct hostscan *scan;
	struct host_history hist;
	struct host_window *w;
	struct tui_host view;
	uint32_t index;
	double first_t;			/* of the first scan since the view (re)started */
	long windows_before;		/* windows counted before that */
	char message[512];
	struct host_scope scope;	/* --cgroup, --children */
	char cgroup[PATH_MAX];		/* scope.cgroup */
	char label[320];		/* the scope, said in the view's title */
};

/* Scans, and remakes the window (within --cgroup, --children). Returns 0 or -ENOMEM. */
static int host_tick(const struct top_args *a, struct host_run *h, struct top_budget *b,
		     double window_s)
{
	struct host_snapshot *s;
	struct host_window *w;

	if (hostscan_take(h->scan, &s))
		return -ENOMEM;
	if (!h->hist.n)
		h->first_t = s->t;
	host_history_push(&h->hist, s);
	if (host_history_window(&h->hist, ++h->index, &w))
		return -ENOMEM;
	if (w && a->scoped && host_window_scope(w, &h->scope)) {
		host_window_free(w);
		return -ENOMEM;
	}
	host_window_free(h->w);
	h->w = w;
	h->view.w = w;
	/* -n counts whole windows of the host's time shown. */
	b->windows = h->windows_before + (long)((s->t - h->first_t) / window_s + 0.02);
	return 0;
}

/* Opens the selected process in the live view. Returns 1 to end the run (status in *status). */
static int open_selected(const struct top_args *a, struct host_run *h, struct tui *t,
			 struct top_budget *b, int *status)
{
	char err[512];
	int32_t pid;
	uint64_t start;
	bool back;

	if (!tui_host_selected(t, &h->view, &pid, &start))
		return 0;
	*status = top_live(a, pid, t, b, &back, err, sizeof(err));
	if (!back) {
		/* Quit, interrupted, or failed while watching: the run ends. */
		if (*status != EXIT_OK)
			snprintf(h->message, sizeof(h->message), "%s", err);
		return 1;
	}
	/* Back: the scans from before are as old as the visit; the window starts again. */
	snprintf(h->message, sizeof(h->message), "%s", err);
	h->view.message = err[0] ? h->message : NULL;
	h->windows_before = b->windows;
	host_history_clear(&h->hist);
	host_window_free(h->w);
	h->w = NULL;
	h->view.w = NULL;
	*status = EXIT_OK;
	tui_show_host(t);
	return 0;
}

/*
 * The scope of --cgroup (in the hierarchy the scan reads, which on a hybrid
 * host is v1's memory one) and --children, and its label. 0, or -1 with `err`.
 */
static int set_scope(const struct top_args *a, struct host_run *h, char *err, size_t errlen)
{
	const char *root;
	int n = 0, ret;

	if (a->cgroup) {
		if (hostscan_hierarchy(h->scan, &root) == HOST_CG_NONE) {
			snprintf(err, errlen, "--cgroup: no cgroup hierarchy accounts memory here");
			return -1;
		}
		ret = targets_cgroup_path(a->cgroup, root, h->cgroup, sizeof(h->cgroup));
		if (ret) {
			snprintf(err, errlen, ret == -ENOENT ? "no cgroup %s under %s" :
				 "--cgroup %s: not a group under %s", a->cgroup, root);
			return -1;
		}
		h->scope.cgroup = h->cgroup;
		n = snprintf(h->label, sizeof(h->label), "cgroup %.256s", h->cgroup);
	}
	if (a->children) {
		h->scope.root = a->s.pid;
		snprintf(h->label + n, sizeof(h->label) - (size_t)n, "%sPID %d and its children",
			 n ? ", " : "", a->s.pid);
	}
	h->view.scope = h->label;
	return 0;
}

int top_host(const struct top_args *a)
{
	struct hostscan_opts ho = { .groups = true };
	struct host_run h = { .view = { .window_s = a->s.window_s, .tick_s = a->host_tick_s } };
	struct tui_opts to = { .host = true };
	struct top_budget b = { .frames = 1 };
	struct tui *t = NULL;
	char err[512];
	double next;
	int status = EXIT_OK;

	signals_install();
	host_history_init(&h.hist, a->s.window_s, a->host_tick_s);
	if (hostscan_open(&ho, &h.scan, err, sizeof(err)))
		return runtime_error("top", false, err);
	if (a->scoped && set_scope(a, &h, err, sizeof(err))) {
		status = runtime_error("top", false, err);
		goto out;
	}
	if (tui_open(&to, &t, err, sizeof(err))) {
		status = runtime_error("top", false, err);
		goto out;
	}
	if (host_tick(a, &h, &b, a->s.window_s)) {
		snprintf(h.message, sizeof(h.message), "out of memory");
		status = EXIT_RUNTIME;
		goto done;
	}
	next = clock_mono() + a->host_tick_s;
	for (;;) {
		enum tui_action acts[MAX_ACTIONS];
		size_t n, i;
		bool quit = false;

		tui_draw_host(t, &h.view);
		if (top_budget_spent(a, &b))
			break;
		signals_wait_wake(next, STDIN_FILENO);
		if (signals_stop_requested() || tui_hung_up(t))
			break;
		n = tui_read_host_keys(t, &h.view, acts, MAX_ACTIONS);
		for (i = 0; i < n && !quit; i++) {
			if (acts[i] == TUI_QUIT)
				quit = true;
			else if (acts[i] == TUI_OPEN && open_selected(a, &h, t, &b, &status))
				quit = true;
			if (acts[i] == TUI_OPEN && !quit)
				next = clock_mono();
		}
		if (quit)
			break;
		if (clock_mono() < next)
			continue;
		next += a->host_tick_s;
		if (next < clock_mono())
			next = clock_mono() + a->host_tick_s;
		b.frames++;
		if (host_tick(a, &h, &b, a->s.window_s)) {
			snprintf(h.message, sizeof(h.message), "out of memory");
			status = EXIT_RUNTIME;
			break;
		}
	}
done:
	tui_close(t);
	if (status != EXIT_OK && h.message[0])
		runtime_error("top", false, h.message);
out:
	host_window_free(h.w);
	host_history_clear(&h.hist);
	hostscan_close(h.scan);
	return status;
}
