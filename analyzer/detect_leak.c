// SPDX-License-Identifier: GPL-2.0-only
/* leak: allocation sites whose outstanding bytes keep rising and are not freed, window after window. */
#include "analyzer/detect.h"
#include "analyzer/frames.h"
#include "analyzer/preattach.h"
#include "lib/units.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The rule, per stack of kind alloc (--alloc) or mmap, in each window:
 *
 * 1. The rise: what the stack holds more at the window's end, less what
 *    memory allocated before attach and freed in the window balances
 *    (analyzer/preattach.h: a structure full at attach replaces entries no
 *    record knows). It must stand out of the mode's own noise: in a sampled
 *    mode a stack's figure is a sum of records each standing for w bytes
 *    (w = size / share with the duty cycle, the sampling weight with
 *    --alloc-sample), so the rise, the records born in the window less the
 *    records that died, has a variance of about (1 - p) * sum(w^2) over both
 *    (p the chance a call is recorded; 0 in exact mode; sum(w^2) is counted
 *    by the collector, alloc_age.churn_sq). It must be at least LEAK_Z
 *    standard deviations of that and of the pre-attach estimate spent on it
 *    (its own sampling noise, preattach.h) together (one-sided: 0.13% of
 *    steady stacks per window), and LEAK_MIN_RISE (blocks in flight at the
 *    window's edges).
 * 2. Turnover: of the records a stack held at the previous reading of the
 *    records (once a window, collectors/alloc_ages.h), the share it freed
 *    since. A leak frees none of its lost blocks; a bounded structure frees
 *    what it held as it turns over (a ring, a random-replacement cache, a
 *    batch, frames in flight), whatever it held before attach. A stack that
 *    freed at least LEAK_TURNOVER of what it held, LEAK_TURNOVER_MIN records
 *    or more, turns over: no rise of it is a leak. A structure that turns
 *    over slower than that (a cache of an hour, a FIFO not yet wrapped since
 *    attach) reads as growth until it does: the finding says "a leak, or a
 *    structure that only grows". The first reading, at attach, holds little
 *    or nothing to compare: the first window is evidence only for stacks it
 *    held records of. Stacks without
 *    turnover figures (mmap stacks, recordings without them) need a rise of
 *    1% of what they hold besides.
 * 3. Persistence: a rise in LEAK_MIN_RUN consecutive windows establishes a
 *    leak (chance: about (0.13%)^2 per steady stack). Once established it is
 *    reported in every window, its run counted from its first rise, until
 *    the evidence says otherwise: the stack turns over, its figure falls by
 *    more than the noise, or more than LEAK_QUIET_MAX windows in a row pass
 *    without a rise of their own.
 *
 * Stacks are then grouped by allocation site (frames_site): one finding per
 * site, its call paths in the evidence, at most LEAK_MAX_FINDINGS sites,
 * the largest first. Critical when the site gains LEAK_CRITICAL_PER_HOUR.
 */
#define LEAK_MIN_RISE ((int64_t)16 << 10)
#define LEAK_MIN_SHARE 0.01
#define LEAK_Z 3.0
#define LEAK_TURNOVER 0.10
#define LEAK_TURNOVER_MIN 3
#define LEAK_MIN_RUN 2
#define LEAK_QUIET_MAX 2
#define LEAK_CRITICAL_PER_HOUR ((double)(100u << 20))
#define LEAK_MAX_FINDINGS 5
#define LEAK_MAX_PATHS 4
#define SITE_LEN 128

/* What one window says of one stack. */
struct judged {
	const struct stack_delta *d;
	const struct alloc_age *age;	/* NULL: no turnover figures */
	size_t trend;			/* position in a->stacks */
	int64_t run_bytes;		/* its trend's, once carried over this window */
	int64_t rise;			/* beyond the pre-attach balance */
	int64_t preattach;
	double noise;			/* LEAK_Z standard deviations, bytes */
	double freed;			/* share of what it held that it freed; -1 unknown */
	bool turning;			/* rule 2: it frees what it held */
	char site[SITE_LEN];
};

static uint64_t key_of(const struct stack_stat *s)
{
	return s->id * 8 + s->kind;
}

static struct stack_trend *trend_of(struct analyzer *a, uint64_t key)
{
	size_t at = idmap_get(&a->stack_index, key);
	struct stack_trend *t;

	if (at != SIZE_MAX)
		return &a->stacks[at];
	if (a->nstacks >= HIST_STACKS)
		return NULL;
	if (a->nstacks == a->stacks_cap) {
		size_t cap = a->stacks_cap ? a->stacks_cap * 2 : 64;
		struct stack_trend *n = realloc(a->stacks, cap * sizeof(*n));

		if (!n)
			return NULL;
		a->stacks = n;
		a->stacks_cap = cap;
	}
	if (idmap_put(&a->stack_index, key, a->nstacks))
		return NULL;
	t = &a->stacks[a->nstacks++];
	*t = (struct stack_trend){ .key = key };
	return t;
}

/* Drops stacks not seen in the last window, so the table stays bounded. */
static int prune(struct analyzer *a, uint32_t window)
{
	size_t i, kept = 0;
	int ret = 0;

	if (a->nstacks < HIST_STACKS)
		return 0;
	idmap_free(&a->stack_index);
	for (i = 0; i < a->nstacks; i++) {
		if (a->stacks[i].last_window + 1 < window)
			continue;
		a->stacks[kept] = a->stacks[i];
		if (idmap_put(&a->stack_index, a->stacks[kept].key, kept))
			ret = -ENOMEM;
		kept++;
	}
	a->nstacks = kept;
	return ret;
}

/* The chance that a call is not recorded, for the noise of rule 1 (0 in exact mode). */
static double unrecorded(const struct sample *s)
{
	if (!s->has_alloc || !s->alloc.estimated)
		return 0;
	if (s->alloc.sample_bytes)
		return 1;
	return s->alloc.share > 0 && s->alloc.share < 1 ? 1 - s->alloc.share : 0;
}

/* Rules 1 and 2 for stack d; fills j and returns whether this window is evidence of a leak. */
static bool judge(const struct window *w, const struct sample *ages, const struct stack_delta *d,
		  int64_t explained, double pre_noise, struct judged *j)
{
	const struct stack_stat *s = d->cur;
	const struct alloc_age *g = ages && s->kind == STACK_ALLOC ? sample_alloc_age(ages, s->id)
								    : NULL;
	double need;

	j->d = d;
	j->age = g;
	j->preattach = explained;
	j->freed = -1;
	j->turning = false;
	j->noise = pre_noise;
	frames_site(s->frames, s->nframes, j->site, sizeof(j->site));
	if (!g) {
		j->rise = d->bytes_delta - explained;
		need = fmax(fmax((double)LEAK_MIN_RISE, LEAK_MIN_SHARE * (double)s->bytes), j->noise);
		return (double)j->rise >= need;
	}
	j->rise = g->bytes - g->held_bytes - explained;
	/* The rise's own sampling noise and that of the pre-attach frees spent on it. */
	j->noise = hypot(LEAK_Z * sqrt(unrecorded(w->end) * g->churn_sq), pre_noise);
	if (g->held_records <= 0)
		return false;	/* nothing to compare yet: the first reading */
	j->freed = (double)(g->held_records - g->kept_records) / (double)g->held_records;
	j->turning = g->held_records - g->kept_records >= LEAK_TURNOVER_MIN && j->freed >= LEAK_TURNOVER;
	return !j->turning && (double)j->rise >= fmax((double)LEAK_MIN_RISE, j->noise);
}

/* Rule 3: carries stack j's trend over this window; returns whether it is a leak now. */
static bool persist(const struct window *w, struct stack_trend *t, const struct judged *j,
		    bool evidence, double span)
{
	bool next = t->run && t->last_window + 1 == w->index;

	t->last_window = w->index;
	if (evidence) {
		if (!next)
			*t = (struct stack_trend){ .key = t->key, .last_window = w->index };
		t->run++;
		t->quiet = 0;
		t->run_bytes += j->rise;
		t->run_s += span;
		return t->run >= LEAK_MIN_RUN;
	}
	/* Established: stays put until turnover, a fall beyond the noise, or long quiet. */
	if (next && t->run >= LEAK_MIN_RUN && !j->turning &&
	    (double)j->rise > -fmax((double)LEAK_MIN_RISE, j->noise) && t->quiet < LEAK_QUIET_MAX) {
		t->run++;
		t->quiet++;
		t->run_bytes += j->rise > 0 ? j->rise : 0;
		t->run_s += span;
		return true;
	}
	*t = (struct stack_trend){ .key = t->key, .last_window = w->index };
	return false;
}

/* One site's leaking stacks, summed. */
struct site {
	struct judged *top;		/* the stack that rose most over its run */
	size_t first, n;		/* its stacks: order[first .. first + n) */
	int64_t run_bytes, bytes, count, delta, rise, preattach;
	double rate, noise, freed_records, held_records;
	uint32_t run;
	bool any_age;
};

/*
 * The callers of each stack of a site past the site frame, "a < b < c; ...",
 * at most LEAK_MAX_PATHS of them.
 */
static void call_paths(struct judged *const *order, const struct site *st, char *buf, size_t len)
{
	size_t i, n = 0, k;

	buf[0] = '\0';
	for (i = 0; i < st->n && i < LEAK_MAX_PATHS && n + 1 < len; i++) {
		const struct stack_stat *s = order[st->first + i]->d->cur;
		uint32_t f = frames_first_caller(s->frames, s->nframes);

		for (k = f + 1; k < s->nframes && k < f + 4 && n + 1 < len; k++)
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
					      k == f + 1 ? (i ? "; " : "") : " < ", s->frames[k]);
		if (k == f + 1)
			n += (size_t)snprintf(buf + n, len - n, "%s(no caller)", i ? "; " : "");
	}
	if (n >= len)
		buf[len - 1] = '\0';
}

static int report(struct analyzer *a, struct window *w, struct judged *const *order,
		  const struct site *st)
{
	const struct stack_stat *s = st->top->d->cur;
	bool alloc = s->kind == STACK_ALLOC;
	double lost = alloc ? alloc_lost_share(w->end) : 0;
	char b1[24], b2[24], b3[24], kept[96], more[96], paths[512];
	enum severity sev = st->rate * 3600 >= LEAK_CRITICAL_PER_HOUR ? SEV_CRITICAL : SEV_WARN;
	struct finding *f = detect_add(w, FINDING_LEAK, sev);

	if (!f)
		return -ENOMEM;
	if (st->any_age && st->held_records > 0)
		snprintf(kept, sizeof(kept), "; of what it held a window before, %.0f%% freed",
			 100 * st->freed_records / st->held_records);
	else
		snprintf(kept, sizeof(kept), "; rising in each window");
	more[0] = '\0';
	if (st->n > 1)
		snprintf(more, sizeof(more), "; %zu call paths", st->n);
	if (lost >= ALLOC_LOST_MATERIAL)
		snprintf(more + strlen(more), sizeof(more) - strlen(more),
			 "; figures up to %.0f%% low: allocations not recorded", 100 * lost);
	finding_set_summary(f, "%s from %s holds %s more over %u windows (%s/min, %s in %lld "
			       "blocks outstanding%s%s): a leak, or a structure that only grows",
			    alloc ? "malloc" : "mmap",
			    /* Past the C library's allocator: the code that allocated. */
			    s->nframes ? s->frames[frames_first_caller(s->frames, s->nframes)]
				       : "an unknown stack",
			    units_bytes(b1, sizeof(b1), (double)st->run_bytes), st->run,
			    units_bytes(b2, sizeof(b2), st->rate * 60),
			    units_bytes(b3, sizeof(b3), (double)st->bytes), (long long)st->count,
			    kept, more);
	call_paths(order, st, paths, sizeof(paths));
	if (!f->summary || finding_set_frames(f, s->frames, s->nframes) ||
	    finding_add_str(f, EVK_STACK_KIND, stack_kind_name((enum stack_kind)s->kind)) ||
	    finding_add_str(f, EVK_SITE, st->top->site) || finding_add_int(f, EVK_ALLOC, alloc) ||
	    finding_add_int(f, EVK_LOWER_BOUND, lost >= ALLOC_LOST_MATERIAL) ||
	    finding_add_int(f, EVK_STACK_ID, (int64_t)s->id) ||
	    finding_add_int(f, EVK_BYTES, st->bytes) || finding_add_int(f, EVK_COUNT, st->count) ||
	    finding_add_int(f, EVK_BYTES_DELTA, st->delta) ||
	    finding_add_int(f, EVK_PREATTACH_BYTES, st->preattach) ||
	    finding_add_int(f, EVK_RUN_BYTES, st->run_bytes) ||
	    finding_add_int(f, EVK_WINDOWS, st->run) ||
	    finding_add_real(f, EVK_BYTES_PER_S, st->rate) ||
	    finding_add_int(f, EVK_PATHS, (int64_t)st->n) ||
	    finding_add_str(f, EVK_CALL_PATHS, paths) ||
	    finding_add_int(f, EVK_NOISE, llround(st->noise)) ||
	    (st->any_age && st->held_records > 0 &&
	     finding_add_real(f, EVK_FREED_SHARE, st->freed_records / st->held_records)) ||
	    (lost > 0 && finding_add_real(f, EVK_LOST_SHARE, lost)))
		return -ENOMEM;
	/*
	 * The verdict counts the leak at its established rate over this window:
	 * one window's rise is noisy, and the cause should not flip with it.
	 */
	a->cur.leak_bytes += llround(st->rate * w->window_s);
	if (alloc)
		a->cur.leak_alloc_bytes += llround(st->rate * w->window_s);
	a->cur.leaks++;
	if (sev == SEV_CRITICAL)
		a->cur.leaks_critical++;
	return 0;
}

static int same_site(const struct judged *x, const struct judged *y)
{
	int c = x->d->cur->kind - y->d->cur->kind;

	return c ? c : strcmp(x->site, y->site);
}

/* Orders leaking stacks by site (and kind), then by what they rose over their run. */
static int by_site(const void *pa, const void *pb)
{
	const struct judged *x = *(struct judged *const *)pa, *y = *(struct judged *const *)pb;
	int c = same_site(x, y);

	if (!c && x->run_bytes != y->run_bytes)
		c = x->run_bytes > y->run_bytes ? -1 : 1;
	return c;
}

/* Sums the sites of `order` (sorted by site) into `sites`; returns how many. */
static size_t sum_sites(struct analyzer *a, struct judged **order, size_t n, struct site *sites)
{
	size_t i, ns = 0;

	for (i = 0; i < n; i++) {
		struct judged *j = order[i];
		const struct stack_trend *t = &a->stacks[j->trend];
		struct site *st;

		if (!i || same_site(order[i - 1], j))
			sites[ns++] = (struct site){ .top = j, .first = i };
		st = &sites[ns - 1];
		st->n++;
		st->run_bytes += t->run_bytes;
		st->rate += t->run_s > 0 ? (double)t->run_bytes / t->run_s : 0;
		if (t->run > st->run)
			st->run = t->run;
		st->bytes += j->d->cur->bytes;
		st->count += j->d->cur->count;
		st->delta += j->d->bytes_delta;
		st->rise += j->rise;
		st->preattach += j->preattach;
		st->noise = sqrt(st->noise * st->noise + j->noise * j->noise);
		if (j->age) {
			st->any_age = true;
			st->held_records += (double)j->age->held_records;
			st->freed_records += (double)(j->age->held_records - j->age->kept_records);
		}
	}
	return ns;
}

static int by_run_bytes(const void *pa, const void *pb)
{
	const struct site *x = pa, *y = pb;

	return x->run_bytes == y->run_bytes ? 0 : x->run_bytes > y->run_bytes ? -1 : 1;
}

int detect_leak(struct analyzer *a, struct window *w)
{
	const struct sample *ages = window_ages(w);
	size_t n = w->nstacks ? w->nstacks : 1, i, nj = 0, ns;
	int64_t *explained = calloc(n, sizeof(*explained));
	double *pre_noise = calloc(n, sizeof(*pre_noise));
	struct judged *js = calloc(n, sizeof(*js));
	struct judged **order = calloc(n, sizeof(*order));
	struct site *sites = calloc(n, sizeof(*sites));
	double span = ages && ages->alloc.ages_since > 0 ? ages->t - ages->alloc.ages_since
							 : w->window_s;
	int ret = 0;

	if (!explained || !pre_noise || !js || !order || !sites) {
		ret = -ENOMEM;
		goto out;
	}
	preattach_balance(w, explained, pre_noise);
	for (i = 0; i < w->nstacks; i++) {
		const struct stack_delta *d = &w->stacks[i];
		struct stack_trend *t;
		struct judged *j = &js[nj];
		bool evidence;

		if (!d->cur || (d->cur->kind != STACK_ALLOC && d->cur->kind != STACK_MMAP))
			continue;
		t = trend_of(a, key_of(d->cur));
		if (!t)
			continue;	/* the table is full: this stack is not followed */
		evidence = judge(w, ages, d, explained[i], pre_noise[i], j);
		j->trend = (size_t)(t - a->stacks);
		if (persist(w, t, j, evidence, j->age ? span : w->window_s)) {
			j->run_bytes = t->run_bytes;
			order[nj++] = j;
		}
	}
	qsort(order, nj, sizeof(*order), by_site);
	ns = sum_sites(a, order, nj, sites);
	qsort(sites, ns, sizeof(*sites), by_run_bytes);
	for (i = 0; i < ns && i < LEAK_MAX_FINDINGS && !ret; i++)
		ret = report(a, w, order, &sites[i]);
	if (!ret)
		ret = prune(a, w->index);
out:
	free(explained);
	free(pre_noise);
	free(js);
	free(order);
	free(sites);
	return ret;
}
