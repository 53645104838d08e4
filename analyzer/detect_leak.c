// SPDX-License-Identifier: GPL-2.0-only
/* leak: allocation sites whose outstanding bytes keep rising and are not freed, window after window. */
#include "analyzer/detect.h"
#include "analyzer/preattach.h"
#include "analyzer/stack_site.h"
#include "lib/units.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The rule, per allocation site (stack_site.h: the first frame past the
 * allocator, its wrappers and the runtime; stack_site_name) of stacks of kind
 * alloc (--alloc) or of kind mmap, in each window:
 *
 * 1. Turnover, per stack: of the records the stack held at the previous
 *    reading of the records (once a window, collectors/alloc_ages.h), the
 *    share it freed since. A leak frees none of its lost blocks; a bounded
 *    structure frees what it held as it turns over (a ring, a
 *    random-replacement cache, a batch, frames in flight), whatever it held
 *    before attach. A stack that freed at least LEAK_TURNOVER of what it
 *    held, LEAK_TURNOVER_MIN records or more, turns over: no rise of it is a
 *    leak. A structure that turns over slower than that (a cache of an hour,
 *    a FIFO not yet wrapped since attach) reads as growth until it does: the
 *    finding says "a leak, or a structure that only grows". The first
 *    reading, at attach, holds little or nothing to compare: a stack of which
 *    the previous reading held no record is not judged in this window.
 * 2. The rise, summed over the site's stacks that do not turn over (a site
 *    reached by many paths, or whose frames past it a walk without frame
 *    pointers garbles into many stacks, is one leak): what they hold more at
 *    the window's end, less what memory allocated before attach and freed in
 *    the window balances (analyzer/preattach.h: a structure full at attach
 *    replaces entries no record knows). It must stand out of the mode's own
 *    noise: in a sampled mode a stack's figure is a sum of records each
 *    standing for w bytes (w = size / share with the duty cycle, the
 *    sampling weight with --alloc-sample), so a rise, the records born less
 *    the records that died, has a variance of about (1 - p) * sum(w^2) over
 *    both (p the chance a call is recorded; 0 in exact mode; sum(w^2) is
 *    counted by the collector, alloc_age.churn_sq). The site's rise must be
 *    at least LEAK_Z standard deviations of that (summed over its stacks)
 *    and of the pre-attach estimate spent on it (its noise, preattach.h)
 *    together (one-sided: 0.13% of steady sites per window), and
 *    LEAK_MIN_RISE (blocks in flight at the window's edges). Stacks without
 *    turnover figures (mmap stacks, recordings without them) need a rise of
 *    LEAK_MIN_SHARE of what they hold besides.
 *    A site sampled too sparsely for one window to stand out (a few records
 *    a window with --alloc-sample) is tested over its last windows running,
 *    at most LEAK_ACCUMULATE, whose rises add up as their variances do.
 * 3. Persistence: a rise in LEAK_MIN_RUN consecutive windows establishes a
 *    leak (chance: at most 0.13% per steady site and window, the tests of
 *    consecutive windows sharing data). Once established it is
 *    reported in every window, its run counted from its first rise, until
 *    the evidence says otherwise: its stacks turn over, its figure falls by
 *    more than the noise, or more than LEAK_QUIET_MAX windows in a row pass
 *    without a rise of their own. A window in which the duty-cycled probes
 *    were attached less than LEAK_BLIND of the time they are on average (a
 *    machine so loaded that attaching them stalls) saw too little to say
 *    either way, and one in which the site's stacks rose but pre-attach
 *    frees explained it says nothing against it: an established leak stays,
 *    and such a window is not quiet.
 *
 * One finding per site, its call paths in the evidence, at most
 * LEAK_MAX_FINDINGS sites, the largest first. Critical when the site gains
 * LEAK_CRITICAL_PER_HOUR. Figures are "at least", and say by how much they
 * may be short, when ALLOC_LOST_MATERIAL of the allocations or more could
 * not be recorded (a full live map); fewer qualify nothing.
 */
#define LEAK_MIN_RISE ((int64_t)16 << 10)
#define LEAK_MIN_SHARE 0.01
#define LEAK_Z 3.0
#define LEAK_TURNOVER 0.10
#define LEAK_TURNOVER_MIN 3
#define LEAK_MIN_RUN 2
#define LEAK_QUIET_MAX 2
#define LEAK_BLIND 0.3
#define LEAK_CRITICAL_PER_HOUR ((double)(100u << 20))
#define LEAK_MAX_FINDINGS 5
#define LEAK_MAX_PATHS 4
#define SITE_LEN 128

/* What one window says of one stack. */
struct judged {
	const struct stack_delta *d;
	const struct alloc_age *age;	/* NULL: no turnover figures */
	int64_t rise;			/* beyond the pre-attach balance */
	int64_t preattach;
	double var;			/* the rise's own sampling variance, bytes^2 */
	double pre_noise;		/* LEAK_Z sd of the pre-attach estimate spent on it */
	int64_t held, died;		/* records held at the previous reading, and freed since */
	bool counts;			/* judged, and not turning over: its rise is the site's */
	char site[SITE_LEN];
};

/* A site's stacks that count, summed for the window. */
struct site {
	struct judged **js;		/* its stacks (all), the top one first */
	size_t n;
	int64_t rise, preattach, bytes, count, delta;
	int64_t held, died;		/* records, over its stacks with turnover figures */
	double var, pre;		/* the rise's sampling variance; its pre-attach noise */
	double floor;			/* the least rise that counts */
	double noise;			/* LEAK_Z sd of the rise (of the rises added up, if so) */
	size_t counted;			/* stacks that count */
	bool any_age, turning, evidence;
	size_t trend;			/* position in a->trends (which may move while it grows) */
	int64_t run_bytes;		/* the trend's, once carried over this window */
};

/* FNV-1a of the site and kind: its key in the trend table (sites, not stacks). */
static uint64_t key_of(const struct judged *j)
{
	uint64_t h = 1469598103934665603ULL;
	const char *c;

	for (c = j->site; *c; c++)
		h = (h ^ (uint8_t)*c) * 1099511628211ULL;
	return (h ^ j->d->cur->kind) * 1099511628211ULL;
}

static struct leak_trend *trend_of(struct analyzer *a, uint64_t key)
{
	size_t at = idmap_get(&a->trend_index, key);
	struct leak_trend *t;

	if (at != SIZE_MAX)
		return &a->trends[at];
	if (a->ntrends >= HIST_SITES)
		return NULL;
	if (a->ntrends == a->trends_cap) {
		size_t cap = a->trends_cap ? a->trends_cap * 2 : 64;
		struct leak_trend *n = realloc(a->trends, cap * sizeof(*n));

		if (!n)
			return NULL;
		a->trends = n;
		a->trends_cap = cap;
	}
	if (idmap_put(&a->trend_index, key, a->ntrends))
		return NULL;
	t = &a->trends[a->ntrends++];
	*t = (struct leak_trend){ .key = key };
	return t;
}

/* Drops sites not seen in the last window, so the table stays bounded. */
static int prune(struct analyzer *a, uint32_t window)
{
	size_t i, kept = 0;
	int ret = 0;

	if (a->ntrends < HIST_SITES)
		return 0;
	idmap_free(&a->trend_index);
	for (i = 0; i < a->ntrends; i++) {
		if (a->trends[i].last_window + 1 < window)
			continue;
		a->trends[kept] = a->trends[i];
		if (idmap_put(&a->trend_index, a->trends[kept].key, kept))
			ret = -ENOMEM;
		kept++;
	}
	a->ntrends = kept;
	return ret;
}

/* The chance that a call is not recorded, for the noise of rule 2 (0 in exact mode). */
static double unrecorded(const struct sample *s)
{
	if (!s->has_alloc || !s->alloc.estimated)
		return 0;
	if (s->alloc.sample_bytes)
		return 1;
	return s->alloc.share > 0 && s->alloc.share < 1 ? 1 - s->alloc.share : 0;
}

/* Rule 1: of `held` records, `died` were freed since the previous reading. */
static bool turns_over(int64_t held, int64_t died)
{
	return died >= LEAK_TURNOVER_MIN && (double)died >= LEAK_TURNOVER * (double)held;
}

/* Rule 1 and the stack's part of rule 2. */
static void judge(const struct window *w, const struct sample *ages, const struct stack_delta *d,
		  int64_t explained, double pre_noise, struct judged *j)
{
	const struct stack_stat *s = d->cur;
	const struct alloc_age *g = ages && s->kind == STACK_ALLOC ? sample_alloc_age(ages, s->id)
								    : NULL;

	memset(j, 0, sizeof(*j));
	j->d = d;
	j->age = g;
	j->preattach = explained;
	j->pre_noise = pre_noise;
	stack_site_name(s->def, j->site, sizeof(j->site));
	if (!g) {
		j->rise = d->bytes_delta - explained;
		j->counts = true;
		return;
	}
	j->rise = g->bytes - g->held_bytes - explained;
	j->var = unrecorded(w->end) * g->churn_sq;
	j->held = g->held_records;
	j->died = g->held_records - g->kept_records;
	/* Nothing held at the previous reading (the first, at attach): nothing to judge yet. */
	j->counts = j->held > 0 && !turns_over(j->held, j->died);
}

/* Sums the stacks of one site (js[0..n), the site's). */
static void sum_site(struct site *st)
{
	size_t i;

	for (i = 0; i < st->n; i++) {
		const struct judged *j = st->js[i];

		if (j->age) {
			st->any_age = true;
			st->held += j->held;
			st->died += j->died;
		}
		if (!j->counts)
			continue;
		st->counted++;
		st->rise += j->rise;
		st->preattach += j->preattach;
		st->bytes += j->d->cur->bytes;
		st->count += j->d->cur->count;
		st->delta += j->d->bytes_delta;
		st->var += j->var;
		/* Parts of one class's estimate: their errors add up, not in quadrature. */
		st->pre += j->pre_noise;
	}
	st->noise = hypot(LEAK_Z * sqrt(st->var), st->pre);
	st->turning = st->any_age && turns_over(st->held, st->died);
	st->floor = LEAK_MIN_RISE;
	for (i = 0; i < st->n; i++)
		if (st->js[i]->counts && !st->js[i]->age)
			st->floor = fmax(st->floor, LEAK_MIN_SHARE * (double)st->bytes);
}

/*
 * Rule 2 over this window, or over its last windows running in which the
 * site counted (at most LEAK_ACCUMULATE): a site sampled too sparsely for
 * one window to stand out of the noise (a few records a window with
 * --alloc-sample) may over several, whose rises add up as their variances
 * do. Keeps those windows in the trend; sets st->evidence and st->noise.
 */
static void accumulate(const struct window *w, struct site *st, struct leak_trend *t)
{
	double rise = 0, var = 0, pre = 0, noise;
	uint32_t i;

	if (!st->counted || st->turning || t->last_window + 1 != w->index)
		t->nrecent = 0;
	if (!st->counted || st->turning)
		return;
	if (t->nrecent == LEAK_ACCUMULATE) {
		memmove(&t->recent[0], &t->recent[1], sizeof(t->recent[0]) * (LEAK_ACCUMULATE - 1));
		t->nrecent--;
	}
	t->recent[t->nrecent].rise = st->rise;
	t->recent[t->nrecent].var = st->var;
	t->recent[t->nrecent].pre = st->pre;
	t->nrecent++;
	st->evidence = (double)st->rise >= fmax(st->floor, st->noise);
	for (i = 0; !st->evidence && st->rise > 0 && i < t->nrecent; i++) {
		rise += (double)t->recent[t->nrecent - 1 - i].rise;
		var += t->recent[t->nrecent - 1 - i].var;
		pre += t->recent[t->nrecent - 1 - i].pre;
		noise = hypot(LEAK_Z * sqrt(var), pre);
		if (i > 0 && rise >= fmax(st->floor, noise)) {
			st->evidence = true;
			st->noise = noise;
		}
	}
}

/* Whether the duty-cycled probes were attached too little of this window to see a rise (rule 3). */
static bool blind(const struct window *w)
{
	const struct alloc_summary *a0 = &w->start->alloc, *a1 = &w->end->alloc;
	double on0, on1;

	if (!w->start->has_alloc || !w->end->has_alloc || a1->duty >= 1 || w->window_s <= 0 ||
	    a0->since != a1->since)
		return false;
	/* The duty is the share of the time since attach: the window's own is the difference. */
	on0 = a0->duty * (w->start->t - a0->since);
	on1 = a1->duty * (w->end->t - a1->since);
	return (on1 - on0) / w->window_s < LEAK_BLIND * a1->duty;
}

/* Rule 3: carries the site's trend over this window; returns whether it is a leak now. */
static bool persist(const struct window *w, struct site *st, struct leak_trend *t, double span)
{
	bool next = t->run && t->last_window + 1 == w->index;
	bool alloc = st->js[0]->d->cur->kind == STACK_ALLOC;
	/*
	 * What its stacks hold, before any pre-attach balance: a window whose
	 * rise a burst of such frees explains (a target catching up after a
	 * stall) is not quiet while the site's own figure rose.
	 */
	double own = (double)(st->rise + st->preattach);
	bool unseen = (alloc && blind(w)) || own >= fmax(st->floor, st->noise);

	accumulate(w, st, t);
	t->last_window = w->index;
	if (st->evidence) {
		if (!next) {
			t->run = t->quiet = 0;
			t->run_bytes = 0;
			t->run_s = 0;
		}
		t->run++;
		t->quiet = 0;
		t->run_bytes += st->rise;
		t->run_s += span;
		return t->run >= LEAK_MIN_RUN;
	}
	/*
	 * Established: stays put until turnover, a fall beyond the noise, or long
	 * quiet. A fall is of what its stacks hold, before any pre-attach balance:
	 * frees of memory from before attach make no site hold less.
	 */
	if (next && t->run >= LEAK_MIN_RUN && st->counted && !st->turning &&
	    own > -fmax((double)LEAK_MIN_RISE, st->noise) && (t->quiet < LEAK_QUIET_MAX || unseen)) {
		t->run++;
		if (!unseen)
			t->quiet++;
		t->run_bytes += st->rise > 0 ? st->rise : 0;
		t->run_s += span;
		return true;
	}
	t->run = t->quiet = 0;
	t->run_bytes = 0;
	t->run_s = 0;
	return false;
}

/* The callers of the site's stacks that count, past the site frame, "a < b < c; ...". */
static void call_paths(const struct site *st, char *buf, size_t len)
{
	size_t i, n = 0, k, shown = 0;

	buf[0] = '\0';
	for (i = 0; i < st->n && shown < LEAK_MAX_PATHS && n + 1 < len; i++) {
		const struct stack_stat *s = st->js[i]->d->cur;
		uint32_t f = s->def && s->def->site < s->nframes ? s->def->site : 0;

		if (!st->js[i]->counts)
			continue;
		for (k = f + 1; k < s->nframes && k < f + 4 && n + 1 < len; k++)
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
					      k == f + 1 ? (shown ? "; " : "") : " < ", s->frames[k]);
		if (k == f + 1)
			n += (size_t)snprintf(buf + n, len - n, "%s(no caller)", shown ? "; " : "");
		shown++;
	}
	if (n >= len)
		buf[len - 1] = '\0';
}

static int report(struct analyzer *a, struct window *w, const struct site *st)
{
	const struct stack_stat *s = st->js[0]->d->cur;
	const struct leak_trend *t = &a->trends[st->trend];
	double rate = t->run_s > 0 ? (double)t->run_bytes / t->run_s : 0;
	bool alloc = s->kind == STACK_ALLOC;
	double lost = alloc ? alloc_lost_share(w->end) : 0;
	/* A lost allocation or two qualifies nothing; from ALLOC_LOST_MATERIAL the figures are bounds. */
	bool lower = lost >= ALLOC_LOST_MATERIAL;
	char b1[24], b2[24], b3[24], kept[96], more[96], paths[512];
	enum severity sev = rate * 3600 >= LEAK_CRITICAL_PER_HOUR ? SEV_CRITICAL : SEV_WARN;
	struct finding *f = detect_add(w, FINDING_LEAK, sev);

	if (!f)
		return -ENOMEM;
	if (st->any_age && st->held > 0)
		snprintf(kept, sizeof(kept), "; of what it held a window before, %.0f%% freed",
			 100.0 * (double)st->died / (double)st->held);
	else
		snprintf(kept, sizeof(kept), "; rising in each window");
	more[0] = '\0';
	if (st->counted > 1)
		snprintf(more, sizeof(more), "; %zu call paths", st->counted);
	if (lower)
		snprintf(more + strlen(more), sizeof(more) - strlen(more),
			 "; figures up to %.0f%% low: allocations not recorded", 100 * lost);
	finding_set_summary(f, "%s from %s holds %s%s more over %u windows (%s/min, %s in %lld "
			       "blocks outstanding%s%s): a leak, or a structure that only grows",
			    alloc ? "malloc" : "mmap",
			    /* Past the allocator and its wrappers: the code that allocated. */
			    stack_stat_site(s), lower ? "at least " : "",
			    units_bytes(b1, sizeof(b1), (double)t->run_bytes), t->run,
			    units_bytes(b2, sizeof(b2), rate * 60),
			    units_bytes(b3, sizeof(b3), (double)st->bytes), (long long)st->count,
			    kept, more);
	call_paths(st, paths, sizeof(paths));
	if (!f->summary || finding_set_stack(f, s) ||
	    finding_add_str(f, EVK_STACK_KIND, stack_kind_name((enum stack_kind)s->kind)) ||
	    finding_add_str(f, EVK_SITE, st->js[0]->site) || finding_add_int(f, EVK_ALLOC, alloc) ||
	    finding_add_int(f, EVK_LOWER_BOUND, lower) ||
	    finding_add_int(f, EVK_STACK_ID, (int64_t)s->id) ||
	    finding_add_int(f, EVK_BYTES, st->bytes) || finding_add_int(f, EVK_COUNT, st->count) ||
	    finding_add_int(f, EVK_BYTES_DELTA, st->delta) ||
	    finding_add_int(f, EVK_PREATTACH_BYTES, st->preattach) ||
	    finding_add_int(f, EVK_RUN_BYTES, t->run_bytes) ||
	    finding_add_int(f, EVK_WINDOWS, t->run) || finding_add_real(f, EVK_BYTES_PER_S, rate) ||
	    finding_add_int(f, EVK_PATHS, (int64_t)st->counted) ||
	    finding_add_str(f, EVK_CALL_PATHS, paths) ||
	    finding_add_int(f, EVK_NOISE, llround(st->noise)) ||
	    (st->any_age && st->held > 0 &&
	     finding_add_real(f, EVK_FREED_SHARE, (double)st->died / (double)st->held)) ||
	    (lost > 0 && finding_add_real(f, EVK_LOST_SHARE, lost)))
		return -ENOMEM;
	/*
	 * The verdict counts the leak at its established rate over this window:
	 * one window's rise is noisy, and the cause should not flip with it.
	 */
	a->cur.leak_bytes += llround(rate * w->window_s);
	if (alloc)
		a->cur.leak_alloc_bytes += llround(rate * w->window_s);
	a->cur.leaks++;
	if (sev == SEV_CRITICAL)
		a->cur.leaks_critical++;
	return 0;
}

/* Orders stacks by site (and kind), then those that count by their rise, largest first. */
static int by_site(const void *pa, const void *pb)
{
	const struct judged *x = *(struct judged *const *)pa, *y = *(struct judged *const *)pb;
	int c = x->d->cur->kind - y->d->cur->kind;

	if (!c)
		c = strcmp(x->site, y->site);
	if (!c && x->counts != y->counts)
		c = x->counts ? -1 : 1;
	if (!c && x->rise != y->rise)
		c = x->rise > y->rise ? -1 : 1;
	return c;
}

static int by_run_bytes(const void *pa, const void *pb)
{
	const struct site *x = *(struct site *const *)pa, *y = *(struct site *const *)pb;

	return x->run_bytes == y->run_bytes ? 0 : x->run_bytes > y->run_bytes ? -1 : 1;
}

/* Cuts the stacks (sorted by site) into sites, each judged and carried over the window. */
static size_t sites_of(struct analyzer *a, const struct window *w, struct judged **order,
		       size_t nj, double span, struct site *sites, struct site **leaking)
{
	size_t i, k, ns = 0, nl = 0;

	for (i = 0; i < nj; i = k) {
		struct site *st = &sites[ns];
		struct leak_trend *t;

		for (k = i + 1; k < nj && order[k]->d->cur->kind == order[i]->d->cur->kind &&
				strcmp(order[k]->site, order[i]->site) == 0;
		     k++)
			;
		*st = (struct site){ .js = &order[i], .n = k - i };
		t = trend_of(a, key_of(order[i]));
		if (!t)
			continue;	/* the table is full: this site is not followed */
		ns++;
		st->trend = (size_t)(t - a->trends);
		sum_site(st);
		if (persist(w, st, t, order[i]->age ? span : w->window_s)) {
			st->run_bytes = t->run_bytes;
			leaking[nl++] = st;
		}
	}
	return nl;
}

int detect_leak(struct analyzer *a, struct window *w)
{
	const struct sample *ages = window_ages(w);
	size_t n = w->nstacks ? w->nstacks : 1, i, nj = 0, nl;
	int64_t *explained = calloc(n, sizeof(*explained));
	double *pre_noise = calloc(n, sizeof(*pre_noise));
	struct judged *js = calloc(n, sizeof(*js));
	struct judged **order = calloc(n, sizeof(*order));
	struct site *sites = calloc(n, sizeof(*sites));
	struct site **leaking = calloc(n, sizeof(*leaking));
	double span = ages && ages->alloc.ages_since > 0 ? ages->t - ages->alloc.ages_since
							 : w->window_s;
	int ret = 0;

	if (!explained || !pre_noise || !js || !order || !sites || !leaking) {
		ret = -ENOMEM;
		goto out;
	}
	preattach_balance(w, explained, pre_noise);
	for (i = 0; i < w->nstacks; i++) {
		const struct stack_delta *d = &w->stacks[i];

		if (!d->cur || (d->cur->kind != STACK_ALLOC && d->cur->kind != STACK_MMAP))
			continue;
		judge(w, ages, d, explained[i], pre_noise[i], &js[nj]);
		order[nj] = &js[nj];
		nj++;
	}
	qsort(order, nj, sizeof(*order), by_site);
	nl = sites_of(a, w, order, nj, span, sites, leaking);
	qsort(leaking, nl, sizeof(*leaking), by_run_bytes);
	for (i = 0; i < nl && i < LEAK_MAX_FINDINGS && !ret; i++)
		ret = report(a, w, leaking[i]);
	if (!ret)
		ret = prune(a, w->index);
out:
	free(explained);
	free(pre_noise);
	free(js);
	free(order);
	free(sites);
	free(leaking);
	return ret;
}
