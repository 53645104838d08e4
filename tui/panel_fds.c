// SPDX-License-Identifier: GPL-2.0-only
/* The FDs panel: open descriptors by type, their change over the window, and time to the limit. */
#include "tui/panel.h"
#include "lib/units.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const sorts[] = { "count", "delta", NULL };

enum { SORT_COUNT, SORT_DELTA };

struct fds_ctx {
	const struct window *w;
	int types[FD_NTYPES];
};

static int64_t abs64(int64_t v)
{
	return v < 0 ? -v : v;
}

/* A row is its fd type. */
static uint64_t row_key(const void *vctx, int row)
{
	const struct fds_ctx *c = vctx;

	return (uint64_t)c->types[row];
}

/* The types worth a row: open now, or changed in the window. */
static int collect(const struct window *w, int *types, int sort)
{
	int n = 0, i, j;

	for (i = 0; i < FD_NTYPES; i++)
		if (w->end->fds.by_type[i] || w->fds_type_delta[i])
			types[n++] = i;
	/* Few types: an insertion sort keeps the table's order among equals. */
	for (i = 1; i < n; i++) {
		int t = types[i];

		for (j = i; j > 0; j--) {
			int u = types[j - 1];
			bool before = sort == SORT_DELTA
					      ? abs64(w->fds_type_delta[t]) > abs64(w->fds_type_delta[u])
					      : w->end->fds.by_type[t] > w->end->fds.by_type[u];

			if (!before)
				break;
			types[j] = u;
		}
		types[j] = t;
	}
	return n;
}

static void draw_row(const void *vctx, int row, int sub, struct line *l, bool sel)
{
	const struct fds_ctx *c = vctx;
	int t = c->types[row];
	int64_t d = c->w->fds_type_delta[t];
	char open[24], delta[24];

	(void)sub;
	snprintf(open, sizeof(open), "%" PRIu64, c->w->end->fds.by_type[t]);
	snprintf(delta, sizeof(delta), "%+" PRId64, d);
	line_skip(l, 1);
	line_put_tail(l, sel_style(sel, ST_NORMAL), fd_type_name((enum fd_type)t), 12);
	line_put_right(l, sel_style(sel, ST_NORMAL), open, 8);
	line_put_right(l, sel_style(sel, d > 0 ? ST_GROW : d < 0 ? ST_SHRINK : ST_NORMAL), delta,
		       8);
}

static int rows(const struct model *m)
{
	const struct window *w = model_window(m);
	int types[FD_NTYPES];

	return w && w->end->has_fds ? collect(w, types, SORT_COUNT) : 0;
}

static int badge(const struct model *m)
{
	const struct window *w = model_window(m);

	return w && w->end->has_fds ? (int)w->end->fds.total : 0;
}

/* "open 130 of 1024 allowed, +10 in 30s: the limit in 2h31m at this rate". */
static void summary(const struct window *w, struct line *l)
{
	const struct fd_summary *f = &w->end->fds;
	bool limited = f->limit && f->limit != UINT64_MAX;
	char a[16], b[16];

	line_skip(l, 1);
	line_putf(l, ST_LABEL, "open %" PRIu64, f->total);
	if (limited)
		line_putf(l, ST_NORMAL, " of %" PRIu64 " allowed (%.0f%%)", f->limit,
			  100.0 * (double)f->total / (double)f->limit);
	line_putf(l, style_delta(w->fds_delta * 4096), ", %+" PRId64 " in %s", w->fds_delta,
		  units_duration(a, sizeof(a), w->window_s));
	if (limited && w->fds_delta > 0 && w->window_s > 0 && f->total < f->limit) {
		double rate = (double)w->fds_delta / w->window_s;

		line_putf(l, ST_WARN, ": the limit in %s at this rate",
			  units_duration(b, sizeof(b), (double)(f->limit - f->total) / rate));
	}
}

static void draw(const struct model *m, struct list_state *st, struct rect r)
{
	const struct window *w = model_window(m);
	struct fds_ctx c = { .w = w };
	struct list_rows lr = { .draw = draw_row, .key = row_key, .ctx = &c };
	struct line l;

	if (r.h <= 0)
		return;
	if (!w || !w->end->has_fds) {
		rect_message(r, ST_DIM, " the fd table was not read (no permission, or not sampled yet)");
		return;
	}
	line_start(&l, r.y, r.x, r.w);
	summary(w, &l);
	line_end(&l, ST_NORMAL);
	if (r.h < 2)
		return;
	line_start(&l, r.y + 1, r.x, r.w);
	line_skip(&l, 1);
	line_put_tail(&l, ST_HEAD, "TYPE", 12);
	line_put_right(&l, ST_HEAD, st->sort == SORT_COUNT ? "OPEN*" : "OPEN", 8);
	line_put_right(&l, ST_HEAD, st->sort == SORT_DELTA ? "DELTA*" : "DELTA", 8);
	line_end(&l, ST_NORMAL);
	lr.n = collect(w, c.types, st->sort);
	if (!lr.n)
		rect_message((struct rect){ r.y + 2, r.x, r.h - 2, r.w }, ST_DIM, " no open fds");
	else
		list_draw((struct rect){ r.y + 2, r.x, r.h - 2, r.w }, st, &lr);
}

const struct panel_ops panel_fds = {
	.name = "FDs",
	.sorts = sorts,
	.rows = rows,
	.badge = badge,
	.draw = draw,
};
