/* SPDX-License-Identifier: GPL-2.0-only */
/* Starting a command for watch -- CMD: stopped once its libraries are mapped, before any of their code runs. */
#ifndef MEMSLEUTH_LAUNCH_H
#define MEMSLEUTH_LAUNCH_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Probes attached for a PID before it executes a program do not carry over
 * to the new program: the growth probes stop at the exec by design, and the
 * malloc uprobes are planted in the libraries of the old image. Attached
 * after the command started, they would miss its first allocations (the
 * dynamic loader runs library constructors before main, and libstdc++'s
 * allocates). So the command is started under ptrace and let run system call
 * by system call through the dynamic loader until it sets up thread-local
 * storage: arch_prctl(ARCH_SET_FS) comes after every library of the initial
 * set is mapped and before any of them is relocated or initialised (glibc
 * and musl alike; a static glibc program sets it up in its own start code,
 * before its first malloc). There it is stopped with SIGSTOP and ptrace
 * detaches: memsleuth attaches its probes to a process that has run none of
 * its own code yet, and launch_resume lets it go.
 *
 * x86_64: elsewhere the thread pointer is set without a system call, and the
 * command is stopped right after its exec (before its libraries are mapped:
 * probes on them then need the libraries to be found some other way).
 */

/*
 * Starts argv[0] (searched in PATH) with argv, in memsleuth's process group
 * and with its standard streams, signals as a fresh program has them
 * (nothing blocked, nothing ignored). On success the command is stopped
 * (SIGSTOP, not traced) where said above and *pid is set: returns 0. If it
 * cannot be started: -ENOENT, -EACCES, ... (errno from exec) with a
 * one-line reason in `err`; the child is reaped. If it exits or is killed
 * before it gets there: -ECHILD, its wait status in *status.
 */
int launch_start(char *const argv[], pid_t *pid, int *status, char *err, size_t errlen);

/* Lets the stopped command run. Returns 0 or a negative errno. */
int launch_resume(pid_t pid);

/*
 * Reaps the command: waits for it to exit (blocking when `wait` is set)
 * and returns its exit status as a shell gives it (the code, or 128 + the
 * signal that killed it); -EAGAIN when it still runs and `wait` is not set.
 */
int launch_reap(pid_t pid, int wait);

/* The exit status a shell would give for wait status `status`. */
int launch_exit_code(int status);

#endif
