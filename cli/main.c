// SPDX-License-Identifier: GPL-2.0-only
/* memsleuth's entry point: global options and the subcommand dispatcher. */
#include "cli/commands.h"
#include "cli/util.h"
#include "lib/log.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MEMSLEUTH_VERSION "0.1.0"

struct command {
	const char *name;
	int (*handler)(int argc, char **argv);
	const char *summary;
	bool hidden;
};

static const struct command commands[] = {
	{ "watch", cmd_watch, "watch PID: report memory and fd growth every window", false },
	{ "top", cmd_top, "top PID: live view of memory and fd growth (--replay FILE)", false },
	{ "agent", cmd_agent, "agent: watch processes by PID, name or cgroup; export metrics", false },
	{ "report", cmd_report, "report FILE: analyse a recording made with watch -o", false },
	{ "diff", cmd_diff, "diff OLD NEW: compare two saved copies of /proc/PID/smaps", false },
	{ "demo", cmd_demo, "demo: run a misbehaving demo target and show it live", false },
	{ "__demo-target", cmd_demo_target, "the demo's target process", true },
	{ "__bench-smaps", cmd_bench_smaps, "smaps parsing benchmark", true },
};

static void print_usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"usage: memsleuth [-v] COMMAND [ARGS]\n"
		"\n"
		"Find out why a running process's memory or file descriptors keep growing.\n"
		"\n"
		"commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!commands[i].hidden)
			fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
		"\n"
		"options:\n"
		"  -v, --verbose   print debugging detail (libbpf's messages among them)\n"
		"  -V, --version   print the version\n"
		"  -h, --help      this help; 'memsleuth COMMAND --help' for a command\n");
}

/*
 * Whether what the command wrote to stdout got there. A pipe whose reader
 * left (memsleuth ... | head) is an ordinary end; any other write error (a
 * full disk, an I/O error) fails a command that would have succeeded.
 */
static int output_status(const char *cmd, int status)
{
	struct pollfd p = { .fd = STDOUT_FILENO, .events = POLLOUT };
	char msg[256];
	int e;

	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return status;
	e = output_errno() ? output_errno() : errno;
	/* An error in an earlier write left no errno: a closed pipe shows in poll. */
	if (e == EPIPE || (!e && poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP))))
		return status;
	if (status != EXIT_OK)
		return status;
	snprintf(msg, sizeof(msg), "cannot write the output%s%s", e ? ": " : "",
		 e ? strerror(e) : "");
	/* Not in JSON: stdout is what cannot be written. */
	return runtime_error(cmd, false, msg);
}

int main(int argc, char **argv)
{
	size_t i;
	int arg = 1;

	/* A closed pipe (memsleuth ... | head) is an ordinary end, reported by write errors. */
	signal(SIGPIPE, SIG_IGN);

	for (; arg < argc && argv[arg][0] == '-'; arg++) {
		const char *a = argv[arg];

		if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			log_set_level(LOG_DEBUG);
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("memsleuth %s\n", MEMSLEUTH_VERSION);
			return EXIT_OK;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			print_usage(stdout);
			return EXIT_OK;
		} else {
			return usage_error(NULL, "unknown option '%s'", a);
		}
	}
	if (arg >= argc) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[arg], commands[i].name) == 0)
			return output_status(commands[i].name,
					     commands[i].handler(argc - arg, argv + arg));
	return usage_error(NULL, "unknown command '%s'", argv[arg]);
}
