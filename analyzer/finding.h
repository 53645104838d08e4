/* SPDX-License-Identifier: GPL-2.0-only */
/* A finding: what a detector concluded about a window, with its evidence. */
#ifndef MEMSLEUTH_FINDING_H
#define MEMSLEUTH_FINDING_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer/sample.h"

enum severity { SEV_INFO, SEV_WARN, SEV_CRITICAL };

/* What a finding is about: one kind per detector (analyzer/detect_*.c). */
enum finding_kind {
	FINDING_CHUNK_STEPS,
	FINDING_ARENA_FRAGMENTATION,
	FINDING_FD_GROWTH,
	FINDING_LEAK,
	FINDING_MMAP_GROWTH,
	FINDING_RSS_GROWTH,
	FINDING_VERDICT,
	FINDING_NKINDS
};

/* What a figure of evidence measures, so that a view can write it for people. */
enum ev_unit {
	UNIT_NONE,		/* a count of what the key names, or text */
	UNIT_BYTES,
	UNIT_BYTES_PER_S,
	UNIT_SHARE,		/* a fraction, 0..1 */
	UNIT_SECONDS,
	UNIT_PER_S,		/* a count of what the key names, per second */
	UNIT_FLAG,		/* 0 or 1 */
	UNIT_ID,		/* an identifier for programs (joins JSON objects), not for people */
};

/*
 * The evidence keys: each is one figure with one spelling (its key in the
 * JSON output, ev_key_name) and one unit (ev_key_unit). Grouped by the
 * detector that gives them first; others reuse them.
 */
enum ev_key {
	/* arena_fragmentation */
	EVK_ARENA,			/* text: the arena's address */
	EVK_MAIN,
	EVK_THREADS,
	EVK_SYSTEM,			/* bytes */
	EVK_TOP,			/* bytes */
	EVK_FREE,			/* bytes */
	EVK_FREE_RESIDENT,		/* bytes */
	EVK_RECLAIMABLE,		/* bytes */
	EVK_RSS,			/* bytes */
	EVK_FRAGMENTATION,		/* share */
	EVK_ARENAS,
	EVK_FREE_DELTA,			/* bytes */
	EVK_PARTIAL_READ,		/* the arena read was incomplete: figures are lower bounds */
	/* chunk_steps */
	EVK_QUANTUM,			/* bytes */
	EVK_STEPS,
	EVK_BURSTS,
	EVK_TRIES,
	EVK_CHANCE,
	EVK_BYTES,			/* bytes */
	EVK_GROWTH,			/* bytes */
	EVK_QUANTUM_SOURCE,		/* text */
	EVK_REGION,			/* text */
	/* fd_growth (descriptor counts, not bytes) */
	EVK_FDS,
	EVK_DELTA,
	EVK_RUN_RISE,
	EVK_WINDOWS,
	EVK_FDS_PER_S,
	EVK_TOP_TYPE,			/* text */
	EVK_FD_LIMIT,			/* spelt "limit": RLIMIT_NOFILE */
	EVK_SECONDS_TO_LIMIT,		/* seconds */
	EVK_TOP_STACK_NEW_FDS,
	EVK_TOP_STACK_OPEN_FDS,
	EVK_SECOND_STACK,		/* text */
	EVK_THIRD_STACK,		/* text */
	EVK_FD_TYPE,			/* FD_NTYPES keys, one per enum fd_type, spelt as it */
	EVK_FD_TYPE_LAST = EVK_FD_TYPE + FD_NTYPES - 1,
	/* leak */
	EVK_STACK_KIND,			/* text */
	EVK_ALLOC,
	EVK_LOWER_BOUND,
	EVK_STACK_ID,
	EVK_COUNT,
	EVK_BYTES_DELTA,		/* bytes */
	EVK_PREATTACH_BYTES,		/* bytes */
	EVK_RUN_BYTES,			/* bytes */
	EVK_BYTES_PER_S,		/* bytes per second */
	EVK_SITE,			/* text: the allocating function */
	EVK_PATHS,			/* call paths (stacks) of the site */
	EVK_CALL_PATHS,			/* text: each path's callers, "a < b < c; ..." */
	EVK_FREED_SHARE,		/* share of what it held a reading ago that it freed */
	EVK_NOISE,			/* bytes: the rise sampling noise could make */
	EVK_LOST_SHARE,			/* share of allocations not recorded (map full) */
	/* mmap_growth */
	EVK_ANON_DELTA,			/* bytes */
	EVK_SHMEM_DELTA,		/* bytes */
	EVK_STACK_DELTA,		/* bytes */
	EVK_MALLOC_MMAPPED_DELTA,	/* bytes */
	EVK_TOP_STACK_BYTES_DELTA,	/* bytes */
	/* rss_growth */
	EVK_RSS_DELTA,			/* bytes */
	EVK_LIMIT,			/* bytes: the memory limit */
	EVK_LIMIT_SOURCE,		/* text */
	EVK_OWN_DELTA,			/* bytes: RSS growth less shared pages touched */
	EVK_SHARED_TOUCHED,		/* bytes */
	EVK_PACE,			/* text: steady, slowing, uneven */
	/* verdict: a cause, then each cause's bytes and share (detect_verdict.c) */
	EVK_CAUSE,			/* text */
	EVK_LIVE_DELTA,			/* bytes: the arenas' live bytes, change */
	EVK_CHUNK_STEPS,
	EVK_ARENA_READ_PARTIAL,		/* an arena reading of the window was incomplete */
	EVK_BYTES_ARENA_FRAGMENTATION,	/* bytes */
	EVK_BYTES_LEAK,
	EVK_BYTES_LIVE_HEAP,
	EVK_BYTES_MALLOC_HEAP,
	EVK_BYTES_MMAP_GROWTH,
	EVK_BYTES_TOP,
	EVK_BYTES_OTHER,
	EVK_SHARE_ARENA_FRAGMENTATION,	/* share */
	EVK_SHARE_LEAK,
	EVK_SHARE_LIVE_HEAP,
	EVK_SHARE_MALLOC_HEAP,
	EVK_SHARE_MMAP_GROWTH,
	EVK_SHARE_TOP,
	EVK_SHARE_OTHER,
	EVK_NKEYS
};

enum evidence_type { EV_INT, EV_REAL, EV_STR };

/* One figure of evidence; `s` owned. */
struct evidence {
	uint8_t key;		/* enum ev_key */
	uint8_t type;		/* enum evidence_type */
	int64_t i;
	double d;
	char *s;
};

struct finding {
	uint8_t kind;		/* enum finding_kind */
	uint8_t severity;	/* enum severity */
	char *summary;		/* one line with numbers and a hint */
	struct evidence *ev;
	size_t nev, ev_cap;
	char **frames;		/* the stack that explains it, when there is one */
	uint32_t nframes;
	uint32_t site;		/* the frame that names the program's code (stack_site.h) */
	bool truncated;		/* the stack was cut before its root */
};

/* Appends evidence; returns 0 or -ENOMEM. */
int finding_add_int(struct finding *f, enum ev_key key, int64_t v);
int finding_add_real(struct finding *f, enum ev_key key, double v);
int finding_add_str(struct finding *f, enum ev_key key, const char *v);
/* Sets the summary printf-style; returns 0 or -ENOMEM. */
int finding_set_summary(struct finding *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Copies `n` frames into the finding; returns 0 or -ENOMEM. */
int finding_set_frames(struct finding *f, char *const *frames, uint32_t n);
/* Copies a stack's frames, its site and whether it was cut; returns 0 or -ENOMEM. */
int finding_set_stack(struct finding *f, const struct stack_stat *st);
/* Deep-copies `src` into `dst` (which owns nothing yet). Returns 0 or -ENOMEM (dst then empty). */
int finding_copy(struct finding *dst, const struct finding *src);
/* Frees what the finding owns (not the struct itself). */
void finding_clear(struct finding *f);

/*
 * What a finding is about, the same from one window to the next although its
 * figures change: its kind and its first frame, else its first text figure
 * (the arena, the region). The live view's selection and the run summary
 * follow a finding by it.
 */
uint64_t finding_subject(const struct finding *f);

/* Spellings in the output ("?" for a value out of range). */
const char *severity_name(enum severity s);
const char *finding_kind_name(enum finding_kind k);
const char *ev_key_name(enum ev_key k);
/* The unit of a key's figures; UNIT_NONE for a key out of range. */
enum ev_unit ev_key_unit(enum ev_key k);

#endif
