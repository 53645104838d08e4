// SPDX-License-Identifier: GPL-2.0-only
/* The host-wide view: every process and memory cgroup at one moment, and who grew between two. */
#include "analyzer/host.h"
#include "analyzer/growth.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct host_snapshot *host_snapshot_new(void)
{
	struct host_snapshot *s = calloc(1, sizeof(*s));

	if (s)
		s->refs = 1;
	return s;
}

struct host_snapshot *host_snapshot_ref(struct host_snapshot *s)
{
	if (s)
		s->refs++;
	return s;
}

void host_snapshot_unref(struct host_snapshot *s)
{
	size_t i;

	if (!s || --s->refs > 0)
		return;
	for (i = 0; i < s->ngroups; i++)
		free(s->groups[i].path);
	free(s->groups);
	free(s->procs);
	free(s);
}

static int cmp_proc(const void *a, const void *b)
{
	const struct host_proc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int cmp_group(const void *a, const void *b)
{
	return strcmp(((const struct host_group *)a)->path, ((const struct host_group *)b)->path);
}

int host_snapshot_finish(struct host_snapshot *s)
{
	uint32_t *renum = NULL;
	size_t i;

	if (s->ngroups) {
		/* Sorting moves the groups: remember where each went through a spare field. */
		renum = malloc(s->ngroups * sizeof(*renum));
		if (!renum)
			return -ENOMEM;
		for (i = 0; i < s->ngroups; i++)
			s->groups[i].nprocs = (uint32_t)i;
		qsort(s->groups, s->ngroups, sizeof(*s->groups), cmp_group);
		for (i = 0; i < s->ngroups; i++) {
			renum[s->groups[i].nprocs] = (uint32_t)i;
			s->groups[i].nprocs = 0;
		}
	}
	for (i = 0; i < s->nprocs; i++) {
		struct host_proc *p = &s->procs[i];

		if (p->group == HOST_NO_GROUP || p->group >= s->ngroups) {
			p->group = HOST_NO_GROUP;
			continue;
		}
		p->group = renum[p->group];
		s->groups[p->group].nprocs++;
	}
	free(renum);
	if (s->nprocs)
		qsort(s->procs, s->nprocs, sizeof(*s->procs), cmp_proc);
	return 0;
}

/* Index of pid in s->procs (sorted), or SIZE_MAX. */
static size_t find_index(const struct host_snapshot *s, int32_t pid)
{
	size_t lo = 0, hi = s->nprocs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->procs[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nprocs && s->procs[lo].pid == pid ? lo : SIZE_MAX;
}

const struct host_proc *host_snapshot_find(const struct host_snapshot *s, int32_t pid,
					   uint64_t start_time)
{
	size_t i = find_index(s, pid);

	return i != SIZE_MAX && s->procs[i].start_time == start_time ? &s->procs[i] : NULL;
}

const struct host_group *host_snapshot_group(const struct host_snapshot *s, const char *path)
{
	struct host_group key = { .path = (char *)path };

	if (!s->ngroups)
		return NULL;
	return bsearch(&key, s->groups, s->ngroups, sizeof(*s->groups), cmp_group);
}

/* Room under the limit `limit` that binds `g`, with `used` counted under it. */
static void limit_of(const struct host_snapshot *end, const struct host_proc *p,
		     struct host_row *r, double *headroom)
{
	const struct host_group *g = p->group != HOST_NO_GROUP ? &end->groups[p->group] : NULL;

	r->limit = end->mem_total;
	*headroom = end->mem_available ? (double)end->mem_available : NAN;
	if (g && g->limit != HOST_UNKNOWN && (!end->mem_total || g->limit < end->mem_total)) {
		r->limit = g->limit;
		r->limit_cgroup = true;
		*headroom = g->headroom != HOST_UNKNOWN ? (double)g->headroom : NAN;
	}
}

static double seconds_to(double headroom, double rate, bool growing)
{
	if (!growing || !(rate > 0) || isnan(headroom))
		return INFINITY;
	return headroom > 0 ? headroom / rate : 0;
}

static void row_of(const struct host_window *w, const struct host_window *prev,
		   const struct host_proc *p, struct host_row *r)
{
	const struct host_proc *old = host_snapshot_find(w->start, p->pid, p->start_time);
	const struct host_row *before = prev ? host_window_row(prev, p->pid, p->start_time) : NULL;
	double headroom, span;

	memset(r, 0, sizeof(*r));
	r->cur = p;
	r->is_new = !old;
	limit_of(w->end, p, r, &headroom);
	r->seconds_to_limit = INFINITY;
	if (!old)
		return;
	r->rss_delta = (int64_t)(p->rss - old->rss);
	r->has_pss_delta = p->pss != HOST_UNKNOWN && old->pss != HOST_UNKNOWN;
	if (r->has_pss_delta)
		r->pss_delta = (int64_t)(p->pss - old->pss);
	r->has_fds_delta = p->fds != HOST_UNKNOWN && old->fds != HOST_UNKNOWN;
	if (r->has_fds_delta)
		r->fds_delta = (int64_t)(p->fds - old->fds);
	/* Its own span: where in the two scans it was read may differ by a scan's length. */
	span = p->t > old->t ? p->t - old->t : w->window_s;
	r->rate = span > 0 ? (double)r->rss_delta / span : 0;
	r->growing = growth_rise_counts(old->rss, r->rss_delta);
	r->growing_windows = r->growing ? 1 + (before && before->growing ? before->growing_windows : 0)
					: 0;
	r->seconds_to_limit = seconds_to(headroom, r->rate, r->growing);
}

static int cmp_row(const void *a, const void *b)
{
	const struct host_row *x = a, *y = b;

	if (x->rss_delta != y->rss_delta)
		return x->rss_delta > y->rss_delta ? -1 : 1;
	if (x->fds_delta != y->fds_delta)
		return x->fds_delta > y->fds_delta ? -1 : 1;
	return (x->cur->pid > y->cur->pid) - (x->cur->pid < y->cur->pid);
}

static int cmp_group_row(const void *a, const void *b)
{
	const struct host_group_row *x = a, *y = b;

	if (x->current_delta != y->current_delta)
		return x->current_delta > y->current_delta ? -1 : 1;
	return strcmp(x->cur->path, y->cur->path);
}

static int make_groups(struct host_window *w)
{
	size_t i, n = 0;

	for (i = 0; i < w->end->ngroups; i++)
		n += w->end->groups[i].listed;
	w->groups = calloc(n ? n : 1, sizeof(*w->groups));
	if (!w->groups)
		return -ENOMEM;
	for (i = 0; i < w->end->ngroups; i++) {
		const struct host_group *g = &w->end->groups[i], *old;
		struct host_group_row *r;

		if (!g->listed)
			continue;
		r = &w->groups[w->ngroups++];
		old = host_snapshot_group(w->start, g->path);
		r->cur = g;
		r->is_new = !old || !old->has_memory;
		r->seconds_to_limit = INFINITY;
		if (r->is_new || !g->has_memory)
			continue;
		r->current_delta = (int64_t)(g->current - old->current);
		r->rate = w->window_s > 0 ? (double)r->current_delta / w->window_s : 0;
		r->growing = growth_rise_counts(old->current, r->current_delta);
		if (g->limit != HOST_UNKNOWN && g->headroom != HOST_UNKNOWN)
			r->seconds_to_limit = seconds_to((double)g->headroom, r->rate, r->growing);
	}
	qsort(w->groups, w->ngroups, sizeof(*w->groups), cmp_group_row);
	return 0;
}

/* Where each row went: row_index[i] is the row of end->procs[i]. */
struct host_window_private {
	struct host_window pub;
	size_t *row_index;
};

int host_window_make(struct host_snapshot *start, struct host_snapshot *end,
		     const struct host_window *prev, uint32_t index, struct host_window **out)
{
	struct host_window_private *wp = calloc(1, sizeof(*wp));
	struct host_window *w = &wp->pub;
	size_t i;

	*out = NULL;
	if (!wp)
		return -ENOMEM;
	w->start = host_snapshot_ref(start);
	w->end = host_snapshot_ref(end);
	w->index = index;
	w->t = end->t;
	w->window_s = end->t - start->t;
	w->rows = calloc(end->nprocs ? end->nprocs : 1, sizeof(*w->rows));
	wp->row_index = calloc(end->nprocs ? end->nprocs : 1, sizeof(*wp->row_index));
	if (!w->rows || !wp->row_index || make_groups(w)) {
		host_window_free(w);
		return -ENOMEM;
	}
	for (i = 0; i < end->nprocs; i++) {
		row_of(w, prev, &end->procs[i], &w->rows[i]);
		w->started += w->rows[i].is_new;
		w->growing += w->rows[i].growing;
	}
	w->nrows = end->nprocs;
	/* Every process of the start is in the end unless it exited (or its PID was reused). */
	w->exited = (uint32_t)(start->nprocs - (end->nprocs - w->started));
	qsort(w->rows, w->nrows, sizeof(*w->rows), cmp_row);
	for (i = 0; i < w->nrows; i++)
		wp->row_index[w->rows[i].cur - end->procs] = i;
	*out = w;
	return 0;
}

void host_window_free(struct host_window *w)
{
	struct host_window_private *wp = (struct host_window_private *)w;

	if (!w)
		return;
	host_snapshot_unref(w->start);
	host_snapshot_unref(w->end);
	free(w->rows);
	free(w->groups);
	free(wp->row_index);
	free(wp);
}

/* The index in `s` of the process with PID `pid` (procs ascend by PID), or -1. */
static ptrdiff_t find_pid(const struct host_snapshot *s, int32_t pid)
{
	size_t lo = 0, hi = s->nprocs, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->procs[mid].pid == pid)
			return (ptrdiff_t)mid;
		if (s->procs[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Whether group `path` is `scope` or below it ("/" holds every group). */
static bool group_under(const char *path, const char *scope, size_t len)
{
	if (len == 1 && scope[0] == '/')
		return true;
	return strncmp(path, scope, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

/* Marks in `in` the processes of `s` inside `sc`. */
static void mark_scope(const struct host_snapshot *s, const struct host_scope *sc, bool *in)
{
	size_t i, len = sc->cgroup ? strlen(sc->cgroup) : 0;
	bool more = sc->root != 0;
	ptrdiff_t parent;

	for (i = 0; i < s->nprocs; i++)
		in[i] = !sc->root || s->procs[i].pid == sc->root;
	/* One more generation per pass: as many passes as the tree is deep, plus one. */
	while (more) {
		more = false;
		for (i = 0; i < s->nprocs; i++) {
			if (in[i])
				continue;
			parent = find_pid(s, s->procs[i].ppid);
			if (parent >= 0 && in[parent])
				in[i] = more = true;
		}
	}
	for (i = 0; sc->cgroup && i < s->nprocs; i++)
		in[i] = in[i] && s->procs[i].group != HOST_NO_GROUP &&
			group_under(s->groups[s->procs[i].group].path, sc->cgroup, len);
}

int host_window_scope(struct host_window *w, const struct host_scope *sc)
{
	struct host_window_private *wp = (struct host_window_private *)w;
	const struct host_snapshot *s = w->end;
	bool *in = calloc(s->nprocs ? s->nprocs : 1, sizeof(*in));
	size_t i, k, at, len = sc->cgroup ? strlen(sc->cgroup) : 0;

	if (!in)
		return -ENOMEM;
	mark_scope(s, sc, in);
	w->growing = w->started = 0;
	for (i = k = 0; i < w->nrows; i++) {
		at = (size_t)(w->rows[i].cur - s->procs);
		if (!in[at]) {
			wp->row_index[at] = SIZE_MAX;
			continue;
		}
		w->rows[k] = w->rows[i];
		wp->row_index[at] = k;
		w->growing += w->rows[k].growing;
		w->started += w->rows[k].is_new;
		k++;
	}
	w->nrows = k;
	for (i = k = 0; sc->cgroup && i < w->ngroups; i++)
		if (group_under(w->groups[i].cur->path, sc->cgroup, len))
			w->groups[k++] = w->groups[i];
	if (sc->cgroup)
		w->ngroups = k;
	free(in);
	return 0;
}

const struct host_row *host_window_row(const struct host_window *w, int32_t pid,
				       uint64_t start_time)
{
	const struct host_window_private *wp = (const struct host_window_private *)w;
	const struct host_proc *p = host_snapshot_find(w->end, pid, start_time);
	size_t at = p ? wp->row_index[p - w->end->procs] : SIZE_MAX;

	/* A process outside the window's scope has no row. */
	return at == SIZE_MAX ? NULL : &w->rows[at];
}

void host_history_init(struct host_history *h, double window_s, double tick_s)
{
	memset(h, 0, sizeof(*h));
	h->window_s = window_s;
	h->step_s = window_s / 32 > tick_s ? window_s / 32 : tick_s;
}

static void history_drop(struct host_history *h, size_t i)
{
	host_snapshot_unref(h->s[i]);
	memmove(&h->s[i], &h->s[i + 1], (h->n - i - 1) * sizeof(h->s[0]));
	h->n--;
}

void host_history_push(struct host_history *h, struct host_snapshot *s)
{
	/* The newest kept scan stands in for those a step after the one before it. */
	if (h->n >= 2 && h->s[h->n - 1]->t - h->s[h->n - 2]->t < h->step_s * 0.98)
		history_drop(h, h->n - 1);
	if (h->n == HOST_HISTORY_MAX)
		history_drop(h, 0);
	h->s[h->n++] = s;
	/* The start is the newest scan a whole window old: older ones go. */
	while (h->n >= 3 && h->s[1]->t <= s->t - h->window_s * 0.98)
		history_drop(h, 0);
}

int host_history_window(const struct host_history *h, uint32_t index, struct host_window **out)
{
	*out = NULL;
	if (h->n < 2)
		return 0;
	return host_window_make(h->s[0], h->s[h->n - 1], NULL, index, out);
}

void host_history_clear(struct host_history *h)
{
	while (h->n)
		history_drop(h, h->n - 1);
}
