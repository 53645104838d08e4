// SPDX-License-Identifier: GPL-2.0-only
/* A window: the changes between two samples a window apart, and the findings on them. */
#include "analyzer/window.h"
#include "analyzer/preattach.h"
#include "lib/strmap.h"
#include "lib/vec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int64_t sub(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b);
}

static uint64_t abs64(int64_t v)
{
	return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

static int region_delta_cmp(const void *pa, const void *pb)
{
	const struct region_delta *a = pa, *b = pb;
	uint64_t da = abs64(a->rss_delta), db = abs64(b->rss_delta);
	uint64_t ra = a->cur ? a->cur->rss : 0, rb = b->cur ? b->cur->rss : 0;

	if (da != db)
		return da > db ? -1 : 1;
	if (ra != rb)
		return ra > rb ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int build_regions(struct window *w)
{
	const struct sample *s0 = w->start, *s1 = w->end;
	struct strmap old;
	bool *matched;
	size_t i, n = 0;

	if (!s1->has_regions || !s0->has_regions)
		return 0;
	w->regions = calloc(s0->nregions + s1->nregions + 1, sizeof(*w->regions));
	matched = calloc(s0->nregions + 1, sizeof(*matched));
	if (!w->regions || !matched || strmap_init(&old, s0->nregions)) {
		free(matched);
		return -ENOMEM;
	}
	for (i = 0; i < s0->nregions; i++)
		strmap_put(&old, s0->regions[i].kind, s0->regions[i].name, i);
	for (i = 0; i < s1->nregions; i++) {
		const struct region *r = &s1->regions[i];
		size_t at = strmap_get(&old, r->kind, r->name);
		struct region_delta *d = &w->regions[n++];

		d->cur = r;
		d->name = r->name;
		d->kind = r->kind;
		if (at != SIZE_MAX) {
			d->old = &s0->regions[at];
			matched[at] = true;
		}
	}
	for (i = 0; i < s0->nregions; i++) {
		struct region_delta *d;

		if (matched[i])
			continue;
		d = &w->regions[n++];
		d->old = &s0->regions[i];
		d->name = d->old->name;
		d->kind = d->old->kind;
	}
	for (i = 0; i < n; i++) {
		struct region_delta *d = &w->regions[i];
		static const struct region none;
		const struct region *c = d->cur ? d->cur : &none, *o = d->old ? d->old : &none;

		d->rss_delta = sub(c->rss, o->rss);
		d->private_dirty_delta = sub(c->private_dirty, o->private_dirty);
		d->swap_delta = sub(c->swap, o->swap);
		d->size_delta = sub(c->size, o->size);
	}
	w->nregions = n;
	qsort(w->regions, n, sizeof(*w->regions), region_delta_cmp);
	strmap_free(&old);
	free(matched);
	return 0;
}

static int stack_delta_cmp(const void *pa, const void *pb)
{
	const struct stack_delta *a = pa, *b = pb;
	const struct stack_stat *sa = a->cur ? a->cur : a->old, *sb = b->cur ? b->cur : b->old;
	uint64_t da = abs64(a->bytes_delta), db = abs64(b->bytes_delta);

	if (sa->kind != sb->kind)
		return sa->kind < sb->kind ? -1 : 1;
	if (da != db)
		return da > db ? -1 : 1;
	if (a->count_delta != b->count_delta)
		return abs64(a->count_delta) > abs64(b->count_delta) ? -1 : 1;
	if (sa->id != sb->id)
		return sa->id < sb->id ? -1 : 1;
	return 0;
}

static int stack_find(const struct sample *s, const struct stack_stat *k)
{
	size_t i;

	/* Stacks per sample are capped, so a linear search per window is acceptable. */
	for (i = 0; i < s->nstacks; i++)
		if (s->stacks[i].id == k->id && s->stacks[i].kind == k->kind)
			return (int)i;
	return -1;
}

static int build_stacks(struct window *w)
{
	const struct sample *s0 = w->start, *s1 = w->end;
	size_t i, n = 0;

	if (!s1->has_stacks)
		return 0;
	w->stacks = calloc(s1->nstacks + s0->nstacks + 1, sizeof(*w->stacks));
	if (!w->stacks)
		return -ENOMEM;
	for (i = 0; i < s1->nstacks; i++) {
		struct stack_delta *d = &w->stacks[n++];
		int at = s0->has_stacks ? stack_find(s0, &s1->stacks[i]) : -1;

		d->cur = &s1->stacks[i];
		d->old = at >= 0 ? &s0->stacks[at] : NULL;
		d->bytes_delta = d->cur->bytes - (d->old ? d->old->bytes : 0);
		d->count_delta = d->cur->count - (d->old ? d->old->count : 0);
	}
	for (i = 0; s0->has_stacks && i < s0->nstacks; i++) {
		struct stack_delta *d;

		if (stack_find(s1, &s0->stacks[i]) >= 0)
			continue;
		d = &w->stacks[n++];
		d->old = &s0->stacks[i];
		d->bytes_delta = -d->old->bytes;
		d->count_delta = -d->old->count;
	}
	w->nstacks = n;
	qsort(w->stacks, n, sizeof(*w->stacks), stack_delta_cmp);
	return 0;
}

static void preattach_figures(struct window *w)
{
	struct preattach now, in;

	preattach_at(w->end, &now);
	preattach_window(w, &in);
	w->preattach.frees = preattach_sum(now.count);
	w->preattach.free_bytes = preattach_sum(now.bytes);
	w->preattach.frees_delta = preattach_sum(in.count);
	w->preattach.free_bytes_delta = preattach_sum(in.bytes);
}

struct window *window_build(struct sample *const *ticks, size_t n)
{
	struct window *w;
	const struct sample *s0, *s1;
	size_t i;

	if (n == 0) {
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->ticks = calloc(n, sizeof(*w->ticks));
	if (!w->ticks) {
		free(w);
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < n; i++)
		w->ticks[i] = sample_ref(ticks[i]);
	w->nticks = n;
	w->start = sample_ref(ticks[0]);
	w->end = sample_ref(ticks[n - 1]);
	s0 = w->start;
	s1 = w->end;
	w->window_s = s1->t - s0->t;

	w->delta.rss = sub(s1->totals.rss, s0->totals.rss);
	w->delta.pss = sub(s1->totals.pss, s0->totals.pss);
	w->delta.anon = sub(s1->totals.anon, s0->totals.anon);
	w->delta.swap = sub(s1->totals.swap, s0->totals.swap);
	w->delta.size = sub(s1->totals.size, s0->totals.size);
	if (s0->has_fds && s1->has_fds) {
		w->fds_delta = sub(s1->fds.total, s0->fds.total);
		for (i = 0; i < FD_NTYPES; i++)
			w->fds_type_delta[i] = sub(s1->fds.by_type[i], s0->fds.by_type[i]);
	}
	/* Counters restart from zero when the collector restarts (a new recording segment). */
	w->lost_events = s1->lost_events >= s0->lost_events ? s1->lost_events - s0->lost_events
							    : s1->lost_events;
	/* Events that reached user space but did not fit in a sample are lost too. */
	for (i = 1; i < n; i++)
		w->lost_events += ticks[i]->events_dropped;
	preattach_figures(w);
	if (build_regions(w) || build_stacks(w)) {
		window_free(w);
		errno = ENOMEM;
		return NULL;
	}
	return w;
}

void window_free(struct window *w)
{
	size_t i;

	if (!w)
		return;
	for (i = 0; i < w->nticks; i++)
		sample_unref(w->ticks[i]);
	free(w->ticks);
	sample_unref(w->start);
	sample_unref(w->end);
	free(w->regions);
	free(w->stacks);
	for (i = 0; i < w->nfindings; i++)
		finding_clear(&w->findings[i]);
	free(w->findings);
	free(w);
}

const struct sample *window_ages(const struct window *w)
{
	size_t i;

	/* The window's first sample closed the previous window: its reading was that one's. */
	for (i = w->nticks; i-- > 1;)
		if (w->ticks[i]->has_alloc && w->ticks[i]->alloc.has_ages)
			return w->ticks[i];
	return NULL;
}

int64_t window_shared_touched(const struct window *w)
{
	int64_t touched = 0, grown;
	size_t i;

	for (i = 0; i < w->nregions; i++) {
		const struct region_delta *d = &w->regions[i];

		if (d->kind != REGION_SHMEM || d->rss_delta <= 0)
			continue;
		grown = d->size_delta > 0 ? d->size_delta : 0;
		if (d->rss_delta > grown)
			touched += d->rss_delta - grown;
	}
	return touched;
}

int64_t window_own_delta(const struct window *w)
{
	return w->delta.rss - window_shared_touched(w);
}

int64_t window_heap_delta(const struct window *w)
{
	/* As the region deltas: none unless both ends read their regions. */
	if (!w->start->has_regions || !w->end->has_regions)
		return 0;
	return sub(sample_heap_rss(w->end), sample_heap_rss(w->start));
}

struct finding *window_add_finding(struct window *w)
{
	return VEC_PUSH(w->findings, w->nfindings, w->findings_cap);
}

void window_sort_findings(struct window *w)
{
	size_t i, j;

	/* Insertion sort: few findings, and it keeps detector order within a severity. */
	for (i = 1; i < w->nfindings; i++) {
		struct finding f = w->findings[i];

		for (j = i; j > 0 && w->findings[j - 1].severity < f.severity; j--)
			w->findings[j] = w->findings[j - 1];
		w->findings[j] = f;
	}
}
