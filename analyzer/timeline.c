// SPDX-License-Identifier: GPL-2.0-only
/* The timeline: samples in, windows out, the same for a live target and a recording. */
#include "analyzer/timeline.h"
#include "lib/vec.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct timeline {
	double window_s, tick_s;
	struct sample **open;	/* samples of the window being filled; open[0] is its start */
	size_t nopen, open_cap;
	size_t nwindows;
	uint32_t thinned;	/* samples dropped from the open window by the cap */
};

bool timeline_span_full(double span_s, double window_s, double tick_s)
{
	double slack = tick_s > 0 ? tick_s / 2 : window_s * TIMELINE_TOLERANCE;

	return span_s + slack > window_s;
}

bool timeline_whole_ticks(double window_s, double tick_s, double *ticks)
{
	/* Relative slack for a window that is a whole number of ticks in decimal (-i 0.3 --tick 0.1). */
	*ticks = ceil(window_s / tick_s - 1e-6);
	if (*ticks < 1)
		*ticks = 1;
	return fabs(*ticks * tick_s - window_s) > 1e-6 * window_s;
}

struct timeline *timeline_new(double window_s, double tick_s)
{
	struct timeline *tl = calloc(1, sizeof(*tl));

	if (tl) {
		tl->window_s = window_s;
		tl->tick_s = tick_s;
	}
	return tl;
}

static void drop_open(struct timeline *tl)
{
	size_t i;

	for (i = 0; i < tl->nopen; i++)
		sample_unref(tl->open[i]);
	tl->nopen = 0;
}

void timeline_free(struct timeline *tl)
{
	if (!tl)
		return;
	drop_open(tl);
	free(tl->open);
	free(tl);
}

/*
 * Hands the growth events of a sample that is dropped to the next sample kept,
 * so that "events since the previous tick" stays true and no event is lost
 * silently: past SAMPLE_MAX_EVENTS they are counted as dropped.
 */
static int merge_events(const struct sample *from, struct sample *into)
{
	size_t room = into->nevents < SAMPLE_MAX_EVENTS ? SAMPLE_MAX_EVENTS - into->nevents : 0;
	size_t keep = from->nevents < room ? from->nevents : room;
	size_t total = keep + into->nevents, i;
	struct growth_event *ev;

	if (keep) {
		ev = malloc(total * sizeof(*ev));
		if (!ev)
			return -ENOMEM;
		memcpy(ev, from->events, keep * sizeof(*ev));
		for (i = 0; i < into->nevents; i++)
			ev[keep + i] = into->events[i];
		free(into->events);
		into->events = ev;
		into->nevents = into->events_cap = total;
	}
	into->events_dropped += from->events_dropped + (from->nevents - keep);
	return 0;
}

/*
 * A window holds at most TIMELINE_MAX_SAMPLES samples (a long window with a
 * short tick would otherwise keep thousands, each with its regions): when full,
 * every other sample between the first and the newest is dropped, and counted.
 */
static int thin_open(struct timeline *tl)
{
	size_t i, kept = 1;

	for (i = 1; i + 1 < tl->nopen; i++) {
		if (i % 2 == 0) {
			tl->open[kept++] = tl->open[i];
			continue;
		}
		if (merge_events(tl->open[i], tl->open[i + 1]))
			return -ENOMEM;
		sample_unref(tl->open[i]);
		tl->thinned++;
	}
	tl->open[kept++] = tl->open[tl->nopen - 1];
	tl->nopen = kept;
	return 0;
}

/* Closes the open window at its last sample, which then starts the next one. */
static int close_window(struct timeline *tl, bool partial, struct window **out)
{
	struct sample *last;
	struct window *w;

	w = window_build(tl->open, tl->nopen);
	if (!w)
		return -ENOMEM;
	w->partial = partial;
	w->index = (uint32_t)++tl->nwindows;
	w->samples_thinned = tl->thinned;
	tl->thinned = 0;
	last = sample_ref(tl->open[tl->nopen - 1]);
	drop_open(tl);
	tl->open[tl->nopen++] = last;
	*out = w;
	return 1;
}

int timeline_push(struct timeline *tl, struct sample *s, struct window **out)
{
	int ret = 0;

	*out = NULL;
	if (tl->nopen && tl->open[0]->pid != s->pid) {
		if (tl->nopen >= 2) {
			ret = close_window(tl, true, out);
			if (ret < 0) {
				sample_unref(s);
				return ret;
			}
		}
		drop_open(tl);
		tl->thinned = 0;
	}
	if (tl->nopen >= TIMELINE_MAX_SAMPLES && thin_open(tl)) {
		sample_unref(s);
		return -ENOMEM;
	}
	if (vec_reserve((void **)&tl->open, &tl->open_cap, tl->nopen + 1, sizeof(*tl->open))) {
		sample_unref(s);
		return -ENOMEM;
	}
	tl->open[tl->nopen++] = s;
	if (*out)
		return ret;	/* the restart closed a window; the new one has just begun */

	if (tl->nopen >= 2 && timeline_span_full(s->t - tl->open[0]->t, tl->window_s, tl->tick_s))
		return close_window(tl, false, out);
	return 0;
}

int timeline_flush(struct timeline *tl, struct window **out)
{
	*out = NULL;
	if (tl->nopen < 2)
		return 0;
	return close_window(tl, true, out);
}
