// SPDX-License-Identifier: GPL-2.0-only
/* rss_growth: the process's own memory rising window after window, and when it reaches the limit. */
#include "analyzer/detect.h"
#include "analyzer/growth.h"
#include "lib/units.h"

#include <errno.h>
#include <math.h>

/*
 * The measure is the process's own memory: RSS less the pages of shared
 * segments mapped before the window that it touched (window_own_delta: a
 * postgres backend reading the server's shared buffers grows its RSS by
 * memory the server paid for once).
 * Threshold: it rose by the growth rule (analyzer/growth.h: 1 MiB and 0.5%
 * of the RSS at the window's start) in this window AND in the window before it.
 * The slope is that of the last two windows, not of the whole run: a burst
 * three windows ago says nothing of the rate now. The growth is steady when
 * the two windows' rates are within RSS_STEADY of each other; then the time
 * to the limit (cgroup memory limit, else RAM) is given, and the finding is
 * critical when that is less than RSS_CRITICAL_S away. Growth that slows
 * (this window's rate under 1 / RSS_STEADY of the one before: a cache
 * filling, a structure approaching its size) or comes in uneven bursts gets
 * no time to the limit: it would extrapolate a rate that is not the
 * process's.
 */
#define RSS_STEADY 2.0
#define RSS_CRITICAL_S 3600.0

static bool rose(const struct win_record *r)
{
	return r->rss_grew;
}

static int64_t rise(const struct win_record *r)
{
	return r->rss_delta;
}

/* How the two windows' rates compare, for the summary's wording. */
enum pace { STEADY, SLOWING, UNEVEN };

static int add_limit(struct finding *f, const struct sample *s, double left)
{
	if (finding_add_int(f, EVK_LIMIT, (int64_t)s->mem_limit) ||
	    finding_add_str(f, EVK_LIMIT_SOURCE, s->mem_limit_cgroup ? "cgroup" : "ram") ||
	    finding_add_real(f, EVK_SECONDS_TO_LIMIT, left))
		return -ENOMEM;
	return 0;
}

int detect_rss_growth(struct analyzer *a, struct window *w)
{
	const struct sample *s = w->end;
	const struct win_record *p = detect_prev(a, 0);
	int64_t own = window_own_delta(w), run_bytes = own;
	double run_s = w->window_s, slope, now_rate, before_rate, left = INFINITY;
	char b1[24], b2[24], b3[24], b4[24], b5[24];
	enum pace pace = STEADY;
	struct finding *f;
	size_t run;

	a->cur.rss_delta = own;
	a->cur.rss_grew = s->has_regions && w->start->has_regions &&
			  growth_rise_counts(w->start->totals.rss, own) &&
			  w->window_s > 0;
	if (!a->cur.rss_grew)
		return 0;
	run = detect_run(a, rose, rise, &run_bytes, &run_s);
	if (run < 2 || run_s <= 0 || !p || p->window_s <= 0)
		return 0;
	now_rate = (double)own / w->window_s;
	before_rate = (double)p->rss_delta / p->window_s;
	slope = (double)(own + p->rss_delta) / (w->window_s + p->window_s);
	if (now_rate * RSS_STEADY < before_rate)
		pace = SLOWING;
	else if (now_rate > RSS_STEADY * before_rate)
		pace = UNEVEN;
	if (s->mem_limit && pace == STEADY)
		left = s->mem_limit > s->totals.rss ? (double)(s->mem_limit - s->totals.rss) / slope
						    : 0;
	f = detect_add(w, FINDING_RSS_GROWTH, left < RSS_CRITICAL_S ? SEV_CRITICAL : SEV_WARN);
	if (!f)
		return -ENOMEM;
	a->cur.rss_growth = true;
	a->cur.rss_growth_severity = f->severity;
	units_bytes(b1, sizeof(b1), slope * 60);
	units_bytes(b2, sizeof(b2), (double)s->totals.rss);
	if (pace == SLOWING)
		finding_set_summary(f, "RSS grows %s/min over the last 2 of %zu windows (now %s), "
				       "slowing: %s/min in this window, %s/min in the one before; a "
				       "structure filling up? See the verdict for the cause",
				    b1, run, b2, units_bytes(b3, sizeof(b3), now_rate * 60),
				    units_bytes(b4, sizeof(b4), before_rate * 60));
	else if (pace == UNEVEN)
		finding_set_summary(f, "RSS grows %s/min over the last 2 of %zu windows (now %s), "
				       "unevenly: %s/min in this window, %s/min in the one before; see "
				       "the verdict for the cause",
				    b1, run, b2, units_bytes(b3, sizeof(b3), now_rate * 60),
				    units_bytes(b4, sizeof(b4), before_rate * 60));
	else if (s->mem_limit)
		finding_set_summary(f, "RSS grows %s/min, steadily over the last 2 of %zu windows "
				       "(now %s); at this rate it reaches the %s %s limit in %s; "
				       "see the verdict for the cause",
				    b1, run, b2, units_bytes(b3, sizeof(b3), (double)s->mem_limit),
				    s->mem_limit_cgroup ? "cgroup" : "RAM",
				    units_duration(b5, sizeof(b5), left));
	else
		finding_set_summary(f, "RSS grows %s/min, steadily over the last 2 of %zu windows "
				       "(now %s); see the verdict for the cause", b1, run, b2);
	if (!f->summary || finding_add_real(f, EVK_BYTES_PER_S, slope) ||
	    finding_add_int(f, EVK_WINDOWS, (int64_t)run) ||
	    finding_add_int(f, EVK_RSS, (int64_t)s->totals.rss) ||
	    finding_add_int(f, EVK_RSS_DELTA, w->delta.rss) ||
	    finding_add_int(f, EVK_OWN_DELTA, own) ||
	    finding_add_int(f, EVK_SHARED_TOUCHED, window_shared_touched(w)) ||
	    finding_add_str(f, EVK_PACE, pace == STEADY ? "steady" : pace == SLOWING ? "slowing"
										      : "uneven") ||
	    finding_add_int(f, EVK_RUN_BYTES, run_bytes))
		return -ENOMEM;
	if (s->mem_limit && pace == STEADY)
		return add_limit(f, s, left);
	return 0;
}
