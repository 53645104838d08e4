// SPDX-License-Identifier: GPL-2.0-only
/* The view model: recent samples, a sliding window over them, history and the latest findings. */
#include "analyzer/model.h"
#include "analyzer/timeline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct model {
	double window_s, tick_s;
	struct sample *ring[MODEL_SAMPLES_MAX];	/* held, oldest first */
	size_t nring;
	uint64_t dropped;

	struct window *win;		/* published sliding window */

	struct model_point hist[MODEL_HISTORY_MAX];	/* circular */
	size_t hist_head, hist_n;

	struct findings_set findings;	/* published */
	bool has_findings;
	struct findings_set pending;	/* arrived while frozen */
	bool has_pending;
	bool frozen;

	struct model_meta meta;
};

void model_point_of(const struct sample *s, const struct model_point *prev,
		    struct model_point *out)
{
	memset(out, 0, sizeof(*out));
	if (prev)
		memcpy(out->v, prev->v, sizeof(out->v));
	out->t = s->t;
	out->v[SERIES_RSS] = (double)s->totals.rss;
	out->v[SERIES_ANON] = (double)s->totals.anon;
	if (s->has_regions)
		out->v[SERIES_HEAP] = (double)sample_heap_rss(s);
	if (s->has_fds)
		out->v[SERIES_FDS] = (double)s->fds.total;
}

/* ---- findings sets ---- */

static int copy_items(struct findings_set *dst, const struct finding *items, size_t n)
{
	size_t i;

	dst->items = calloc(n ? n : 1, sizeof(*dst->items));
	if (!dst->items)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (finding_copy(&dst->items[i], &items[i])) {
			dst->n = i;
			findings_set_clear(dst);
			return -ENOMEM;
		}
	}
	dst->n = n;
	return 0;
}

int findings_set_from_window(struct findings_set *dst, const struct window *w)
{
	findings_set_clear(dst);
	dst->window_index = w->index;
	dst->window_s = w->window_s;
	dst->end_t = w->end->t;
	dst->partial = w->partial;
	return copy_items(dst, w->findings, w->nfindings);
}

int findings_set_copy(struct findings_set *dst, const struct findings_set *src)
{
	findings_set_clear(dst);
	dst->window_index = src->window_index;
	dst->window_s = src->window_s;
	dst->end_t = src->end_t;
	dst->partial = src->partial;
	return copy_items(dst, src->items, src->n);
}

void findings_set_clear(struct findings_set *fs)
{
	size_t i;

	if (!fs)
		return;
	for (i = 0; i < fs->n; i++)
		finding_clear(&fs->items[i]);
	free(fs->items);
	memset(fs, 0, sizeof(*fs));
}

/* ---- the model ---- */

struct model *model_new(double window_s, double tick_s)
{
	struct model *m = calloc(1, sizeof(*m));

	if (m) {
		m->window_s = window_s;
		m->tick_s = tick_s;
	}
	return m;
}

void model_reset(struct model *m)
{
	size_t i;

	for (i = 0; i < m->nring; i++)
		sample_unref(m->ring[i]);
	m->nring = 0;
	window_free(m->win);
	m->win = NULL;
	m->hist_head = m->hist_n = 0;
}

void model_free(struct model *m)
{
	if (!m)
		return;
	model_reset(m);
	findings_set_clear(&m->findings);
	findings_set_clear(&m->pending);
	free(m);
}

size_t model_window_first(size_t end, double window_s, double tick_s,
			  void (*at)(const void *ctx, size_t i, double *t, int32_t *pid),
			  const void *ctx)
{
	double end_t, t;
	int32_t end_pid, pid;
	size_t i = end;

	at(ctx, end, &end_t, &end_pid);
	while (i > 0) {
		at(ctx, i, &t, &pid);
		if (timeline_span_full(end_t - t, window_s, tick_s))
			break;
		at(ctx, i - 1, &t, &pid);
		if (pid != end_pid)
			break;
		i--;
	}
	return i;
}

static void ring_at(const void *ctx, size_t i, double *t, int32_t *pid)
{
	const struct model *m = ctx;

	*t = m->ring[i]->t;
	*pid = m->ring[i]->pid;
}

/* The first held sample of the window that ends at the newest. */
static size_t window_start(const struct model *m)
{
	return model_window_first(m->nring - 1, m->window_s, m->tick_s, ring_at, m);
}

static void trim(struct model *m, size_t start)
{
	size_t i;

	if (!start)
		return;
	for (i = 0; i < start; i++)
		sample_unref(m->ring[i]);
	memmove(m->ring, m->ring + start, (m->nring - start) * sizeof(m->ring[0]));
	m->nring -= start;
}

/* Rebuilds the published window over the held samples; keeps the old one on failure. */
static int rebuild(struct model *m)
{
	struct window *w;
	size_t start;

	if (!m->nring)
		return 0;
	start = window_start(m);
	w = window_build(m->ring + start, m->nring - start);
	if (!w)
		return -ENOMEM;
	window_free(m->win);
	m->win = w;
	return 0;
}

int model_push(struct model *m, struct sample *s)
{
	struct model_point p;
	const struct model_point *prev = NULL;

	if (m->hist_n)
		prev = &m->hist[(m->hist_head + m->hist_n - 1) % MODEL_HISTORY_MAX];
	model_point_of(s, prev, &p);
	model_push_point(m, &p);

	if (m->nring == MODEL_SAMPLES_MAX) {
		trim(m, 1);
		m->dropped++;
	}
	m->ring[m->nring++] = s;
	/* The published window holds its own references, so trimming is safe while frozen. */
	trim(m, window_start(m));
	return m->frozen ? 0 : rebuild(m);
}

void model_push_point(struct model *m, const struct model_point *p)
{
	if (m->hist_n == MODEL_HISTORY_MAX) {
		m->hist_head = (m->hist_head + 1) % MODEL_HISTORY_MAX;
		m->hist_n--;
	}
	m->hist[(m->hist_head + m->hist_n) % MODEL_HISTORY_MAX] = *p;
	m->hist_n++;
}

int model_set_window(struct model *m, double window_s)
{
	m->window_s = window_s;
	return m->frozen ? 0 : rebuild(m);
}

double model_window_target(const struct model *m)
{
	return m->window_s;
}

double model_tick(const struct model *m)
{
	return m->tick_s;
}

static int set_findings(struct model *m, const struct window *w, const struct findings_set *fs)
{
	struct findings_set *dst = m->frozen ? &m->pending : &m->findings;
	bool *has = m->frozen ? &m->has_pending : &m->has_findings;
	int ret = 0;

	if (w)
		ret = findings_set_from_window(dst, w);
	else if (fs)
		ret = findings_set_copy(dst, fs);
	else
		findings_set_clear(dst);
	*has = !ret && (w || fs);
	return ret;
}

int model_set_findings(struct model *m, const struct window *w)
{
	return set_findings(m, w, NULL);
}

int model_set_findings_set(struct model *m, const struct findings_set *fs)
{
	return set_findings(m, NULL, fs);
}

int model_freeze(struct model *m, bool frozen)
{
	if (m->frozen == frozen)
		return 0;
	m->frozen = frozen;
	if (frozen) {
		/* Until something new arrives, the pending findings are the shown ones. */
		m->has_pending = m->has_findings &&
				 !findings_set_copy(&m->pending, &m->findings);
		return 0;
	}
	findings_set_clear(&m->findings);
	m->findings = m->pending;
	m->has_findings = m->has_pending;
	memset(&m->pending, 0, sizeof(m->pending));
	m->has_pending = false;
	return rebuild(m);
}

bool model_frozen(const struct model *m)
{
	return m->frozen;
}

void model_set_meta(struct model *m, const struct model_meta *meta)
{
	m->meta = *meta;
}

const struct model_meta *model_meta(const struct model *m)
{
	return &m->meta;
}

const struct window *model_window(const struct model *m)
{
	return m->win;
}

const struct sample *model_latest(const struct model *m)
{
	return m->win ? m->win->end : NULL;
}

const struct findings_set *model_findings(const struct model *m)
{
	return m->has_findings ? &m->findings : NULL;
}

uint64_t model_dropped(const struct model *m)
{
	return m->dropped;
}

size_t model_series(const struct model *m, enum model_series k, double *out, size_t max)
{
	double until = m->win ? m->win->end->t : 0;
	size_t last, n, i;

	if (!m->win || !m->hist_n || max == 0 || (unsigned int)k >= SERIES_N)
		return 0;
	/* Points newer than the shown sample arrived while frozen: leave them out. */
	last = m->hist_n;
	while (last > 0 && m->hist[(m->hist_head + last - 1) % MODEL_HISTORY_MAX].t > until)
		last--;
	n = last < max ? last : max;
	for (i = 0; i < n; i++)
		out[i] = m->hist[(m->hist_head + last - n + i) % MODEL_HISTORY_MAX].v[k];
	return n;
}
