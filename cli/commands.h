/* SPDX-License-Identifier: GPL-2.0-only */
/* The subcommands: each parses its own options and returns an exit status. */
#ifndef MEMSLEUTH_COMMANDS_H
#define MEMSLEUTH_COMMANDS_H

/* argv[0] is the subcommand's name; the return value is the process exit status. */
int cmd_watch(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_demo_target(int argc, char **argv);
int cmd_bench_smaps(int argc, char **argv);

/* Prints "memsleuth CMD: MSG" and the hint to --help; returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
