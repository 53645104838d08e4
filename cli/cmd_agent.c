// SPDX-License-Identifier: GPL-2.0-only
/* memsleuth agent: watch processes by PID, name or cgroup for days, and export what is seen. */
#include "cli/commands.h"
#include "cli/exporter.h"
#include "cli/live_opts.h"
#include "cli/print.h"
#include "cli/session.h"
#include "cli/signals.h"
#include "cli/util.h"
#include "collectors/targets.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/vec.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_WINDOW_S 30.0
/* Coarser than watch's 1 s: an agent runs for days next to the service, at < 1% of a core. */
#define DEFAULT_TICK_S 5.0
/* Processes watched at once: each holds probes, a timeline and its stacks. */
#define MAX_TARGETS 64
/* How often names and cgroups are looked up again (and at once when a target exits). */
#define RESOLVE_EVERY_S 5.0
/* The longest --alloc-on-growth: the malloc probes cost the target at every call. */
#define ALLOC_ON_GROWTH_MAX_S 86400.0

static void help(FILE *f)
{
	fprintf(f,
		"usage: memsleuth agent [--name NAME]... [--cgroup PATH]... [PID]... [options]\n"
		"\n"
		"Watch processes for as long as it runs, with the cheap collectors (smaps,\n"
		"fds, glibc arenas, eBPF growth probes), and export what it sees: Prometheus\n"
		"metrics and heap profiles over HTTP (--listen), or a node_exporter textfile.\n"
		"A name follows its processes across restarts; a cgroup follows every process\n"
		"in it.\n"
		"\n"
		"targets (at least one; at most 64 processes at once):\n"
		"  -p, --pid PID           a process (a bare PID argument too)\n"
		"      --name NAME         every process whose command name is NAME, those\n"
		"                          started later too\n"
		"      --cgroup PATH       every process in cgroup v2 group PATH\n"
		"                          (under /sys/fs/cgroup, or as /proc/PID/cgroup says)\n"
		"      --children          also every descendant of the processes above, those\n"
		"                          started later too\n"
		"\n"
		"options:\n"
		EXPORT_OPTS_HELP
		"  -i, --interval SECONDS  window over which deltas and findings are made\n"
		"                          (default 30; from 0.05 to 86400)\n"
		"      --tick SECONDS      sampling period (default 5; from 0.05 and at most\n"
		"                          the window)\n"
		"      --alloc-on-growth DURATION\n"
		"                          when a target's rss_growth finding fires, attach\n"
		"                          the malloc probes for DURATION seconds (from 0.05\n"
		"                          to 86400), so that its heap profile exists (not\n"
		"                          again for as long after)\n"
		"      --no-bpf, --no-arenas, --no-freeze, --freeze-max MS\n"
		"                          as for watch\n"
		"  -n, --count COUNT       stop after COUNT windows of any target (a whole\n"
		"                          number from 1; for tests)\n"
		"  -h, --help              this help\n"
		"\n"
		"Exit status: 0 ok (Ctrl-C, SIGTERM, or every PID target gone and no name or\n"
		"cgroup to wait for), 1 runtime failure, 2 usage.\n");
}

enum { OPT_NAME = 256, OPT_CGROUP, OPT_TICK, OPT_ALLOC_ON_GROWTH, OPT_CHILDREN };

struct agent_args {
	struct session_opts s;
	struct exporter_opts ex;
	struct target_spec *specs;
	size_t nspecs, specs_cap;
	double alloc_on_growth_s;	/* 0: never */
	long count;
	bool children;			/* --children: every spec's descendants too */
};

struct target {
	struct target_proc proc;
	struct session *s;
	struct export_slot *slot;
	bool alloc;			/* the session runs the malloc probes */
	double alloc_until;		/* monotonic: when they go off */
	double alloc_again;		/* monotonic: not triggered again before */
};

struct agent {
	const struct agent_args *a;
	struct exporter *ex;
	struct target *targets;
	size_t ntargets, targets_cap;
	struct target_list refused;	/* processes that could not be opened: not retried */
	struct targets_cache names;	/* the host's command names, for --name */
	bool warned_full;
	long windows;
};

static int add_spec(struct agent_args *a, uint8_t by, int pid, const char *name)
{
	struct target_spec *t = VEC_PUSH(a->specs, a->nspecs, a->specs_cap);

	if (!t)
		return -ENOMEM;
	t->by = by;
	t->pid = pid;
	t->name = name;
	t->all = true;
	return 0;
}

static int parse_args(int argc, char **argv, struct agent_args *a, int *status)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "cgroup", required_argument, NULL, OPT_CGROUP },
		{ "children", no_argument, NULL, OPT_CHILDREN },
		{ "interval", required_argument, NULL, 'i' },
		{ "tick", required_argument, NULL, OPT_TICK },
		{ "count", required_argument, NULL, 'n' },
		{ "alloc-on-growth", required_argument, NULL, OPT_ALLOC_ON_GROWTH },
		{ "help", no_argument, NULL, 'h' },
		{ "no-bpf", no_argument, NULL, LIVE_OPT_NO_BPF },
		{ "no-freeze", no_argument, NULL, LIVE_OPT_NO_FREEZE },
		{ "freeze-max", required_argument, NULL, LIVE_OPT_FREEZE_MAX },
		{ "no-arenas", no_argument, NULL, LIVE_OPT_NO_ARENAS },
		EXPORT_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	bool tick_set = false;
	char err[256];
	int c, pid;

	live_opts_init(&a->s);
	a->s.window_s = DEFAULT_WINDOW_S;
	a->s.tick_s = DEFAULT_TICK_S;
	a->s.bpf = true;
	/* Triggered probes must never end the agent: without them it goes on as it was. */
	a->s.alloc_opts.optional = true;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":p:i:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_pid(optarg, &pid, err, sizeof(err)))
				goto usage;
			if (add_spec(a, TARGET_PID, pid, NULL))
				goto nomem;
			break;
		case OPT_NAME:
			if (targets_name_check(optarg, err, sizeof(err)))
				goto usage;
			if (add_spec(a, TARGET_NAME, 0, optarg))
				goto nomem;
			break;
		case OPT_CGROUP:
			if (targets_cgroup_check(optarg, err, sizeof(err)))
				goto usage;
			if (add_spec(a, TARGET_CGROUP, 0, optarg))
				goto nomem;
			break;
		case OPT_CHILDREN:
			a->children = true;
			break;
		case 'i':
			if (parse_seconds(optarg, "interval", &a->s.window_s, err, sizeof(err)))
				goto usage;
			break;
		case OPT_TICK:
			if (parse_seconds(optarg, "tick", &a->s.tick_s, err, sizeof(err)))
				goto usage;
			tick_set = true;
			break;
		case 'n':
			if (parse_count(optarg, "count", &a->count, err, sizeof(err)))
				goto usage;
			break;
		case OPT_ALLOC_ON_GROWTH:
			if (parse_seconds(optarg, "alloc-on-growth", &a->alloc_on_growth_s, err,
					  sizeof(err)))
				goto usage;
			break;
		case 'h':
			help(stdout);
			*status = EXIT_OK;
			return 1;
		default:	/* ':' too: a missing value */
			if (live_opt_parse_rest(c, optarg, argv[optind - 1], &a->s, &a->ex, err,
						sizeof(err)))
				goto usage;
		}
	}
	for (; optind < argc; optind++) {
		if (parse_pid(argv[optind], &pid, err, sizeof(err)))
			goto usage;
		if (add_spec(a, TARGET_PID, pid, NULL))
			goto nomem;
	}
	if (!a->nspecs) {
		snprintf(err, sizeof(err), "no target: give a PID, --name NAME or --cgroup PATH");
		goto usage;
	}
	if (!a->ex.listen && !a->ex.textfile_dir) {
		snprintf(err, sizeof(err), "nowhere to export: give --listen HOST:PORT or "
					   "--textfile DIR");
		goto usage;
	}
	if (a->alloc_on_growth_s > ALLOC_ON_GROWTH_MAX_S) {
		snprintf(err, sizeof(err), "alloc-on-growth: at most %.0f seconds",
			 ALLOC_ON_GROWTH_MAX_S);
		goto usage;
	}
	if (a->alloc_on_growth_s > 0 && a->s.no_bpf) {
		snprintf(err, sizeof(err), "--alloc-on-growth needs the eBPF probes: drop --no-bpf");
		goto usage;
	}
	if (live_opts_check(&a->s, tick_set, err, sizeof(err)))
		goto usage;
	return 0;
usage:
	*status = usage_error("agent", "%s", err);
	return 1;
nomem:
	*status = runtime_error("agent", false, "out of memory");
	return 1;
}

static const char *spec_text(const struct target_spec *t, char *buf, size_t len)
{
	if (t->by == TARGET_NAME)
		snprintf(buf, len, "--name %s", t->name);
	else if (t->by == TARGET_CGROUP)
		snprintf(buf, len, "--cgroup %s", t->name);
	else
		snprintf(buf, len, "PID %d", t->pid);
	return buf;
}

/* Opens a session on target `t` with or without the malloc probes. 0 or a negative errno. */
static int open_session(struct agent *ag, struct target *t, bool alloc, char *err, size_t errlen)
{
	struct session_opts o = ag->a->s;

	o.pid = t->proc.pid;
	o.alloc = alloc;
	t->alloc = alloc;
	return session_open(&o, &t->s, err, errlen);
}

static int watch_new(struct agent *ag, const struct target_proc *p, const struct target_spec *spec)
{
	struct target *t;
	char err[512], why[128], *cgroup;
	int ret;

	if (ag->ntargets >= MAX_TARGETS) {
		if (!ag->warned_full)
			log_warn("agent: %d processes watched already: PID %d (%s) and later ones are "
				 "not", MAX_TARGETS, p->pid, p->comm);
		ag->warned_full = true;
		return 0;
	}
	t = VEC_PUSH(ag->targets, ag->ntargets, ag->targets_cap);
	if (!t)
		return -ENOMEM;
	t->proc = *p;
	ret = open_session(ag, t, false, err, sizeof(err));
	if (ret) {
		ag->ntargets--;
		log_warn("agent: cannot watch PID %d (%s, %s): %s", p->pid, p->comm,
			 spec_text(spec, why, sizeof(why)), err);
		/* A process that went meanwhile may have a successor: only live refusals stay. */
		if (ret != -ESRCH) {
			struct target_spec one = { .by = TARGET_PID, .pid = p->pid };

			return targets_resolve(&one, &ag->refused, NULL, 0);
		}
		return 0;
	}
	cgroup = targets_cgroup_of(p->pid);
	t->slot = exporter_add(ag->ex, p->pid, session_comm(t->s), cgroup);
	free(cgroup);
	if (!t->slot) {
		session_close(t->s);
		ag->ntargets--;
		return -ENOMEM;
	}
	/* The baseline sample: served from the next publish on. */
	exporter_tick(t->slot, session_latest_ref(t->s), 0, session_alloc_library(t->s) != NULL);
	log_info("watching PID %d (%s) for %s", p->pid, p->comm, spec_text(spec, why, sizeof(why)));
	return 0;
}

/* Opens what the specs name now and is not watched yet. 0 or -ENOMEM. */
static int resolve(struct agent *ag)
{
	struct target_list found = { 0 };
	size_t i, j, k;
	int ret = 0;

	for (i = 0; i < ag->a->nspecs && !ret; i++) {
		target_list_clear(&found);
		ret = targets_resolve(&ag->a->specs[i], &found, &ag->names, clock_mono());
		if (!ret && ag->a->children)
			ret = targets_add_descendants(&found);
		if (ret == -ENOMEM)
			break;
		if (ret) {
			char why[128];

			log_debug("agent: %s: %s", spec_text(&ag->a->specs[i], why, sizeof(why)),
				  strerror(-ret));
			ret = 0;
			continue;
		}
		for (j = 0; j < found.n && !ret; j++) {
			const struct target_proc *p = &found.procs[j];
			bool known = target_list_has(&ag->refused, p->pid, p->start_time);

			for (k = 0; k < ag->ntargets && !known; k++)
				known = ag->targets[k].proc.pid == p->pid &&
					ag->targets[k].proc.start_time == p->start_time;
			if (!known)
				ret = watch_new(ag, p, &ag->a->specs[i]);
		}
	}
	target_list_free(&found);
	return ret;
}

/*
 * A session's modules, debug info and probes take tens of MiB, freed when it
 * closes; between the long-lived tables of the other targets that memory
 * stays in the heap unless handed back. Without this the agent's RSS rose by
 * about 2 MiB per restart of a target (make soak).
 */
static void give_back_memory(void)
{
	malloc_trim(0);
}

static void drop(struct agent *ag, size_t i, const char *why)
{
	struct target *t = &ag->targets[i];
	struct window *w = NULL;

	log_info("PID %d (%s) %s", t->proc.pid, t->proc.comm, why);
	if (t->s && session_finish(t->s, why, &w) == 1)
		window_free(w);
	session_close(t->s);
	exporter_remove(ag->ex, t->slot);
	ag->targets[i] = ag->targets[--ag->ntargets];
	give_back_memory();
}

static bool grows(const struct window *w)
{
	size_t i;

	for (i = 0; i < w->nfindings; i++)
		if (w->findings[i].kind == FINDING_RSS_GROWTH)
			return true;
	return false;
}

/*
 * --alloc-on-growth: the session is opened again with the malloc probes on
 * (the window history starts over: the metrics go on from the same slot),
 * and again without them once the time is up. Returns 0, or -ESRCH when the
 * target could not be opened again (it went meanwhile).
 */
static int switch_alloc(struct agent *ag, struct target *t, bool on, double now)
{
	char err[512];
	int ret;

	session_close(t->s);
	t->s = NULL;
	give_back_memory();
	ret = open_session(ag, t, on, err, sizeof(err));
	if (ret && ret != -ESRCH) {
		log_warn("agent: PID %d: %s", t->proc.pid, err);
		ret = open_session(ag, t, false, err, sizeof(err));
	}
	/* Whatever kept it from being opened again, it is watched no more. */
	if (ret)
		return -ESRCH;
	if (on) {
		t->alloc_until = now + ag->a->alloc_on_growth_s;
		t->alloc_again = t->alloc_until + ag->a->alloc_on_growth_s;
		log_info("PID %d (%s) grows: malloc probes on for %g s", t->proc.pid, t->proc.comm,
			 ag->a->alloc_on_growth_s);
	} else {
		log_info("PID %d (%s): malloc probes off", t->proc.pid, t->proc.comm);
	}
	return 0;
}

/* Ticks target i. Returns 1 when a window closed, 0 when not, -ESRCH when it went, < 0 on failure. */
static int tick(struct agent *ag, size_t i, char *err, size_t errlen)
{
	struct target *t = &ag->targets[i];
	struct window *w = NULL;
	double t0 = clock_mono();
	int ret = session_tick(t->s, &w, err, errlen), closed = ret == 1;

	if (ret < 0)
		return ret == -ENOEXEC ? -ESRCH : ret;
	exporter_tick(t->slot, session_latest_ref(t->s), clock_mono() - t0,
		      session_alloc_library(t->s) != NULL);
	if (w)
		ret = exporter_window(ag->ex, t->slot, w, err, errlen);
	if (!ret && w && ag->a->alloc_on_growth_s > 0 && !t->alloc && grows(w) &&
	    clock_mono() >= t->alloc_again)
		ret = switch_alloc(ag, t, true, clock_mono());
	else if (!ret && t->alloc && ag->a->alloc_on_growth_s > 0 && clock_mono() >= t->alloc_until)
		ret = switch_alloc(ag, t, false, clock_mono());
	window_free(w);
	return ret < 0 ? ret : closed;
}

static double next_due(const struct agent *ag, double resolve_at)
{
	double due = resolve_at;
	size_t i;

	for (i = 0; i < ag->ntargets; i++)
		due = fmin(due, session_next_tick(ag->targets[i].s));
	return due;
}

static bool only_pids(const struct agent_args *a)
{
	size_t i;

	for (i = 0; i < a->nspecs; i++)
		if (a->specs[i].by != TARGET_PID)
			return false;
	return true;
}

static int run(struct agent *ag)
{
	double resolve_at = 0, now;
	char err[512];
	bool window;
	size_t i;
	int ret;

	for (;;) {
		if (clock_mono() >= resolve_at) {
			if (resolve(ag))
				return runtime_error("agent", false, "out of memory");
			if (exporter_publish(ag->ex, false, err, sizeof(err)))
				return runtime_error("agent", false, err);
			resolve_at = clock_mono() + RESOLVE_EVERY_S;
			if (!ag->ntargets && only_pids(ag->a)) {
				log_info("agent: no target left");
				return EXIT_OK;
			}
		}
		signals_wait(next_due(ag, resolve_at), -1);
		if (signals_stop_requested())
			return EXIT_OK;
		now = clock_mono();
		window = false;
		for (i = ag->ntargets; i-- > 0;) {
			if (session_next_tick(ag->targets[i].s) > now)
				continue;
			ret = tick(ag, i, err, sizeof(err));
			if (ret == -ESRCH) {
				drop(ag, i, "exited");
				/* A restart is looked for at once. */
				resolve_at = 0;
			} else if (ret < 0) {
				return runtime_error("agent", false, err);
			} else if (ret == 1) {
				window = true;
				ag->windows++;
			}
		}
		if (exporter_publish(ag->ex, window, err, sizeof(err)))
			return runtime_error("agent", false, err);
		if (ag->a->count && ag->windows >= ag->a->count)
			return EXIT_OK;
	}
}

int cmd_agent(int argc, char **argv)
{
	struct agent_args a = { 0 };
	struct agent ag = { .a = &a };
	char err[512];
	int status;

	if (parse_args(argc, argv, &a, &status)) {
		free(a.specs);
		return status;
	}
	signals_install();
	if (exporter_open(&a.ex, &ag.ex, err, sizeof(err))) {
		free(a.specs);
		return runtime_error("agent", false, err);
	}
	if (exporter_url(ag.ex))
		log_info("serving %s/metrics and %s/debug/pprof/heap", exporter_url(ag.ex),
			 exporter_url(ag.ex));
	status = run(&ag);
	while (ag.ntargets)
		drop(&ag, ag.ntargets - 1, "no longer watched: the agent stops");
	free(ag.targets);
	target_list_free(&ag.refused);
	targets_cache_free(&ag.names);
	exporter_close(ag.ex);
	free(a.specs);
	return status;
}
