// SPDX-License-Identifier: GPL-2.0-only
/* The summary of a whole run: what grew from the first sample to the last, and the findings that held. */
#include "analyzer/run_summary.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct run_finding *subject_of(struct run_summary *r, uint64_t subject, uint8_t kind)
{
	size_t i;

	for (i = 0; i < r->nfindings; i++)
		if (r->findings[i].subject == subject && r->findings[i].latest.kind == kind)
			return &r->findings[i];
	return NULL;
}

int run_summary_add(struct run_summary *r, const struct window *w)
{
	size_t i;
	int ret = 0;

	if (!r->findings) {
		r->findings = calloc(RUN_FINDINGS_MAX, sizeof(*r->findings));
		if (!r->findings)
			return -ENOMEM;
	}
	if (!r->first)
		r->first = sample_ref(w->start);
	sample_unref(r->last);
	r->last = sample_ref(w->end);
	r->windows++;
	r->last_window = w->index;
	for (i = 0; i < w->nfindings && !ret; i++) {
		const struct finding *f = &w->findings[i];
		uint64_t subject = finding_subject(f);
		struct run_finding *rf = subject_of(r, subject, f->kind);
		struct finding copy;

		if (!rf && r->nfindings == RUN_FINDINGS_MAX) {
			r->dropped++;
			continue;
		}
		ret = finding_copy(&copy, f);
		if (ret)
			break;
		if (!rf) {
			rf = &r->findings[r->nfindings++];
			rf->subject = subject;
			rf->first_window = w->index;
		} else {
			finding_clear(&rf->latest);
		}
		rf->latest = copy;
		rf->windows++;
		rf->last_window = w->index;
		if (f->severity > rf->worst)
			rf->worst = f->severity;
	}
	return ret;
}

int run_summary_window(const struct run_summary *r, struct window **out)
{
	struct sample *ends[2];

	*out = NULL;
	if (!r->first || !r->last)
		return -ENOENT;
	ends[0] = r->first;
	ends[1] = r->last;
	*out = window_build(ends, 2);
	if (!*out)
		return -ENOMEM;
	(*out)->index = r->windows;
	return 0;
}

void run_summary_clear(struct run_summary *r)
{
	size_t i;

	for (i = 0; i < r->nfindings; i++)
		finding_clear(&r->findings[i].latest);
	free(r->findings);
	sample_unref(r->first);
	sample_unref(r->last);
	memset(r, 0, sizeof(*r));
}
