// SPDX-License-Identifier: GPL-2.0-only
/* memsleuth top: its options, and which view to run (a process, a recording, every process). */
#include "cli/commands.h"
#include "cli/live_opts.h"
#include "cli/top.h"
#include "cli/util.h"
#include "collectors/targets.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_WINDOW_S 30.0
/* Every process: a scan costs ~0.1 ms of CPU a process, so a longer tick and a shorter window. */
#define HOST_WINDOW_S 10.0
#define HOST_TICK_S 2.0
#define REFRESH_S 1.0
/* The model holds a window's samples at one per second: longer windows would not fit. */
#define MAX_WINDOW_S 600.0

/* The windows + and - step through. */
static const double window_steps[] = { 5, 10, 15, 30, 60, 120, 300, 600 };

static void help(FILE *f)
{
	fprintf(f,
		"usage: memsleuth top [options]                 every process, live\n"
		"       memsleuth top PID [options]             one process, live (or -p PID)\n"
		"       memsleuth top --name NAME [options]     the newest process called NAME\n"
		"       memsleuth top --cgroup PATH [options]   every process of a cgroup, live\n"
		"       memsleuth top PID|--name NAME --children [options]\n"
		"                                               a process and its descendants\n"
		"       memsleuth top --replay FILE [-i SECONDS] [-n COUNT] [--frames N]\n"
		"\n"
		"Without a PID: every process on the host ranked by how much its memory grew\n"
		"over the last window (as 'memsleuth ps' prints it), with the memory cgroups;\n"
		"Enter opens the selected process in the live view, Esc comes back.\n"
		"With one: a live view of the process's memory and fd growth, refreshed every\n"
		"tick, with the findings of each closed window; or the same view over a\n"
		"recording made with 'memsleuth watch PID -o FILE' or 'top PID -o FILE'.\n"
		"Press h in the view for its keys; q quits.\n"
		"\n"
		"options:\n"
		"  -p, --pid PID           the process to show (the same as PID)\n"
		"      --name NAME         the newest process whose command name is NAME (as\n"
		"                          for watch), found when top starts\n"
		"      --cgroup PATH       the table of every process limited to those of cgroup\n"
		"                          PATH and the groups below it (in the hierarchy that\n"
		"                          accounts memory, as 'ps --cgroups' writes it)\n"
		"      --children          the table limited to the process given and its\n"
		"                          descendants, those started later too\n"
		"  -i, --interval SECONDS  window over which deltas are taken and findings\n"
		"                          made (default 30, every process 10; from 0.05 to\n"
		"                          600; a replay defaults to its recording's); + and -\n"
		"                          change it in the view\n"
		"  -n, --count COUNT       stop after COUNT windows (a whole number from 1)\n"
		"      --frames N          stop after N refreshes (for scripts and tests; before\n"
		"                          0.2, -n counted refreshes in top)\n"
		"      --tick SECONDS      sample and refresh every SECONDS (default 1, every\n"
		"                          process 2; from 0.1 to 5 and at most the window);\n"
		"                          finer ticks show growth steps in short windows\n"
		"  -o, --output FILE       also record the raw samples to FILE (one process)\n"
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

enum { OPT_REPLAY = 256, OPT_TICK, OPT_FRAMES, OPT_NAME, OPT_CGROUP, OPT_CHILDREN };

/*
 * A finer tick would cost more than top's 2% of a core and overflow the
 * model's 1024 samples; a coarser one than the shortest window (5 s, key -)
 * would leave windows without a tick.
 */
#define MIN_TICK_S 0.1
#define MAX_TICK_S 5.0

static int parse_args(int argc, char **argv, struct top_args *a, int *status)
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "frames", required_argument, NULL, OPT_FRAMES },
		{ "output", required_argument, NULL, 'o' },
		{ "replay", required_argument, NULL, OPT_REPLAY },
		{ "tick", required_argument, NULL, OPT_TICK },
		{ "help", no_argument, NULL, 'h' },
		{ "pid", required_argument, NULL, 'p' },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "cgroup", required_argument, NULL, OPT_CGROUP },
		{ "children", no_argument, NULL, OPT_CHILDREN },
		LIVE_LONGOPTS,
		EXPORT_LONGOPTS,
		EXPORT_PPROF_LONGOPT,
		{ NULL, 0, NULL, 0 },
	};
	bool live_only = false, tick_set = false;
	const char *pid = NULL;
	char err[256];
	int c;

	memset(a, 0, sizeof(*a));
	live_opts_init(&a->s);
	a->s.window_s = DEFAULT_WINDOW_S;
	a->s.tick_s = REFRESH_S;
	a->s.bpf = geteuid() == 0;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":i:n:o:p:h", longopts, NULL)) != -1) {
		/* All but the window, the counts and --replay itself choose what a live run reads. */
		if (c != 'i' && c != 'n' && c != OPT_FRAMES && c != 'h' && c != OPT_REPLAY)
			live_only = true;
		switch (c) {
		case 'i':
			if (parse_seconds(optarg, "interval", &a->s.window_s, err, sizeof(err)))
				goto usage;
			a->window_set = true;
			break;
		case 'n':
			if (parse_count(optarg, "count", &a->count, err, sizeof(err)))
				goto usage;
			break;
		case OPT_FRAMES:
			if (parse_count(optarg, "frames", &a->frames, err, sizeof(err)))
				goto usage;
			break;
		case 'o':
			a->s.record_path = optarg;
			break;
		case 'p':
		case OPT_NAME:
		case OPT_CGROUP:
			if (pid || a->name || a->cgroup) {
				snprintf(err, sizeof(err), "unexpected argument '%s': one target only "
					 "(a PID, --name or --cgroup)", optarg);
				goto usage;
			}
			if ((c == OPT_NAME && targets_name_check(optarg, err, sizeof(err))) ||
			    (c == OPT_CGROUP && targets_cgroup_check(optarg, err, sizeof(err))))
				goto usage;
			*(c == 'p' ? &pid : c == OPT_NAME ? &a->name : &a->cgroup) = optarg;
			break;
		case OPT_CHILDREN:
			a->children = true;
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
		default:	/* ':' too: a missing value */
			if (live_opt_parse_rest(c, optarg, argv[optind - 1], &a->s, &a->ex, err,
						sizeof(err)))
				goto usage;
		}
	}
	if (a->s.window_s > MAX_WINDOW_S) {
		snprintf(err, sizeof(err), "interval must be at most %.0f seconds in top", MAX_WINDOW_S);
		goto usage;
	}
	if ((pid || a->name || a->cgroup) && optind < argc) {
		snprintf(err, sizeof(err), "unexpected argument '%s': one target only (a PID, "
			 "--name or --cgroup)", argv[optind]);
		goto usage;
	}
	if (!pid && optind < argc)
		pid = argv[optind++];
	if (a->replay) {
		if (pid || a->name || a->cgroup || a->children || optind < argc) {
			snprintf(err, sizeof(err), "unexpected argument '%s' with --replay",
				 pid ? pid : a->name ? a->name : a->cgroup ? a->cgroup :
				 a->children ? "--children" : argv[optind]);
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
	if (optind < argc) {
		snprintf(err, sizeof(err), "unexpected argument '%s'", argv[optind]);
		goto usage;
	}
	if (a->children && !pid && !a->name) {
		snprintf(err, sizeof(err), "--children shows a process and its children: give a PID "
			 "or --name");
		goto usage;
	}
	if (pid && parse_pid(pid, &a->s.pid, err, sizeof(err)))
		goto usage;
	a->scoped = a->cgroup || a->children;
	if (a->name && !a->scoped) {
		/* One process, found when the view starts (find_process). */
	} else if (a->scoped || !pid) {
		/*
		 * Every process (or those of --cgroup, --children): its own
		 * defaults, and what a process opened from it reads.
		 */
		a->host = true;
		if (a->s.record_path || a->ex.listen || a->ex.textfile_dir || a->ex.pprof_path) {
			snprintf(err, sizeof(err), "-o, --listen, --textfile and --pprof are about one "
						   "process: give its PID%s", a->scoped ?
						   " (without --cgroup or --children)" : "");
			goto usage;
		}
		if (!a->window_set)
			a->s.window_s = HOST_WINDOW_S;
		a->host_tick_s = tick_set ? a->s.tick_s : HOST_TICK_S;
		if (a->host_tick_s > a->s.window_s) {
			snprintf(err, sizeof(err), "tick (%g s) must not exceed the interval (%g s)",
				 a->host_tick_s, a->s.window_s);
			goto usage;
		}
	}
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

double top_window_step(double cur, int dir)
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

bool top_budget_spent(const struct top_args *a, const struct top_budget *b)
{
	return (a->frames && b->frames >= a->frames) || (a->count && b->windows >= a->count);
}

/*
 * The process --name names (the newest so called), or the PID given with
 * --children, found now: 0 with a->s.pid, or an exit status said on stderr.
 */
static int find_process(struct top_args *a)
{
	const struct target_spec spec = { .by = a->name ? TARGET_NAME : TARGET_PID,
					  .name = a->name, .pid = a->s.pid };
	struct target_list found = { 0 };
	char err[512];
	int ret = targets_resolve(&spec, &found, NULL, 0);
	size_t n = found.n;

	/* Without --all, the newest match only. */
	if (!ret && n)
		a->s.pid = found.procs[0].pid;
	target_list_free(&found);
	if (ret)
		return runtime_error("top", false, "out of memory");
	if (n)
		return EXIT_OK;
	if (a->name)
		snprintf(err, sizeof(err), "no process named %s", a->name);
	else
		snprintf(err, sizeof(err), "no process with PID %d", a->s.pid);
	return runtime_error("top", false, err);
}

int cmd_top(int argc, char **argv)
{
	struct top_budget b = { .frames = 1 };
	struct top_args a;
	char err[512];
	bool back;
	int status;

	if (parse_args(argc, argv, &a, &status))
		return status;
	if (a.replay)
		return top_replay(&a);
	if ((a.name || a.children) && (status = find_process(&a)) != EXIT_OK)
		return status;
	if (a.host)
		return top_host(&a);
	return top_live(&a, a.s.pid, NULL, &b, &back, err, sizeof(err));
}
