// SPDX-License-Identifier: GPL-2.0-only
/* The host view of `top` without a PID: every process (and cgroup) ranked by growth, live. */
#include "tui/host_view.h"
#include "lib/strmap.h"
#include "lib/units.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const proc_sorts[] = { "delta", "rss", "pss", "fds", NULL };
static const char *const group_sorts[] = { "delta", "usage", NULL };

enum { SORT_DELTA, SORT_RSS, SORT_PSS, SORT_FDS };

const char *const *host_view_sorts(int tab)
{
	return tab == HOST_TAB_GROUPS ? group_sorts : proc_sorts;
}

static bool proc_passes(const struct host_row *r, const char *f)
{
	char pid[16];

	if (!*f)
		return true;
	snprintf(pid, sizeof(pid), "%d", (int)r->cur->pid);
	return strcmp(pid, f) == 0 || strstr(r->cur->comm, f);
}

static bool group_passes(const struct host_group_row *r, const char *f)
{
	return !*f || strstr(r->cur->path, f);
}

int host_view_rows(const struct tui_host *h, int tab, const struct host_filter *f)
{
	size_t i;
	int n = 0;

	if (!h->w)
		return 0;
	if (tab == HOST_TAB_GROUPS) {
		for (i = 0; i < h->w->ngroups; i++)
			n += group_passes(&h->w->groups[i], f->text);
	} else {
		for (i = 0; i < h->w->nrows; i++)
			n += proc_passes(&h->w->rows[i], f->text);
	}
	return n;
}

static int sort_by;

static uint64_t pss_of(const struct host_row *r)
{
	return r->cur->pss == HOST_UNKNOWN ? 0 : r->cur->pss;
}

/* The window ranks by RSS growth already; the other orders, largest first, then by PID. */
static int cmp_rows(const void *pa, const void *pb)
{
	const struct host_row *a = *(const struct host_row *const *)pa;
	const struct host_row *b = *(const struct host_row *const *)pb;
	int64_t x = 0, y = 0;

	if (sort_by == SORT_RSS) {
		x = (int64_t)a->cur->rss;
		y = (int64_t)b->cur->rss;
	} else if (sort_by == SORT_PSS) {
		x = (int64_t)pss_of(a);
		y = (int64_t)pss_of(b);
	} else if (sort_by == SORT_FDS) {
		x = a->fds_delta;
		y = b->fds_delta;
	}
	if (x != y)
		return x > y ? -1 : 1;
	return (a->cur->pid > b->cur->pid) - (a->cur->pid < b->cur->pid);
}

static int cmp_groups(const void *pa, const void *pb)
{
	const struct host_group_row *a = *(const struct host_group_row *const *)pa;
	const struct host_group_row *b = *(const struct host_group_row *const *)pb;

	if (a->cur->current != b->cur->current)
		return a->cur->current > b->cur->current ? -1 : 1;
	return strcmp(a->cur->path, b->cur->path);
}

struct host_ctx {
	const struct host_window *w;
	const void **order;
	bool wide;
	int comm_w;
};

/* A process is its PID and start time; a group its path. */
static uint64_t proc_key(const struct host_proc *p)
{
	return (uint64_t)(uint32_t)p->pid << 32 ^ (p->start_time & 0xffffffffu);
}

static uint64_t row_key(const void *vctx, int row)
{
	const struct host_ctx *c = vctx;

	return proc_key(((const struct host_row *)c->order[row])->cur);
}

static uint64_t group_key(const void *vctx, int row)
{
	const struct host_ctx *c = vctx;

	return strmap_hash(1, ((const struct host_group_row *)c->order[row])->cur->path);
}

/* "7m56s" to the limit; blank when no limit is in sight. */
static const char *limit_in(char *buf, size_t len, double s)
{
	return isfinite(s) ? units_duration(buf, len, s) : "";
}

static void draw_proc(const void *vctx, int row, int sub, struct line *l, bool sel)
{
	const struct host_ctx *c = vctx;
	const struct host_row *r = c->order[row];
	const struct host_proc *p = r->cur;
	char a[UNITS_BUF], b[UNITS_BUF], d[UNITS_BUF], e[UNITS_BUF], n[24];

	(void)sub;
	line_put(l, sel_style(sel, r->growing ? ST_GROW : ST_NORMAL), r->growing ? "+" : " ");
	line_putf(l, sel_style(sel, ST_NORMAL), "%7d ", (int)p->pid);
	line_put_tail(l, sel_style(sel, ST_NORMAL), p->comm, c->comm_w);
	line_put_right(l, sel_style(sel, ST_NORMAL), fmt_bytes(a, sizeof(a), p->rss), 10);
	line_put_right(l, sel_style(sel, r->is_new ? ST_DIM : style_delta(r->rss_delta)),
		       r->is_new ? "new" : fmt_delta(b, sizeof(b), r->rss_delta), 11);
	line_put_right(l, sel_style(sel, ST_NORMAL),
		       p->pss == HOST_UNKNOWN ? "-" : fmt_bytes(d, sizeof(d), p->pss), 10);
	if (c->wide)
		line_put_right(l, sel_style(sel, ST_NORMAL),
			       r->has_pss_delta ? fmt_delta(e, sizeof(e), r->pss_delta) : "-", 11);
	if (p->fds == HOST_UNKNOWN)
		snprintf(n, sizeof(n), "-");
	else
		snprintf(n, sizeof(n), "%" PRIu64, p->fds);
	line_put_right(l, sel_style(sel, ST_NORMAL), n, 7);
	if (r->has_fds_delta)
		snprintf(n, sizeof(n), "%+" PRId64, r->fds_delta);
	else
		snprintf(n, sizeof(n), "-");
	line_put_right(l, sel_style(sel, r->fds_delta > 0 ? ST_GROW : ST_NORMAL), n, 6);
	line_put_right(l, sel_style(sel, ST_NORMAL), limit_in(e, sizeof(e), r->seconds_to_limit), 9);
	if (c->wide && p->group != HOST_NO_GROUP) {
		line_skip(l, 2);
		line_put_tail(l, sel_style(sel, ST_DIM), c->w->end->groups[p->group].path,
			      line_left(l));
	}
}

static void draw_group(const void *vctx, int row, int sub, struct line *l, bool sel)
{
	const struct host_ctx *c = vctx;
	const struct host_group_row *r = c->order[row];
	const struct host_group *g = r->cur;
	char a[UNITS_BUF], b[UNITS_BUF], d[UNITS_BUF], e[UNITS_BUF];
	int path_w = line_left(l) - 1 - 10 - 11 - 10 - 9;

	(void)sub;
	line_put(l, sel_style(sel, r->growing ? ST_GROW : ST_NORMAL), r->growing ? "+" : " ");
	line_put_tail(l, sel_style(sel, ST_NORMAL), g->path, path_w > 8 ? path_w : 8);
	line_put_right(l, sel_style(sel, ST_NORMAL),
		       g->has_memory ? fmt_bytes(a, sizeof(a), g->current) : "-", 10);
	line_put_right(l, sel_style(sel, style_delta(r->current_delta)),
		       !g->has_memory ? "-" : r->is_new ? "new" : fmt_delta(b, sizeof(b), r->current_delta),
		       11);
	line_put_right(l, sel_style(sel, ST_NORMAL),
		       g->limit == HOST_UNKNOWN ? "none" : fmt_bytes(d, sizeof(d), g->limit), 10);
	line_put_right(l, sel_style(sel, ST_NORMAL), limit_in(e, sizeof(e), r->seconds_to_limit), 9);
}

static void heading(struct line *l, const char *name, int w, bool sorted)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%s%s", name, sorted ? "*" : "");
	line_put_right(l, ST_HEAD, buf, w);
}

/* The processes table below its heading. */
static void draw_procs(const struct host_window *w, struct list_state *st, const char *filter,
		       struct rect r)
{
	struct host_ctx c = { .w = w, .wide = r.w >= 100 };
	struct list_rows lr = { .draw = draw_proc, .key = row_key, .ctx = &c };
	struct line l;
	size_t i, n = 0;

	c.comm_w = c.wide ? 16 : 15;
	c.order = calloc(w->nrows + 1, sizeof(*c.order));
	if (!c.order) {
		rect_message(r, ST_WARN, " out of memory");
		return;
	}
	for (i = 0; i < w->nrows; i++)
		if (proc_passes(&w->rows[i], filter))
			c.order[n++] = &w->rows[i];
	sort_by = st->sort;
	if (st->sort != SORT_DELTA)
		qsort(c.order, n, sizeof(*c.order), cmp_rows);
	line_start(&l, r.y, r.x, r.w);
	line_put_right(&l, ST_HEAD, "PID", 8);
	line_skip(&l, 1);
	line_put_tail(&l, ST_HEAD, "COMM", c.comm_w);
	heading(&l, "RSS", 10, st->sort == SORT_RSS);
	heading(&l, "DELTA", 11, st->sort == SORT_DELTA);
	heading(&l, "PSS", 10, st->sort == SORT_PSS);
	if (c.wide)
		heading(&l, "PSS DELTA", 11, false);
	heading(&l, "FDS", 7, false);
	heading(&l, "DELTA", 6, st->sort == SORT_FDS);
	heading(&l, "LIMIT IN", 9, false);
	if (c.wide) {
		line_skip(&l, 2);
		line_put(&l, ST_HEAD, "CGROUP");
	}
	line_end(&l, ST_NORMAL);
	lr.n = (int)n;
	if (!n)
		rect_message((struct rect){ r.y + 1, r.x, r.h - 1, r.w }, ST_DIM,
			     " no process matches the filter");
	else
		list_draw((struct rect){ r.y + 1, r.x, r.h - 1, r.w }, st, &lr);
	free(c.order);
}

static void draw_groups(const struct host_window *w, struct list_state *st, const char *filter,
			struct rect r)
{
	struct host_ctx c = { .w = w };
	struct list_rows lr = { .draw = draw_group, .key = group_key, .ctx = &c };
	struct line l;
	size_t i, n = 0;

	if (!w->ngroups) {
		rect_message(r, ST_DIM, w->end->hierarchy == HOST_CG_NONE
						? " no cgroup hierarchy has the memory controller here"
						: " no memory cgroups");
		return;
	}
	c.order = calloc(w->ngroups + 1, sizeof(*c.order));
	if (!c.order) {
		rect_message(r, ST_WARN, " out of memory");
		return;
	}
	for (i = 0; i < w->ngroups; i++)
		if (group_passes(&w->groups[i], filter))
			c.order[n++] = &w->groups[i];
	if (st->sort != SORT_DELTA)
		qsort(c.order, n, sizeof(*c.order), cmp_groups);
	line_start(&l, r.y, r.x, r.w);
	line_skip(&l, 1);
	line_put_tail(&l, ST_HEAD, "CGROUP", r.w - 1 - 10 - 11 - 10 - 9);
	heading(&l, "USAGE", 10, st->sort != SORT_DELTA);
	heading(&l, "DELTA", 11, st->sort == SORT_DELTA);
	heading(&l, "LIMIT", 10, false);
	heading(&l, "LIMIT IN", 9, false);
	line_end(&l, ST_NORMAL);
	lr.n = (int)n;
	list_draw((struct rect){ r.y + 1, r.x, r.h - 1, r.w }, st, &lr);
	free(c.order);
}

static void title(const struct tui_host *h, struct rect r)
{
	const struct host_window *w = h->w;
	char a[16], b[16];
	struct line l;

	line_start(&l, r.y, r.x, r.w);
	line_put(&l, ST_TITLE, " memsleuth  host");
	if (h->scope)
		line_putf(&l, ST_TITLE, "  %s:", h->scope);
	if (w) {
		line_putf(&l, ST_TITLE, "  %zu processes, %u growing", w->nrows, w->growing);
		/* The deltas span the window once it is full, what there is of it before. */
		if (w->window_s < h->window_s * 0.98)
			line_putf(&l, ST_TITLE, "  last %s/%s", units_duration(a, sizeof(a), w->window_s),
				  units_duration(b, sizeof(b), h->window_s));
		else
			line_putf(&l, ST_TITLE, "  last %s", units_duration(a, sizeof(a), w->window_s));
		line_putf(&l, ST_TITLE, "  scan %.0f ms", w->end->scan_s * 1000);
	} else {
		line_put(&l, ST_TITLE, "  waiting for the second scan");
	}
	line_end(&l, ST_TITLE);
	if (r.h < 2)
		return;
	line_start(&l, r.y + 1, r.x, r.w);
	if (w) {
		const struct host_snapshot *s = w->end;

		if (s->mem_total)
			line_putf(&l, ST_NORMAL, " RAM %s, %s available",
				  fmt_bytes(a, sizeof(a), s->mem_total),
				  fmt_bytes(b, sizeof(b), s->mem_available));
		line_putf(&l, ST_DIM, "  unlisted: %u kthreads, %u zombies",
			  s->counts.kernel_threads, s->counts.zombies);
		if (s->counts.unreadable)
			line_putf(&l, ST_DIM, "  no PSS: %u", s->counts.unreadable);
	}
	line_end(&l, ST_NORMAL);
}

static void tabs(const struct tui_host *h, int focus, const struct host_filter *f, struct rect r)
{
	static const char *const names[HOST_TABS] = { "Processes", "Cgroups" };
	struct line l;
	int i;

	line_start(&l, r.y, r.x, r.w);
	for (i = 0; i < HOST_TABS; i++) {
		if (i)
			line_put(&l, ST_DIM, draw_utf8() ? "\u2502" : "|");
		line_putf(&l, i == focus ? ST_TAB_ACTIVE : ST_TAB, " %d %s %d ", i + 1, names[i],
			  host_view_rows(h, i, f));
	}
	line_end(&l, ST_NORMAL);
}

static void status(const struct tui_host *h, const struct host_filter *f, struct rect r)
{
	const char *keys = f->typing ? "Enter done  Esc clear"
			   : r.w < 90 ? "Enter open  / find  h help  q quit"
				      : "Enter open process  / find  s sort  Tab cgroups  h help  q quit";
	int keys_w = text_width(keys) + 1;
	struct line l;

	line_start(&l, r.y, r.x, r.w - keys_w > 0 ? r.w - keys_w : r.w);
	if (f->typing || f->text[0])
		line_putf(&l, f->typing ? ST_NOTICE : ST_LABEL, " /%s%s ", f->text,
			  f->typing ? "_" : "  (/ Esc: all)");
	else if (h->message)
		line_putf(&l, ST_NOTICE, " %s ", h->message);
	else
		line_putf(&l, ST_DIM, " live, every %.3g s", h->tick_s);
	line_end(&l, ST_NORMAL);
	if (r.w - keys_w > 0) {
		line_start(&l, r.y, r.x + r.w - keys_w, keys_w);
		line_put(&l, ST_DIM, keys);
		line_end(&l, ST_NORMAL);
	}
}

void host_view_draw(const struct tui_host *h, int focus, struct list_state *st,
		    const struct host_filter *f, struct rect all)
{
	struct rect list = { all.y + 3, all.x, all.h - 4, all.w };

	title(h, (struct rect){ all.y, all.x, 2, all.w });
	tabs(h, focus, f, (struct rect){ all.y + 2, all.x, 1, all.w });
	if (!h->w)
		rect_message(list, ST_DIM, " the first window closes one tick after the first scan");
	else if (focus == HOST_TAB_GROUPS)
		draw_groups(h->w, st, f->text, list);
	else
		draw_procs(h->w, st, f->text, list);
	status(h, f, (struct rect){ all.y + all.h - 1, all.x, 1, all.w });
}

bool host_view_process(const struct tui_host *h, const struct list_state *st, int32_t *pid,
		       uint64_t *start_time)
{
	size_t i;

	if (!h->w || !st->keyed)
		return false;
	for (i = 0; i < h->w->nrows; i++) {
		const struct host_proc *p = h->w->rows[i].cur;

		if (proc_key(p) == st->sel_key) {
			*pid = p->pid;
			*start_time = p->start_time;
			return true;
		}
	}
	return false;
}
