/* SPDX-License-Identifier: GPL-2.0-only */
/* The --alloc family of options: how much of the allocator traffic the malloc probes watch. */
#ifndef MEMSLEUTH_ALLOC_OPTS_H
#define MEMSLEUTH_ALLOC_OPTS_H

#include <getopt.h>
#include <stddef.h>

#include "collectors/bpf_alloc.h"

/* getopt_long values of the options below; a subcommand's own values stay under 512. */
enum {
	OPT_ALLOC_DUTY = 512,
	OPT_ALLOC_EXACT,
	OPT_ALLOC_SAMPLE,
	OPT_ALLOC_PERIOD,
	OPT_ALLOC_FREE_AT_ENTRY,
	OPT_ALLOC_OPTIONAL,
};

#define ALLOC_LONGOPTS                                                              \
	{ "alloc-duty", required_argument, NULL, OPT_ALLOC_DUTY },                  \
	{ "alloc-exact", no_argument, NULL, OPT_ALLOC_EXACT },                      \
	{ "alloc-sample", required_argument, NULL, OPT_ALLOC_SAMPLE },              \
	{ "alloc-period", required_argument, NULL, OPT_ALLOC_PERIOD },              \
	{ "alloc-free-at-entry", no_argument, NULL, OPT_ALLOC_FREE_AT_ENTRY },      \
	{ "alloc-optional", no_argument, NULL, OPT_ALLOC_OPTIONAL }

#define ALLOC_OPTS_HELP                                                                   \
	"      --alloc-duty PCT    probe the allocating calls PCT%% of the time (default\n"  \
	"                          10; above 0, at most 100); free() is always probed;\n"   \
	"                          stack figures are then estimates, scaled up and\n"       \
	"                          marked so\n"                                              \
	"      --alloc-exact       probe every call (--alloc-duty 100): exact figures and\n" \
	"                          per-arena chunk bytes, at several times the cost\n"        \
	"      --alloc-sample BYTES  record one allocation per BYTES on average (from 1;\n" \
	"                          by size, unbiased) instead of every one, with its\n"    \
	"                          stack unwound with DWARF (no frame pointers needed);\n" \
	"                          probes every call unless --alloc-duty is given\n"       \
	"      --alloc-optional    when the malloc probes cannot attach, warn and go on\n" \
	"                          without them\n"                                          \
	"                          (each of these --alloc-... options implies --alloc)\n"

/*
 * Handles one option of the family: returns 1 when `opt` was one (applied to
 * `o`), 0 when it is not of the family, -1 with a reason in `err` on a bad value.
 */
int alloc_opts_parse(int opt, const char *arg, struct bpf_alloc_opts *o, char *err, size_t errlen);

#endif
