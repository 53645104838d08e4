// SPDX-License-Identifier: GPL-2.0-only
/* The live view's header: who the target is, what is measured, and four figures with sparklines. */
#include "tui/chrome.h"
#include "analyzer/arenas.h"
#include "analyzer/timeline.h"
#include "lib/units.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Figures of one header cell: the value now, its change over the window, and its history. */
struct figure {
	const char *label;
	const char *value;
	const char *delta;
	enum style delta_style;
	enum model_series series;
};

static void title_line(const struct model *m, struct line *l)
{
	const struct sample *s = model_latest(m);
	const struct window *w = model_window(m);
	const struct model_meta *meta = model_meta(m);
	double target = model_window_target(m);
	char a[16], b[16];

	line_put(l, ST_TITLE, " memsleuth ");
	if (!s) {
		line_put(l, ST_TITLE, " waiting for the first sample");
		return;
	}
	line_putf(l, ST_TITLE, " pid %d ", s->pid);
	line_put(l, ST_TITLE, s->comm ? s->comm : "?");
	line_putf(l, ST_TITLE, "  %s", allocator_name((enum allocator_kind)s->allocator));
	if (meta->replay)
		line_putf(l, ST_TITLE, "  at %s of %s", units_duration(a, sizeof(a), s->t - meta->first_t),
			  units_duration(b, sizeof(b), meta->last_t - meta->first_t));
	else if (meta->target_started > 0)
		line_putf(l, ST_TITLE, "  up %s", units_duration(a, sizeof(a), s->t - meta->target_started));
	/*
	 * The figures below are live: their changes span the last window's
	 * length up to the newest sample, while the findings are those of the
	 * last closed window (whose strip says when it closed). A window still
	 * filling says how much of it there is.
	 */
	if (w && !timeline_span_full(w->window_s, target, model_tick(m)))
		line_putf(l, ST_TITLE, "  last %s/%s", units_duration(a, sizeof(a), w->window_s),
			  units_duration(b, sizeof(b), target));
	else
		line_putf(l, ST_TITLE, "  last %s", units_duration(a, sizeof(a), target));
	line_putf(l, s->lost_events ? ST_CRIT : ST_TITLE, "  lost %" PRIu64, s->lost_events);
	/* The least needed figure goes when it does not fit whole. */
	if (s->threads && line_left(l) >= 14)
		line_putf(l, ST_TITLE, "  threads %u", s->threads);
}

static void figure_cell(const struct model *m, const struct figure *f, struct line *l, int w)
{
	double v[512];
	int start = l->col, spark;
	size_t n;

	line_skip(l, 1);
	line_put_tail(l, ST_LABEL, f->label, 5);
	line_put_right(l, ST_NORMAL, f->value, 11);
	line_put_right(l, f->delta_style, f->delta, 11);
	line_skip(l, 1);
	spark = w - (l->col - start) - 1;
	if (spark > 0) {
		n = model_series(m, f->series, v, (size_t)spark * 20 < 512 ? (size_t)spark * 20 : 512);
		line_spark(l, ST_LABEL, v, n, spark);
	}
	line_skip(l, w - (l->col - start));
}

static void figures(const struct model *m, struct line *l1, struct line *l2, int w)
{
	const struct window *win = model_window(m);
	const struct sample *s = win->end;
	struct model_point p;
	char v[4][24], d[4][24];
	int64_t hd = window_heap_delta(win);
	struct figure f[4] = {
		{ "RSS", v[0], d[0], style_delta(win->delta.rss), SERIES_RSS },
		{ "anon", v[1], d[1], style_delta(win->delta.anon), SERIES_ANON },
		{ "heap", v[2], d[2], style_delta(hd), SERIES_HEAP },
		{ "fds", v[3], d[3], win->fds_delta > 0 ? ST_GROW : ST_NORMAL, SERIES_FDS },
	};

	model_point_of(s, NULL, &p);
	fmt_bytes(v[0], sizeof(v[0]), s->totals.rss);
	fmt_delta(d[0], sizeof(d[0]), win->delta.rss);
	fmt_bytes(v[1], sizeof(v[1]), s->totals.anon);
	fmt_delta(d[1], sizeof(d[1]), win->delta.anon);
	if (s->has_regions) {
		fmt_bytes(v[2], sizeof(v[2]), (uint64_t)p.v[SERIES_HEAP]);
		fmt_delta(d[2], sizeof(d[2]), hd);
	} else {
		snprintf(v[2], sizeof(v[2]), "-");
		d[2][0] = '\0';
	}
	if (s->has_fds) {
		if (s->fds.limit && s->fds.limit != UINT64_MAX)
			snprintf(v[3], sizeof(v[3]), "%" PRIu64 "/%" PRIu64, s->fds.total,
				 s->fds.limit);
		else
			snprintf(v[3], sizeof(v[3]), "%" PRIu64, s->fds.total);
		snprintf(d[3], sizeof(d[3]), "%+" PRId64, win->fds_delta);
	} else {
		snprintf(v[3], sizeof(v[3]), "-");
		d[3][0] = '\0';
	}
	figure_cell(m, &f[0], l1, w / 2);
	figure_cell(m, &f[1], l1, w - w / 2);
	figure_cell(m, &f[2], l2, w / 2);
	figure_cell(m, &f[3], l2, w - w / 2);
}

static void collectors_line(const struct model *m, struct line *l)
{
	const struct sample *s = model_latest(m);
	const struct model_meta *meta = model_meta(m);
	const char *names[] = { "smaps", "fds", "arenas", "bpf", "alloc" };
	/* Arenas are read once a window: on when the window holds a reading. */
	bool on[] = { s->has_regions, s->has_fds, arenas_latest(model_window(m)) != NULL,
		      s->has_bpf, meta->alloc && s->has_bpf };
	size_t i;

	line_skip(l, 1);
	line_put(l, ST_LABEL, "on:");
	for (i = 0; i < 5; i++)
		if (on[i])
			line_putf(l, ST_NORMAL, " %s", names[i]);
	for (i = 0; i < 5 && on[i]; i++)
		;
	if (i < 5)
		line_put(l, ST_LABEL, "  off:");
	for (i = 0; i < 5; i++)
		if (!on[i])
			line_putf(l, ST_DIM, " %s", names[i]);
	if (model_dropped(m))
		line_putf(l, ST_WARN, "  window cut short: %" PRIu64 " samples over the cap",
			  model_dropped(m));
	/* Alloc stacks miss what the full map could not record: they are lower bounds. */
	if (s->has_alloc && s->alloc.lost_live)
		line_putf(l, ST_WARN, "  alloc map full: %" PRIu64 " not tracked", s->alloc.lost_live);
}

int header_height(void)
{
	return 4;
}

void header_draw(const struct model *m, struct rect r)
{
	struct line l, l2;

	if (r.h <= 0)
		return;
	line_start(&l, r.y, r.x, r.w);
	title_line(m, &l);
	line_end(&l, ST_TITLE);
	if (r.h < 4)
		return;
	if (!model_window(m)) {
		rect_blank((struct rect){ r.y + 1, r.x, 3, r.w });
		return;
	}
	line_start(&l, r.y + 1, r.x, r.w);
	line_start(&l2, r.y + 2, r.x, r.w);
	figures(m, &l, &l2, r.w);
	line_end(&l, ST_NORMAL);
	line_end(&l2, ST_NORMAL);
	line_start(&l, r.y + 3, r.x, r.w);
	collectors_line(m, &l);
	line_end(&l, ST_NORMAL);
}
