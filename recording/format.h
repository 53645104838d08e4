/* SPDX-License-Identifier: GPL-2.0-only */
/* The recording format: every line type, key, column and value spelling, in one place. */
#ifndef MEMSLEUTH_RECORDING_FORMAT_H
#define MEMSLEUTH_RECORDING_FORMAT_H

#include "analyzer/sample.h"

/*
 * The writer (writer.c) and the reader (reader.c, decode.c) spell the format
 * only through the names below. Nothing here comes from the --json printer or
 * from the names the analyzer shows people: an output key or a kind's display
 * name may change without changing what a recording says.
 *
 * Files written by any earlier memsleuth must read the same forever, so a
 * spelling is never renamed or given a new meaning. A reader skips keys and
 * line types it does not know; a change an older reader cannot skip that way
 * raises RECORDING_VERSION, and the reader goes on accepting the versions
 * before it (recording_open refuses only newer ones).
 *
 * Version 1, JSON Lines:
 *   line 1    the header: REC_HDR_* keys
 *   "sample"  one per tick: the raw measurements, REC_S_* keys; figures are
 *             cumulative since attach, so a window is the difference of two
 *   "stack"   the frames of a stack id, written once, before the first sample
 *             whose "stacks" rows use the id
 *   "end"     why recording stopped; absent when the run was cut off
 */
#define RECORDING_FORMAT "memsleuth-recording"
#define RECORDING_VERSION 1

/* The header (line 1). */
#define REC_HDR_FORMAT "format"		/* RECORDING_FORMAT */
#define REC_HDR_VERSION "version"
#define REC_HDR_CREATED "created"	/* unix seconds */
#define REC_HDR_PID "pid"
#define REC_HDR_COMM "comm"
#define REC_HDR_WINDOW "window_s"	/* the window the run was cut into */
#define REC_HDR_TICK "tick_s"
#define REC_HDR_BPF "bpf"		/* the eBPF probes were attached */
#define REC_HDR_ALLOC "alloc"		/* --alloc was asked for */
#define REC_HDR_HOST "host"
#define REC_HDR_KERNEL "kernel"
#define REC_HDR_REGION_COLUMNS "region_columns"	/* rec_region_columns, in row order */

/* Every other line is an object with a type. */
#define REC_TYPE "type"
#define REC_TYPE_SAMPLE "sample"
#define REC_TYPE_STACK "stack"
#define REC_TYPE_END "end"

#define REC_STACK_ID "id"
#define REC_STACK_FRAMES "frames"	/* symbolized, outermost last */
/* Added to stack lines without a version change: a reader that lacks them finds sites anew. */
#define REC_STACK_SITE "site"		/* the site frame's text */
#define REC_STACK_SITE_INDEX "site_index"
#define REC_STACK_TRUNCATED "truncated"	/* the unwind stopped before a root */
#define REC_STACK_MODULES "modules"	/* [{path, build_id, start, end}] */
#define REC_STACK_FRAME_INFO "frame_info"	/* one object per frame, REC_FI_* */
#define REC_MOD_PATH "path"
#define REC_MOD_BUILD_ID "build_id"	/* hex, or null */
#define REC_MOD_START "start"
#define REC_MOD_END "end"
#define REC_FI_ADDR "addr"		/* the pc */
#define REC_FI_MODULE "module"		/* index in modules, or null */
#define REC_FI_FUNCTION "function"	/* demangled, whole */
#define REC_FI_SYMBOL "symbol"		/* raw (mangled) */
#define REC_FI_FILE "file"
#define REC_FI_LINE "line"
#define REC_FI_INLINED "inlined"
#define REC_END_T "t"
#define REC_END_REASON "reason"

/* A sample line; keys after REC_S_LOST_EVENTS are absent when not measured. */
#define REC_S_T "t"
#define REC_S_PID "pid"
#define REC_S_COMM "comm"
#define REC_S_ALLOCATOR "allocator"	/* rec_allocator_name */
#define REC_S_THREADS "threads"
#define REC_S_TOTALS "totals"		/* REC_TOT_* */
#define REC_S_BPF "bpf"
#define REC_S_LOST_EVENTS "lost_events"
#define REC_S_REGIONS "regions"		/* rows, in the header's region_columns order */
#define REC_S_REGIONS_FOLDED "regions_folded"
#define REC_S_FDS "fds"			/* REC_FDS_* */
#define REC_S_ARENAS "arenas"		/* objects, REC_AR_* */
#define REC_S_ARENA_READ "arena_read"	/* REC_AREAD_* */
#define REC_S_MEM_LIMIT "mem_limit"	/* REC_MLIM_* */
#define REC_S_ALLOC "alloc"		/* REC_AL_* */
#define REC_S_STACKS "stacks"		/* rows, REC_STACK_ROW_* */
#define REC_S_EVENTS "events"		/* rows, REC_EVENT_* */
#define REC_S_EVENTS_DROPPED "events_dropped"	/* present with "events" */

#define REC_TOT_RSS "rss"
#define REC_TOT_PSS "pss"
#define REC_TOT_ANON "anon"
#define REC_TOT_SWAP "swap"
#define REC_TOT_SIZE "size"

#define REC_FDS_TOTAL "total"
#define REC_FDS_LIMIT "limit"		/* null: unlimited */
#define REC_FDS_BY_TYPE "by_type"	/* {rec_fd_type_name: count}, non-zero counts only */

#define REC_AR_ADDR "addr"
#define REC_AR_MAIN "main"
#define REC_AR_THREADS "threads"
#define REC_AR_HEAPS "heaps"
#define REC_AR_SYSTEM "system"
#define REC_AR_MAX_SYSTEM "max_system"
#define REC_AR_TOP "top"
#define REC_AR_LIVE "live"		/* -1: unknown */
#define REC_AR_RSS "rss"
#define REC_AR_LIVE_SOURCE "live_source"	/* REC_LIVE_*, with a known live */
/* Only after a frozen walk: absent means the free lists were not read. */
#define REC_AR_FREE "free"
#define REC_AR_TCACHE "tcache"
#define REC_AR_RECLAIMABLE "reclaimable"
#define REC_AR_FRAGMENTATION "fragmentation"

/* Codes of REC_AR_LIVE_SOURCE: the analyzer's enum arena_live_source, pinned below. */
#define REC_LIVE_NONE 0
#define REC_LIVE_WALK 1
#define REC_LIVE_ALLOC 2

#define REC_AREAD_FROZEN "frozen"
#define REC_AREAD_COMPLETE "complete"
#define REC_AREAD_FREEZE_US "freeze_us"
#define REC_AREAD_CPU_US "cpu_us"	/* absent in early files, as are the next two */
#define REC_AREAD_REREADS "rereads"
#define REC_AREAD_UNREAD "unread"
#define REC_AREAD_DEBUGINFO "debuginfo"
#define REC_AREAD_GLIBC_MINOR "glibc_minor"
#define REC_AREAD_MALLOC_MMAPPED "malloc_mmapped"

#define REC_MLIM_BYTES "bytes"
#define REC_MLIM_CGROUP "cgroup"	/* the limit is the cgroup's (else RAM) */

#define REC_AL_ESTIMATED "estimated"
#define REC_AL_SAMPLE_BYTES "sample_bytes"
#define REC_AL_DUTY "duty"
#define REC_AL_SHARE "share"		/* absent in early files: the duty stands for it */
#define REC_AL_SINCE "since"
#define REC_AL_CALLS "calls"
#define REC_AL_FREES "frees"
#define REC_AL_RECORDED "recorded"
#define REC_AL_MISSED_FREES "missed_frees"
#define REC_AL_LOST "lost"
#define REC_AL_LOST_LIVE "lost_live"
#define REC_AL_LIVE_CAP "live_cap"
#define REC_AL_ARENAS "arenas"		/* rows, REC_AAR_*; null without exact figures */
/* Absent in files older than the unmatched-free counts: nothing is discounted then. */
#define REC_AL_UNMATCHED_FREES "unmatched_frees"
#define REC_AL_UNMATCHED_FREE_BYTES "unmatched_free_bytes"
#define REC_AL_UNMATCHED_SIZED "unmatched_sized"
#define REC_AL_FREE_CLASSES "free_classes"	/* rows, REC_FCLASS_* */
/*
 * The stacks' turnover, read once a window (collectors/alloc_ages.h); absent
 * in other samples and in files older than it: the leak rule goes without.
 */
#define REC_AL_AGES_SINCE "ages_since"	/* unix seconds of the reading before; 0 none */
#define REC_AL_AGES "ages"		/* rows, REC_AGE_* */

/* Codes of an alloc arena row's address that are not addresses, pinned below. */
#define REC_AAR_MAIN 0
#define REC_AAR_MMAPPED 1

/* The columns of each kind of row (arrays of figures, for compactness). */
enum rec_region_col {
	REC_COL_NAME,
	REC_COL_KIND,		/* rec_region_kind_name */
	REC_COL_VMAS,
	REC_COL_SIZE,
	REC_COL_RSS,
	REC_COL_PSS,
	REC_COL_ANON,
	REC_COL_DIRTY,
	REC_COL_SWAP,
	REC_NCOLS
};

/* Region columns are named in the header, so a reader finds each by name. */
extern const char *const rec_region_columns[REC_NCOLS];

enum rec_stack_row { REC_STACK_ROW_ID, REC_STACK_ROW_KIND, REC_STACK_ROW_BYTES,
		     REC_STACK_ROW_COUNT, REC_STACK_ROW_LEN };
enum rec_event_row { REC_EVENT_T, REC_EVENT_KIND, REC_EVENT_BYTES, REC_EVENT_ADDR,
		     REC_EVENT_STACK, REC_EVENT_ROW_LEN };
enum rec_alloc_arena_row { REC_AAR_ADDR, REC_AAR_BYTES, REC_AAR_COUNT,
			   REC_AAR_ROW_LEN };
enum rec_free_class_row { REC_FCLASS_CLASS, REC_FCLASS_UNMATCHED, REC_FCLASS_BYTES,
			  REC_FCLASS_EXPECTED256, REC_FCLASS_EXPECTED_BYTES, REC_FCLASS_ROW_LEN };

enum rec_age_row { REC_AGE_ID, REC_AGE_BYTES, REC_AGE_RECORDS, REC_AGE_HELD_BYTES,
		   REC_AGE_HELD_RECORDS, REC_AGE_KEPT_BYTES, REC_AGE_KEPT_RECORDS,
		   REC_AGE_CHURN_SQ, REC_AGE_ROW_LEN };

/* Codes of a free class row's class: log2 of the blocks' usable bytes, or unsized. */
#define REC_FCLASSES 48
#define REC_FCLASS_UNSIZED 47	/* block sizes were not known */

/*
 * How the format spells the analyzer's enumerations: the same words the
 * analyzer shows today, but the format's own, frozen with it. *_name returns
 * "?" for a value the format has no word for; *_parse returns the value, or -1
 * for a word it does not know (also for NULL).
 */
const char *rec_region_kind_name(enum region_kind k);
int rec_region_kind_parse(const char *name);
const char *rec_fd_type_name(enum fd_type t);
int rec_fd_type_parse(const char *name);
const char *rec_stack_kind_name(enum stack_kind k);
int rec_stack_kind_parse(const char *name);
const char *rec_allocator_name(enum allocator_kind a);
int rec_allocator_parse(const char *name);
const char *rec_growth_event_name(enum growth_event_kind k);
int rec_growth_event_parse(const char *name);

#endif
