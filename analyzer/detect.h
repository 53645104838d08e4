/* SPDX-License-Identifier: GPL-2.0-only */
/* The detectors' shared state: what earlier windows of the same process left behind. */
#ifndef MEMSLEUTH_DETECT_H
#define MEMSLEUTH_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/idmap.h"
#include "analyzer/window.h"

/*
 * Growth is only reported when it persists: a detector compares the window
 * with the ones before it, so a one-time start-up allocation, a buffer that
 * doubled once or a cache that filled up stays silent. The history is bounded
 * (HIST_WINDOWS records, HIST_SITES allocation sites) and starts over when the
 * process changes (a restart in a recording, a reused PID).
 */
#define HIST_WINDOWS 16
#define HIST_ARENAS 64
#define HIST_SITES 4096

/* What one window left for the windows after it. */
struct win_record {
	int32_t pid;
	double window_s;
	int64_t rss_delta;
	bool rss_grew;			/* rss_growth's threshold was met */
	bool has_fds;
	int64_t fds_delta;
	int64_t outside_delta;		/* growth outside malloc (mmap_growth) */
	bool outside_grew;
	bool steps;			/* the chunk_steps pattern held */
	size_t narenas;			/* free bytes per arena at its last arena reading */
	struct { uint64_t addr, free, free_resident; } arenas[HIST_ARENAS];

	/* What this window's detectors reported, which the verdict weighs. */
	bool rss_growth;		/* an rss_growth finding, of this severity: */
	uint8_t rss_growth_severity;	/* enum severity */
	bool steps_reported;		/* a chunk_steps finding */
	int64_t leak_bytes;		/* leak findings' established rate over the window */
	int64_t leak_alloc_bytes;	/* of which on alloc (malloc) stacks */
	uint32_t leaks, leaks_critical;	/* leak findings, and of them critical */
	bool alloc;			/* the malloc probes ran */
	int64_t live_delta;		/* the arenas' live bytes, change over the window */
	bool live_known, live_grew;	/* walked at both ends; rose past the verdict's threshold */
};

/* Windows whose rises the leak rule adds up, for a site too sparsely sampled for one. */
#define LEAK_ACCUMULATE 4

/* The leak detector's trend of one allocation site (detect_leak.c). */
struct leak_trend {
	uint64_t key;			/* site and kind */
	uint32_t run;			/* consecutive windows of the leak, from its first rise */
	uint32_t quiet;			/* of which the last ones without a rise of their own */
	uint32_t last_window;		/* index of the last window that saw the site */
	int64_t run_bytes;		/* bytes risen over the run */
	double run_s;			/* seconds the run spans */
	/* Its last windows running in which it counted: rise, sampling variance, pre-attach noise. */
	uint32_t nrecent;
	struct { int64_t rise; double var, pre; } recent[LEAK_ACCUMULATE];
};

struct analyzer {
	struct win_record hist[HIST_WINDOWS];	/* hist[0] is the newest */
	size_t nhist;
	struct win_record cur;			/* filled by the detectors for this window */
	struct leak_trend *trends;
	size_t ntrends, trends_cap;
	struct idmap trend_index;	/* key -> position in trends */
};

/* The i-th previous window of the same process (0 newest), or NULL. */
const struct win_record *detect_prev(const struct analyzer *a, size_t i);

/*
 * Extends the current window's rise back over the previous windows for which
 * `rose` holds, adding their `bytes` to *sum and their durations to *span.
 * Returns the run's length, the current window included.
 */
size_t detect_run(const struct analyzer *a, bool (*rose)(const struct win_record *),
		  int64_t (*bytes)(const struct win_record *), int64_t *sum, double *span);

/* Adds a finding of `kind` at `sev` to w; NULL on ENOMEM. */
struct finding *detect_add(struct window *w, enum finding_kind kind, enum severity sev);

/* The detectors (analyzer/detect_*.c), in the order analyze.c runs them. Each returns 0 or -ENOMEM. */
int detect_chunk_steps(struct analyzer *a, struct window *w);
int detect_arena_fragmentation(struct analyzer *a, struct window *w);
int detect_fd_growth(struct analyzer *a, struct window *w);
int detect_leak(struct analyzer *a, struct window *w);
int detect_mmap_growth(struct analyzer *a, struct window *w);
int detect_rss_growth(struct analyzer *a, struct window *w);
int detect_verdict(struct analyzer *a, struct window *w);

/* Starts a window: resets the history for a new process, fills a->cur's basics. */
void detect_begin(struct analyzer *a, const struct window *w);
/* Ends a window: a->cur becomes hist[0]. */
void detect_commit(struct analyzer *a);
void detect_free(struct analyzer *a);

#endif
