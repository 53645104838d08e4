// SPDX-License-Identifier: GPL-2.0-only
/* The timeline: samples in, windows out, the same for a live target and a recording. */
#include "analyzer/timeline.h"
#include "analyzer/vec.h"

#include <errno.h>
#include <stdlib.h>

struct timeline {
	double window_s;
	struct sample **open;	/* samples of the window being filled; open[0] is its start */
	size_t nopen, open_cap;
	size_t nsamples;
	size_t nwindows;
};

struct timeline *timeline_new(double window_s)
{
	struct timeline *tl = calloc(1, sizeof(*tl));

	if (tl)
		tl->window_s = window_s;
	return tl;
}

static void drop_open(struct timeline *tl)
{
	size_t i;

	for (i = 0; i < tl->nopen; i++)
		sample_free(tl->open[i]);
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
	last = sample_hold(tl->open[tl->nopen - 1]);
	drop_open(tl);
	tl->open[tl->nopen++] = last;
	*out = w;
	return 1;
}

int timeline_push(struct timeline *tl, struct sample *s, struct window **out)
{
	double elapsed, tolerance;
	int ret = 0;

	*out = NULL;
	if (tl->nopen && tl->open[0]->pid != s->pid) {
		if (tl->nopen >= 2) {
			ret = close_window(tl, true, out);
			if (ret < 0) {
				sample_free(s);
				return ret;
			}
		}
		drop_open(tl);
	}
	if (vec_reserve((void **)&tl->open, &tl->open_cap, tl->nopen + 1, sizeof(*tl->open))) {
		sample_free(s);
		return -ENOMEM;
	}
	tl->open[tl->nopen++] = s;
	tl->nsamples++;
	if (*out)
		return ret;	/* the restart closed a window; the new one has just begun */

	elapsed = s->t - tl->open[0]->t;
	/* Ticks are scheduled on exact multiples; allow for a little jitter. */
	tolerance = tl->window_s * 0.02;
	if (tl->nopen >= 2 && elapsed + tolerance >= tl->window_s)
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

size_t timeline_samples(const struct timeline *tl)
{
	return tl->nsamples;
}

size_t timeline_windows(const struct timeline *tl)
{
	return tl->nwindows;
}
