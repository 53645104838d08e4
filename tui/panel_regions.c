// SPDX-License-Identifier: GPL-2.0-only
/* The Regions panel: every region of the target with its change over the sliding window. */
#include "tui/panel.h"
#include "lib/strmap.h"
#include "lib/units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const sorts[] = { "delta", "rss", "name", NULL };

enum { SORT_DELTA, SORT_RSS, SORT_NAME };

struct regions_ctx {
	const struct window *w;
	const struct region_delta **order;
	bool wide;
	int name_w;
};

static const struct region none;

static const struct region *cur_of(const struct region_delta *d)
{
	return d->cur ? d->cur : &none;
}

static int by_rss(const void *pa, const void *pb)
{
	const struct region_delta *a = *(const struct region_delta *const *)pa;
	const struct region_delta *b = *(const struct region_delta *const *)pb;
	uint64_t ra = cur_of(a)->rss, rb = cur_of(b)->rss;

	if (ra != rb)
		return ra > rb ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int by_name(const void *pa, const void *pb)
{
	const struct region_delta *a = *(const struct region_delta *const *)pa;
	const struct region_delta *b = *(const struct region_delta *const *)pb;

	return strcmp(a->name, b->name);
}

static int rows(const struct model *m)
{
	const struct window *w = model_window(m);

	return w && w->end->has_regions ? (int)w->nregions : 0;
}

/* A region is its name. */
static uint64_t row_key(const void *vctx, int row)
{
	const struct regions_ctx *c = vctx;

	return strmap_hash(0, c->order[row]->name);
}

static void draw_row(const void *vctx, int row, int sub, struct line *l, bool sel)
{
	const struct regions_ctx *c = vctx;
	const struct region_delta *d = c->order[row];
	const struct region *r = cur_of(d);
	char a[16], b[16], e[16], f[16], g[16];

	(void)sub;
	line_skip(l, 1);
	line_put_tail(l, sel_style(sel, ST_NORMAL), d->name, c->name_w);
	line_skip(l, 1);
	line_put_right(l, sel_style(sel, ST_DIM), region_kind_name((enum region_kind)d->kind), 5);
	line_put_right(l, sel_style(sel, ST_NORMAL), fmt_bytes(a, sizeof(a), r->rss), 11);
	line_put_right(l, sel_style(sel, style_delta(d->rss_delta)),
		       fmt_delta(b, sizeof(b), d->rss_delta), 12);
	if (c->wide)
		line_put_right(l, sel_style(sel, ST_NORMAL), fmt_bytes(g, sizeof(g), r->pss), 11);
	line_put_right(l, sel_style(sel, ST_NORMAL), fmt_bytes(e, sizeof(e), r->private_dirty), 11);
	line_put_right(l, sel_style(sel, ST_NORMAL), fmt_bytes(f, sizeof(f), r->swap), 10);
	if (c->wide) {
		char v[16];

		snprintf(v, sizeof(v), "%u", r->nvmas);
		line_put_right(l, sel_style(sel, ST_NORMAL), v, 6);
	}
}

static void heading(struct line *l, const char *name, int w, bool right, bool sorted)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%s%s", name, sorted ? "*" : "");
	if (right)
		line_put_right(l, ST_HEAD, buf, w);
	else
		line_put_tail(l, ST_HEAD, buf, w);
}

static void draw(const struct model *m, struct list_state *st, struct rect r)
{
	const struct window *w = model_window(m);
	struct regions_ctx c = { .w = w };
	struct list_rows lr = { .draw = draw_row, .key = row_key, .ctx = &c };
	struct line l;
	size_t i;

	if (r.h <= 0)
		return;
	if (!w || !w->end->has_regions) {
		rect_message(r, ST_DIM, w ? " regions were not read in this sample" : " waiting for the first sample");
		return;
	}
	c.wide = r.w >= 100;
	c.name_w = r.w - (c.wide ? 69 : 52);
	if (c.name_w < 8)
		c.name_w = 8;
	c.order = calloc(w->nregions + 1, sizeof(*c.order));
	if (!c.order) {
		rect_message(r, ST_WARN, " out of memory");
		return;
	}
	for (i = 0; i < w->nregions; i++)
		c.order[i] = &w->regions[i];
	if (st->sort == SORT_RSS)
		qsort(c.order, w->nregions, sizeof(*c.order), by_rss);
	else if (st->sort == SORT_NAME)
		qsort(c.order, w->nregions, sizeof(*c.order), by_name);
	line_start(&l, r.y, r.x, r.w);
	line_skip(&l, 1);
	heading(&l, "REGION", c.name_w, false, st->sort == SORT_NAME);
	line_skip(&l, 1);
	heading(&l, "KIND", 5, true, false);
	heading(&l, "RSS", 11, true, st->sort == SORT_RSS);
	heading(&l, "DELTA", 12, true, st->sort == SORT_DELTA);
	if (c.wide)
		heading(&l, "PSS", 11, true, false);
	heading(&l, "DIRTY", 11, true, false);
	heading(&l, "SWAP", 10, true, false);
	if (c.wide)
		heading(&l, "VMAS", 6, true, false);
	line_end(&l, ST_NORMAL);
	lr.n = (int)w->nregions;
	list_draw((struct rect){ r.y + 1, r.x, r.h - 1, r.w }, st, &lr);
	free(c.order);
}

const struct panel_ops panel_regions = {
	.name = "Regions",
	.sorts = sorts,
	.rows = rows,
	.draw = draw,
};
