// SPDX-License-Identifier: GPL-2.0-only
/* The pipeline: samples in, analysed windows out, the same for a live run and a recording. */
#include "analyzer/pipeline.h"
#include "analyzer/analyze.h"
#include "analyzer/timeline.h"

#include <errno.h>
#include <stdlib.h>

struct pipeline {
	struct timeline *timeline;
	struct analyzer *analyzer;
};

struct pipeline *pipeline_new(double window_s, double tick_s)
{
	struct pipeline *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->timeline = timeline_new(window_s, tick_s);
	p->analyzer = analyzer_new();
	if (!p->timeline || !p->analyzer) {
		pipeline_free(p);
		return NULL;
	}
	return p;
}

/* A window the timeline closed (ret 1) gets its findings; a failure leaves no window. */
static int analyse(struct pipeline *p, int ret, struct window **out)
{
	if (ret == 1 && analyzer_window(p->analyzer, *out))
		ret = -ENOMEM;
	if (ret < 0) {
		window_free(*out);
		*out = NULL;
	}
	return ret;
}

int pipeline_push(struct pipeline *p, struct sample *s, struct window **out)
{
	return analyse(p, timeline_push(p->timeline, s, out), out);
}

int pipeline_flush(struct pipeline *p, struct window **out)
{
	return analyse(p, timeline_flush(p->timeline, out), out);
}

void pipeline_free(struct pipeline *p)
{
	if (!p)
		return;
	timeline_free(p->timeline);
	analyzer_free(p->analyzer);
	free(p);
}
