/* SPDX-License-Identifier: GPL-2.0-only */
/* Access to one target process through a /proc/PID directory fd. */
#ifndef MEMSLEUTH_PROC_H
#define MEMSLEUTH_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct proc_target {
	int pid;
	int dirfd;		/* /proc/PID, O_DIRECTORY */
	uint64_t start_time;	/* clock ticks after boot: tells a reused PID apart */
};

/*
 * Opens /proc/PID and checks that it is a user process memsleuth can read.
 * Returns 0, or a negative errno with a one-line reason in `err`:
 * -ESRCH no such process (or a thread id, not a process), -EINVAL a kernel
 * thread, -EACCES not readable with the caller's privileges.
 */
int proc_open(int pid, struct proc_target *t, char *err, size_t errlen);
void proc_close(struct proc_target *t);

/*
 * Reads a whole file below /proc/PID into a NUL-terminated buffer the caller
 * frees. Returns 0 or a negative errno (-ESRCH when the process is gone).
 */
int proc_read(const struct proc_target *t, const char *name, char **buf, size_t *len);

/*
 * A path to `name` below /proc/PID that goes through the directory fd
 * ("/proc/self/fd/N/name"), for calls that take a path rather than a
 * descriptor (uprobe attach, libdwfl's debug-file search): like openat, it
 * fails once the process is gone instead of reaching another process given
 * the same PID. The target's files are under "root/" (its root directory, so
 * that targets in other mount namespaces work). The caller frees; NULL on
 * ENOMEM.
 */
char *proc_path(const struct proc_target *t, const char *name);

/*
 * Opens `name` below /proc/PID read-only if it is a regular file: a device or
 * FIFO named by the target could block or have side effects. Returns the fd,
 * or -1 with errno set (EINVAL: not a regular file).
 */
int proc_open_regular(const struct proc_target *t, const char *name);

/*
 * A read buffer kept across reads. Reading a large /proc file into fresh
 * memory costs more in page faults than the kernel spends producing the text,
 * so the smaps benchmark's raw read (memsleuth bench) reuses one; the sampler
 * streams smaps instead (smaps_read_fd).
 */
struct readbuf {
	char *data;
	size_t len, cap;
};

/* Reads a whole file below /proc/PID into `b` (NUL-terminated); 0 or -errno. */
int proc_read_buf(const struct proc_target *t, const char *name, struct readbuf *b);
void readbuf_free(struct readbuf *b);

/* Reads a whole file by path the same way (for saved files and /proc/...). */
int file_read(const char *path, char **buf, size_t *len, size_t max);
/* Reads what an open descriptor (standard input, a pipe, a socket) holds up to EOF. */
int fd_read_all(int fd, char **buf, size_t *len, size_t max);

/*
 * When the process started, as unix time: its start (clock ticks after boot,
 * read by proc_open) plus the boot time in /proc/stat. Returns 0 with
 * *unix_start, or a negative errno (-EINVAL: /proc/stat unreadable as such).
 */
int proc_started(const struct proc_target *t, double *unix_start);

/*
 * Fields of /proc/PID/stat below directory fd `dirfd`, read past the
 * parenthesised comm (which may hold any byte): the state letter (field 3),
 * the kernel's flags (9) and the start time in clock ticks after boot (22).
 * Any out pointer may be NULL. Returns 0 or a negative errno (-EIO: no such
 * fields).
 */
int proc_stat_fields(int dirfd, char *state, uint64_t *start_time, unsigned long *flags);

/* The kernel's flag for a kernel thread, in proc_stat_fields' flags. */
#define PF_KTHREAD 0x00200000UL

/* Returns 1 while the same process lives, 0 when it has exited or the PID was reused. */
int proc_alive(const struct proc_target *t);

/* Reads the comm into a new string (the caller frees); NULL on failure. */
char *proc_comm(const struct proc_target *t);

/* Number of threads, from /proc/PID/status; 0 when unreadable. */
uint32_t proc_threads(const struct proc_target *t);

/*
 * Collects the stack pointers of threads blocked in a system call, from
 * /proc/PID/task/TID/syscall. Returns the count (0 is fine); *sps is malloc'd.
 */
size_t proc_thread_sps(const struct proc_target *t, uint64_t **sps);

/* memsleuth's own peak resident memory (VmHWM of /proc/self/status) in bytes; 0 if unknown. */
uint64_t proc_self_peak_rss(void);

/* Whether memsleuth holds capability `cap` (CAP_SYS_PTRACE, ...) in its effective set. */
bool proc_self_has_cap(int cap);

/* Maps an errno from reading /proc to "exited": ENOENT and ESRCH. */
int proc_errno_gone(int err);

#endif
