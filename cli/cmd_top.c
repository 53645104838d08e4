// SPDX-License-Identifier: GPL-2.0-only
/* memsleuth top: the live view over a running target or over a recording. */
#include "analyzer/model.h"
#include "cli/commands.h"
#include "cli/exporter.h"
#include "cli/live_opts.h"
#include "cli/replay.h"
#include "cli/session.h"
#include "cli/signals.h"
#include "cli/util.h"
#include "tui/tui.h"
#include "lib/clock.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_WINDOW_S 30.0
#define REFRESH_S 1.0
/* The model holds a window's samples at one per second: longer windows would not fit. */
#define MAX_WINDOW_S 600.0
#define MAX_ACTIONS 64

/* The windows + and - step through. */
static const double window_steps[] = { 5, 10, 15, 30, 60, 120, 300, 600 };

static void help(FILE *f)
{
	fprintf(f,
		"usage: memsleuth top PID [options]\n"
		"       memsleuth top --replay FILE [-i SECONDS] [-n FRAMES]\n"
		"\n"
		"A live view of process PID's memory and fd growth, refreshed every tick (1 s),\n"
		"with the findings of each closed window; or the same view over a recording\n"
		"made with 'memsleuth watch PID -o FILE' or 'memsleuth top PID -o FILE'.\n"
		"Press h in the view for its keys; q quits.\n"
		"\n"
		"options:\n"
		"  -i, --interval SECONDS  window over which deltas are taken and findings\n"
		"                          made (default 30, at most 600; a replay defaults to\n"
		"                          its recording's); + and - change it in the view\n"
		"  -n, --frames FRAMES     stop after FRAMES refreshes (for scripts and tests)\n"
		"      --tick SECONDS      sample and refresh every SECONDS (default 1, from 0.1\n"
		"                          to 5 and at most the window); finer ticks show\n"
		"                          growth steps in short windows\n"
		"  -o, --output FILE       also record the raw samples to FILE\n"
		"      --replay FILE       show a recording instead of a live target\n"
		LIVE_OPTS_HELP
		EXPORT_OPTS_HELP
		EXPORT_PPROF_HELP
		"  -h, --help              this help\n"
		"\n"
		"As root, the eBPF growth probes are on by default (brk, mmap, sampled page\n"
		"faults, fd syscalls, with the user stacks responsible): the Stacks panel\n"
		"shows them, and --alloc adds allocation stacks, which name leaks.\n"
		"Exit status: 0 ok (also when the target exits), 1 runtime failure, 2 usage.\n");
}

enum { OPT_REPLAY = 256, OPT_TICK };

/*
 * A finer tick would cost more than top's 2% of a core and overflow the
 * model's 1024 samples; a coarser one than the shortest window (5 s, key -)
 * would leave windows without a tick.
 */
#define MIN_TICK_S 0.1
#define MAX_TICK_S 5.0

struct top_args {
	struct session_opts s;
	struct exporter_opts ex;
	const char *replay;
	long frames;
	bool window_set;
};

static int parse_args(int argc, char **argv, struct top_args *a, int *status)
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "frames", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "replay", required_argument, NULL, OPT_REPLAY },
		{ "tick", required_argument, NULL, OPT_TICK },
		{ "help", no_argument, NULL, 'h' },
		LIVE_LONGOPTS,
		EXPORT_LONGOPTS,
		EXPORT_PPROF_LONGOPT,
		{ NULL, 0, NULL, 0 },
	};
	bool live_only = false, tick_set = false;
	char err[256];
	int c;

	memset(a, 0, sizeof(*a));
	live_opts_init(&a->s);
	a->s.window_s = DEFAULT_WINDOW_S;
	a->s.tick_s = REFRESH_S;
	a->s.bpf = geteuid() == 0;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":i:n:o:h", longopts, NULL)) != -1) {
		/* All but the window, the frame count and --replay itself choose what a live run reads. */
		if (c != 'i' && c != 'n' && c != 'h' && c != OPT_REPLAY)
			live_only = true;
		switch (c) {
		case 'i':
			if (parse_seconds(optarg, "interval", &a->s.window_s, err, sizeof(err)))
				goto usage;
			a->window_set = true;
			break;
		case 'n':
			if (parse_count(optarg, "frames", &a->frames, err, sizeof(err)))
				goto usage;
			break;
		case 'o':
			a->s.record_path = optarg;
			break;
		case OPT_REPLAY:
			a->replay = optarg;
			break;
		case OPT_TICK:
			if (parse_seconds(optarg, "tick", &a->s.tick_s, err, sizeof(err)))
				goto usage;
			if (a->s.tick_s < MIN_TICK_S || a->s.tick_s > MAX_TICK_S) {
				snprintf(err, sizeof(err), "tick must be from %g to %g seconds in top",
					 MIN_TICK_S, MAX_TICK_S);
				goto usage;
			}
			tick_set = true;
			break;
		case 'h':
			help(stdout);
			*status = EXIT_OK;
			return 1;
		case ':':
			snprintf(err, sizeof(err), "option '%s' needs a value", argv[optind - 1]);
			goto usage;
		default:
			if (live_opt_parse_rest(c, optarg, argv[optind - 1], &a->s, &a->ex, err,
						sizeof(err)))
				goto usage;
		}
	}
	if (a->s.window_s > MAX_WINDOW_S) {
		snprintf(err, sizeof(err), "interval must be at most %.0f seconds in top", MAX_WINDOW_S);
		goto usage;
	}
	if (a->replay) {
		if (optind < argc) {
			snprintf(err, sizeof(err), "unexpected argument '%s' with --replay", argv[optind]);
			goto usage;
		}
		if (live_only) {
			snprintf(err, sizeof(err), "-o, --tick, --alloc, --no-bpf, the probe and "
						   "arena options and the exports (--listen, --textfile, "
						   "--pprof) are for a live target, not --replay");
			goto usage;
		}
		return 0;
	}
	if (optind >= argc) {
		snprintf(err, sizeof(err), "missing PID (or --replay FILE)");
		goto usage;
	}
	if (optind + 1 < argc) {
		snprintf(err, sizeof(err), "unexpected argument '%s'", argv[optind + 1]);
		goto usage;
	}
	if (parse_pid(argv[optind], &a->s.pid, err, sizeof(err)))
		goto usage;
	if (a->ex.pprof_path && !a->s.alloc) {
		snprintf(err, sizeof(err), "--pprof writes allocation stacks: it needs --alloc");
		goto usage;
	}
	if (live_opts_check(&a->s, tick_set, err, sizeof(err)))
		goto usage;
	/* After the check, which may round the window up to whole ticks. */
	if (a->s.window_s > MAX_WINDOW_S) {
		snprintf(err, sizeof(err), "interval must be at most %.0f seconds in top", MAX_WINDOW_S);
		goto usage;
	}
	return 0;
usage:
	*status = usage_error("top", "%s", err);
	return 1;
}

/* The next window in the steps after `cur` in direction `dir`, or `cur` at either end. */
static double window_step(double cur, int dir)
{
	size_t n = sizeof(window_steps) / sizeof(window_steps[0]), i;

	if (dir > 0) {
		for (i = 0; i < n; i++)
			if (window_steps[i] > cur * 1.001)
				return window_steps[i];
	} else {
		for (i = n; i-- > 0;)
			if (window_steps[i] < cur * 0.999)
				return window_steps[i];
	}
	return cur;
}

/* ---- live ---- */

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

/* Applies the controller's keys; returns 1 when the user quit. */
static int live_keys(struct live *l)
{
	enum tui_action acts[MAX_ACTIONS];
	size_t n = tui_read_keys(l->t, l->m, acts, MAX_ACTIONS), i;

	for (i = 0; i < n; i++) {
		switch (acts[i]) {
		case TUI_QUIT:
			return 1;
		case TUI_PAUSE:
			if (!l->ended)
				model_freeze(l->m, !model_frozen(l->m));
			break;
		case TUI_WIDER:
		case TUI_NARROWER:
			if (!l->ended)
				live_set_window(l, window_step(l->window_s,
							       acts[i] == TUI_WIDER ? 1 : -1));
			break;
		default:
			break;
		}
		tui_invalidate(l->t);
	}
	return 0;
}

static int run_live(const struct top_args *a)
{
	struct live l = { .window_s = a->s.window_s };
	struct tui_opts to = { .replay = false };
	const char *reason = "stopped";
	char err[512] = "";
	double next_frame, t0;
	long frames = 1;
	int status = EXIT_OK, ret;

	signals_install();
	ret = session_open(&a->s, &l.s, err, sizeof(err));
	if (ret)
		return runtime_error("top", false, err);
	ret = exporter_open_session(&a->ex, l.s, a->s.pid, &l.ex, &l.slot, err, sizeof(err));
	if (ret) {
		status = runtime_error("top", false, err);
		goto out;
	}
	l.m = model_new(a->s.window_s, a->s.tick_s);
	/* --alloc-optional may have gone on without the malloc probes. */
	l.meta.alloc = session_alloc_library(l.s) != NULL;
	l.meta.tick_s = a->s.tick_s;
	if (session_target_started(l.s, &l.meta.target_started))
		l.meta.target_started = 0;
	if (!l.m || live_update(&l, NULL)) {
		status = runtime_error("top", false, "out of memory");
		goto out;
	}
	ret = tui_open(&to, &l.t, err, sizeof(err));
	if (ret) {
		status = runtime_error("top", false, err);
		goto out;
	}
	next_frame = clock_mono() + a->s.tick_s;
	for (;;) {
		double due = l.ended ? next_frame : session_next_tick(l.s);
		struct window *w = NULL;

		tui_draw(l.t, l.m);
		if (a->frames && frames >= a->frames) {
			reason = "frame count reached";
			break;
		}
		signals_wait_wake(due, STDIN_FILENO);
		if (signals_stop_requested()) {
			reason = "interrupted";
			break;
		}
		if (live_keys(&l)) {
			reason = "quit";
			break;
		}
		if (tui_hung_up(l.t)) {
			reason = "terminal closed";
			break;
		}
		if (clock_mono() < due)
			continue;
		frames++;
		if (l.ended) {
			next_frame += a->s.tick_s;
			continue;
		}
		t0 = clock_mono();
		ret = session_tick(l.s, &w, err, sizeof(err));
		if (ret == -ESRCH) {
			live_end(&l);
			next_frame = clock_mono() + a->s.tick_s;
		} else if (ret < 0 ||
			   exporter_after_tick(l.ex, l.slot, l.s, clock_mono() - t0, w, err,
					       sizeof(err)) ||
			   live_update(&l, w)) {
			if (ret >= 0 && !err[0])
				snprintf(err, sizeof(err), "out of memory");
			reason = "failed";
			status = EXIT_RUNTIME;
			window_free(w);
			break;
		}
		window_free(w);
		tui_invalidate(l.t);
	}
	tui_close(l.t);
	if (status != EXIT_OK)
		runtime_error("top", false, err);
	else if (l.ended)
		fprintf(stderr, "memsleuth top: target %d exited\n", a->s.pid);
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

/* ---- replay ---- */

/* Applies the controller's keys to the replay; returns 1 to quit, -1 on failure. */
static int replay_keys(struct tui *t, struct replay *r, struct model *m, char *err,
		       size_t errlen)
{
	enum tui_action acts[MAX_ACTIONS];
	size_t n = tui_read_keys(t, m, acts, MAX_ACTIONS), i, pos;
	struct model_meta meta;
	double window = replay_window(r);
	int ret = 0;

	for (i = 0; i < n && !ret; i++) {
		pos = replay_pos(r);
		switch (acts[i]) {
		case TUI_QUIT:
			return 1;
		case TUI_PAUSE:
			meta = *model_meta(m);
			meta.playing = !meta.playing && pos + 1 < replay_count(r);
			model_set_meta(m, &meta);
			break;
		case TUI_STEP_FORWARD:
			ret = replay_show(r, pos + 1, m, err, errlen);
			break;
		case TUI_STEP_BACK:
			ret = replay_show(r, pos ? pos - 1 : 0, m, err, errlen);
			break;
		case TUI_WINDOW_FORWARD:
		case TUI_WINDOW_BACK:
			ret = replay_show(r,
					  replay_nearest(r, replay_time(r, pos) +
								    (acts[i] == TUI_WINDOW_FORWARD
									     ? window
									     : -window)),
					  m, err, errlen);
			break;
		case TUI_FIRST:
			ret = replay_show(r, 0, m, err, errlen);
			break;
		case TUI_LAST:
			ret = replay_show(r, replay_count(r) - 1, m, err, errlen);
			break;
		case TUI_WIDER:
		case TUI_NARROWER:
			ret = replay_set_window(r, window_step(window, acts[i] == TUI_WIDER ? 1 : -1),
						m, err, errlen);
			window = replay_window(r);
			break;
		}
		tui_invalidate(t);
	}
	return ret ? -1 : 0;
}

static int run_replay(const struct top_args *a)
{
	struct tui_opts to = { .replay = true };
	struct replay *r = NULL;
	struct model *m = NULL;
	struct tui *t = NULL;
	char err[512];
	double next_frame;
	long frames = 1;
	int status = EXIT_OK, ret;

	signals_install();
	ret = replay_open(a->replay, a->window_set ? a->s.window_s : 0, &r, err, sizeof(err));
	if (ret)
		return runtime_error("top", false, err);
	m = model_new(replay_window(r), replay_tick(r));
	if (!m) {
		status = runtime_error("top", false, "out of memory");
		goto out;
	}
	if (replay_show(r, replay_first_window_end(r), m, err, sizeof(err)) ||
	    tui_open(&to, &t, err, sizeof(err))) {
		status = runtime_error("top", false, err);
		goto out;
	}
	next_frame = clock_mono() + REFRESH_S;
	for (;;) {
		tui_draw(t, m);
		if (a->frames && frames >= a->frames)
			break;
		signals_wait_wake(next_frame, STDIN_FILENO);
		if (signals_stop_requested())
			break;
		ret = replay_keys(t, r, m, err, sizeof(err));
		if (ret || tui_hung_up(t))
			break;
		if (clock_mono() < next_frame)
			continue;
		next_frame += REFRESH_S;
		if (next_frame < clock_mono())
			next_frame = clock_mono() + REFRESH_S;
		frames++;
		if (model_meta(m)->playing) {
			struct model_meta meta;

			ret = replay_show(r, replay_pos(r) + 1, m, err, sizeof(err));
			if (ret)
				break;
			meta = *model_meta(m);
			meta.playing = !meta.ended;
			model_set_meta(m, &meta);
			tui_invalidate(t);
		}
	}
	tui_close(t);
	if (ret < 0)
		status = runtime_error("top", false, err);
out:
	model_free(m);
	replay_close(r);
	return status;
}

int cmd_top(int argc, char **argv)
{
	struct top_args a;
	int status;

	if (parse_args(argc, argv, &a, &status))
		return status;
	return a.replay ? run_replay(&a) : run_live(&a);
}
