// SPDX-License-Identifier: GPL-2.0-only
/* The Growth stacks panel: which code grew memory or fds in the window, named by site, expandable to all frames. */
#include "tui/panel.h"
#include "lib/units.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const sorts[] = { "delta", "outstanding", "kind", NULL };

enum { SORT_DELTA, SORT_OUTSTANDING, SORT_KIND };

struct stacks_ctx {
	const struct window *w;
	const struct stack_delta **order;
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
	const struct stack_delta *a = *(const struct stack_delta *const *)pa;
	const struct stack_delta *b = *(const struct stack_delta *const *)pb;
	int64_t oa = a->cur ? a->cur->bytes : 0, ob = b->cur ? b->cur->bytes : 0;

	if (sort_key == SORT_OUTSTANDING && oa != ob)
		return oa > ob ? -1 : 1;
	if (mag(a->bytes_delta) != mag(b->bytes_delta))
		return mag(a->bytes_delta) > mag(b->bytes_delta) ? -1 : 1;
	if (mag(a->count_delta) != mag(b->count_delta))
		return mag(a->count_delta) > mag(b->count_delta) ? -1 : 1;
	return 0;
}

static bool truncated(const struct stack_stat *s)
{
	return s->def && s->def->truncated;
}

static uint64_t stack_key(const struct stack_delta *d)
{
	const struct stack_stat *s = stat_of(d);

	return s->id ^ ((uint64_t)s->kind << 56);
}

static int height(const void *vctx, int row, int width)
{
	const struct stacks_ctx *c = vctx;
	const struct stack_delta *d = c->order[row];

	(void)width;
	if (!list_is_expanded(c->st, stack_key(d)))
		return 1;
	/* Every frame, and a line saying where a cut stack stops. */
	return 1 + (int)(stat_of(d)->nframes ? stat_of(d)->nframes : 1) + (truncated(stat_of(d)) ? 1 : 0);
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

static void draw_row(const void *vctx, int row, int sub, struct line *l, bool sel)
{
	const struct stacks_ctx *c = vctx;
	const struct stack_delta *d = c->order[row];
	const struct stack_stat *s = stat_of(d);
	char a[16], b[16], n[24], name[256];

	if (sub > 0) {
		bool site = s->def && (uint32_t)(sub - 1) == s->def->site;

		/* The site is marked; the allocator's frames before it are dimmed. */
		line_skip(l, 4);
		line_put(l, ST_LABEL, site ? "> " : "  ");
		if (!s->nframes)
			line_put(l, ST_DIM, "(no frames were recorded)");
		else if ((uint32_t)sub > s->nframes)
			line_put(l, ST_WARN, "[stack cut here: its callers could not be unwound]");
		else
			line_put_tail(l, s->def && (uint32_t)(sub - 1) < s->def->site ? ST_DIM : ST_NORMAL,
				      s->frames[sub - 1], line_left(l));
		return;
	}
	line_skip(l, 1);
	line_put_tail(l, sel_style(sel, ST_LABEL), stack_kind_name((enum stack_kind)s->kind), 5);
	if (s->kind == STACK_FD)
		line_put_right(l, sel_style(sel, ST_NORMAL), "", 11);
	else
		line_put_right(l, sel_style(sel, style_delta(d->bytes_delta)),
			       fmt_delta(a, sizeof(a), d->bytes_delta), 11);
	snprintf(n, sizeof(n), "%+" PRId64, d->count_delta);
	line_put_right(l, sel_style(sel, ST_NORMAL), n, 8);
	if (s->kind == STACK_FD)
		snprintf(b, sizeof(b), "%" PRId64 " open", d->cur ? d->cur->count : 0);
	else
		fmt_bytes(b, sizeof(b), d->cur && d->cur->bytes > 0 ? (uint64_t)d->cur->bytes : 0);
	line_put_right(l, sel_style(sel, ST_NORMAL), b, 12);
	line_skip(l, 2);
	caller_name(stack_stat_site(s), name, sizeof(name));
	/* A cut stack says so on its row: its site may be a caller's callee. */
	if (truncated(s))
		line_put(l, sel_style(sel, ST_WARN), "[cut] ");
	line_put_words(l, sel_style(sel, ST_NORMAL), name);
}

static int rows(const struct model *m)
{
	const struct window *w = model_window(m);

	return w && w->end->has_stacks ? (int)w->nstacks : 0;
}

/* The window's stacks in display order; NULL on ENOMEM. The caller frees. */
static const struct stack_delta **make_order(const struct window *w, int sort)
{
	const struct stack_delta **order = calloc(w->nstacks + 1, sizeof(*order));
	size_t i;

	if (!order)
		return NULL;
	for (i = 0; i < w->nstacks; i++)
		order[i] = &w->stacks[i];
	sort_key = sort;
	/* The window already orders by kind, then by change. */
	if (sort != SORT_KIND)
		qsort(order, w->nstacks, sizeof(*order), cmp);
	return order;
}

static uint64_t key(const struct model *m, const struct list_state *st, int row)
{
	const struct window *w = model_window(m);
	const struct stack_delta **order;
	uint64_t k;

	if (!w || row < 0 || (size_t)row >= w->nstacks || !(order = make_order(w, st->sort)))
		return 0;
	k = stack_key(order[row]);
	free(order);
	return k;
}

static void draw(const struct model *m, struct list_state *st, struct rect r)
{
	const struct window *w = model_window(m);
	struct stacks_ctx c = { .w = w, .st = st };
	struct list_rows lr = { .height = height, .draw = draw_row, .ctx = &c };
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
	c.order = make_order(w, st->sort);
	if (!c.order) {
		rect_message(r, ST_WARN, " out of memory");
		return;
	}
	line_start(&l, r.y, r.x, r.w);
	line_skip(&l, 1);
	line_put_tail(&l, ST_HEAD, st->sort == SORT_KIND ? "KIND*" : "KIND", 5);
	line_put_right(&l, ST_HEAD, st->sort == SORT_DELTA ? "DELTA*" : "DELTA", 11);
	line_put_right(&l, ST_HEAD, "CALLS", 8);
	line_put_right(&l, ST_HEAD, st->sort == SORT_OUTSTANDING ? "OUTSTAND*" : "OUTSTAND", 12);
	line_skip(&l, 2);
	line_put(&l, ST_HEAD, "SITE (Enter: all frames)");
	line_end(&l, ST_NORMAL);
	lr.n = (int)w->nstacks;
	list_draw((struct rect){ r.y + 1, r.x, r.h - 1, r.w }, st, &lr);
	free(c.order);
}

const struct panel_ops panel_stacks = {
	.name = "Stacks",
	.sorts = sorts,
	.rows = rows,
	.key = key,
	.draw = draw,
};
