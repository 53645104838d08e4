/* SPDX-License-Identifier: GPL-2.0-only */
/* The sample: everything the collectors measured at one tick, as plain data. */
#ifndef MEMSLEUTH_SAMPLE_H
#define MEMSLEUTH_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/stack.h"

/*
 * A sample is produced by the collectors (live) or by the recording reader
 * (offline) and consumed by the analyzer. It owns every pointer in it and is
 * counted: each holder drops its reference with sample_unref(), and the last
 * one frees it. Whoever is handed a sample with a reference owns that
 * reference; a `*_push` function takes over the caller's (the caller passes
 * sample_ref(s) to keep its own). Absent sources are flagged with the has_*
 * fields so that "not measured" is never confused with "zero".
 *
 * Recordings spell the values of these enumerations in recording/format.c:
 * a new value needs its spelling there too, or recordings cannot hold it.
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
	char **frames;		/* the frames' text, innermost first: def->text (borrowed from def) */
	struct stack_frames *def;	/* shared: each frame's identity, the site, truncation (stack.h) */
};

enum arena_live_source {
	ARENA_LIVE_NONE,
	ARENA_LIVE_WALK,	/* a complete frozen walk: system - top - free */
	ARENA_LIVE_ALLOC,	/* the last walk carried forward by --alloc's exact counts */
};

/* One glibc arena as read from the target (README.md, "glibc arenas, read from outside", defines each figure). */
struct arena_stat {
	uint64_t addr;
	bool main;
	uint32_t threads;
	uint32_t nheaps;
	uint64_t system;
	uint64_t max_system;
	uint64_t top;
	uint64_t free;		/* bins + fastbins + tcache, top excluded */
	uint64_t tcache;	/* of which in tcaches (malloc_info does not count these) */
	bool walked;		/* free, tcache, reclaimable measured (frozen walk) */
	int64_t live;		/* live chunk bytes; -1 unknown (see collectors/arena_live.h) */
	uint8_t live_source;	/* enum arena_live_source */
	uint64_t rss;		/* resident bytes of the arena's heaps */
	uint64_t reclaimable;	/* resident whole pages inside free chunks */
	double fragmentation;	/* (system - live - top) / system, 0..1; -1 not walked */
};

/*
 * Net chunk bytes of one glibc arena since the malloc probes attached: every
 * allocation adds its chunk, every free takes it off (also of chunks
 * allocated before attach, whose headers are read). Exact, so only kept when
 * every call is seen. Absolute live bytes = the arena's live bytes at attach
 * (from an arena walk) + bytes.
 */
struct alloc_arena {
	uint64_t addr;		/* arena address, or ALLOC_ARENA_MAIN_KEY / _MMAPPED_KEY */
	int64_t bytes;
	int64_t count;		/* net chunks */
};

#define ALLOC_ARENA_MAIN_KEY 0	/* glibc's main arena */
#define ALLOC_ARENA_MMAPPED_KEY 1	/* chunks glibc mapped on their own */

/*
 * Frees that matched no allocation record, of one size class (log2 of the
 * block's usable bytes; SAMPLE_FREE_UNSIZED when sizes are not known),
 * counted while allocations were recorded, beside how many of them the
 * records say were frees of allocations not recorded. Cumulative since
 * attach; analyzer/preattach.h turns them into memory freed that was
 * allocated before attach.
 */
#define SAMPLE_FREE_CLASSES 48
#define SAMPLE_FREE_UNSIZED (SAMPLE_FREE_CLASSES - 1)

struct alloc_free_stat {
	uint32_t cls;		/* < SAMPLE_FREE_CLASSES */
	uint64_t unmatched;
	uint64_t unmatched_bytes;
	uint64_t expected256;	/* in 1/256 units */
	uint64_t expected_bytes;
};

/*
 * Turnover of one alloc stack between two readings of the probes' records
 * (made once a window): what the stack held at the previous reading
 * (alloc_summary.ages_since), how much of that is still live now, and what
 * it holds now. Bytes are scaled like the stack figures (by the share of the
 * calls recorded, at this sample); records are the raw count of recorded
 * allocations behind them, by which sampling noise is judged. A bounded
 * structure frees what it held; memory that is never freed stays "kept".
 */
struct alloc_age {
	uint64_t id;		/* stack id, as in stack_stat (kind alloc) */
	int64_t bytes;		/* live now */
	int64_t records;
	int64_t held_bytes;	/* live at the previous reading */
	int64_t held_records;
	int64_t kept_bytes;	/* of those, still live now */
	int64_t kept_records;
	/*
	 * Sum of the squared bytes (scaled) each record stands for, over the
	 * records born since the previous reading and live now and those held
	 * then and freed since: the rise's sampling variance is (1 - p) times
	 * it, p the chance a call is recorded.
	 */
	double churn_sq;
};

/* What the malloc probes (--alloc) saw; how far the alloc stacks are estimates. */
struct alloc_summary {
	bool estimated;		/* stack figures are scaled up from part of the calls */
	uint64_t sample_bytes;	/* one allocation recorded per this many bytes; 0: all */
	double duty;		/* measured fraction of time the allocating calls were probed */
	double share;		/* estimated fraction of allocator calls recorded: the scale */
	double since;		/* unix time the probes attached */
	uint64_t calls;		/* allocating calls seen */
	uint64_t frees;		/* free() calls seen */
	uint64_t recorded;	/* allocations recorded with a stack */
	uint64_t missed_frees;	/* recorded addresses handed out again: freed unseen */
	uint64_t lost;		/* allocations not recorded: a map was full */
	uint64_t lost_live;	/* of which because live_cap allocations were tracked already */
	uint64_t live_cap;	/* allocations the probes can track at once (0: unknown) */
	uint64_t unmatched_frees;	/* frees that matched no record: pre-attach or not recorded */
	uint64_t unmatched_free_bytes;	/* their usable bytes, when unmatched_sized */
	bool unmatched_sized;	/* block sizes read from glibc chunk headers */
	struct alloc_free_stat *free_classes;	/* by class, classes with any count only */
	size_t nfree_classes, free_classes_cap;
	bool has_arenas;	/* exact per-arena figures below */
	struct alloc_arena *arenas;
	size_t narenas, arenas_cap;
	bool has_ages;		/* the records were read for their ages at this sample */
	double ages_since;	/* unix time of the previous such reading; 0 none */
	struct alloc_age *ages;	/* stacks with a figure, by id */
	size_t nages, ages_cap;
};

enum growth_event_kind {
	GROWTH_BRK,
	GROWTH_MMAP,
	GROWTH_MUNMAP,
	GROWTH_MREMAP,
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
	int refs;		/* see sample_ref() */
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
	bool arenas_frozen;	/* free lists walked with the target stopped */
	bool arenas_complete;	/* every free list walked to its end */
	uint32_t freeze_us;	/* how long the target was stopped for it, all freezes; 0 when not */
	uint32_t arenas_rereads;	/* heaps parsed again and freezes repeated after a race */
	uint32_t arenas_cpu_us;	/* memsleuth's CPU time for the read */
	uint64_t arenas_unread;	/* heap bytes beyond a chain that broke: free bytes missed are fewer */
	bool arenas_debuginfo;	/* main_arena found through libc's debug info (else by scanning) */
	uint16_t glibc_minor;	/* the target's glibc 2.N; 0 unknown */
	int64_t malloc_mmapped;	/* glibc mp_.mmapped_mem (large blocks mmap'd by malloc); -1 unknown */

	uint64_t mem_limit;	/* the target's cgroup memory limit, else MemTotal; 0 unknown */
	bool mem_limit_cgroup;	/* mem_limit is the cgroup's */

	bool has_stacks;
	struct stack_stat *stacks;
	size_t nstacks, stacks_cap;

	struct growth_event *events;	/* at most SAMPLE_MAX_EVENTS */
	size_t nevents, events_cap;
	uint64_t events_dropped;	/* events not kept in this sample (cap) */

	bool has_bpf;
	uint64_t lost_events;	/* cumulative since attach */

	bool has_alloc;		/* the malloc probes ran (--alloc) */
	struct alloc_summary alloc;
};

/* Allocates an empty sample holding one reference; NULL with errno on failure. */
struct sample *sample_new(void);
/* Takes another reference; returns s. */
struct sample *sample_ref(struct sample *s);
/* Drops a reference, freeing the sample and all it owns with the last one; NULL is accepted. */
void sample_unref(struct sample *s);

/* Appends a zeroed element to a sample array, growing it; NULL on ENOMEM. */
struct region *sample_add_region(struct sample *s);
struct stack_stat *sample_add_stack(struct sample *s);
struct arena_stat *sample_add_arena(struct sample *s);
struct growth_event *sample_add_event(struct sample *s);
struct alloc_arena *sample_add_alloc_arena(struct sample *s);
struct alloc_free_stat *sample_add_free_class(struct sample *s);
struct alloc_age *sample_add_alloc_age(struct sample *s);
/*
 * Allocations the malloc probes could not record (a map was full) leave the
 * alloc figures that much short: alloc_lost_share() is lost / (recorded +
 * lost), 0 without the probes. A lost allocation or two qualifies nothing:
 * figures are called lower bounds (alloc_lower_bound) from ALLOC_LOST_MATERIAL
 * of them on, and findings say by how much they may be short.
 */
#define ALLOC_LOST_MATERIAL 0.01
double alloc_lost_share(const struct sample *s);
bool alloc_lower_bound(const struct sample *s);

/* The turnover figures of alloc stack `id` in `s`, or NULL (none read, or none for it). */
const struct alloc_age *sample_alloc_age(const struct sample *s, uint64_t id);

/*
 * The malloc heap: the brk area ([heap], glibc's main arena) plus every
 * non-main arena's heaps. sample_heap_rss() is its resident bytes; 0 without
 * regions.
 */
bool region_kind_is_heap(uint8_t kind);
uint64_t sample_heap_rss(const struct sample *s);

/* Makes st share the frames `d` (a reference is taken). */
void stack_stat_set_frames(struct stack_stat *st, struct stack_frames *d);

/*
 * Gives st text-only frames (copies of frames[0..n), a synthetic stack),
 * their site found by the built-in rules. Returns 0 or -ENOMEM.
 */
int stack_stat_copy_frames(struct stack_stat *st, char *const *frames, uint32_t n);

/* The text of st's site frame (stack_site.h), or "an unknown stack" without frames. */
const char *stack_stat_site(const struct stack_stat *st);

/* The names shown to people (the text and JSON reports); recordings spell values their own way. */
const char *region_kind_name(enum region_kind k);
const char *fd_type_name(enum fd_type t);
const char *stack_kind_name(enum stack_kind k);
const char *allocator_name(enum allocator_kind a);

#endif
