// SPDX-License-Identifier: GPL-2.0-only
/* Stops every thread of a target briefly with ptrace, and always lets it go again. */
#include "collectors/freeze.h"
#include "lib/vec.h"
#include "lib/clock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Rounds of re-listing threads, to catch ones created while the others were stopping. */
#define MAX_ROUNDS 8
/* How long a release waits for threads whose interrupt is still pending. */
#define RELEASE_WAIT_S 0.1

enum tstate { T_SEIZED, T_STOPPED, T_GONE };

struct fthread {
	int tid;
	uint8_t state;		/* enum tstate */
	int sig;		/* signal to re-deliver at detach */
};

struct freezer {
	int pid;
	int dirfd;		/* /proc/PID, borrowed */
	struct fthread *t;
	size_t n, cap;
	sigset_t saved_mask;
	bool masked;
	bool boosted;		/* running SCHED_FIFO while the target is stopped */
	double released_at;	/* when the last thread was let go */
};


struct freezer *freezer_new(int pid, int dirfd)
{
	struct freezer *fz = calloc(1, sizeof(*fz));

	if (fz) {
		fz->pid = pid;
		fz->dirfd = dirfd;
	}
	return fz;
}

static bool known(const struct freezer *fz, int tid)
{
	size_t i;

	for (i = 0; i < fz->n; i++)
		if (fz->t[i].tid == tid)
			return true;
	return false;
}

static int tracer_of(const struct freezer *fz, int tid)
{
	char path[64], buf[4096];
	const char *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "task/%d/status", tid);
	fd = openat(fz->dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strstr(buf, "\nTracerPid:");
	return p ? atoi(p + 11) : 0;
}

/* Seizes and interrupts threads not yet held. Returns how many were new, or -errno. */
static int seize_new(struct freezer *fz, int *tracer)
{
	struct dirent *de;
	DIR *dir;
	int added = 0, ret = 0, fd;

	fd = openat(fz->dirfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dir = fd < 0 ? NULL : fdopendir(fd);
	if (!dir) {
		ret = errno == ENOENT ? -ESRCH : -errno;
		if (fd >= 0)
			close(fd);
		return ret;
	}
	while ((de = readdir(dir))) {
		struct fthread *t;
		int tid = atoi(de->d_name);

		if (tid <= 0 || known(fz, tid))
			continue;
		if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) != 0) {
			if (errno == ESRCH)
				continue;	/* the thread exited meanwhile */
			ret = -errno;
			if (ret == -EPERM && (*tracer = tracer_of(fz, tid)) != 0)
				ret = -EBUSY;
			break;
		}
		t = VEC_PUSH(fz->t, fz->n, fz->cap);
		if (!t) {
			ptrace(PTRACE_DETACH, tid, NULL, NULL);
			ret = -ENOMEM;
			break;
		}
		t->tid = tid;
		t->state = T_SEIZED;
		if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) != 0)
			t->state = T_GONE;
		added++;
	}
	closedir(dir);
	return ret ? ret : added;
}

/* Collects stop notifications without blocking; returns the number still running. */
static size_t poll_stops(struct freezer *fz)
{
	size_t i, running = 0;

	for (i = 0; i < fz->n; i++) {
		struct fthread *t = &fz->t[i];
		int st;
		pid_t r;

		if (t->state != T_SEIZED)
			continue;
		r = waitpid(t->tid, &st, __WALL | WNOHANG);
		if (r == t->tid && WIFSTOPPED(st)) {
			t->state = T_STOPPED;
			/*
			 * A PTRACE_EVENT_STOP is our interrupt or a group-stop; anything
			 * else is a signal on its way to the thread: give it back at detach.
			 */
			if ((st >> 16) != PTRACE_EVENT_STOP)
				t->sig = WSTOPSIG(st);
		} else if (r == t->tid || (r < 0 && errno == ECHILD)) {
			t->state = T_GONE;
		} else {
			running++;
		}
	}
	return running;
}

/*
 * Detaches every stopped thread. A thread seized but not yet stopped (its
 * interrupt pending) cannot be detached until it stops: wait for it up to
 * RELEASE_WAIT_S, then keep it to be let go by a later call.
 */
static void release(struct freezer *fz)
{
	struct timespec nap = { 0, 50 * 1000 };
	double deadline = clock_mono() + RELEASE_WAIT_S;
	size_t i, kept;

	for (;;) {
		/* Stopped threads go at once; the others as soon as they stop. */
		poll_stops(fz);
		for (i = 0, kept = 0; i < fz->n; i++) {
			struct fthread *t = &fz->t[i];

			if (t->state == T_STOPPED)
				ptrace(PTRACE_DETACH, t->tid, NULL, (void *)(long)t->sig);
			else if (t->state == T_SEIZED)
				fz->t[kept++] = *t;
		}
		fz->n = kept;
		if (!fz->n || clock_mono() >= deadline)
			break;
		nanosleep(&nap, NULL);
	}
	if (!fz->n)
		fz->released_at = clock_mono();
	if (fz->masked) {
		sigprocmask(SIG_SETMASK, &fz->saved_mask, NULL);
		fz->masked = false;
	}
	if (fz->boosted && !fz->n) {
		struct sched_param sp = { .sched_priority = 0 };

		sched_setscheduler(0, SCHED_OTHER, &sp);
		fz->boosted = false;
	}
}

/*
 * While the target is stopped it waits for memsleuth, and on a busy machine
 * memsleuth waits for a CPU: each thread it lets go preempts it (measured:
 * 10-100 ms before it let the next one go, the target's last threads still
 * stopped), and so does other work. So from the first stop to the last
 * release memsleuth's thread runs at the lowest real-time priority, above
 * every ordinary task, when it may (CAP_SYS_NICE; the kernel keeps 5% of
 * each second for the others). The work there is bounded by --freeze-max and
 * sleeps while threads stop, which lets them run.
 */
static void boost(struct freezer *fz)
{
	struct sched_param sp = { .sched_priority = 1 };

	if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) == 0)
		fz->boosted = true;
}

static void block_signals(struct freezer *fz)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGTSTP, SIGTTIN, SIGTTOU };
	sigset_t set;
	size_t i;

	sigemptyset(&set);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&set, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &set, &fz->saved_mask) == 0)
		fz->masked = true;
}

int freezer_stop(struct freezer *fz, double timeout_s, int *tracer)
{
	struct timespec nap = { 0, 50 * 1000 };
	double deadline = clock_mono() + timeout_s;
	int round, ret = 0;

	*tracer = 0;
	/* Threads left running by an earlier timeout are released as soon as they stop. */
	release(fz);
	if (fz->n) {
		ret = -ETIMEDOUT;
		goto fail;
	}
	block_signals(fz);
	if (!fz->boosted)
		boost(fz);
	for (round = 0; round < MAX_ROUNDS; round++) {
		ret = seize_new(fz, tracer);
		if (ret < 0)
			goto fail;
		while (poll_stops(fz)) {
			if (clock_mono() > deadline) {
				ret = -ETIMEDOUT;
				goto fail;
			}
			nanosleep(&nap, NULL);
		}
		/* Nothing new appeared while the others stopped: every thread is held. */
		if (ret == 0)
			break;
	}
	if (round == MAX_ROUNDS) {
		ret = -ETIMEDOUT;
		goto fail;
	}
	if (freezer_nthreads(fz) == 0) {
		ret = -ESRCH;
		goto fail;
	}
	return 0;
fail:
	release(fz);
	return ret;
}

size_t freezer_nthreads(const struct freezer *fz)
{
	size_t i, n = 0;

	for (i = 0; i < fz->n; i++)
		n += fz->t[i].state == T_STOPPED;
	return n;
}

int freezer_thread_pointer(const struct freezer *fz, size_t i, uint64_t *tp)
{
	size_t k, seen = 0;

	for (k = 0; k < fz->n; k++) {
		if (fz->t[k].state != T_STOPPED || seen++ != i)
			continue;
#if defined(__x86_64__)
		struct user_regs_struct regs;

		if (ptrace(PTRACE_GETREGS, fz->t[k].tid, NULL, &regs) != 0)
			return -errno;
		*tp = regs.fs_base;
		return 0;
#else
		(void)tp;
		return -ENOTSUP;
#endif
	}
	return -ENOENT;
}

void freezer_thaw(struct freezer *fz)
{
	release(fz);
}

double freezer_released_at(const struct freezer *fz)
{
	return fz->released_at;
}

void freezer_free(struct freezer *fz)
{
	if (!fz)
		return;
	release(fz);
	/* Still-running seized threads are detached by the kernel when memsleuth exits. */
	free(fz->t);
	free(fz);
}
