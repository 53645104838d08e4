// SPDX-License-Identifier: GPL-2.0-only
/* The Arenas panel: each glibc arena's size, free space and fragmentation, and its growth. */
#include "tui/panel.h"
#include "analyzer/arenas.h"
#include "lib/units.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const sorts[] = { "system", "fragmentation", "rss", NULL };

enum { SORT_SYSTEM, SORT_FRAG, SORT_RSS };

struct arenas_ctx {
	const struct sample *cur, *old;
	const struct arena_stat **order;
	bool wide;
};

static int sort_key;

static int cmp(const void *pa, const void *pb)
{
	const struct arena_stat *a = *(const struct arena_stat *const *)pa;
	const struct arena_stat *b = *(const struct arena_stat *const *)pb;

	if (sort_key == SORT_FRAG && a->fragmentation != b->fragmentation)
		return a->fragmentation > b->fragmentation ? -1 : 1;
	if (sort_key == SORT_RSS && a->rss != b->rss)
		return a->rss > b->rss ? -1 : 1;
	if (a->system != b->system)
		return a->system > b->system ? -1 : 1;
	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

/* The arena's system bytes at the window's start, matched by address; 0 when it is new. */
static uint64_t old_system(const struct arenas_ctx *c, const struct arena_stat *a)
{
	const struct arena_stat *old = arenas_find(c->old, a->addr);

	return old ? old->system : 0;
}

static void draw_row(const void *vctx, int row, int sub, struct line *l, bool sel)
{
	const struct arenas_ctx *c = vctx;
	const struct arena_stat *a = c->order[row];
	int64_t delta = (int64_t)(a->system - old_system(c, a));
	char name[24], b1[16], b2[16], b3[16], b4[16], b5[16], b6[16], pct[16];

	(void)sub;
	if (a->main)
		snprintf(name, sizeof(name), "main");
	else
		snprintf(name, sizeof(name), "0x%llx", (unsigned long long)a->addr);
	/* Without a frozen walk only the fixed fields are known. */
	if (a->walked)
		snprintf(pct, sizeof(pct), "%.0f%%", a->fragmentation * 100.0);
	else
		snprintf(pct, sizeof(pct), "?");
	line_skip(l, 1);
	line_put_tail(l, sel_style(sel, ST_NORMAL), name, 14);
	line_putf(l, sel_style(sel, ST_NORMAL), "%4u", a->threads);
	line_put_right(l, sel_style(sel, ST_NORMAL), fmt_bytes(b1, sizeof(b1), a->system), 11);
	line_put_right(l, sel_style(sel, style_delta(delta)), fmt_delta(b2, sizeof(b2), delta), 11);
	if (c->wide)
		line_put_right(l, sel_style(sel, ST_NORMAL), fmt_bytes(b5, sizeof(b5), a->top), 11);
	line_put_right(l, sel_style(sel, ST_NORMAL),
		       a->walked ? fmt_bytes(b3, sizeof(b3), a->free) : "?", 11);
	if (c->wide)
		line_put_right(l, sel_style(sel, ST_NORMAL),
			       a->live >= 0 ? fmt_bytes(b6, sizeof(b6), (uint64_t)a->live) : "?", 11);
	line_put_right(l, sel_style(sel, a->fragmentation >= 0.5 ? ST_WARN : ST_NORMAL), pct, 6);
	line_put_right(l, sel_style(sel, ST_NORMAL), fmt_bytes(b4, sizeof(b4), a->rss), 11);
	line_put_right(l, sel_style(sel, ST_NORMAL),
		       a->walked ? fmt_bytes(b1, sizeof(b1), a->reclaimable) : "?", 11);
}

/* An arena is its address. */
static uint64_t row_key(const void *vctx, int row)
{
	const struct arenas_ctx *c = vctx;

	return c->order[row]->addr;
}

/* Arenas are read less often than every tick: show the newest reading in the window. */
static int rows(const struct model *m)
{
	const struct window *w = model_window(m);
	const struct sample *s = w ? arenas_latest(w) : NULL;

	return s ? (int)s->narenas : 0;
}

static void draw(const struct model *m, struct list_state *st, struct rect r)
{
	const struct window *w = model_window(m);
	struct arenas_ctx c = { 0 };
	struct list_rows lr = { .draw = draw_row, .key = row_key, .ctx = &c };
	struct line l;
	size_t i;

	if (r.h <= 0)
		return;
	c.cur = w ? arenas_latest(w) : NULL;
	if (!c.cur) {
		rect_message(r, ST_DIM,
			     " glibc arenas not read (arena reader off, or not glibc)");
		return;
	}
	c.old = arenas_earliest(w) != c.cur ? arenas_earliest(w) : NULL;
	c.wide = r.w >= 100;
	c.order = calloc(c.cur->narenas + 1, sizeof(*c.order));
	if (!c.order) {
		rect_message(r, ST_WARN, " out of memory");
		return;
	}
	for (i = 0; i < c.cur->narenas; i++)
		c.order[i] = &c.cur->arenas[i];
	sort_key = st->sort;
	qsort(c.order, c.cur->narenas, sizeof(*c.order), cmp);
	line_start(&l, r.y, r.x, r.w);
	line_skip(&l, 1);
	line_put_tail(&l, ST_HEAD, "ARENA", 14);
	line_put_right(&l, ST_HEAD, "THR", 4);
	line_put_right(&l, ST_HEAD, st->sort == SORT_SYSTEM ? "SYSTEM*" : "SYSTEM", 11);
	line_put_right(&l, ST_HEAD, "DELTA", 11);
	if (c.wide)
		line_put_right(&l, ST_HEAD, "TOP", 11);
	line_put_right(&l, ST_HEAD, "FREE", 11);
	if (c.wide)
		line_put_right(&l, ST_HEAD, "LIVE", 11);
	line_put_right(&l, ST_HEAD, st->sort == SORT_FRAG ? "FRAG*" : "FRAG", 6);
	line_put_right(&l, ST_HEAD, st->sort == SORT_RSS ? "RSS*" : "RSS", 11);
	line_put_right(&l, ST_HEAD, "TRIMMABLE", 11);
	line_end(&l, ST_NORMAL);
	lr.n = (int)c.cur->narenas;
	if (!lr.n)
		rect_message((struct rect){ r.y + 1, r.x, r.h - 1, r.w }, ST_DIM, " no arenas");
	else
		list_draw((struct rect){ r.y + 1, r.x, r.h - 1, r.w }, st, &lr);
	free(c.order);
}

const struct panel_ops panel_arenas = {
	.name = "Arenas",
	.sorts = sorts,
	.rows = rows,
	.draw = draw,
};
