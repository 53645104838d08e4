// SPDX-License-Identifier: GPL-2.0-only
/* The Growth stacks panel: which code grew memory or fds in the window, one row per site, expandable to its call paths. */
#include "tui/panel.h"
#include "analyzer/stack.h"
#include "lib/strmap.h"
#include "lib/units.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const sorts[] = { "delta", "outstanding", "kind", NULL };

enum { SORT_DELTA, SORT_OUTSTANDING, SORT_KIND };

/* An expanded site shows this many call paths at most, then a line counting the rest. */
#define PATHS_SHOWN 8

/*
 * A site's row: every stack of one kind whose site frame names the same
 * function (stack.h), summed. Two call paths into the same allocating
 * function are one place to fix, so they are one row; expanding it shows
 * each path's frames.
 */
struct site_row {
	const struct stack_delta **paths;	/* largest change first (the window's order) */
	size_t n;
	uint8_t kind;
	size_t kind_rank;			/* where the window's order puts the kind */
	bool truncated;				/* every path was cut: the site may be a callee */
	int64_t bytes_delta, count_delta;
	int64_t bytes, count;			/* outstanding at the window's end */
	uint64_t key;				/* for expanding: stable across refreshes */
	char name[160];				/* the site's function */
};

struct site_rows {
	struct site_row *rows;
	const struct stack_delta **paths;	/* every stack, grouped by row */
	size_t n;
};

struct stacks_ctx {
	const struct site_row *const *order;
	const struct list_state *st;
};

static int sort_key;

static const struct stack_stat *stat_of(const struct stack_delta *d)
{
	return d->cur ? d->cur : d->old;
}

static uint64_t mag(int64_t v)
{
	return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

static int cmp(const void *pa, const void *pb)
{
	const struct site_row *a = *(const struct site_row *const *)pa;
	const struct site_row *b = *(const struct site_row *const *)pb;

	if (sort_key == SORT_KIND && a->kind_rank != b->kind_rank)
		return a->kind_rank < b->kind_rank ? -1 : 1;
	if (sort_key == SORT_OUTSTANDING && a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	if (mag(a->bytes_delta) != mag(b->bytes_delta))
		return mag(a->bytes_delta) > mag(b->bytes_delta) ? -1 : 1;
	if (mag(a->count_delta) != mag(b->count_delta))
		return mag(a->count_delta) > mag(b->count_delta) ? -1 : 1;
	return 0;
}

/* FNV-1a of the kind and the site's name. */
static uint64_t site_key(uint8_t kind, const char *name)
{
	uint64_t h = 14695981039346656037ULL ^ kind;

	h *= 1099511628211ULL;
	for (; *name; name++) {
		h ^= (unsigned char)*name;
		h *= 1099511628211ULL;
	}
	return h;
}

static void site_name(const struct stack_stat *s, char *buf, size_t len)
{
	if (s->def && s->def->n)
		stack_frame_name(s->def, s->def->site, buf, len);
	else
		snprintf(buf, len, "%s", stack_stat_site(s));
}

static void site_rows_free(struct site_rows *g)
{
	free(g->rows);
	free(g->paths);
}

/*
 * Cuts the window's stacks into site rows, keeping the window's order (by
 * kind, then by change) inside and across rows. Returns 0 or -ENOMEM.
 */
static int site_rows_make(const struct window *w, struct site_rows *g)
{
	size_t *row_of = calloc(w->nstacks + 1, sizeof(*row_of)), *fill = NULL;
	struct strmap map = { 0 };
	size_t i;

	*g = (struct site_rows){ 0 };
	g->rows = calloc(w->nstacks + 1, sizeof(*g->rows));
	g->paths = calloc(w->nstacks + 1, sizeof(*g->paths));
	fill = calloc(w->nstacks + 1, sizeof(*fill));
	if (!row_of || !fill || !g->rows || !g->paths || strmap_init(&map, w->nstacks + 1)) {
		free(row_of);
		free(fill);
		site_rows_free(g);
		strmap_free(&map);
		return -ENOMEM;
	}
	for (i = 0; i < w->nstacks; i++) {
		const struct stack_delta *d = &w->stacks[i];
		const struct stack_stat *s = stat_of(d);
		struct site_row *r = &g->rows[g->n];
		size_t k;

		site_name(s, r->name, sizeof(r->name));
		k = strmap_get(&map, s->kind, r->name);
		if (k == SIZE_MAX) {
			k = g->n++;
			r->kind = s->kind;
			/* The window orders its stacks by kind, so a kind's rows come together. */
			r->kind_rank = k && g->rows[k - 1].kind == s->kind ? g->rows[k - 1].kind_rank : k;
			r->key = site_key(s->kind, r->name);
			r->truncated = true;
			strmap_put(&map, s->kind, r->name, k);
		}
		r = &g->rows[k];
		row_of[i] = k;
		r->n++;
		r->truncated &= s->def && s->def->truncated;
		r->bytes_delta += d->bytes_delta;
		r->count_delta += d->count_delta;
		if (d->cur) {
			r->bytes += d->cur->bytes > 0 ? d->cur->bytes : 0;
			r->count += d->cur->count;
		}
	}
	for (i = 0; i < g->n; i++)
		g->rows[i].paths = i ? g->rows[i - 1].paths + g->rows[i - 1].n : g->paths;
	for (i = 0; i < w->nstacks; i++) {
		size_t k = row_of[i];

		((const struct stack_delta **)g->rows[k].paths)[fill[k]++] = &w->stacks[i];
	}
	free(row_of);
	free(fill);
	strmap_free(&map);
	return 0;
}

/* Lines path `p` of an expanded row takes: a heading when there are several, its frames, a cut mark. */
static int path_height(const struct site_row *r, const struct stack_delta *p)
{
	const struct stack_stat *s = stat_of(p);

	return (r->n > 1) + (int)(s->nframes ? s->nframes : 1) +
	       (s->def && s->def->truncated ? 1 : 0);
}

static size_t paths_shown(const struct site_row *r)
{
	return r->n < PATHS_SHOWN ? r->n : PATHS_SHOWN;
}

static uint64_t row_key(const void *vctx, int row)
{
	return ((const struct stacks_ctx *)vctx)->order[row]->key;
}

static int height(const void *vctx, int row, int width)
{
	const struct stacks_ctx *c = vctx;
	const struct site_row *r = c->order[row];
	int h = 1;
	size_t i;

	(void)width;
	if (!list_is_expanded(c->st, r->key))
		return 1;
	for (i = 0; i < paths_shown(r); i++)
		h += path_height(r, r->paths[i]);
	return h + (r->n > PATHS_SHOWN);
}

/*
 * A frame as the column shows it: "func (file.c:42)", without the offset into
 * the function (the expanded stack has it), so that the name fits.
 */
static void caller_name(const char *frame, char *buf, size_t len)
{
	const char *plus = strstr(frame, "+0x"), *rest = plus ? strchr(plus, ' ') : NULL;

	if (plus && rest)
		snprintf(buf, len, "%.*s%s", (int)(plus - frame), frame, rest);
	else
		snprintf(buf, len, "%s", frame);
}

/* Line `sub` (0-based) of one path's part of an expanded row. */
static void draw_path_line(const struct site_row *r, size_t i, int sub, struct line *l)
{
	const struct stack_delta *p = r->paths[i];
	const struct stack_stat *s = stat_of(p);
	char a[16];
	bool site;

	line_skip(l, 4);
	if (r->n > 1 && sub-- == 0) {
		line_putf(l, ST_LABEL, "path %zu of %zu: %s, %+" PRId64 " calls", i + 1, r->n,
			  s->kind == STACK_FD ? "fds" : fmt_delta(a, sizeof(a), p->bytes_delta),
			  p->count_delta);
		return;
	}
	/* The site is marked; the allocator's frames before it are dimmed. */
	site = s->def && (uint32_t)sub == s->def->site;
	line_put(l, ST_LABEL, site ? "> " : "  ");
	if (!s->nframes)
		line_put(l, ST_DIM, "(no frames were recorded)");
	else if ((uint32_t)sub >= s->nframes)
		line_put(l, ST_WARN, "[stack cut here: its callers could not be unwound]");
	else
		line_put_tail(l, s->def && (uint32_t)sub < s->def->site ? ST_DIM : ST_NORMAL,
			      s->frames[sub], line_left(l));
}

static void draw_row(const void *vctx, int row, int sub, struct line *l, bool sel)
{
	const struct stacks_ctx *c = vctx;
	const struct site_row *r = c->order[row];
	const struct stack_stat *s = stat_of(r->paths[0]);
	char a[16], b[16], n[24], name[256];
	size_t i;

	if (sub > 0) {
		sub--;
		for (i = 0; i < paths_shown(r); i++) {
			int h = path_height(r, r->paths[i]);

			if (sub < h) {
				draw_path_line(r, i, sub, l);
				return;
			}
			sub -= h;
		}
		line_skip(l, 4);
		line_putf(l, ST_DIM, "... %zu more call paths", r->n - PATHS_SHOWN);
		return;
	}
	line_skip(l, 1);
	line_put_tail(l, sel_style(sel, ST_LABEL), stack_kind_name((enum stack_kind)r->kind), 5);
	if (r->kind == STACK_FD)
		line_put_right(l, sel_style(sel, ST_NORMAL), "", 11);
	else
		line_put_right(l, sel_style(sel, style_delta(r->bytes_delta)),
			       fmt_delta(a, sizeof(a), r->bytes_delta), 11);
	snprintf(n, sizeof(n), "%+" PRId64, r->count_delta);
	line_put_right(l, sel_style(sel, ST_NORMAL), n, 8);
	if (r->kind == STACK_FD)
		snprintf(b, sizeof(b), "%" PRId64 " open", r->count);
	else
		fmt_bytes(b, sizeof(b), (uint64_t)r->bytes);
	line_put_right(l, sel_style(sel, ST_NORMAL), b, 12);
	line_skip(l, 2);
	/* One path: its site frame with its line; several: the function, and how many ways in. */
	if (r->n == 1)
		caller_name(stack_stat_site(s), name, sizeof(name));
	else
		snprintf(name, sizeof(name), "%s [%zu call paths]", r->name, r->n);
	/*
	 * A site reached only by cut stacks says so on its row: it may be a
	 * caller's callee. One whole path shows the site is the program's.
	 */
	if (r->truncated)
		line_put(l, sel_style(sel, ST_WARN), "[cut] ");
	line_put_words(l, sel_style(sel, ST_NORMAL), name);
}

/* The window's site rows in display order; NULL on ENOMEM. The caller frees both. */
static const struct site_row **make_order(const struct window *w, int sort, struct site_rows *g)
{
	const struct site_row **order;
	size_t i;

	if (site_rows_make(w, g))
		return NULL;
	order = calloc(g->n + 1, sizeof(*order));
	if (!order) {
		site_rows_free(g);
		return NULL;
	}
	for (i = 0; i < g->n; i++)
		order[i] = &g->rows[i];
	sort_key = sort;
	qsort(order, g->n, sizeof(*order), cmp);
	return order;
}

/* Site rows in the window; 0 without stacks or on ENOMEM. */
static int rows(const struct model *m)
{
	const struct window *w = model_window(m);
	struct site_rows g;
	int n;

	if (!w || !w->end->has_stacks || site_rows_make(w, &g))
		return 0;
	n = (int)g.n;
	site_rows_free(&g);
	return n;
}

static uint64_t key(const struct model *m, const struct list_state *st, int row)
{
	const struct window *w = model_window(m);
	const struct site_row **order;
	struct site_rows g;
	uint64_t k = 0;

	if (!w || row < 0 || (size_t)row >= w->nstacks || !(order = make_order(w, st->sort, &g)))
		return 0;
	if ((size_t)row < g.n)
		k = order[row]->key;
	free(order);
	site_rows_free(&g);
	return k;
}

static void draw(const struct model *m, struct list_state *st, struct rect r)
{
	const struct window *w = model_window(m);
	struct stacks_ctx c = { .st = st };
	struct list_rows lr = { .height = height, .draw = draw_row, .key = row_key, .ctx = &c };
	const struct site_row **order;
	struct site_rows g;
	struct line l;

	if (r.h <= 0)
		return;
	if (!w || !w->end->has_stacks || !w->nstacks) {
		rect_message(r, ST_DIM,
			     w && w->end->has_stacks
				     ? " no stack grew in this window"
				     : " no stacks: they come from the eBPF probes (root; --alloc adds "
				       "malloc)");
		return;
	}
	order = make_order(w, st->sort, &g);
	if (!order) {
		rect_message(r, ST_WARN, " out of memory");
		return;
	}
	c.order = order;
	line_start(&l, r.y, r.x, r.w);
	line_skip(&l, 1);
	line_put_tail(&l, ST_HEAD, st->sort == SORT_KIND ? "KIND*" : "KIND", 5);
	line_put_right(&l, ST_HEAD, st->sort == SORT_DELTA ? "DELTA*" : "DELTA", 11);
	line_put_right(&l, ST_HEAD, "CALLS", 8);
	line_put_right(&l, ST_HEAD, st->sort == SORT_OUTSTANDING ? "OUTSTAND*" : "OUTSTAND", 12);
	line_skip(&l, 2);
	line_put(&l, ST_HEAD, "SITE (Enter: its call paths)");
	line_end(&l, ST_NORMAL);
	lr.n = (int)g.n;
	list_draw((struct rect){ r.y + 1, r.x, r.h - 1, r.w }, st, &lr);
	free(order);
	site_rows_free(&g);
}

const struct panel_ops panel_stacks = {
	.name = "Stacks",
	.sorts = sorts,
	.rows = rows,
	.key = key,
	.draw = draw,
};
