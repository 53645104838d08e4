// SPDX-License-Identifier: GPL-2.0-only
/* Turnover of the malloc probes' records: of what each stack held at the previous reading, what is still live. */
#include "collectors/alloc_ages.h"
#include "lib/idmap.h"
#include "lib/vec.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#include "bpf/alloc.h"

#define BATCH 4096

/* One stack's raw sums at a reading: weights are the bytes the records stand for. */
struct age_raw {
	uint64_t id;
	double weight, kept_weight, sq, kept_sq;	/* sq: sum of weight^2 */
	int64_t n, kept_n;
};

struct age_set {
	struct age_raw *rows;
	size_t n, cap;
	struct idmap index;	/* id -> row */
};

struct alloc_ages {
	struct age_set prev;	/* the previous reading */
	bool has_prev;
	uint32_t prev_mark;	/* its time, in record birth units */
	double prev_t;		/* its sample's unix time */
	uint64_t *keys;		/* batch buffers */
	struct alloc_rec *vals;
};

static void set_clear(struct age_set *s)
{
	free(s->rows);
	idmap_free(&s->index);
	memset(s, 0, sizeof(*s));
}

static struct age_raw *set_row(struct age_set *s, uint64_t id)
{
	size_t at = idmap_get(&s->index, id);
	struct age_raw *r;

	if (at != SIZE_MAX)
		return &s->rows[at];
	r = VEC_PUSH(s->rows, s->n, s->cap);
	if (!r || idmap_put(&s->index, id, s->n - 1))
		return NULL;
	r->id = id;
	return r;
}

struct alloc_ages *alloc_ages_new(void)
{
	struct alloc_ages *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->keys = calloc(BATCH, sizeof(*g->keys));
	g->vals = calloc(BATCH, sizeof(*g->vals));
	if (!g->keys || !g->vals) {
		alloc_ages_free(g);
		errno = ENOMEM;
		return NULL;
	}
	return g;
}

/* Now, in the units of alloc_rec.born (the clock bpf_ktime_get_ns reads). */
static uint32_t now_mark(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)(((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec) >>
			  ALLOC_BORN_SHIFT);
}

/* Sums the live map by stack into `cur`; records born before the previous reading count as kept. */
static int sum_live(struct alloc_ages *g, int fd, struct alloc_stacks *stacks, struct age_set *cur)
{
	uint32_t in = 0, out = 0;
	bool first = true;
	int ret;

	for (;;) {
		__u32 count = BATCH, i;

		ret = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, g->keys, g->vals, &count,
					   NULL);
		if (ret < 0 && errno != ENOENT)
			return -errno;
		for (i = 0; i < count; i++) {
			const struct alloc_rec *r = &g->vals[i];
			struct age_raw *row;
			uint64_t id;

			if (r->stack_id == ALLOC_NO_STACK)
				continue;
			id = alloc_stacks_id(stacks, r->stack_id);
			row = id ? set_row(cur, id) : NULL;
			if (!row)
				return -ENOMEM;
			row->weight += (double)r->weight;
			row->sq += (double)r->weight * (double)r->weight;
			row->n++;
			/* Born before the previous reading, modulo the clock's wrap. */
			if (g->has_prev && (int32_t)(r->born - g->prev_mark) < 0) {
				row->kept_weight += (double)r->weight;
				row->kept_sq += (double)r->weight * (double)r->weight;
				row->kept_n++;
			}
		}
		if (ret < 0)	/* ENOENT: that was the last batch */
			return 0;
		in = out;
		first = false;
	}
}

static int emit(struct sample *s, const struct age_raw *now, const struct age_raw *held,
		double scale)
{
	struct alloc_age *a = sample_add_alloc_age(s);
	double kept_sq = now ? now->kept_sq : 0;

	if (!a)
		return -ENOMEM;
	a->id = now ? now->id : held->id;
	if (now) {
		a->bytes = llround(now->weight / scale);
		a->records = now->n;
		a->kept_bytes = llround(now->kept_weight / scale);
		a->kept_records = now->kept_n;
		a->churn_sq += now->sq - kept_sq;
	}
	if (held) {
		a->held_bytes = llround(held->weight / scale);
		a->held_records = held->n;
		a->churn_sq += held->sq - kept_sq;
	}
	a->churn_sq = fmax(a->churn_sq, 0) / (scale * scale);
	return 0;
}

int alloc_ages_read(struct alloc_ages *g, int live_fd, struct alloc_stacks *stacks,
		    double scale, struct sample *s)
{
	struct age_set cur = { 0 };
	uint32_t mark = now_mark();
	size_t i, at;
	int ret;

	ret = sum_live(g, live_fd, stacks, &cur);
	for (i = 0; !ret && i < cur.n; i++) {
		at = g->has_prev ? idmap_get(&g->prev.index, cur.rows[i].id) : SIZE_MAX;
		ret = emit(s, &cur.rows[i], at == SIZE_MAX ? NULL : &g->prev.rows[at], scale);
	}
	/* Stacks that freed all they held since the previous reading. */
	for (i = 0; !ret && g->has_prev && i < g->prev.n; i++)
		if (idmap_get(&cur.index, g->prev.rows[i].id) == SIZE_MAX)
			ret = emit(s, NULL, &g->prev.rows[i], scale);
	if (ret) {
		set_clear(&cur);
		s->alloc.nages = 0;
		return ret;
	}
	s->alloc.has_ages = true;
	s->alloc.ages_since = g->has_prev ? g->prev_t : 0;
	set_clear(&g->prev);
	g->prev = cur;
	g->has_prev = true;
	g->prev_mark = mark;
	g->prev_t = s->t;
	return 0;
}

void alloc_ages_free(struct alloc_ages *g)
{
	if (!g)
		return;
	set_clear(&g->prev);
	free(g->keys);
	free(g->vals);
	free(g);
}
