// SPDX-License-Identifier: GPL-2.0-only
/* memsleuth watch: attach to a PID and print one report per window. */
#include "cli/commands.h"
#include "cli/watch.h"
#include "cli/exporter.h"
#include "cli/live_opts.h"
#include "cli/print.h"
#include "cli/print_folded.h"
#include "cli/session.h"
#include "cli/signals.h"
#include "cli/util.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "collectors/launch.h"
#include "collectors/proc.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_WINDOW_S 30.0
#define DEFAULT_TICK_S 1.0

static void help(FILE *f)
{
	fprintf(f,
		"usage: memsleuth watch PID | -p PID [--children] [options]\n"
		"       memsleuth watch --name NAME [--all] [--children] [options]\n"
		"       memsleuth watch --cgroup PATH [options]\n"
		"       memsleuth watch [--children] [options] -- CMD [ARGS...]\n"
		"\n"
		"Report how the memory and file descriptors of process PID change, one\n"
		"report per window, until the process exits or memsleuth is stopped.\n"
		"With -- CMD, start CMD and watch it from its first allocation (the probes\n"
		"attach after its libraries are mapped, before any of their code runs); its\n"
		"exit ends the run, and memsleuth exits with its exit status.\n"
		"\n"
		"targets (one of):\n"
		"  -p, --pid PID           the process to watch (the same as PID)\n"
		"      --name NAME         the newest process whose command name is NAME\n"
		"                          (or whose program is, past the 15 bytes the kernel\n"
		"                          keeps); with --all, every one, those started later too\n"
		"      --cgroup PATH       every process in cgroup v2 group PATH (under\n"
		"                          /sys/fs/cgroup, or as /proc/PID/cgroup spells it),\n"
		"                          those that join later too\n"
		"      --children          also every descendant of the process(es) named, those\n"
		"                          started later too\n"
		"                          (several processes: at most 64, one report each per\n"
		"                          window; no -o, --folded or exports)\n"
		"\n"
		"options:\n"
		"  -i, --interval SECONDS  window over which deltas are taken (default 30; from\n"
		"                          0.05 to 86400)\n"
		"  -n, --count COUNT       stop after COUNT windows (a whole number from 1); a\n"
		"                          command started with -- then runs on unwatched\n"
		"      --tick SECONDS      sampling period inside a window (default 1; from 0.05\n"
		"                          and at most the window); finer ticks show growth steps\n"
		"      --json              one JSON object per window, one per line\n"
		"  -o, --output FILE       also record the raw samples to FILE (JSON Lines), for\n"
		"                          'memsleuth report FILE' later, on any machine\n"
		"      --folded            print each window's outstanding alloc bytes by\n"
		"                          stack as folded lines for flame graph tools (--alloc)\n"
		"      --summary           at the end of the run, however it ends, a summary of\n"
		"                          the whole run (text, or {\"run_summary\": ...} with\n"
		"                          --json); in text it is printed on Ctrl-C anyway\n"
		LIVE_OPTS_HELP
		EXPORT_OPTS_HELP
		EXPORT_PPROF_HELP
		"  -h, --help              this help\n"
		"\n"
		"As root, eBPF growth probes are on by default: brk, mmap, munmap and mremap,\n"
		"sampled page faults, and the syscalls that open and close fds, with the user\n"
		"stack of the code responsible (unwound with DWARF CFI). A target that executes\n"
		"a new program ends the watch, as an exit does.\n"
		"glibc arenas are read once per window; to walk their free lists the target's\n"
		"threads are stopped with ptrace for at most --freeze-max milliseconds (a\n"
		"debugger-traced target is read without freezing). Without CAP_BPF and\n"
		"CAP_PERFMON (or root) memsleuth says so and reads /proc only.\n"
		"Exit status: 0 ok (also when the target exits), 1 runtime failure, 2 usage;\n"
		"with -- CMD, the command's (128 + N when signal N killed it; 127 when it\n"
		"cannot be found, 126 when it cannot be run).\n");
}

enum { OPT_JSON = 256, OPT_TICK, OPT_FOLDED, OPT_SUMMARY, OPT_NAME, OPT_CGROUP, OPT_ALL,
       OPT_CHILDREN };

/*
 * Sets the one target spec from `arg`: a PID (positional or -p), --name or
 * --cgroup. Returns 0, or -1 with `err` (a second target, a bad PID).
 */
static int set_target(struct watch_args *a, bool *set, uint8_t by, const char *arg, char *err,
		      size_t errlen)
{
	if (*set) {
		snprintf(err, errlen, "unexpected argument '%s': one target only (a PID, --name, "
			 "--cgroup or -- CMD)", arg);
		return -1;
	}
	*set = true;
	a->spec.by = by;
	a->spec.name = arg;
	return by == TARGET_PID ? parse_pid(arg, &a->spec.pid, err, errlen) : 0;
}

/* Checks what the target options say together. 0, or -1 with `err`. */
static int check_target(struct watch_args *a, bool set, char *err, size_t errlen)
{
	if (!set && !a->cmd) {
		snprintf(err, errlen, "missing PID (or -p PID, --name NAME, --cgroup PATH, -- CMD)");
		return -1;
	}
	if (set && a->cmd) {
		snprintf(err, errlen, "a PID, --name or --cgroup, or -- CMD, not both");
		return -1;
	}
	if (a->spec.all && a->spec.by != TARGET_NAME) {
		snprintf(err, errlen, "--all takes every process of a --name");
		return -1;
	}
	/* Several processes: one recording, one export and folded lines are about one. */
	if (watch_follows(a) && (a->s.record_path || a->folded || a->ex.listen ||
				 a->ex.textfile_dir || a->ex.pprof_path)) {
		snprintf(err, errlen, "-o, --folded and the exports are about one process; for "
			 "several, 'memsleuth agent' exports and watch --json prints each");
		return -1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct watch_args *a, int *status)
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "tick", required_argument, NULL, OPT_TICK },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "folded", no_argument, NULL, OPT_FOLDED },
		{ "summary", no_argument, NULL, OPT_SUMMARY },
		{ "pid", required_argument, NULL, 'p' },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "cgroup", required_argument, NULL, OPT_CGROUP },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "children", no_argument, NULL, OPT_CHILDREN },
		LIVE_LONGOPTS,
		EXPORT_LONGOPTS,
		EXPORT_PPROF_LONGOPT,
		{ NULL, 0, NULL, 0 },
	};
	bool tick_set = false, target_set = false;
	char err[256];
	int c, i;

	memset(a, 0, sizeof(*a));
	/* Everything after -- is the command and its own options. */
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			a->cmd = argv[i + 1] ? &argv[i + 1] : NULL;
			if (!a->cmd) {
				snprintf(err, sizeof(err), "nothing after --: give the command to start");
				goto usage;
			}
			argc = i;
			break;
		}
	live_opts_init(&a->s);
	a->s.window_s = DEFAULT_WINDOW_S;
	a->s.tick_s = DEFAULT_TICK_S;
	/* Tried by everyone: without the capabilities memsleuth says which are missing and
	 * goes on with /proc data, which works on one's own processes. */
	a->s.bpf = true;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":i:n:o:p:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (parse_seconds(optarg, "interval", &a->s.window_s, err, sizeof(err)))
				goto usage;
			break;
		case 'n':
			if (parse_count(optarg, "count", &a->count, err, sizeof(err)))
				goto usage;
			break;
		case 'p':
			if (set_target(a, &target_set, TARGET_PID, optarg, err, sizeof(err)))
				goto usage;
			break;
		case OPT_NAME:
		case OPT_CGROUP:
			if (set_target(a, &target_set, c == OPT_NAME ? TARGET_NAME : TARGET_CGROUP,
				       optarg, err, sizeof(err)) ||
			    (c == OPT_NAME && targets_name_check(optarg, err, sizeof(err))) ||
			    (c == OPT_CGROUP && targets_cgroup_check(optarg, err, sizeof(err))))
				goto usage;
			break;
		case OPT_ALL:
			a->spec.all = true;
			break;
		case OPT_CHILDREN:
			a->children = true;
			break;
		case OPT_TICK:
			if (parse_seconds(optarg, "tick", &a->s.tick_s, err, sizeof(err)))
				goto usage;
			tick_set = true;
			break;
		case OPT_JSON:
			a->json = true;
			break;
		case 'o':
			a->s.record_path = optarg;
			break;
		case OPT_FOLDED:
			a->folded = true;
			break;
		case OPT_SUMMARY:
			a->summary = true;
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
	for (; optind < argc; optind++)
		if (set_target(a, &target_set, TARGET_PID, argv[optind], err, sizeof(err)))
			goto usage;
	if (check_target(a, target_set, err, sizeof(err)))
		goto usage;
	if (a->json && a->folded) {
		snprintf(err, sizeof(err), "--json and --folded are two output formats: pick one");
		goto usage;
	}
	if (a->folded && a->summary) {
		snprintf(err, sizeof(err), "--folded prints stacks only: it takes no --summary");
		goto usage;
	}
	if (a->folded && !a->s.alloc) {
		snprintf(err, sizeof(err), "--folded prints the bytes of allocation stacks: it needs --alloc");
		goto usage;
	}
	if (a->ex.pprof_path && !a->s.alloc) {
		snprintf(err, sizeof(err), "--pprof writes allocation stacks: it needs --alloc");
		goto usage;
	}
	if (live_opts_check(&a->s, tick_set, err, sizeof(err)))
		goto usage;
	return 0;
usage:
	*status = usage_error("watch", "%s", err);
	return 1;
}

/* How long a command has to end on the signal that stopped memsleuth before it is passed on. */
#define COMMAND_GRACE_S 2.0

/*
 * Waits for the command started with -- to end, and returns its exit status.
 * A signal that stopped memsleuth came to the command too when it came from
 * the terminal (Ctrl-C): what is still running after COMMAND_GRACE_S gets it
 * then, and so do later ones.
 */
static int wait_command(pid_t pid, const char *name)
{
	int sig = signals_stop_requested(), ret;
	double pass_on = clock_mono() + COMMAND_GRACE_S;
	bool said = false;

	signals_clear();
	for (;;) {
		ret = launch_reap(pid, 0);
		if (ret != -EAGAIN)
			return ret < 0 ? EXIT_RUNTIME : ret;
		if (!said && !sig) {
			log_info("waiting for %s (PID %d) to exit", name, (int)pid);
			said = true;
		}
		if (sig && clock_mono() >= pass_on) {
			kill(pid, sig);
			sig = 0;
		}
		signals_wait(clock_mono() + 0.1, -1);
		if (signals_stop_requested()) {
			sig = signals_stop_requested();
			pass_on = clock_mono();
			signals_clear();
		}
	}
}

/* Starts the command of -- stopped before its first allocation; its PID becomes the target. */
static int start_command(struct watch_args *a, pid_t *pid, char *err, size_t errlen)
{
	int st = 0, ret = launch_start(a->cmd, pid, &st, err, errlen);

	if (ret == -ECHILD)
		return launch_exit_code(st);
	if (ret)
		/* As a shell says it: 127 not found, 126 found but not runnable. */
		return ret == -ENOENT ? 127 : 126;
	a->s.pid = (int)*pid;
	return 0;
}

int cmd_watch(int argc, char **argv)
{
	struct watch_args a;
	char err[512];
	pid_t cmd = -1;
	int status, ret;

	if (parse_args(argc, argv, &a, &status))
		return status;
	signals_install();
	if (a.cmd) {
		status = start_command(&a, &cmd, err, sizeof(err));
		if (status) {
			if (cmd < 0 && err[0])
				fprintf(stderr, "memsleuth watch: %s\n", err);
			return status;
		}
		a.spec.by = TARGET_PID;
		a.spec.pid = (int)cmd;
		a.started = cmd;
	}
	status = watch_run(&a);
	/* The command's end is the run's: its status is memsleuth's, unless memsleuth failed. */
	if (cmd > 0) {
		ret = wait_command(cmd, a.cmd[0]);
		if (status == EXIT_OK)
			status = ret;
	}
	return status;
}
