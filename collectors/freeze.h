/* SPDX-License-Identifier: GPL-2.0-only */
/* Stops every thread of a target briefly with ptrace, and always lets it go again. */
#ifndef MEMSLEUTH_FREEZE_H
#define MEMSLEUTH_FREEZE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Why ptrace and not SIGSTOP: a tracee is detached, and resumes, by the kernel
 * when its tracer dies, whatever kills memsleuth (SIGKILL included); a process
 * stopped with SIGSTOP would stay stopped. Threads are attached with
 * PTRACE_SEIZE (no signal is sent to the target) and stopped with
 * PTRACE_INTERRUPT, never with PTRACE_O_EXITKILL. While frozen, memsleuth
 * blocks the signals that would stop or interrupt it (SIGINT, SIGTERM, SIGHUP,
 * SIGTSTP, SIGTTIN, SIGTTOU); they are handled after the target resumes. It
 * also runs at real-time priority (SCHED_FIFO 1) when it may, so that the
 * threads it lets go, or other work, do not keep it from letting go the rest.
 */

/* One freezer per target; it remembers threads that did not stop in time. */
struct freezer;

/*
 * Creates a freezer for process `pid`, whose /proc/PID directory is open as
 * `dirfd` (borrowed: it must stay open while the freezer lives); NULL on ENOMEM.
 */
struct freezer *freezer_new(int pid, int dirfd);
/* Resumes anything still attached and frees; NULL is accepted. */
void freezer_free(struct freezer *fz);

/*
 * Stops every thread, waiting at most `timeout_s` for them to stop. Returns 0
 * when all are stopped (then call freezer_thaw), or, with every thread
 * already resumed: -EBUSY when another tracer (a debugger) holds the target
 * (its PID in *tracer), -EPERM without the right to trace it, -ETIMEDOUT when
 * a thread did not stop in time, -ESRCH when the target has gone.
 */
int freezer_stop(struct freezer *fz, double timeout_s, int *tracer);

/* Number of stopped threads, and the thread pointer (fs base) of the i-th; 0 or -errno. */
size_t freezer_nthreads(const struct freezer *fz);
int freezer_thread_pointer(const struct freezer *fz, size_t i, uint64_t *tp);

/*
 * Resumes every thread (re-delivering signals that arrived while stopped). A
 * thread that did not stop in time (uninterruptible sleep) is let go by a
 * later call once it has stopped: call this at every tick.
 */
void freezer_thaw(struct freezer *fz);

/*
 * CLOCK_MONOTONIC seconds (lib/clock.h) when freezer_thaw last let every
 * thread go: the end of the target's stop, which may come well before
 * memsleuth runs again; 0 before any.
 */
double freezer_released_at(const struct freezer *fz);

#endif
