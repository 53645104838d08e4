/* SPDX-License-Identifier: GPL-2.0-only */
/* The sample: everything the collectors measured at one tick, as plain data. */
#ifndef MEMSLEUTH_SAMPLE_H
#define MEMSLEUTH_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A sample is produced by the collectors (live) or by the recording reader
 * (offline) and consumed by the analyzer. It owns every pointer in it; free it
 * with sample_free(). Absent sources are flagged with the has_* fields so that
 * "not measured" is never confused with "zero".
 */

enum region_kind {
	REGION_HEAP,	/* [heap]: the brk area, glibc's main arena */
	REGION_ARENA,	/* a glibc non-main heap (64 MiB aligned) */
	REGION_STACK,	/* the main stack and thread stacks */
	REGION_ANON,	/* other private anonymous memory */
	REGION_FILE,	/* file mappings, grouped per path */
	REGION_SHMEM,	/* memfd, SysV shm, /dev/shm, shared anonymous */
	REGION_OTHER,	/* [vdso], [vvar], devices, ... */
	REGION_NKINDS
};

/* A group of VMAs that belong together (one name); compared across ticks. */
struct region {
	char *name;
	uint8_t kind;		/* enum region_kind */
	uint32_t nvmas;
	uint64_t size;		/* virtual size */
	uint64_t rss;
	uint64_t pss;
	uint64_t anon;		/* Anonymous: */
	uint64_t private_dirty;
	uint64_t swap;
};

struct totals {
	uint64_t rss;
	uint64_t pss;
	uint64_t anon;
	uint64_t swap;
	uint64_t size;		/* virtual size */
};

enum fd_type {
	FD_FILE,
	FD_SOCKET,
	FD_PIPE,
	FD_DEVICE,
	FD_EVENTFD,
	FD_EPOLL,
	FD_TIMERFD,
	FD_SIGNALFD,
	FD_INOTIFY,
	FD_MEMFD,
	FD_ANON_INODE,		/* other anon_inode kinds (bpf, io_uring, ...) */
	FD_OTHER,
	FD_NTYPES
};

struct fd_summary {
	uint64_t total;
	uint64_t limit;		/* soft RLIMIT_NOFILE; 0 when unknown */
	uint64_t by_type[FD_NTYPES];
};

enum stack_kind {
	STACK_ALLOC,		/* outstanding malloc bytes (--alloc) */
	STACK_MMAP,		/* outstanding mmap'd bytes */
	STACK_BRK,		/* cumulative brk growth */
	STACK_FAULT,		/* sampled page faults (bytes = count * page size) */
	STACK_FD,		/* outstanding fds by opener */
	STACK_NKINDS
};

/*
 * Per-stack state at the tick, cumulative since attach: outstanding bytes and
 * count for alloc/mmap/fd, running totals for brk/fault. Window figures are
 * differences between two samples.
 */
struct stack_stat {
	uint64_t id;		/* stable identity of the stack within a run */
	uint8_t kind;		/* enum stack_kind */
	int64_t bytes;
	int64_t count;
	uint32_t nframes;
	char **frames;		/* symbolized, outermost last */
};

/* One glibc arena as read from the target (see DESIGN.md for the figures). */
struct arena_stat {
	uint64_t addr;
	bool main;
	uint32_t threads;
	uint32_t nheaps;
	uint64_t system;
	uint64_t max_system;
	uint64_t top;
	uint64_t free;		/* bins + fastbins + tcache, top excluded */
	int64_t live;		/* exact live bytes from --alloc; -1 unknown */
	uint64_t rss;		/* resident bytes of the arena's heaps */
	uint64_t reclaimable;	/* resident whole pages inside free chunks */
	double fragmentation;	/* (system - live - top) / system, 0..1 */
};

enum growth_event_kind {
	GROWTH_BRK,
	GROWTH_MMAP,
	GROWTH_MUNMAP,
	GROWTH_MREMAP,
	GROWTH_ALLOC,
};

/* One exact growth event since the previous tick (for step detection). */
struct growth_event {
	double t;
	uint8_t kind;		/* enum growth_event_kind */
	int64_t bytes;
	uint64_t addr;
	uint64_t stack_id;	/* matches stack_stat.id; 0 when none */
};

enum allocator_kind {
	ALLOC_UNKNOWN,
	ALLOC_GLIBC,
	ALLOC_JEMALLOC,
	ALLOC_TCMALLOC,
	ALLOC_MIMALLOC,
	ALLOC_MUSL,
};

/* Growth events kept per sample; the rest are counted in events_dropped. */
#define SAMPLE_MAX_EVENTS 65536

struct sample {
	int refs;		/* see sample_hold() */
	double t;		/* unix seconds of the tick */
	int32_t pid;
	char *comm;
	uint8_t allocator;	/* enum allocator_kind */
	uint32_t threads;

	struct totals totals;

	/* False for a light tick that read totals only (smaps_rollup). */
	bool has_regions;
	struct region *regions;
	size_t nregions, regions_cap;
	uint64_t regions_folded;	/* groups summed into "[other ...]" by REGIONS_MAX */

	bool has_fds;
	struct fd_summary fds;

	bool has_arenas;
	struct arena_stat *arenas;
	size_t narenas, arenas_cap;

	bool has_stacks;
	struct stack_stat *stacks;
	size_t nstacks, stacks_cap;

	struct growth_event *events;	/* at most SAMPLE_MAX_EVENTS */
	size_t nevents, events_cap;
	uint64_t events_dropped;	/* events not kept in this sample (cap) */

	bool has_bpf;
	uint64_t lost_events;	/* cumulative since attach */
};

/* Allocates an empty sample holding one reference; NULL with errno on failure. */
struct sample *sample_new(void);
/* Takes another reference; returns s. */
struct sample *sample_hold(struct sample *s);
/* Drops a reference, freeing the sample and all it owns with the last one; NULL is accepted. */
void sample_free(struct sample *s);

/* Appends a zeroed element to a sample array, growing it; NULL on ENOMEM. */
struct region *sample_add_region(struct sample *s);
struct stack_stat *sample_add_stack(struct sample *s);
struct arena_stat *sample_add_arena(struct sample *s);
struct growth_event *sample_add_event(struct sample *s);

const char *region_kind_name(enum region_kind k);
/* Returns the kind for a name, or -1 when the name is not a kind. */
int region_kind_parse(const char *name);
const char *fd_type_name(enum fd_type t);
int fd_type_parse(const char *name);
const char *stack_kind_name(enum stack_kind k);
int stack_kind_parse(const char *name);
const char *allocator_name(enum allocator_kind a);
int allocator_parse(const char *name);
const char *growth_event_kind_name(enum growth_event_kind k);
int growth_event_kind_parse(const char *name);

#endif
