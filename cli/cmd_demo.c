// SPDX-License-Identifier: GPL-2.0-only
/* memsleuth demo: start the bundled misbehaving target and show it live (or watch it). */
#include "cli/commands.h"
#include "cli/util.h"
#include "collectors/bpf_common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The target sets itself up (a few MiB of fragmentation) in well under a second. */
#define READY_TIMEOUT_MS 30000

static void help(FILE *f)
{
	fprintf(f,
		"usage: memsleuth demo [-i SECONDS] [-n COUNT] [--json] [--no-alloc] [--no-bpf]\n"
		"                      [other options of 'memsleuth top' or 'memsleuth watch']\n"
		"\n"
		"Start a bundled demo service with four defects, then show it in the live\n"
		"view ('memsleuth top', window 5 s by default). Its main thread appends 64 KiB\n"
		"blocks to a log it never trims ([heap] grows in 64 KiB chunk steps) and opens\n"
		"sockets it never closes (fd growth); a session thread leaks small objects\n"
		"(a leak); three workers fragment their glibc arenas (arena fragmentation).\n"
		"All four are found within two windows (about ten seconds). The target is\n"
		"stopped when the demo ends (q, Ctrl-C, or after COUNT).\n"
		"\n"
		"options:\n"
		"  -i, --interval SECONDS  the window (default 5)\n"
		"  -n COUNT                stop after COUNT refreshes of the live view (one\n"
		"                          every 0.5 s), or COUNT windows without it\n"
		"      --json              print one JSON object per window instead of the live\n"
		"                          view, as 'memsleuth watch --json' does (without a\n"
		"                          terminal the demo prints watch's text reports)\n"
		"      --no-alloc          no malloc probes: the leak is then not named by stack\n"
		"      --no-bpf            no eBPF probes at all (and so no malloc probes)\n"
		"  -h, --help              this help\n"
		"\n"
		"As root the malloc probes are on (--alloc --alloc-exact: the service allocates\n"
		"little, so every call is probed), so that the leak is traced to the code that\n"
		"allocates it; when they cannot be used the demo says so and goes on without\n"
		"them. The view samples every 0.5 s (--tick 0.5), ten times a window.\n");
}

/* Starts `memsleuth __demo-target FD`; it writes "ready" on FD once it is set up. */
static pid_t start_target(int *ready_fd, char *err, size_t errlen)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC)) {
		snprintf(err, errlen, "cannot start the demo target: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "cannot start the demo target: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		char fdbuf[16];
		char *args[] = { "memsleuth", "__demo-target", fdbuf, NULL };

		snprintf(fdbuf, sizeof(fdbuf), "%d", fds[1]);
		fcntl(fds[1], F_SETFD, 0);
		execv("/proc/self/exe", args);
		_exit(127);
	}
	close(fds[1]);
	*ready_fd = fds[0];
	return pid;
}

/* Waits for the target's "ready". Returns 0, or -1 with the reason in `err`. */
static int wait_ready(int fd, char *err, size_t errlen)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char buf[8] = "";
	ssize_t n = 0;
	int ret;

	do
		ret = poll(&pfd, 1, READY_TIMEOUT_MS);
	while (ret < 0 && errno == EINTR);
	if (ret > 0)
		n = read(fd, buf, sizeof(buf) - 1);
	if (n > 0 && strncmp(buf, "ready", 5) == 0)
		return 0;
	snprintf(err, errlen, "the demo target %s", ret == 0 ? "did not get ready in time"
							     : "failed to start");
	return -1;
}

static void stop_target(pid_t target)
{
	kill(target, SIGTERM);
	waitpid(target, NULL, 0);
}

#define DEMO_TICK_S 0.5

/* The window the user asked for with -i/--interval (the last one), else the demo's 5 s. */
static double user_window(int argc, char **argv)
{
	double w = 5;
	int i;

	for (i = 1; i < argc; i++) {
		const char *v = NULL;

		if ((!strcmp(argv[i], "-i") || !strcmp(argv[i], "--interval")) && i + 1 < argc)
			v = argv[++i];
		else if (!strncmp(argv[i], "--interval=", 11))
			v = argv[i] + 11;
		else if (!strncmp(argv[i], "-i", 2) && argv[i][2])
			v = argv[i] + 2;
		if (v)
			w = strtod(v, NULL);
	}
	return w;
}

int cmd_demo(int argc, char **argv)
{
	char pidbuf[16], err[256];
	char **wargv;
	pid_t target;
	int i, n = 0, status, ready_fd = -1;
	bool live = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO), alloc = true, user_alloc = false;
	bool json = false;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			help(stdout);
			return EXIT_OK;
		}
		if (!strcmp(argv[i], "--json")) {
			live = false;
			json = true;
		} else if (!strcmp(argv[i], "--no-alloc") || !strcmp(argv[i], "--no-bpf")) {
			alloc = false;
		}
	}
	/* The leak is named by its stack only with the malloc probes, which need root and eBPF. */
	if (alloc && bpf_common_check_privileges(err, sizeof(err))) {
		fprintf(stderr, "memsleuth demo: going on without the malloc probes, so the leak is "
				"not traced to its stack: %s\n", err);
		alloc = false;
	}
	target = start_target(&ready_fd, err, sizeof(err));
	if (target < 0)
		return runtime_error("demo", json, err);
	if (wait_ready(ready_fd, err, sizeof(err))) {
		close(ready_fd);
		stop_target(target);
		return runtime_error("demo", json, err);
	}
	close(ready_fd);
	fprintf(stderr, "memsleuth demo: started demo target, PID %d\n", (int)target);
	/*
	 * top|watch PID -i 5 [--tick 0.5] [--alloc --alloc-exact --alloc-optional] [the
	 * user's options, which win].
	 */
	wargv = calloc((size_t)argc + 10, sizeof(*wargv));
	if (!wargv) {
		stop_target(target);
		return runtime_error("demo", json, "out of memory");
	}
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)target);
	wargv[n++] = live ? "top" : "watch";
	wargv[n++] = pidbuf;
	wargv[n++] = "-i";
	wargv[n++] = "5";
	/*
	 * Ticks of 0.5 s: ten per window, so that chunk steps show even on a busy
	 * machine, where a tick now and then sees half of a burst.
	 */
	if (user_window(argc, argv) >= DEMO_TICK_S) {
		wargv[n++] = "--tick";
		wargv[n++] = "0.5";
	}
	/*
	 * The demo service makes about 150 allocating calls a second: probing every
	 * one costs it nothing, and the leak's figures are exact, not estimates.
	 */
	for (i = 1; i < argc; i++)
		user_alloc = user_alloc || strncmp(argv[i], "--alloc", 7) == 0;
	if (alloc) {
		wargv[n++] = "--alloc";
		/* Unless the user says how to probe: --alloc-duty 50 and exact disagree. */
		if (!user_alloc)
			wargv[n++] = "--alloc-exact";
	}
	/* The user's --alloc-... options, too, go on without probes that cannot attach. */
	if (alloc || user_alloc)
		wargv[n++] = "--alloc-optional";
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--no-alloc") != 0)
			wargv[n++] = argv[i];
	status = live ? cmd_top(n, wargv) : cmd_watch(n, wargv);
	free(wargv);
	stop_target(target);
	fprintf(stderr, "memsleuth demo: demo target stopped\n");
	return status;
}
