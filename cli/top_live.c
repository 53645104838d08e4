// SPDX-License-Identifier: GPL-2.0-only
/* memsleuth top PID: the live view of one process, standalone or opened from the host view. */
#include "analyzer/model.h"
#include "cli/commands.h"
#include "cli/session.h"
#include "cli/signals.h"
#include "cli/top.h"
#include "cli/util.h"
#include "lib/clock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAX_ACTIONS 64

struct live {
	struct session *s;
	struct exporter *ex;
	struct export_slot *slot;
	struct model *m;
	struct tui *t;
	struct model_meta meta;
	double window_s;
	bool ended;
};

/* Shows the newest sample, and the findings when a window closed. Returns 0 or -ENOMEM. */
static int live_update(struct live *l, struct window *w)
{
	struct sample *smp = session_latest_ref(l->s);
	int ret = 0;

	if (smp) {
		double t = smp->t;

		ret = model_push(l->m, smp);
		if (!w && !model_findings(l->m) && !l->meta.analysis_due)
			l->meta.analysis_due = t + l->window_s;
	}
	if (!ret && w) {
		ret = model_set_findings(l->m, w);
		l->meta.analysis_due = w->end->t + l->window_s;
	}
	model_set_meta(l->m, &l->meta);
	return ret;
}

static void live_end(struct live *l)
{
	struct window *w = NULL;

	l->ended = true;
	if (session_finish(l->s, "target exited", &w) == 1)
		model_set_findings(l->m, w);
	window_free(w);
	/* The data is final: a frozen view would hide the last of it. */
	model_freeze(l->m, false);
	l->meta.ended = true;
	model_set_meta(l->m, &l->meta);
}

static void live_set_window(struct live *l, double window_s)
{
	const struct sample *s = session_latest(l->s);

	if (window_s == l->window_s || session_set_window(l->s, window_s) ||
	    model_set_window(l->m, window_s))
		return;
	l->window_s = window_s;
	l->meta.analysis_due = s ? s->t + window_s : 0;
	model_set_meta(l->m, &l->meta);
}

/* Applies the controller's keys; returns 1 when the user quit, 2 to go back to the host view. */
static int live_keys(struct live *l)
{
	enum tui_action acts[MAX_ACTIONS];
	size_t n = tui_read_keys(l->t, l->m, acts, MAX_ACTIONS), i;

	for (i = 0; i < n; i++) {
		switch (acts[i]) {
		case TUI_QUIT:
			return 1;
		case TUI_BACK:
			return 2;
		case TUI_PAUSE:
			if (!l->ended)
				model_freeze(l->m, !model_frozen(l->m));
			break;
		case TUI_WIDER:
		case TUI_NARROWER:
			if (!l->ended)
				live_set_window(l, top_window_step(l->window_s,
							       acts[i] == TUI_WIDER ? 1 : -1));
			break;
		default:
			break;
		}
		tui_invalidate(l->t);
	}
	return 0;
}

int top_live(const struct top_args *a, int pid, struct tui *t, struct top_budget *b, bool *back,
	     char *err, size_t errlen)
{
	struct live l = { .window_s = a->s.window_s, .t = t };
	struct tui_opts to = { .replay = false };
	struct session_opts so = a->s;
	const char *reason = "stopped";
	bool own = !t;
	double next_frame, t0;
	int status = EXIT_OK, ret;

	*back = false;
	err[0] = '\0';
	so.pid = pid;
	signals_install();
	ret = session_open(&so, &l.s, err, errlen);
	/* From the host view, a process that cannot be watched is said there. */
	*back = !own;
	if (ret)
		return own ? runtime_error("top", false, err) : EXIT_RUNTIME;
	ret = exporter_open_session(&a->ex, l.s, pid, &l.ex, &l.slot, err, errlen);
	if (ret) {
		status = own ? runtime_error("top", false, err) : EXIT_RUNTIME;
		goto out;
	}
	l.m = model_new(a->s.window_s, a->s.tick_s);
	/* --alloc-optional may have gone on without the malloc probes. */
	l.meta.alloc = session_alloc_library(l.s) != NULL;
	l.meta.tick_s = a->s.tick_s;
	if (session_target_started(l.s, &l.meta.target_started))
		l.meta.target_started = 0;
	if (!l.m || live_update(&l, NULL)) {
		snprintf(err, errlen, "out of memory");
		status = own ? runtime_error("top", false, err) : EXIT_RUNTIME;
		goto out;
	}
	if (own) {
		ret = tui_open(&to, &l.t, err, errlen);
		if (ret) {
			status = runtime_error("top", false, err);
			goto out;
		}
	} else {
		tui_show_process(t, true);
	}
	*back = false;
	next_frame = clock_mono() + a->s.tick_s;
	for (;;) {
		double due = l.ended ? next_frame : session_next_tick(l.s);
		struct window *w = NULL;

		tui_draw(l.t, l.m);
		if (top_budget_spent(a, b)) {
			reason = "count reached";
			break;
		}
		signals_wait_wake(due, STDIN_FILENO);
		if (signals_stop_requested()) {
			reason = "interrupted";
			break;
		}
		ret = live_keys(&l);
		if (ret) {
			reason = ret == 2 ? "back to every process" : "quit";
			*back = ret == 2;
			break;
		}
		if (tui_hung_up(l.t)) {
			reason = "terminal closed";
			break;
		}
		if (clock_mono() < due)
			continue;
		b->frames++;
		if (l.ended) {
			next_frame += a->s.tick_s;
			continue;
		}
		t0 = clock_mono();
		ret = session_tick(l.s, &w, err, errlen);
		if (ret == -ESRCH) {
			live_end(&l);
			next_frame = clock_mono() + a->s.tick_s;
		} else if (ret < 0 ||
			   exporter_after_tick(l.ex, l.slot, l.s, clock_mono() - t0, w, err, errlen) ||
			   live_update(&l, w)) {
			if (ret >= 0 && !err[0])
				snprintf(err, errlen, "out of memory");
			reason = "failed";
			status = EXIT_RUNTIME;
			window_free(w);
			break;
		}
		b->windows += w != NULL;
		window_free(w);
		tui_invalidate(l.t);
	}
	if (own) {
		tui_close(l.t);
		if (status != EXIT_OK)
			runtime_error("top", false, err);
		else if (l.ended)
			fprintf(stderr, "memsleuth top: target %d exited\n", pid);
	}
out:
	if (!l.ended && l.s) {
		struct window *w = NULL;

		session_finish(l.s, reason, &w);
		window_free(w);
	}
	exporter_close(l.ex);
	session_close(l.s);
	model_free(l.m);
	return status;
}
