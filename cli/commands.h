/* SPDX-License-Identifier: GPL-2.0-only */
/* The subcommands: each parses its own options and returns an exit status. */
#ifndef MEMSLEUTH_COMMANDS_H
#define MEMSLEUTH_COMMANDS_H

#include <stdbool.h>

/* argv[0] is the subcommand's name; the return value is the process exit status. */
int cmd_watch(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_demo_target(int argc, char **argv);
int cmd_bench_smaps(int argc, char **argv);

/*
 * The errors of every subcommand, printed in one place (cli/errors.c) as one
 * line on stderr with control bytes shown as '?'. `cmd` names the subcommand
 * ("memsleuth CMD: MSG"); NULL is memsleuth itself.
 */
/* A bad command line: the message and the hint to --help. Returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * A failure while running: the message and, in JSON mode, {"error": msg} on
 * stdout too. Returns EXIT_RUNTIME.
 */
int runtime_error(const char *cmd, bool json, const char *msg);

#endif
