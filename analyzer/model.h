/* SPDX-License-Identifier: GPL-2.0-only */
/* The view model: recent samples, a sliding window over them, history and the latest findings. */
#ifndef MEMSLEUTH_MODEL_H
#define MEMSLEUTH_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/sample.h"
#include "analyzer/window.h"

/*
 * The live view (`top`) and its replay read this model and nothing else. It is
 * pure like the rest of the analyzer: samples, analysed windows and the
 * controller's state go in; no clock, no I/O. Time comes from the samples.
 */

/* Held samples at most: a window of 600 s at 1 s ticks, with room to spare. */
#define MODEL_SAMPLES_MAX 1024
/* Points of history kept for the sparklines: ten minutes at 1 s ticks. */
#define MODEL_HISTORY_MAX 600

enum model_series { SERIES_RSS, SERIES_ANON, SERIES_HEAP, SERIES_FDS, SERIES_N };

/* One point of the sparklines' history; a figure not measured carries the previous one. */
struct model_point {
	double t;
	double v[SERIES_N];
};

/* Derives a history point from a sample; `prev` (may be NULL) fills figures not measured. */
void model_point_of(const struct sample *s, const struct model_point *prev,
		    struct model_point *out);

/* Findings of one analysed window, copied out so that the window itself can go. */
struct findings_set {
	uint32_t window_index;
	double window_s;
	double end_t;
	bool partial;
	struct finding *items;	/* most severe first */
	size_t n;
};

/* Deep-copies the findings of `w` into `dst` (cleared first). Returns 0 or -ENOMEM. */
int findings_set_from_window(struct findings_set *dst, const struct window *w);
/* Deep-copies `src` into `dst` (cleared first). Returns 0 or -ENOMEM. */
int findings_set_copy(struct findings_set *dst, const struct findings_set *src);
/* Frees what the set owns and zeroes it; NULL is accepted. */
void findings_set_clear(struct findings_set *fs);

/* What the controller tells the view besides the data. */
struct model_meta {
	bool replay;		/* a recording, not a live target */
	bool alloc;		/* malloc probes requested */
	double target_started;	/* unix time the target started; 0 when unknown */
	double analysis_due;	/* sample time at which the next window closes; 0 unknown */
	bool ended;		/* live: the target exited (the data is final) */
	double tick_s;		/* live: seconds between samples; 0 unknown */
	bool playing;		/* replay: advancing on its own */
	size_t pos, count;	/* replay: current sample (0-based) and samples replayable */
	bool truncated;		/* replay: the recording has more samples than are shown */
	bool cut_off;		/* replay: the recording has no end line (its run was killed) */
	double first_t, last_t;	/* replay: time span of the recording */
};

struct model;

/*
 * Creates an empty model with a sliding window of `window_s` over samples
 * taken every `tick_s` (0: not known); NULL on ENOMEM.
 */
struct model *model_new(double window_s, double tick_s);
/* Frees the model and drops its references; NULL is accepted. */
void model_free(struct model *m);

/*
 * Adds the newest sample, taking over the caller's reference (also on
 * failure), and, unless frozen, rebuilds the sliding window ending at it.
 * Samples older than the window are dropped; past MODEL_SAMPLES_MAX the
 * oldest go and are counted. Returns 0 or -ENOMEM (the model then still
 * shows the previous window).
 */
int model_push(struct model *m, struct sample *s);

/* Adds a history point without a sample (a replay rebuilding the sparklines). */
void model_push_point(struct model *m, const struct model_point *p);

/* Drops every sample, the window and the history (findings and meta stay). */
void model_reset(struct model *m);

/* Changes the sliding window and rebuilds it. Returns 0 or -ENOMEM. */
int model_set_window(struct model *m, double window_s);
double model_window_target(const struct model *m);
/* Seconds between samples as given to model_new (0: not known). */
double model_tick(const struct model *m);

/* Replaces the findings with a copy of those of `w` / of `fs` (NULL: none yet). 0 or -ENOMEM. */
int model_set_findings(struct model *m, const struct window *w);
int model_set_findings_set(struct model *m, const struct findings_set *fs);

/*
 * While frozen the model keeps taking samples and findings, but what the view
 * reads (window, findings, history) stays as it was; unfreezing publishes the
 * newest. Returns 0 or -ENOMEM from the rebuild.
 */
int model_freeze(struct model *m, bool frozen);
bool model_frozen(const struct model *m);

void model_set_meta(struct model *m, const struct model_meta *meta);
const struct model_meta *model_meta(const struct model *m);

/* The sliding window (borrowed), NULL before the first sample. Its end is the newest sample shown. */
const struct window *model_window(const struct model *m);
/* The newest shown sample (borrowed), or NULL. */
const struct sample *model_latest(const struct model *m);
/* The findings shown (borrowed), NULL before the first window was analysed. */
const struct findings_set *model_findings(const struct model *m);
/* Samples dropped from the window by MODEL_SAMPLES_MAX since the model was made. */
uint64_t model_dropped(const struct model *m);

/*
 * The first sample of the sliding window that ends at sample `end`: the
 * newest sample a whole window older (timeline_span_full, with ticks
 * `tick_s` apart), else the oldest
 * before `end` of the same process (a recording may hold a restarted
 * target). `at(ctx, i, &t, &pid)` gives the time and pid of sample i, for i
 * up to `end`. The model cuts its window so; a replay asks where the window
 * it will show starts, to read only that.
 */
size_t model_window_first(size_t end, double window_s, double tick_s,
			  void (*at)(const void *ctx, size_t i, double *t, int32_t *pid),
			  const void *ctx);

/*
 * Copies the last `max` points of series `k` up to the shown sample, oldest
 * first, into `out`; returns how many were copied.
 */
size_t model_series(const struct model *m, enum model_series k, double *out, size_t max);

#endif
