// SPDX-License-Identifier: GPL-2.0-only
/* memsleuth report: re-derive the windows of a recording, offline. */
#include "analyzer/pipeline.h"
#include "analyzer/timeline.h"
#include "cli/commands.h"
#include "cli/print.h"
#include "cli/print_folded.h"
#include "cli/live_opts.h"
#include "recording/recording.h"
#include "cli/util.h"
#include "export/pprof.h"
#include "lib/file_replace.h"
#include "lib/log.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void help(FILE *f)
{
	fprintf(f,
		"usage: memsleuth report FILE [options]\n"
		"\n"
		"Analyse a recording made with 'memsleuth watch PID -o FILE' and print the\n"
		"same windows the live run printed (on any machine; no privileges needed).\n"
		"FILE is the recording file itself (a directory is refused).\n"
		"\n"
		"options:\n"
		"      --json              one JSON object per window, one per line\n"
		"  -i, --interval SECONDS  re-cut the recording into windows of this length\n"
		"                          (default: the window it was recorded with; from\n"
		"                          0.05 to 86400)\n"
		"      --folded            outstanding alloc bytes by stack at the end of the\n"
		"                          recording, as folded lines for flame graph tools\n"
		"      --pprof OUT         write the same as a gzipped pprof profile to OUT\n"
		SKIP_OPT_HELP
		"  -h, --help              this help\n");
}

enum { OPT_JSON = 256, OPT_FOLDED, OPT_PPROF, OPT_SKIP };

/* A recording the run could not finish, or lines from a newer writer: said, not hidden. */
static void say_what_was_missing(const struct recording_reader *rd, const char *path)
{
	size_t unknown = recording_unknown_lines(rd);

	if (!recording_end_reason(rd))
		log_warn("%s has no end line: the run that wrote it was cut off (killed, out of "
			 "space) or is still recording; its last window may be partial", path);
	if (unknown)
		log_warn("%s: skipped %zu line%s of a type this memsleuth does not know (written "
			 "by a newer version?)", path, unknown, unknown == 1 ? "" : "s");
}

/* --pprof: the outstanding allocations at the end of the recording, as a profile. */
static int write_pprof(const char *path, const struct window *w, const struct recording_header *h,
		       char *err, size_t errlen)
{
	struct pprof_meta meta = { .pid = h->pid, .comm = h->comm, .duration_s = w->window_s };
	uint8_t *gz = NULL;
	size_t len = 0;
	int ret;

	if (!h->alloc) {
		snprintf(err, errlen, "--pprof: the recording holds no allocation stacks (record "
			 "with watch --alloc -o FILE)");
		return -EINVAL;
	}
	ret = pprof_heap_encode(w->end, &meta, &gz, &len);
	if (!ret)
		ret = file_replace(path, gz, len);
	if (ret)
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-ret));
	free(gz);
	return ret;
}

/* One window in the chosen format (folded prints only the last). Returns 0 or -EIO. */
static int print_window(const struct window *w, bool json, bool folded)
{
	static const struct print_opts popts = PRINT_OPTS_DEFAULT;

	if (json)
		print_window_json(stdout, w);
	else if (!folded)
		print_window_text(stdout, w, &popts);
	/* Output that cannot be written (a full disk): main() says so. */
	if (fflush(stdout) || ferror(stdout)) {
		output_failed(stdout);
		return -EIO;
	}
	return 0;
}

int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "folded", no_argument, NULL, OPT_FOLDED },
		{ "pprof", required_argument, NULL, OPT_PPROF },
		{ "skip", required_argument, NULL, OPT_SKIP },
		{ "interval", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct recording_reader *rd = NULL;
	struct recording_header h;
	struct pipeline *p = NULL;
	struct site_rules *sites = NULL;
	const char *skip[SESSION_MAX_SKIP];
	size_t nskip = 0;
	struct window *w = NULL, *last = NULL;
	struct sample *s;
	double window_s = 0;
	size_t nsamples = 0;
	bool json = false, folded = false;
	const char *pprof = NULL;
	char err[512];
	int c, ret, status = EXIT_OK;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":i:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			json = true;
			break;
		case OPT_FOLDED:
			folded = true;
			break;
		case OPT_PPROF:
			pprof = optarg;
			break;
		case OPT_SKIP:
			if (!*optarg || nskip >= SESSION_MAX_SKIP)
				return usage_error("report", "--skip: %s",
						   *optarg ? "too many patterns (32 at most)"
							   : "the pattern is empty");
			skip[nskip++] = optarg;
			break;
		case 'i':
			if (parse_seconds(optarg, "interval", &window_s, err, sizeof(err)))
				return usage_error("report", "%s", err);
			break;
		case 'h':
			help(stdout);
			return EXIT_OK;
		case ':':
			return usage_error("report", "option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("report", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("report", "missing FILE");
	if (json && folded)
		return usage_error("report", "--json and --folded are two output formats: pick one");
	if (optind + 1 < argc)
		return usage_error("report", "unexpected argument '%s'", argv[optind + 1]);

	ret = recording_open(argv[optind], &rd, &h, err, sizeof(err));
	if (ret)
		return runtime_error("report", json, err);
	if (session_site_rules(skip, nskip, &sites)) {
		status = runtime_error("report", json, "out of memory");
		goto cleanup;
	}
	recording_set_site_rules(rd, sites);
	if (window_s > 0 && h.tick_s > 0) {
		/* Windows are cut at the recorded samples: a whole number of ticks. */
		double ticks;

		if (timeline_whole_ticks(window_s, h.tick_s, &ticks))
			log_info("windows of about %g s: %g of the recording's %g s ticks (-i %g s is "
				 "not a whole number of them)", ticks * h.tick_s, ticks, h.tick_s,
				 window_s);
	}
	p = pipeline_new(window_s > 0 ? window_s : h.window_s, h.tick_s);
	if (!p) {
		status = runtime_error("report", json, "out of memory");
		goto cleanup;
	}
	while ((ret = recording_next(rd, &s, err, sizeof(err))) == 1) {
		nsamples++;
		if (pipeline_push(p, s, &w) < 0) {
			status = runtime_error("report", json, "out of memory");
			goto cleanup;
		}
		if (w) {
			if (print_window(w, json, folded))
				goto cleanup;
			/* Folded: only the state at the end, so that nothing is counted twice. */
			window_free(last);
			last = w;
			w = NULL;
		}
	}
	if (ret < 0) {
		status = runtime_error("report", json, err);
		goto cleanup;
	}
	if (nsamples < 2) {
		snprintf(err, sizeof(err), "%s: the recording holds %zu sample%s; a window needs two",
			 argv[optind], nsamples, nsamples == 1 ? "" : "s");
		status = runtime_error("report", json, err);
		goto cleanup;
	}
	ret = pipeline_flush(p, &w);
	if (ret < 0) {
		status = runtime_error("report", json, "out of memory");
		goto cleanup;
	}
	if (ret == 1 && print_window(w, json, folded))
		goto cleanup;
	if (pprof && (w || last) && write_pprof(pprof, w ? w : last, &h, err, sizeof(err))) {
		status = runtime_error("report", json, err);
		goto cleanup;
	}
	if (folded) {
		if (w || last)
			print_window_folded(stdout, w ? w : last);
		goto cleanup;
	}
	if (!json && recording_end_reason(rd))
		printf("recording ended: %s\n", recording_end_reason(rd));
cleanup:
	if (status == EXIT_OK && !ferror(stdout))
		say_what_was_missing(rd, argv[optind]);
	window_free(last);
	window_free(w);
	pipeline_free(p);
	recording_close(rd);
	site_rules_free(sites);
	recording_header_clear(&h);
	return status;
}
