// SPDX-License-Identifier: GPL-2.0-only
/* memsleuth watch: attach to a PID and print one report per window. */
#include "cli/commands.h"
#include "cli/exporter.h"
#include "cli/live_opts.h"
#include "cli/print.h"
#include "cli/print_folded.h"
#include "cli/session.h"
#include "cli/signals.h"
#include "cli/util.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "collectors/proc.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_WINDOW_S 30.0
#define DEFAULT_TICK_S 1.0

static void help(FILE *f)
{
	fprintf(f,
		"usage: memsleuth watch PID [options]\n"
		"\n"
		"Report how the memory and file descriptors of process PID change, one\n"
		"report per window, until the process exits or memsleuth is stopped.\n"
		"\n"
		"options:\n"
		"  -i, --interval SECONDS  window over which deltas are taken (default 30)\n"
		"  -n, --count COUNT       stop after COUNT windows\n"
		"      --tick SECONDS      sampling period inside a window (default 1, at most\n"
		"                          the window); finer ticks show growth steps\n"
		"      --json              one JSON object per window, one per line\n"
		"  -o, --output FILE       also record the raw samples to FILE (JSON Lines), for\n"
		"                          'memsleuth report FILE' later, on any machine\n"
		"      --folded            print each window's outstanding alloc bytes by\n"
		"                          stack as folded lines for flame graph tools (--alloc)\n"
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
		"Exit status: 0 ok (also when the target exits), 1 runtime failure, 2 usage.\n");
}

enum { OPT_JSON = 256, OPT_TICK, OPT_FOLDED };

struct watch_args {
	struct session_opts s;
	struct exporter_opts ex;
	long count;
	bool json;
	bool folded;
};

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
		LIVE_LONGOPTS,
		EXPORT_LONGOPTS,
		EXPORT_PPROF_LONGOPT,
		{ NULL, 0, NULL, 0 },
	};
	bool tick_set = false;
	char err[256];
	int c;

	memset(a, 0, sizeof(*a));
	live_opts_init(&a->s);
	a->s.window_s = DEFAULT_WINDOW_S;
	a->s.tick_s = DEFAULT_TICK_S;
	/* Tried by everyone: without the capabilities memsleuth says which are missing and
	 * goes on with /proc data, which works on one's own processes. */
	a->s.bpf = true;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":i:n:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (parse_seconds(optarg, "interval", &a->s.window_s, err, sizeof(err)))
				goto usage;
			break;
		case 'n':
			if (parse_count(optarg, "count", &a->count, err, sizeof(err)))
				goto usage;
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
	if (optind >= argc) {
		snprintf(err, sizeof(err), "missing PID");
		goto usage;
	}
	if (optind + 1 < argc) {
		snprintf(err, sizeof(err), "unexpected argument '%s'", argv[optind + 1]);
		goto usage;
	}
	if (parse_pid(argv[optind], &a->s.pid, err, sizeof(err)))
		goto usage;
	if (a->json && a->folded) {
		snprintf(err, sizeof(err), "--json and --folded are two output formats: pick one");
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

int cmd_watch(int argc, char **argv)
{
	struct session *s = NULL;
	struct watch_args a;
	const char *reason = "stopped";
	char err[512];
	long windows = 0;
	int status, ret;
	struct window *w = NULL;
	const struct sample *base;
	struct exporter *ex = NULL;
	struct export_slot *slot = NULL;
	double t0;

	if (parse_args(argc, argv, &a, &status))
		return status;
	signals_install();
	ret = session_open(&a.s, &s, err, sizeof(err));
	if (ret)
		return runtime_error("watch", a.json, err);
	ret = exporter_open_session(&a.ex, s, a.s.pid, &ex, &slot, err, sizeof(err));
	if (ret) {
		session_close(s);
		return runtime_error("watch", a.json, err);
	}
	/* What the first sample could read: a collector that is off is not listed. */
	base = session_latest(s);
	log_info("watching PID %d (%s): window %g s, tick %g s; collectors: smaps%s%s%s%s%s%s%s",
		 a.s.pid, session_comm(s), a.s.window_s, a.s.tick_s,
		 base && !base->has_fds ? "" : ", fds",
		 !a.s.arenas || (base && !base->has_arenas) ? ""
		 : !a.s.freeze				     ? ", glibc arenas (unfrozen)"
							     : ", glibc arenas",
		 session_has_bpf(s) ? ", eBPF growth probes" : "",
		 session_alloc_library(s) ? ", malloc probes on " : "",
		 session_alloc_library(s) ? session_alloc_library(s) : "",
		 a.s.record_path ? "; recording to " : "", a.s.record_path ? a.s.record_path : "");

	status = EXIT_OK;
	for (;;) {
		signals_wait(session_next_tick(s), -1);
		if (signals_stop_requested()) {
			reason = "interrupted";
			break;
		}
		t0 = clock_mono();
		ret = session_tick(s, &w, err, sizeof(err));
		if (ret >= 0 &&
		    exporter_after_tick(ex, slot, s, clock_mono() - t0, w, err, sizeof(err))) {
			window_free(w);
			w = NULL;
			reason = "failed";
			status = runtime_error("watch", a.json, err);
			break;
		}
		if (ret == -ESRCH) {
			reason = "target exited";
			log_info("target %d exited", a.s.pid);
			break;
		}
		if (ret == -ENOEXEC) {
			reason = "target executed a new program";
			log_info("%s", err);
			break;
		}
		if (ret < 0) {
			reason = "failed";
			status = runtime_error("watch", a.json, err);
			break;
		}
		if (ret == 1) {
			ret = emit(&a, w);
			window_free(w);
			w = NULL;
			if (ret) {
				/* main() says what failed unless the reader closed the pipe. */
				reason = output_errno() == EPIPE ? "output closed" : "output failed";
				break;
			}
			if (a.count && ++windows >= a.count) {
				reason = "count reached";
				break;
			}
		}
	}
	ret = session_finish(s, reason, &w);
	/* A last, partial window: what happened since the last report is not lost. */
	if (status == EXIT_OK && strcmp(reason, "count reached") != 0 &&
	    strncmp(reason, "output", 6) != 0) {
		if (ret < 0)
			status = runtime_error("watch", a.json, "out of memory");
		else if (ret == 1)
			emit(&a, w);
	}
	window_free(w);
	exporter_close(ex);
	session_close(s);
	/* For the bounded-memory benchmark, and for anyone wondering what memsleuth costs. */
	log_debug("memsleuth peak RSS: %" PRIu64 " KiB", proc_self_peak_rss() / 1024);
	return status;
}
