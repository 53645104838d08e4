/* SPDX-License-Identifier: GPL-2.0-only */
/* Which processes a target specification names: a PID, a process name, or a cgroup. */
#ifndef MEMSLEUTH_TARGETS_H
#define MEMSLEUTH_TARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A long-running watcher (the agent; watch and top with --name or --cgroup)
 * names its targets by what outlives a process: a name follows a service
 * across restarts, a cgroup follows every process a container or a systemd
 * unit starts. targets_resolve() answers, now, which processes a spec names;
 * the caller calls it again from time to time (and when a target exits) and
 * opens what is new: that is how restarts are followed. Resolution is
 * stateless and reads /proc and the cgroup filesystem only.
 *
 * A process is identified by its PID and its start time (clock ticks after
 * boot, as proc_target.start_time), so a reused PID is a new process.
 */

enum target_by {
	TARGET_PID,		/* one process */
	TARGET_NAME,		/* processes whose command name is `name` */
	TARGET_CGROUP,		/* every process in a cgroup v2 group */
};

struct target_spec {
	uint8_t by;		/* enum target_by */
	int pid;		/* TARGET_PID */
	const char *name;	/* TARGET_NAME: borrowed; TARGET_CGROUP: the group's path */
	bool all;		/* TARGET_NAME: every match, not only the newest */
};

/* One process a spec names. */
struct target_proc {
	int pid;
	uint64_t start_time;	/* clock ticks after boot */
	char comm[16];		/* the kernel's command name (at most 15 bytes) */
};

/* A growable list of processes; free with target_list_free. */
struct target_list {
	struct target_proc *procs;
	size_t n, cap;
};

/*
 * Whether process `pid`, whose comm is `comm`, runs a program called `name`.
 * The kernel keeps 15 bytes of a command name, so a longer `name` matches a
 * comm equal to its first 15 bytes whose argv[0] or executable is called
 * `name`. memsleuth itself and kernel threads never match. Exposed for tests.
 */
bool targets_name_matches(int pid, const char *comm, const char *name);

/*
 * Where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup, or where a
 * hybrid system put it (/sys/fs/cgroup/unified). Read once (borrowed).
 */
const char *targets_cgroup_root(void);

/*
 * The directory of cgroup `path` in the cgroup v2 hierarchy: an absolute
 * path under `root` (targets_cgroup_root()) is kept, anything else is taken
 * relative to `root` ("/system.slice/x.service", as /proc/PID/cgroup spells
 * it, and "system.slice/x.service" both work). Returns 0, -ENAMETOOLONG, or
 * -EINVAL for a path with a ".." component.
 */
int targets_cgroup_dir(const char *path, const char *root, char *out, size_t len);

/*
 * The command names of the host's processes as last read, for a caller that
 * resolves names again and again (the agent, every 5 s): reading each
 * process's name is what a resolution costs on a host with thousands of
 * processes, so a process's name is read when it is first seen and then
 * again at most every TARGETS_NAME_REREAD_S (a name changes at exec or
 * prctl(PR_SET_NAME): a wrapper that executes the service is found by then).
 * Zero-initialized; free with targets_cache_free.
 */
#define TARGETS_NAME_REREAD_S 60.0

struct targets_cache {
	struct targets_cached {
		int pid;
		char comm[16];
		double read_at;		/* monotonic seconds */
		uint64_t seen;		/* the scan that last saw it */
	} *e;
	size_t n, cap;
	uint64_t scan;
};

void targets_cache_free(struct targets_cache *c);

/*
 * Appends to `out` the processes `spec` names now, in ascending PID order
 * within the spec. TARGET_NAME gives the newest match (the latest start time)
 * unless spec->all; with `cache` (may be NULL) names are read as said above,
 * `now` being the monotonic time. A spec that names no process now is not an
 * error: 0 with nothing appended. Returns 0, -ENOMEM, or for TARGET_CGROUP
 * -ENOENT (no such group) or another negative errno from reading
 * cgroup.procs. Processes already in `out` (same PID and start time) are
 * not repeated.
 */
int targets_resolve(const struct target_spec *spec, struct target_list *out,
		    struct targets_cache *cache, double now);

/* Whether `out` holds the process (pid, start_time). */
bool target_list_has(const struct target_list *l, int pid, uint64_t start_time);

void target_list_clear(struct target_list *l);
void target_list_free(struct target_list *l);

/* The cgroup v2 path of process `pid` ("/system.slice/x.service"); the caller frees; NULL when unknown. */
char *targets_cgroup_of(int pid);

/* The start time of process `pid` (clock ticks after boot) and its comm; 0 or a negative errno. */
int targets_stat(int pid, uint64_t *start_time, char comm[16]);

#endif
