/* SPDX-License-Identifier: GPL-2.0-only */
/* The options that choose what a live subcommand (watch, top) reads from its target. */
#ifndef MEMSLEUTH_LIVE_OPTS_H
#define MEMSLEUTH_LIVE_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "cli/alloc_opts.h"
#include "cli/exporter.h"
#include "cli/growth_opts.h"
#include "cli/session.h"

/* getopt codes, clear of the subcommands' own (below 300) and of the two families. */
enum {
	LIVE_OPT_ALLOC = 400,
	LIVE_OPT_NO_BPF,
	LIVE_OPT_NO_FREEZE,
	LIVE_OPT_FREEZE_MAX,
	LIVE_OPT_NO_ARENAS,
	LIVE_OPT_ROTATE,
	LIVE_OPT_SKIP,
};

/* Entries for a subcommand's getopt_long table: these, the growth and the --alloc families. */
#define LIVE_LONGOPTS                                                          \
	{ "alloc", no_argument, NULL, LIVE_OPT_ALLOC },                        \
	{ "no-bpf", no_argument, NULL, LIVE_OPT_NO_BPF },                      \
	{ "no-freeze", no_argument, NULL, LIVE_OPT_NO_FREEZE },                \
	{ "freeze-max", required_argument, NULL, LIVE_OPT_FREEZE_MAX },        \
	{ "no-arenas", no_argument, NULL, LIVE_OPT_NO_ARENAS },                \
	{ "rotate", required_argument, NULL, LIVE_OPT_ROTATE },                \
	{ "skip", required_argument, NULL, LIVE_OPT_SKIP },                    \
	GROWTH_LONGOPTS,                                                       \
	ALLOC_LONGOPTS

#define LIVE_OPTS_HELP                                                                     \
	"      --alloc             probe malloc and friends for live bytes by stack\n"      \
	"                          (costs the target more)\n"                                \
	ALLOC_OPTS_HELP                                                                    \
	"      --no-bpf            read /proc only: no eBPF probes (works without root\n"   \
	"                          on your own processes)\n"                                 \
	"      --no-freeze         read glibc arenas without stopping the target: totals\n" \
	"                          and top only, no free lists\n"                            \
	"      --freeze-max MS     longest the target may be stopped for one arena read\n"  \
	"                          (default 200; from 1 to 10000)\n"                         \
	"      --no-arenas         do not read glibc arenas at all\n"                       \
	"      --rotate SIZE|AGE   with -o: start a new recording past SIZE (64M, 1G) or\n" \
	"                          AGE (30m, 1d); full ones become FILE.1, FILE.2, ...\n"  \
	SKIP_OPT_HELP                                                                      \
	GROWTH_OPTS_HELP

/* --skip, shared with report. */
#define SKIP_OPT_HELP                                                                      \
	"      --skip PATTERN      name stacks past frames whose function or module file\n" \
	"                          matches the glob PATTERN, as past the allocator's own\n" \
	"                          (your allocation wrappers); repeatable\n"

/* Sets what these options change to its default: arenas read, with freezes; --alloc's family. */
void live_opts_init(struct session_opts *o);

/*
 * Handles option `c` with argument `arg` into `o`. Returns 1 when it was one
 * of these, 0 when it is not, -1 with a reason in `err` on a bad value.
 */
int live_opt_parse(int c, const char *arg, struct session_opts *o, char *err, size_t errlen);

/*
 * What a live subcommand does with an option its own switch does not know:
 * the exports (`ex`, may be NULL for none) and then these. Returns 0 when
 * one took it, or -1 with a reason in `err` (a bad value, getopt's ':' for a
 * missing value, or "unknown option 'OPT'", naming `opt` as written).
 */
int live_opt_parse_rest(int c, const char *arg, const char *opt, struct session_opts *o,
			struct exporter_opts *ex, char *err, size_t errlen);

/*
 * Checks the options together once parsed (--alloc needs the probes, a tick
 * no longer than the window) and makes the window a whole number of ticks:
 * an unset tick is shortened to fit; a set one rounds the window up, said in
 * a note. Returns 0, or -1 with a reason in `err` (a usage error).
 */
int live_opts_check(struct session_opts *o, bool tick_set, char *err, size_t errlen);

#endif
