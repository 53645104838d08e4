// SPDX-License-Identifier: GPL-2.0-only
/* memsleuth ps: every process on the host (and every memory cgroup), ranked by growth. */
#include "cli/commands.h"
#include "cli/print_host.h"
#include "cli/signals.h"
#include "cli/util.h"
#include "collectors/hostscan.h"
#include "lib/clock.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_WINDOW_S 5.0
#define DEFAULT_ROWS 20

static void help(FILE *f)
{
	fprintf(f,
		"usage: memsleuth ps [-i SECONDS] [-n COUNT] [--json] [--cgroups] [--rows N]\n"
		"\n"
		"Every process on the host, ranked by how much its resident memory grew over\n"
		"the window: RSS, PSS and their changes, open fds and their change, and when\n"
		"it reaches its memory limit (its cgroup's, else RAM) at this rate. One table\n"
		"per window until COUNT windows or Ctrl-C. Cheap: four small /proc files per\n"
		"process ('make bench' says what a scan costs).\n"
		"\n"
		"options:\n"
		"  -i, --interval SECONDS  the window (default 5; from 0.05 to 86400)\n"
		"  -n, --count COUNT       stop after COUNT windows (a whole number from 1)\n"
		"      --json              one JSON object per window, one per line\n"
		"      --cgroups           also every memory cgroup (containers, systemd units):\n"
		"                          usage, its change, anon/file/shmem, limit\n"
		"      --rows N            text: rows per table besides the growing processes\n"
		"                          (default 20, from 1)\n"
		"  -h, --help              this help\n"
		"\n"
		"A process grows when its RSS rose by 1 MiB and 0.5%% in the window (marked +);\n"
		"JSON's growing_windows counts consecutive such windows. Without root, other\n"
		"users' processes are listed with RSS only, and counted.\n"
		"Exit status: 0 ok, 1 runtime failure, 2 usage.\n");
}

enum { OPT_JSON = 256, OPT_CGROUPS, OPT_ROWS };

struct ps_args {
	double window_s;
	long count, rows;
	bool json, groups;
};

static int parse_args(int argc, char **argv, struct ps_args *a, int *status)
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "cgroups", no_argument, NULL, OPT_CGROUPS },
		{ "rows", required_argument, NULL, OPT_ROWS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char err[256];
	int c;

	memset(a, 0, sizeof(*a));
	a->window_s = DEFAULT_WINDOW_S;
	a->rows = DEFAULT_ROWS;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":i:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (parse_seconds(optarg, "interval", &a->window_s, err, sizeof(err)))
				goto usage;
			break;
		case 'n':
			if (parse_count(optarg, "count", &a->count, err, sizeof(err)))
				goto usage;
			break;
		case OPT_ROWS:
			if (parse_count(optarg, "rows", &a->rows, err, sizeof(err)))
				goto usage;
			break;
		case OPT_JSON:
			a->json = true;
			break;
		case OPT_CGROUPS:
			a->groups = true;
			break;
		case 'h':
			help(stdout);
			*status = EXIT_OK;
			return 1;
		case ':':
			snprintf(err, sizeof(err), "option '%s' needs a value", argv[optind - 1]);
			goto usage;
		default:
			snprintf(err, sizeof(err), "unknown option '%s'", argv[optind - 1]);
			goto usage;
		}
	}
	if (optind < argc) {
		snprintf(err, sizeof(err), "unexpected argument '%s' (ps takes no PID: it lists "
					   "every process)", argv[optind]);
		goto usage;
	}
	return 0;
usage:
	*status = usage_error("ps", "%s", err);
	return 1;
}

static int emit(const struct ps_args *a, const struct host_window *w)
{
	struct print_host_opts po = { .max_rows = (int)a->rows, .groups = a->groups,
				      .root = geteuid() == 0 };
	int ret = 0;

	if (a->json) {
		ret = print_host_json(stdout, w);
	} else {
		if (w->index > 1)
			fputc('\n', stdout);
		print_host_text(stdout, w, &po);
		if (fflush(stdout) || ferror(stdout))
			ret = -EIO;
	}
	if (ret)
		output_failed(stdout);
	return ret;
}

int cmd_ps(int argc, char **argv)
{
	struct hostscan_opts ho = { 0 };
	struct host_snapshot *prev = NULL, *cur = NULL;
	struct host_window *w = NULL, *last = NULL;
	struct hostscan *h = NULL;
	struct ps_args a;
	char err[256];
	double start;
	long k;
	int status, ret;

	if (parse_args(argc, argv, &a, &status))
		return status;
	ho.groups = a.groups;
	signals_install();
	if (hostscan_open(&ho, &h, err, sizeof(err)))
		return runtime_error("ps", a.json, err);
	if (a.groups) {
		const char *root;

		if (hostscan_hierarchy(h, &root) == HOST_CG_NONE)
			fprintf(stderr, "memsleuth ps: no cgroup hierarchy has the memory controller "
					"here: --cgroups lists none\n");
	}
	status = EXIT_OK;
	/* Scans start a whole interval apart: each process is read an interval apart. */
	start = clock_mono();
	if (hostscan_take(h, &prev)) {
		status = runtime_error("ps", a.json, "out of memory");
		goto out;
	}
	for (k = 1; !a.count || k <= a.count; k++) {
		/* Windows fall on whole multiples of the interval: no drift over hours. */
		signals_wait(start + (double)k * a.window_s, -1);
		if (signals_stop_requested())
			break;
		ret = hostscan_take(h, &cur);
		if (!ret)
			ret = host_window_make(prev, cur, last, (uint32_t)k, &w);
		if (ret) {
			status = runtime_error("ps", a.json, "out of memory");
			break;
		}
		host_snapshot_unref(prev);
		prev = cur;
		cur = NULL;
		host_window_free(last);
		last = w;
		w = NULL;
		if (emit(&a, last))
			break;
	}
out:
	host_snapshot_unref(cur);
	host_snapshot_unref(prev);
	host_window_free(last);
	hostscan_close(h);
	return status;
}
