// SPDX-License-Identifier: GPL-2.0-only
/* memsleuth demo: start the bundled misbehaving target and show it live (or watch it). */
#include "cli/commands.h"
#include "cli/util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void help(FILE *f)
{
	fprintf(f,
		"usage: memsleuth demo [-i SECONDS] [-n COUNT] [--json] [--no-bpf]\n"
		"\n"
		"Start a bundled demo target that grows its heap in 64 KiB steps, fragments\n"
		"glibc arenas from several threads, leaks small objects and never closes its\n"
		"sockets, then show it in the live view ('memsleuth top', window 5 s by\n"
		"default). When standard output is not a terminal, or with --json, watch it\n"
		"instead and print a report per window. COUNT is the number of refreshes in\n"
		"the live view, of windows otherwise. The target is stopped when the demo\n"
		"ends (q, Ctrl-C, or after COUNT).\n");
}

static pid_t start_target(char *err, size_t errlen)
{
	pid_t pid = fork();

	if (pid < 0) {
		snprintf(err, errlen, "cannot start the demo target: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		char *args[] = { "memsleuth", "__demo-target", NULL };

		execv("/proc/self/exe", args);
		_exit(127);
	}
	return pid;
}

int cmd_demo(int argc, char **argv)
{
	char pidbuf[16], err[256];
	char **wargv;
	pid_t target;
	int i, n = 0, status;
	bool live = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			help(stdout);
			return EXIT_OK;
		}
		if (!strcmp(argv[i], "--json"))
			live = false;
	}
	target = start_target(err, sizeof(err));
	if (target < 0) {
		fprintf(stderr, "memsleuth demo: %s\n", err);
		return EXIT_RUNTIME;
	}
	fprintf(stderr, "memsleuth demo: started demo target, PID %d\n", (int)target);
	/* top|watch PID -i 5 [the user's options], with the user's options last so they win. */
	wargv = calloc((size_t)argc + 5, sizeof(*wargv));
	if (!wargv) {
		kill(target, SIGTERM);
		waitpid(target, NULL, 0);
		return EXIT_RUNTIME;
	}
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)target);
	wargv[n++] = live ? "top" : "watch";
	wargv[n++] = pidbuf;
	wargv[n++] = "-i";
	wargv[n++] = "5";
	for (i = 1; i < argc; i++)
		wargv[n++] = argv[i];
	status = live ? cmd_top(n, wargv) : cmd_watch(n, wargv);
	free(wargv);
	kill(target, SIGTERM);
	waitpid(target, NULL, 0);
	fprintf(stderr, "memsleuth demo: demo target stopped\n");
	return status;
}
