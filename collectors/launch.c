// SPDX-License-Identifier: GPL-2.0-only
/* Starting a command for watch -- CMD: stopped once its libraries are mapped, before any of their code runs. */
#include "collectors/launch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef __x86_64__
#include <asm/prctl.h>
#endif

/*
 * The dynamic loader makes a few dozen system calls before it sets the
 * thread pointer; a program that makes this many without doing so is not
 * following the pattern, and is let go where it is.
 */
#define STOPS_MAX 100000

int launch_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

/* In the child: a fresh program's signals, traced by the parent, then the command. */
static void __attribute__((noreturn)) child(char *const argv[], int report)
{
	sigset_t none;
	int e, sig;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* An ignored signal stays ignored across exec: memsleuth ignores SIGPIPE. */
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0)
		execvp(argv[0], argv);
	e = errno;
	if (write(report, &e, sizeof(e)) != (ssize_t)sizeof(e))
		_exit(127);
	_exit(e == ENOENT ? 127 : 126);
}

/* Whether the tracee, in a syscall stop, is entering the call that sets its thread pointer. */
static bool at_tls_setup(pid_t pid)
{
#ifdef __x86_64__
	struct __ptrace_syscall_info info;

	if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(info), &info) <= 0)
		return false;
	return info.op == PTRACE_SYSCALL_INFO_ENTRY && info.entry.nr == SYS_arch_prctl &&
	       info.entry.args[0] == ARCH_SET_FS;
#else
	(void)pid;
	return true;
#endif
}

/*
 * Runs the traced command from its exec stop to the entry of its TLS set-up.
 * Returns 0 there, -ECHILD with *status when it ended before, or a negative
 * errno from ptrace.
 */
static int run_to_tls_setup(pid_t pid, int *status)
{
	int st, sig = 0, n;

	if (ptrace(PTRACE_SETOPTIONS, pid, NULL,
		   (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL)))
		return -errno;
#ifndef __x86_64__
	return 0;
#endif
	for (n = 0; n < STOPS_MAX; n++) {
		if (ptrace(PTRACE_SYSCALL, pid, NULL, (void *)(long)sig))
			return -errno;
		if (waitpid(pid, &st, __WALL) < 0)
			return -errno;
		if (!WIFSTOPPED(st)) {
			*status = st;
			return -ECHILD;
		}
		sig = 0;
		if (WSTOPSIG(st) == (SIGTRAP | 0x80)) {
			if (at_tls_setup(pid))
				return 0;
		} else {
			/* A signal for the command: delivered as it would be untraced. */
			sig = WSTOPSIG(st);
		}
	}
	return 0;
}

int launch_start(char *const argv[], pid_t *pid, int *status, char *err, size_t errlen)
{
	int report[2], st, e = 0, ret;
	ssize_t n;
	pid_t c;

	*pid = -1;
	if (pipe2(report, O_CLOEXEC)) {
		ret = -errno;
		snprintf(err, errlen, "cannot start %s: %s", argv[0], strerror(-ret));
		return ret;
	}
	c = fork();
	if (c < 0) {
		ret = -errno;
		close(report[0]);
		close(report[1]);
		snprintf(err, errlen, "cannot start %s: %s", argv[0], strerror(-ret));
		return ret;
	}
	if (c == 0)
		child(argv, report[1]);
	close(report[1]);
	/* The pipe closes on a successful exec; otherwise it brings exec's errno. */
	do
		n = read(report[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(report[0]);
	if (n == (ssize_t)sizeof(e)) {
		waitpid(c, &st, 0);
		snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(e));
		return -e;
	}
	/* The exec stop: the program is loaded, nothing of it has run. */
	if (waitpid(c, &st, __WALL) < 0 || !WIFSTOPPED(st)) {
		*status = st;
		snprintf(err, errlen, "%s ended as it started", argv[0]);
		return -ECHILD;
	}
	ret = run_to_tls_setup(c, status);
	if (ret == -ECHILD) {
		snprintf(err, errlen, "%s ended before its libraries were loaded", argv[0]);
		return ret;
	}
	if (ret) {
		kill(c, SIGKILL);
		waitpid(c, &st, __WALL);
		snprintf(err, errlen, "cannot follow %s as it starts: %s", argv[0], strerror(-ret));
		return ret;
	}
	/* Stopped, not traced: a signal pending across the detach stops it as it resumes. */
	kill(c, SIGSTOP);
	if (ptrace(PTRACE_DETACH, c, NULL, NULL) || waitpid(c, &st, WUNTRACED) < 0 ||
	    !WIFSTOPPED(st)) {
		ret = errno ? -errno : -ECHILD;
		kill(c, SIGKILL);
		waitpid(c, &st, 0);
		snprintf(err, errlen, "cannot stop %s as it starts", argv[0]);
		return ret;
	}
	*pid = c;
	return 0;
}

int launch_resume(pid_t pid)
{
	return kill(pid, SIGCONT) ? -errno : 0;
}

int launch_reap(pid_t pid, int wait)
{
	int st;
	pid_t r;

	do
		r = waitpid(pid, &st, wait ? 0 : WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return -EAGAIN;
	if (r < 0)
		return -errno;
	return launch_exit_code(st);
}
