// SPDX-License-Identifier: GPL-2.0-only
/* memsleuth diff: compare two saved copies of /proc/PID/smaps, region by region. */
#include "analyzer/allocator.h"
#include "analyzer/regions.h"
#include "analyzer/window.h"
#include "cli/commands.h"
#include "cli/print.h"
#include "cli/util.h"
#include "lib/log.h"
#include "collectors/proc.h"
#include "collectors/smaps.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Saved smaps of even 100,000 mappings stay far below this. */
#define MAX_SMAPS_FILE (1ull << 30)

static void help(FILE *f)
{
	fprintf(f,
		"usage: memsleuth diff OLD_SMAPS NEW_SMAPS [--json]\n"
		"\n"
		"Compare two copies of /proc/PID/smaps saved at different times (for example\n"
		"'cat /proc/PID/smaps > smaps.1' on a production machine) and show how each\n"
		"region's memory changed. Mappings that merged or split in between are\n"
		"compared as groups, so they cause no phantom deltas. Either file may be '-'\n"
		"for standard input (cat /proc/PID/smaps | memsleuth diff smaps.1 -).\n"
		"\n"
		"options:\n"
		"      --json   one JSON object with totals, totals_delta and regions\n"
		"  -h, --help   this help\n");
}

enum { OPT_JSON = 256 };

/* Reads and classifies one saved smaps file into a sample. Returns 0 or -errno with `err`. */
static int load(const char *path, bool is_old, struct sample **out, char *err, size_t errlen)
{
	bool stdin_path = strcmp(path, "-") == 0;
	struct vma_list vmas = { 0 };
	struct parse_error perr = { 0 };
	struct sample *s;
	struct timespec now;
	struct stat st;
	char *buf = NULL;
	size_t len;
	int ret;

	*out = NULL;
	/*
	 * "-": standard input (cat /proc/PID/smaps | memsleuth diff saved -): as NEW
	 * it is the state now; as OLD (zcat old.gz | ...) its time is unknown.
	 */
	ret = stdin_path ? fd_read_all(STDIN_FILENO, &buf, &len, MAX_SMAPS_FILE)
			 : file_read(path, &buf, &len, MAX_SMAPS_FILE);
	if (ret) {
		snprintf(err, errlen, "%s: %s", path,
			 ret == -EFBIG ? "larger than 1 GiB: not a smaps file" : strerror(-ret));
		return ret;
	}
	ret = smaps_parse(buf, len, &vmas, &perr);
	free(buf);
	if (ret) {
		if (perr.line)
			snprintf(err, errlen, "%s: line %zu: %s", path, perr.line, perr.msg);
		else
			snprintf(err, errlen, "%s: %s", path, perr.msg);
		return ret;
	}
	s = sample_new();
	ret = s ? regions_build(&vmas, NULL, 0, s) : -ENOMEM;
	if (ret) {
		snprintf(err, errlen, "out of memory");
		vma_list_free(&vmas);
		sample_unref(s);
		return ret;
	}
	s->allocator = (uint8_t)allocator_detect(&vmas);
	s->comm = strdup(path);
	if (stdin_path && !is_old && clock_gettime(CLOCK_REALTIME, &now) == 0)
		s->t = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
	else if (stat(path, &st) == 0)
		s->t = (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9;
	vma_list_free(&vmas);
	*out = s;
	return 0;
}

int cmd_diff(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct print_opts popts = { .max_regions = 20, .max_stacks = 0 };
	struct sample *s[2] = { NULL, NULL };
	struct window *w = NULL;
	bool json = false;
	char err[512];
	int c, i, status = EXIT_OK;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			help(stdout);
			return EXIT_OK;
		default:
			return usage_error("diff", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind < 2)
		return usage_error("diff", "needs two files: OLD_SMAPS NEW_SMAPS");
	if (argc - optind > 2)
		return usage_error("diff", "unexpected argument '%s'", argv[optind + 2]);
	if (!strcmp(argv[optind], "-") && !strcmp(argv[optind + 1], "-"))
		return usage_error("diff", "only one of the two files can be '-' (standard input)");
	for (i = 0; i < 2; i++) {
		if (load(argv[optind + i], i == 0, &s[i], err, sizeof(err))) {
			status = runtime_error("diff", json, err);
			goto cleanup;
		}
	}
	if (s[0]->t > 0 && s[1]->t > 0 && s[1]->t < s[0]->t)
		log_warn("%s was saved before %s: the deltas read backwards (OLD_SMAPS comes "
			 "first)", argv[optind + 1], argv[optind]);
	w = window_build(s, 2);
	if (!w) {
		status = runtime_error("diff", json, "out of memory");
		goto cleanup;
	}
	if (json)
		print_diff_json(stdout, w, argv[optind], argv[optind + 1]);
	else
		print_diff_text(stdout, w, argv[optind], argv[optind + 1], &popts);
cleanup:
	window_free(w);
	sample_unref(s[0]);
	sample_unref(s[1]);
	return status;
}
