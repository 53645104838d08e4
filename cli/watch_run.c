// SPDX-License-Identifier: GPL-2.0-only
/* The watch loop: one session per target process, ticked together, each window printed as it closes. */
#include "cli/watch.h"
#include "cli/commands.h"
#include "cli/print.h"
#include "cli/print_folded.h"
#include "cli/signals.h"
#include "cli/util.h"
#include "collectors/launch.h"
#include "collectors/proc.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/vec.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Processes watched at once: each holds probes, a timeline and its stacks (as the agent). */
#define MAX_TARGETS 64

struct watched {
	struct target_proc proc;
	struct session *s;
	struct run_summary run;
	long windows;			/* windows printed */
	bool first;			/* found at the start: -n counts its windows */
	bool done;			/* ended, its last window printed */
	bool execed;			/* ended by executing a program: watched again as that */
};

struct run {
	const struct watch_args *a;
	struct watched *t;
	size_t n, cap;
	struct target_list refused;	/* could not be opened: not tried again */
	struct targets_cache cache;
	struct exporter *ex;		/* one fixed target only */
	struct export_slot *slot;
	bool warned_full;
	bool output_failed;
};

/* Adds a window to a target's run summary; one that cannot be added is said, not hidden. */
static void record(struct run_summary *r, const struct window *w)
{
	if (run_summary_add(r, w))
		log_warn("out of memory: the run summary misses window %u", w->index);
}

/*
 * The run's summary, when asked for or on Ctrl-C in text: what grew over the
 * whole run, the findings that held, the stacks that explain it.
 */
static void emit_summary(const struct watch_args *a, const struct run_summary *r,
			 const char *reason)
{
	struct window *run;
	const char *how = !strcmp(reason, "interrupted") ? "stopped by a signal (Ctrl-C)" : reason;

	if (!a->summary && (a->json || a->folded || strcmp(reason, "interrupted") != 0))
		return;
	if (run_summary_window(r, &run)) {
		if (!r->windows && !a->json)
			printf("== run summary: no window closed (the run was shorter than one)\n");
		return;
	}
	if (a->json)
		print_run_summary_json(stdout, r, run, how);
	else
		print_run_summary_text(stdout, r, run, how);
	if (ferror(stdout))
		output_failed(stdout);
	window_free(run);
}

static int emit(const struct watch_args *a, const struct window *w)
{
	static const struct print_opts popts = PRINT_OPTS_DEFAULT;
	int ret;

	if (a->json) {
		ret = print_window_json(stdout, w);
	} else if (a->folded) {
		/* An empty line between windows: flame graph tools skip it. */
		ret = w->index > 1 && fputc('\n', stdout) == EOF ? -EIO
								 : print_window_folded(stdout, w);
	} else {
		print_window_text(stdout, w, &popts);
		ret = fflush(stdout) || ferror(stdout) ? -EIO : 0;
	}
	if (ret)
		output_failed(stdout);
	return ret;
}

/* Says what is read of a target just opened; a collector that is off is not listed. */
static void say_watching(const struct watch_args *a, const struct watched *t)
{
	const struct sample *base = session_latest(t->s);

	log_info("watching PID %d (%s): window %g s, tick %g s; collectors: smaps%s%s%s%s%s%s%s",
		 t->proc.pid, session_comm(t->s), a->s.window_s, a->s.tick_s,
		 base && !base->has_fds ? "" : ", fds",
		 !a->s.arenas || (base && !base->has_arenas) ? ""
		 : !a->s.freeze				      ? ", glibc arenas (unfrozen)"
							      : ", glibc arenas",
		 session_has_bpf(t->s) ? ", eBPF growth probes" : "",
		 session_alloc_library(t->s) ? ", malloc probes on " : "",
		 session_alloc_library(t->s) ? session_alloc_library(t->s) : "",
		 a->s.record_path ? "; recording to " : "", a->s.record_path ? a->s.record_path : "");
}

/*
 * Opens a session on process `p`. Returns 0 (a process that cannot be
 * watched is said and remembered, when the run goes on without it), or a
 * negative errno with `err` when the run cannot go on: `p` is the one target,
 * or the PID named whose children are watched too.
 */
static int open_target(struct run *r, const struct target_proc *p, bool first, char *err,
		       size_t errlen)
{
	bool named = first && r->a->spec.by == TARGET_PID && p->pid == r->a->spec.pid;
	struct session_opts o = r->a->s;
	struct watched *t;
	int ret;

	if (r->n >= MAX_TARGETS) {
		if (!r->warned_full)
			log_warn("%d processes watched already: PID %d (%s) and later ones are not",
				 MAX_TARGETS, p->pid, p->comm);
		r->warned_full = true;
		return 0;
	}
	t = VEC_PUSH(r->t, r->n, r->cap);
	if (!t)
		return -ENOMEM;
	t->proc = *p;
	t->first = first;
	o.pid = p->pid;
	ret = session_open(&o, &t->s, err, errlen);
	if (!ret && !watch_follows(r->a))
		ret = exporter_open_session(&r->a->ex, t->s, p->pid, &r->ex, &r->slot, err, errlen);
	if (!ret) {
		say_watching(r->a, t);
		return 0;
	}
	session_close(t->s);
	r->n--;
	if (!watch_follows(r->a) || named)
		return ret;
	/* One of several: the others go on. A process that went may have a successor. */
	log_warn("cannot watch PID %d (%s): %s", p->pid, p->comm, err);
	if (ret != -ESRCH) {
		struct target_spec one = { .by = TARGET_PID, .pid = p->pid };

		return targets_resolve(&one, &r->refused, NULL, 0);
	}
	return 0;
}

static bool watched_already(const struct run *r, const struct target_proc *p)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->t[i].proc.pid == p->pid && r->t[i].proc.start_time == p->start_time &&
		    !r->t[i].execed)
			return true;
	return target_list_has(&r->refused, p->pid, p->start_time);
}

/* Opens what the spec names now and is not watched yet. 0, or a negative errno with `err`. */
static int resolve(struct run *r, bool first, char *err, size_t errlen)
{
	struct target_list found = { 0 };
	size_t i;
	int ret;

	ret = targets_resolve(&r->a->spec, &found, &r->cache, clock_mono());
	/*
	 * At the start a PID that is not a process to watch is opened as given,
	 * so that what keeps it from being watched is said as it is (a kernel
	 * thread, a zombie, gone). Later, one gone is not looked for again.
	 */
	if (!ret && first && r->a->spec.by == TARGET_PID && !found.n) {
		struct target_proc *p = VEC_PUSH(found.procs, found.n, found.cap);

		ret = p ? 0 : -ENOMEM;
		if (p)
			p->pid = r->a->spec.pid;
	}
	if (!ret && r->a->children)
		ret = targets_add_descendants(&found);
	if (ret == -ENOENT && r->a->spec.by == TARGET_CGROUP)
		snprintf(err, errlen, "no cgroup %s", r->a->spec.name);
	else if (ret)
		snprintf(err, errlen, "cannot find the targets: %s", strerror(-ret));
	for (i = 0; !ret && i < found.n; i++)
		if (!watched_already(r, &found.procs[i]))
			ret = open_target(r, &found.procs[i], first, err, errlen);
	target_list_free(&found);
	return ret;
}

/*
 * Ends target i: its last, partial window (unless the run ended on its count
 * or its output) and its summary.
 */
static void finish(struct run *r, struct watched *t, const char *reason)
{
	struct window *w = NULL;
	int ret = session_finish(t->s, reason, &w);

	if (strcmp(reason, "count reached") != 0 && !r->output_failed) {
		if (ret < 0)
			log_error("out of memory: the last window of PID %d is lost", t->proc.pid);
		else if (ret == 1) {
			record(&t->run, w);
			emit(r->a, w);
		}
	}
	if (!r->output_failed)
		emit_summary(r->a, &t->run, reason);
	window_free(w);
	run_summary_clear(&t->run);
	session_close(t->s);
	t->s = NULL;
	t->done = true;
}

/*
 * Ticks target t when it is due. Returns 0, or a negative errno with `err`
 * when the run must stop (output that cannot be written: -EIO without a
 * message, main says it).
 */
static int tick(struct run *r, struct watched *t, char *err, size_t errlen)
{
	struct window *w = NULL;
	double t0 = clock_mono();
	int ret;

	if (t->done || clock_mono() < session_next_tick(t->s))
		return 0;
	ret = session_tick(t->s, &w, err, errlen);
	if (ret >= 0 && r->ex &&
	    exporter_after_tick(r->ex, r->slot, t->s, clock_mono() - t0, w, err, errlen))
		ret = -EIO;
	if (ret == -ESRCH || ret == -ENOEXEC) {
		if (ret == -ESRCH)
			log_info("target %d exited", t->proc.pid);
		else
			log_info("%s", err);
		finish(r, t, ret == -ESRCH ? "target exited" : "target executed a new program");
		/* A child forked by a shell executes its program: the next look finds that. */
		t->execed = ret == -ENOEXEC && watch_follows(r->a);
		return 0;
	}
	if (ret < 0) {
		window_free(w);
		return ret;
	}
	if (ret == 1) {
		record(&t->run, w);
		ret = emit(r->a, w);
		window_free(w);
		if (ret) {
			r->output_failed = true;
			err[0] = '\0';
			return -EIO;
		}
		t->windows++;
	}
	return 0;
}

/* Whether -n is reached: every target found at the start has printed its windows (or gone). */
static bool count_reached(const struct run *r)
{
	size_t i;
	bool any = false;

	if (!r->a->count)
		return false;
	for (i = 0; i < r->n; i++) {
		if (!r->t[i].first)
			continue;
		any = true;
		if (!r->t[i].done && r->t[i].windows < r->a->count)
			return false;
	}
	return any;
}

static size_t live(const struct run *r, double *next)
{
	size_t i, n = 0;

	for (i = 0; i < r->n; i++)
		if (!r->t[i].done) {
			if (!n || session_next_tick(r->t[i].s) < *next)
				*next = session_next_tick(r->t[i].s);
			n++;
		}
	return n;
}

int watch_run(const struct watch_args *a)
{
	struct run r = { .a = a };
	const char *reason = "stopped";
	double next = 0, next_resolve;
	char err[512] = "";
	int status = EXIT_OK, ret;
	size_t i;

	ret = resolve(&r, true, err, sizeof(err));
	if (!ret && !r.n)
		snprintf(err, sizeof(err), "no process %s%s%s",
			 a->spec.by == TARGET_NAME ? "named " : "in cgroup ", a->spec.name,
			 r.refused.n ? " that memsleuth may watch" : "");
	if (ret || !r.n) {
		/* The command has run none of its code: it goes with the watch it was started for. */
		if (a->started > 0) {
			kill(a->started, SIGKILL);
			launch_reap(a->started, 1);
		}
		status = runtime_error("watch", a->json, err[0] ? err : "out of memory");
		goto out;
	}
	if (a->started > 0 && launch_resume(a->started)) {
		status = runtime_error("watch", a->json, "cannot let the command run: it is gone");
		goto out;
	}
	next_resolve = clock_mono() + a->s.window_s;
	for (;;) {
		bool follow = watch_follows(a);

		if (!live(&r, &next)) {
			if (!follow)
				break;
			next = next_resolve;
		}
		signals_wait(follow && next_resolve < next ? next_resolve : next, -1);
		if (signals_stop_requested()) {
			reason = "interrupted";
			break;
		}
		for (i = 0; i < r.n && !ret; i++)
			ret = tick(&r, &r.t[i], err, sizeof(err));
		if (ret) {
			/* main() says what failed unless the reader closed the pipe. */
			reason = !r.output_failed	     ? "failed"
				 : output_errno() == EPIPE ? "output closed"
							   : "output failed";
			if (!r.output_failed)
				status = runtime_error("watch", a->json, err);
			break;
		}
		if (count_reached(&r)) {
			reason = "count reached";
			break;
		}
		if (follow && clock_mono() >= next_resolve) {
			ret = resolve(&r, false, err, sizeof(err));
			next_resolve = clock_mono() + a->s.window_s;
			/* A name or a group with no process left, and none new: the run is over. */
			if (!ret && !live(&r, &next))
				break;
			if (ret) {
				reason = "failed";
				status = runtime_error("watch", a->json, err);
				break;
			}
		}
	}
	for (i = 0; i < r.n; i++)
		if (!r.t[i].done)
			finish(&r, &r.t[i], reason);
out:
	for (i = 0; i < r.n; i++)
		if (!r.t[i].done) {
			run_summary_clear(&r.t[i].run);
			session_close(r.t[i].s);
		}
	free(r.t);
	target_list_free(&r.refused);
	targets_cache_free(&r.cache);
	exporter_close(r.ex);
	/* For the bounded-memory benchmark, and for anyone wondering what memsleuth costs. */
	log_debug("memsleuth peak RSS: %" PRIu64 " KiB", proc_self_peak_rss() / 1024);
	return status;
}
