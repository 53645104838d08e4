// SPDX-License-Identifier: GPL-2.0-only
/* rss_growth: resident memory rising window after window, and when it reaches the limit. */
#include "analyzer/detect.h"
#include "analyzer/growth.h"
#include "lib/units.h"

#include <errno.h>
#include <math.h>

/*
 * Threshold: RSS rose by the growth rule (analyzer/growth.h: 1 MiB and 0.5%
 * of the RSS at the window's start) in this window AND in the window before it. The slope is the
 * rise over the whole run of rising windows (at most HIST_WINDOWS). Critical
 * when the limit (cgroup memory limit, else RAM) is less than RSS_CRITICAL_S
 * away at that slope.
 */
#define RSS_CRITICAL_S 3600.0

static bool rose(const struct win_record *r)
{
	return r->rss_grew;
}

static int64_t rise(const struct win_record *r)
{
	return r->rss_delta;
}

int detect_rss_growth(struct analyzer *a, struct window *w)
{
	const struct sample *s = w->end;
	int64_t run_bytes = w->delta.rss;
	double run_s = w->window_s, slope, left = INFINITY;
	char b1[24], b2[24], b3[24], b4[24];
	struct finding *f;
	size_t run;

	a->cur.rss_grew = s->has_regions && w->start->has_regions &&
			  growth_rise_counts(w->start->totals.rss, w->delta.rss) &&
			  w->window_s > 0;
	if (!a->cur.rss_grew)
		return 0;
	run = detect_run(a, rose, rise, &run_bytes, &run_s);
	if (run < 2 || run_s <= 0)
		return 0;
	slope = (double)run_bytes / run_s;
	if (s->mem_limit)
		left = s->mem_limit > s->totals.rss ? (double)(s->mem_limit - s->totals.rss) / slope
						    : 0;
	f = detect_add(w, FINDING_RSS_GROWTH, left < RSS_CRITICAL_S ? SEV_CRITICAL : SEV_WARN);
	if (!f)
		return -ENOMEM;
	a->cur.rss_growth = true;
	a->cur.rss_growth_severity = f->severity;
	if (s->mem_limit)
		finding_set_summary(f,
				    "RSS grows %s/min over %zu windows (now %s); at this rate it "
				    "reaches the %s %s limit in %s; see the verdict for the cause",
				    units_bytes(b1, sizeof(b1), slope * 60), run,
				    units_bytes(b2, sizeof(b2), (double)s->totals.rss),
				    units_bytes(b3, sizeof(b3), (double)s->mem_limit),
				    s->mem_limit_cgroup ? "cgroup" : "RAM",
				    units_duration(b4, sizeof(b4), left));
	else
		finding_set_summary(f, "RSS grows %s/min over %zu windows (now %s); see the "
				       "verdict for the cause",
				    units_bytes(b1, sizeof(b1), slope * 60), run,
				    units_bytes(b2, sizeof(b2), (double)s->totals.rss));
	if (!f->summary || finding_add_real(f, EVK_BYTES_PER_S, slope) ||
	    finding_add_int(f, EVK_WINDOWS, (int64_t)run) ||
	    finding_add_int(f, EVK_RSS, (int64_t)s->totals.rss) ||
	    finding_add_int(f, EVK_RSS_DELTA, w->delta.rss) ||
	    finding_add_int(f, EVK_RUN_BYTES, run_bytes))
		return -ENOMEM;
	if (s->mem_limit &&
	    (finding_add_int(f, EVK_LIMIT, (int64_t)s->mem_limit) ||
	     finding_add_str(f, EVK_LIMIT_SOURCE, s->mem_limit_cgroup ? "cgroup" : "ram") ||
	     finding_add_real(f, EVK_SECONDS_TO_LIMIT, left)))
		return -ENOMEM;
	return 0;
}
