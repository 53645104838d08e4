/* SPDX-License-Identifier: GPL-2.0-only */
/* Command-line options of the eBPF growth probes, shared by the live subcommands. */
#ifndef MEMSLEUTH_GROWTH_OPTS_H
#define MEMSLEUTH_GROWTH_OPTS_H

#include <getopt.h>
#include <stddef.h>

#include "collectors/bpf_growth.h"

/* getopt codes, clear of the subcommands' own (which stay below 300). */
enum { GROWTH_OPT_FAULT_RATE = 300, GROWTH_OPT_STACK_RATE, GROWTH_OPT_RINGBUF_KIB };

/* Entries for a subcommand's getopt_long table. --ringbuf-kib is for tests: not in the help. */
#define GROWTH_LONGOPTS                                                                          \
	{ "fault-rate", required_argument, NULL, GROWTH_OPT_FAULT_RATE },                        \
	{ "stack-rate", required_argument, NULL, GROWTH_OPT_STACK_RATE },                        \
	{ "ringbuf-kib", required_argument, NULL, GROWTH_OPT_RINGBUF_KIB }

#define GROWTH_OPTS_HELP                                                                         \
	"      --fault-rate N      sample 1 page fault in N for fault stacks (default 16;\n"     \
	"                          0: no fault probe; a whole number below 2^32)\n"              \
	"      --stack-rate N      user stacks copied per second and per family (memory\n"       \
	"                          syscalls, faults, fds; default 100; 0: no limit; a\n"         \
	"                          whole number below 2^32); each copy costs the target\n"       \
	"                          ~20 us\n"

/*
 * Handles option `c` with argument `arg`. Returns 1 when it was a growth
 * option and was set, 0 when `c` is not one, -1 with a reason in `err`.
 */
int growth_opt_parse(int c, const char *arg, struct bpf_growth_opts *o, char *err, size_t errlen);

#endif
