/* SPDX-License-Identifier: GPL-2.0-only */
/* The host-wide view: every process and memory cgroup at one moment, and who grew between two. */
#ifndef MEMSLEUTH_HOST_H
#define MEMSLEUTH_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * `memsleuth ps` and `top` without a PID answer "which process is growing?".
 * A host snapshot is what the host scan (collectors/hostscan.h) read at one
 * moment: cheap figures of every user process and of the memory cgroups. It
 * is plain data, counted like a sample (host_snapshot_ref/unref): a window
 * holds the two snapshots it compares. host_window_make() ranks the processes
 * by growth between two snapshots; it is pure (no I/O, no clock).
 */

/* A figure the scan could not read (a process memsleuth may not inspect). */
#define HOST_UNKNOWN UINT64_MAX
/* Groups one scan reads at most (a host with more is told how many it skipped). */
#define HOST_GROUPS_MAX 65536
/* No cgroup (a process whose /proc/PID/cgroup names no memory hierarchy). */
#define HOST_NO_GROUP UINT32_MAX

/* One user process. Kernel threads are counted, not listed. */
struct host_proc {
	int32_t pid;
	int32_t ppid;
	uint64_t start_time;	/* clock ticks after boot: a reused PID is another process */
	double t;		/* unix seconds it was read at: a scan of thousands takes a while */
	char comm[16];
	uint32_t group;		/* index into host_snapshot.groups, or HOST_NO_GROUP */
	/*
	 * From smaps_rollup (exact: page tables walked at the read). Without the
	 * right to read it, rss comes from statm (the kernel's per-CPU batched
	 * counter) and the others are HOST_UNKNOWN.
	 */
	uint64_t rss, pss, pss_anon, pss_file, pss_shmem, swap;
	uint64_t fds;		/* open descriptors, HOST_UNKNOWN when unreadable */
};

/* A cgroup of the memory hierarchy: a container, a systemd unit, a group made by hand. */
struct host_group {
	char *path;		/* as /proc/PID/cgroup spells it: "/system.slice/x.service" */
	bool listed;		/* every group is walked (--cgroups), not only those seen on processes */
	bool has_memory;	/* its memory files were read */
	uint64_t current;	/* memory.current (v2) or memory.usage_in_bytes (v1) */
	uint64_t anon, file, shmem;	/* from memory.stat */
	uint64_t max;		/* its own limit; HOST_UNKNOWN when none ("max") */
	/*
	 * The limit that binds it: the smallest of its own and its ancestors'
	 * limits, and the room left under it (that group's limit less its
	 * usage). HOST_UNKNOWN when no group above sets one.
	 */
	uint64_t limit, headroom;
	uint32_t nprocs;	/* processes of this snapshot in the group itself */
};

/* What the scan met besides the processes it lists, counted and never dropped silently. */
struct host_counts {
	uint32_t kernel_threads;	/* skipped: no user memory */
	uint32_t zombies;		/* skipped: exited, memory gone, not reaped yet */
	uint32_t unreadable;		/* listed with RSS only: smaps_rollup refused */
	uint32_t fds_unreadable;	/* listed without an fd count */
	uint32_t vanished;		/* exited while the scan read them */
	uint32_t groups_skipped;	/* groups past HOST_GROUPS_MAX, not read */
};

enum host_hierarchy { HOST_CG_NONE, HOST_CG_V2, HOST_CG_V1 };

struct host_snapshot {
	int refs;
	double t;			/* unix seconds at the start of the scan */
	double scan_s;			/* how long the scan took */
	uint64_t mem_total, mem_available;	/* /proc/meminfo; 0 when unknown */
	uint8_t hierarchy;		/* enum host_hierarchy of the groups */
	struct host_proc *procs;	/* ascending PID */
	size_t nprocs, procs_cap;
	struct host_group *groups;	/* ascending path */
	size_t ngroups, groups_cap;
	struct host_counts counts;
};

/* An empty snapshot with one reference; NULL on ENOMEM. */
struct host_snapshot *host_snapshot_new(void);
struct host_snapshot *host_snapshot_ref(struct host_snapshot *s);
/* Drops a reference; the last frees. NULL is accepted. */
void host_snapshot_unref(struct host_snapshot *s);
/* The process (pid, start_time) in `s` (binary search), or NULL. */
const struct host_proc *host_snapshot_find(const struct host_snapshot *s, int32_t pid,
					   uint64_t start_time);
/* The group named `path` in `s` (binary search), or NULL. */
const struct host_group *host_snapshot_group(const struct host_snapshot *s, const char *path);
/* Sorts procs by PID and groups by path, and renumbers the processes' group indexes. */
int host_snapshot_finish(struct host_snapshot *s);

/*
 * Growth: a rise of at least GROWTH_MIN_RISE bytes and GROWTH_MIN_PER_MILLE
 * of the starting figure over one window, the per-window rule of rss_growth
 * (analyzer/growth.h).
 */

/* One process's change between the window's two snapshots. */
struct host_row {
	const struct host_proc *cur;	/* borrowed from the window's end snapshot */
	bool is_new;			/* not in the start snapshot: no deltas */
	bool growing;			/* RSS rose by the growth rule in this window */
	uint32_t growing_windows;	/* consecutive windows it did, this one included */
	int64_t rss_delta, pss_delta, fds_delta;	/* 0 when unknown (see has_*) */
	bool has_pss_delta, has_fds_delta;
	double rate;			/* RSS bytes per second between its two reads */
	/* The limit that binds it: its cgroup's when set and under RAM, else RAM. */
	uint64_t limit;			/* 0 when unknown */
	bool limit_cgroup;
	double seconds_to_limit;	/* headroom / rate while growing; INFINITY otherwise */
};

/* One group's change. */
struct host_group_row {
	const struct host_group *cur;
	bool is_new;
	bool growing;
	int64_t current_delta;
	double rate;
	double seconds_to_limit;	/* headroom / rate while growing; INFINITY otherwise */
};

struct host_window {
	uint32_t index;			/* 1 for the first */
	double t, window_s;
	struct host_snapshot *start, *end;	/* held */
	struct host_row *rows;		/* largest RSS growth first */
	size_t nrows;
	struct host_group_row *groups;	/* listed groups, largest growth first */
	size_t ngroups;
	uint32_t exited;		/* processes in start but not in end */
	uint32_t started;		/* processes in end but not in start */
	uint32_t growing;		/* rows growing */
};

/*
 * Ranks what changed from `start` to `end` (their references are taken:
 * the window holds its own). `prev` (may be NULL) is the window before, for
 * growing_windows. Rows: every process of `end`, sorted by RSS growth
 * (new processes, which have no delta, count as 0), then by fd growth, then
 * PID. Returns 0 with *out (free with host_window_free) or -ENOMEM.
 */
int host_window_make(struct host_snapshot *start, struct host_snapshot *end,
		     const struct host_window *prev, uint32_t index, struct host_window **out);
void host_window_free(struct host_window *w);

/*
 * What a view of the host is limited to: the processes in a cgroup and the
 * groups below it, a process and its descendants, or both at once.
 */
struct host_scope {
	const char *cgroup;	/* as /proc/PID/cgroup spells it, no trailing '/'; NULL: any */
	int32_t root;		/* this PID and its descendants (by parent PID); 0: any */
};

/*
 * Drops from `w` the rows outside `scope` (descendants are found by their
 * parent in the window's end snapshot, so a process whose parent exited is
 * no longer one), and with scope->cgroup the groups outside it; recounts
 * `growing` and `started` over what stays (`exited` stays the host's).
 * Returns 0, or -ENOMEM leaving `w` as it was.
 */
int host_window_scope(struct host_window *w, const struct host_scope *scope);

/* The row of process (pid, start_time) in `w`, or NULL. */
const struct host_row *host_window_row(const struct host_window *w, int32_t pid,
				       uint64_t start_time);

/*
 * The live host view's recent scans: its window slides, from the newest scan
 * back to the newest one at least a window older. Scans closer together than
 * a 32nd of the window are thinned to one, so that a long window with a fine
 * tick holds at most HOST_HISTORY_MAX scans (memory stays bounded on a host
 * with 10,000 processes).
 */
#define HOST_HISTORY_MAX 40

struct host_history {
	struct host_snapshot *s[HOST_HISTORY_MAX];	/* held, oldest first */
	size_t n;
	double window_s, step_s;
};

void host_history_init(struct host_history *h, double window_s, double tick_s);
/* Adds the newest scan, taking over the caller's reference. */
void host_history_push(struct host_history *h, struct host_snapshot *s);
/*
 * The window from the oldest scan kept to the newest: 0 with *out (NULL with
 * fewer than two scans), or -ENOMEM.
 */
int host_history_window(const struct host_history *h, uint32_t index, struct host_window **out);
/* Drops every scan. */
void host_history_clear(struct host_history *h);

#endif
