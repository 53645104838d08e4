// SPDX-License-Identifier: GPL-2.0-only
/* fd_growth: the fd table growing window after window, by type, and when it hits the limit. */
#include "analyzer/detect.h"
#include "lib/units.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>

/*
 * Threshold: the fd count rose in this window and in the one before it (a run
 * of at least FD_MIN_RUN rising windows), by at least FD_MIN_RISE over the
 * run. Open/close churn nets zero and one-time opens rise in one window only.
 * Critical when RLIMIT_NOFILE is less than FD_CRITICAL_S away at that rate.
 */
#define FD_MIN_RUN 2
#define FD_MIN_RISE 8
#define FD_CRITICAL_S 3600.0
#define FD_MAX_STACKS 3

/* The opener stacks of this window's new fds, most fds first. */
static int add_stacks(struct finding *f, const struct window *w)
{
	const struct stack_delta *best[FD_MAX_STACKS] = { NULL };
	size_t i, k;

	for (i = 0; i < w->nstacks; i++) {
		const struct stack_delta *d = &w->stacks[i];

		if (!d->cur || d->cur->kind != STACK_FD || d->count_delta <= 0)
			continue;
		for (k = 0; k < FD_MAX_STACKS; k++) {
			if (!best[k] || d->count_delta > best[k]->count_delta) {
				size_t m;

				for (m = FD_MAX_STACKS - 1; m > k; m--)
					best[m] = best[m - 1];
				best[k] = d;
				break;
			}
		}
	}
	if (!best[0])
		return 0;
	if (finding_set_stack(f, best[0]->cur) ||
	    finding_add_int(f, EVK_TOP_STACK_NEW_FDS, best[0]->count_delta) ||
	    finding_add_int(f, EVK_TOP_STACK_OPEN_FDS, best[0]->cur->count))
		return -ENOMEM;
	for (k = 1; k < FD_MAX_STACKS && best[k]; k++)
		if (finding_add_str(f, k == 1 ? EVK_SECOND_STACK : EVK_THIRD_STACK,
				    stack_stat_site(best[k]->cur)))
			return -ENOMEM;
	return 0;
}

static bool rose(const struct win_record *r)
{
	return r->has_fds && r->fds_delta > 0;
}

static int64_t opened(const struct win_record *r)
{
	return r->fds_delta;
}

int detect_fd_growth(struct analyzer *a, struct window *w)
{
	const struct sample *s = w->end;
	int64_t rise = w->fds_delta;
	double span = w->window_s, rate, left = INFINITY;
	char b1[24], types[160] = "";
	struct finding *f;
	size_t run, n = 0;
	int t, top = 0;

	if (!a->cur.has_fds || w->fds_delta <= 0 || w->window_s <= 0)
		return 0;
	run = detect_run(a, rose, opened, &rise, &span);
	if (run < FD_MIN_RUN || rise < FD_MIN_RISE)
		return 0;
	rate = (double)rise / span;
	if (s->fds.limit && s->fds.limit != UINT64_MAX)
		left = s->fds.limit > s->fds.total ? (double)(s->fds.limit - s->fds.total) / rate : 0;
	for (t = 0; t < FD_NTYPES; t++) {
		if (w->fds_type_delta[t] > w->fds_type_delta[top])
			top = t;
		if (w->fds_type_delta[t] > 0 && n < sizeof(types) - 40)
			n += (size_t)snprintf(types + n, sizeof(types) - n, "%s%s +%lld",
					      n ? ", " : "", fd_type_name((enum fd_type)t),
					      (long long)w->fds_type_delta[t]);
	}
	f = detect_add(w, FINDING_FD_GROWTH, left < FD_CRITICAL_S ? SEV_CRITICAL : SEV_WARN);
	if (!f)
		return -ENOMEM;
	if (isfinite(left))
		finding_set_summary(f, "%llu fds open, +%.1f/min over %zu windows (%s); the limit "
				       "of %llu is reached in %s: close what the top opener opens",
				    (unsigned long long)s->fds.total, rate * 60, run,
				    n ? types : "no type grew this window",
				    (unsigned long long)s->fds.limit,
				    units_duration(b1, sizeof(b1), left));
	else
		finding_set_summary(f, "%llu fds open, +%.1f/min over %zu windows (%s); close what "
				       "the top opener opens",
				    (unsigned long long)s->fds.total, rate * 60, run,
				    n ? types : "no type grew this window");
	if (!f->summary || finding_add_int(f, EVK_FDS, (int64_t)s->fds.total) ||
	    finding_add_int(f, EVK_DELTA, w->fds_delta) || finding_add_int(f, EVK_RUN_RISE, rise) ||
	    finding_add_int(f, EVK_WINDOWS, (int64_t)run) ||
	    finding_add_real(f, EVK_FDS_PER_S, rate) ||
	    finding_add_str(f, EVK_TOP_TYPE, fd_type_name((enum fd_type)top)))
		return -ENOMEM;
	for (t = 0; t < FD_NTYPES; t++)
		if (w->fds_type_delta[t] && finding_add_int(f, (enum ev_key)(EVK_FD_TYPE + t),
							    w->fds_type_delta[t]))
			return -ENOMEM;
	if (isfinite(left) && (finding_add_int(f, EVK_FD_LIMIT, (int64_t)s->fds.limit) ||
			       finding_add_real(f, EVK_SECONDS_TO_LIMIT, left)))
		return -ENOMEM;
	return add_stacks(f, w);
}
