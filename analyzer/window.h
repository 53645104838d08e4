/* SPDX-License-Identifier: GPL-2.0-only */
/* A window: the changes between two samples a window apart, and the findings on them. */
#ifndef MEMSLEUTH_WINDOW_H
#define MEMSLEUTH_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/finding.h"
#include "analyzer/sample.h"

struct totals_delta {
	int64_t rss, pss, anon, swap, size;
};

/* A region compared across the window; `cur` or `old` is NULL when it appeared or went. */
struct region_delta {
	const struct region *cur;
	const struct region *old;
	const char *name;
	uint8_t kind;
	int64_t rss_delta;
	int64_t private_dirty_delta;
	int64_t swap_delta;
	int64_t size_delta;
};

struct stack_delta {
	const struct stack_stat *cur;	/* at window end, NULL when gone */
	const struct stack_stat *old;	/* at window start, NULL when new */
	int64_t bytes_delta;
	int64_t count_delta;
};

struct window {
	uint32_t index;			/* 1-based, in the order windows closed */
	bool partial;			/* closed early: the target exited */
	double window_s;		/* end->t - start->t */
	struct sample *start, *end;	/* held */
	struct sample **ticks;		/* every sample from start to end, held */
	size_t nticks;

	struct totals_delta delta;	/* end minus start; zero if regions absent */
	int64_t fds_delta;
	int64_t fds_type_delta[FD_NTYPES];

	struct region_delta *regions;	/* sorted by |rss_delta|, then rss */
	size_t nregions;

	struct stack_delta *stacks;	/* by kind, then |bytes_delta| */
	size_t nstacks;

	struct finding *findings;	/* most severe first */
	size_t nfindings, findings_cap;

	/*
	 * Frees of memory allocated before the malloc probes attached
	 * (analyzer/preattach.h), summed over the size classes: blocks and
	 * bytes since attach at the window's end, and in the window. Zero
	 * without --alloc; bytes are 0 where block sizes are not known.
	 */
	struct {
		double frees, free_bytes;
		double frees_delta, free_bytes_delta;
	} preattach;

	uint64_t lost_events;		/* lost in the kernel or dropped by caps, in this window */
	uint32_t samples_thinned;	/* samples dropped by TIMELINE_MAX_SAMPLES (set by timeline) */
};

/*
 * Builds the window between `ticks[0]` and `ticks[n-1]` (n >= 1), taking a
 * reference to each sample. Returns NULL with errno ENOMEM on failure; the
 * caller frees with window_free().
 */
struct window *window_build(struct sample *const *ticks, size_t n);
void window_free(struct window *w);

/*
 * The newest sample of the window whose malloc-probe records were read for
 * their turnover (alloc.has_ages, once a window), or NULL. Borrowed.
 */
const struct sample *window_ages(const struct window *w);

/*
 * Pages of shared memory the process touched in segments it had mapped
 * already (a postgres backend reading the server's shared buffers): the RSS
 * growth of each shared-memory region beyond the growth of its size. They
 * are the segment's, paid for once by whoever made it, not the process's own
 * growth: window_own_delta() is the RSS growth without them. 0 (and the RSS
 * growth) unless both ends read their regions.
 */
int64_t window_shared_touched(const struct window *w);
int64_t window_own_delta(const struct window *w);

/* The change of sample_heap_rss() over the window; 0 unless both ends read their regions. */
int64_t window_heap_delta(const struct window *w);

/* Appends an empty finding; NULL on ENOMEM. */
struct finding *window_add_finding(struct window *w);
/* Orders findings most severe first (stable). */
void window_sort_findings(struct window *w);

#endif
