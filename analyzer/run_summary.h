/* SPDX-License-Identifier: GPL-2.0-only */
/* The summary of a whole run: what grew from the first sample to the last, and the findings that held. */
#ifndef MEMSLEUTH_RUN_SUMMARY_H
#define MEMSLEUTH_RUN_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/finding.h"
#include "analyzer/window.h"

/*
 * watch feeds it every window as it closes; at the end it answers for the
 * whole run: the growth from the first sample to the last (a window built on
 * those two, so that regions and stacks are compared across the run), and
 * each finding's history by subject (finding_subject): in how many windows it
 * was reported, from which to which, and the latest wording. A finding held
 * when the last analysed window still reported it. Pure: no I/O, no clock.
 */

/* Subjects followed at most; more are counted in `dropped`. */
#define RUN_FINDINGS_MAX 64

struct run_finding {
	uint64_t subject;
	uint8_t worst;			/* enum severity, the most severe it reached */
	uint32_t windows;		/* windows that reported it */
	uint32_t first_window, last_window;
	struct finding latest;		/* owned copy of the latest report */
};

struct run_summary {
	struct sample *first, *last;	/* held; NULL before the first window */
	uint32_t windows;		/* windows analysed */
	uint32_t last_window;		/* index of the latest */
	struct run_finding *findings;	/* in order of first appearance */
	size_t nfindings;
	uint32_t dropped;		/* subjects past RUN_FINDINGS_MAX */
};

/* Adds a closed window. Returns 0 or -ENOMEM (the summary then misses that window's findings). */
int run_summary_add(struct run_summary *r, const struct window *w);

/*
 * The window from the run's first sample to its last (regions, stacks and
 * totals over the whole run, no findings): 0 with *out (free with
 * window_free), -ENOENT before any window, -ENOMEM.
 */
int run_summary_window(const struct run_summary *r, struct window **out);

/* Whether finding `f` was reported by the last window analysed. */
static inline bool run_finding_held(const struct run_summary *r, const struct run_finding *f)
{
	return f->last_window == r->last_window;
}

/* Frees what the summary holds and empties it. */
void run_summary_clear(struct run_summary *r);

#endif
