// SPDX-License-Identifier: GPL-2.0-only
/* The Findings panel and strip: what the analyzer concluded, most severe first, with evidence. */
#include "tui/panel.h"
#include "cli/util.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define KIND_COLS 20
#define INDENT 6

static const char *sev_label(int sev)
{
	switch (sev) {
	case SEV_CRITICAL:
		return "CRIT";
	case SEV_WARN:
		return "WARN";
	default:
		return "INFO";
	}
}

/* Evidence whose key names a byte figure also shows it for people. */
static bool is_bytes_key(const char *key)
{
	static const char *const keys[] = { "system", "top", "free", "live", "rss", "quantum",
					     "reclaimable", "limit", NULL };
	size_t i;

	if (strstr(key, "bytes"))
		return true;
	for (i = 0; keys[i]; i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

static void format_evidence(const struct evidence *e, char *buf, size_t len)
{
	char h[16];

	if (e->type == EV_INT && is_bytes_key(e->key) && e->i >= 1024)
		snprintf(buf, len, "%s: %" PRId64 " (%s)", e->key, e->i,
			 fmt_bytes(h, sizeof(h), (uint64_t)e->i));
	else if (e->type == EV_INT)
		snprintf(buf, len, "%s: %" PRId64, e->key, e->i);
	else if (e->type == EV_REAL)
		snprintf(buf, len, "%s: %.4g", e->key, e->d);
	else
		snprintf(buf, len, "%s: %s", e->key, e->s ? e->s : "");
}

/*
 * Cuts `s` into lines of at most `w` bytes at spaces (text is mostly ASCII;
 * wider characters are clipped when drawn). Returns the number of lines and
 * copies line `k` into `out` when it exists.
 */
static int wrap(const char *s, int w, int k, char *out, size_t outlen)
{
	int n = 0;

	if (w < 8)
		w = 8;
	while (*s) {
		size_t len = strlen(s), cut = len;

		if ((int)len > w) {
			cut = (size_t)w;
			while (cut > 0 && s[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = (size_t)w;
		}
		if (n == k && out) {
			size_t c = cut < outlen - 1 ? cut : outlen - 1;

			memcpy(out, s, c);
			out[c] = '\0';
		}
		n++;
		s += cut;
		while (*s == ' ')
			s++;
	}
	return n;
}

struct findings_ctx {
	const struct findings_set *fs;
	const struct list_state *st;
};

static int detail_lines(const struct finding *f, int width)
{
	return wrap(f->summary ? f->summary : "", width - INDENT, -1, NULL, 0) + (int)f->nev +
	       (f->nframes ? 1 + (int)f->nframes : 0);
}

static int height(const void *vctx, int row, int width)
{
	const struct findings_ctx *c = vctx;

	if (!list_is_expanded(c->st, (uint64_t)row))
		return 1;
	return 1 + detail_lines(&c->fs->items[row], width);
}

static void draw_summary_line(const struct finding *f, struct line *l, bool sel)
{
	line_skip(l, 1);
	line_put_right(l, sel_style(sel, style_severity(f->severity)), sev_label(f->severity), 4);
	line_skip(l, 2);
	line_put_tail(l, sel_style(sel, ST_LABEL), f->kind ? f->kind : "?", KIND_COLS);
	line_skip(l, 1);
	line_put(l, sel_style(sel, ST_NORMAL), f->summary ? f->summary : "");
}

static void draw_row(const void *vctx, int row, int sub, struct line *l, bool sel)
{
	const struct findings_ctx *c = vctx;
	const struct finding *f = &c->fs->items[row];
	int width = l->end - l->x, nsum;
	char buf[512];

	if (sub == 0) {
		draw_summary_line(f, l, sel);
		return;
	}
	sub--;
	line_skip(l, INDENT);
	nsum = wrap(f->summary ? f->summary : "", width - INDENT, sub, buf, sizeof(buf));
	if (sub < nsum) {
		line_put(l, ST_NORMAL, buf);
		return;
	}
	sub -= nsum;
	if (sub < (int)f->nev) {
		format_evidence(&f->ev[sub], buf, sizeof(buf));
		line_put(l, ST_DIM, buf);
		return;
	}
	sub -= (int)f->nev;
	if (sub == 0) {
		line_put(l, ST_HEAD, "stack:");
		return;
	}
	line_skip(l, 2);
	line_put_tail(l, ST_NORMAL, f->frames[sub - 1], line_left(l));
}

/* One line saying what the findings are from and when the next ones come. */
static void describe(const struct model *m, char *buf, size_t len)
{
	const struct findings_set *fs = model_findings(m);
	const struct sample *s = model_latest(m);
	const struct model_meta *meta = model_meta(m);
	char a[16], b[16];
	int n = 0;

	if (fs)
		n = snprintf(buf, len, "window #%u (%s%s)", fs->window_index,
			     fmt_duration(a, sizeof(a), fs->window_s), fs->partial ? ", partial" : "");
	else
		n = snprintf(buf, len, "no window analysed yet");
	if (n < 0 || (size_t)n >= len)
		return;
	if (s && meta->analysis_due > 0 && !meta->ended)
		snprintf(buf + n, len - (size_t)n, "; next in %s",
			 fmt_duration(b, sizeof(b), meta->analysis_due - s->t));
}

static int rows(const struct model *m)
{
	const struct findings_set *fs = model_findings(m);

	return fs ? (int)fs->n : 0;
}

static uint64_t key(const struct model *m, const struct list_state *st, int row)
{
	(void)m;
	(void)st;
	return (uint64_t)row;
}

static void draw(const struct model *m, struct list_state *st, struct rect r)
{
	const struct findings_set *fs = model_findings(m);
	struct findings_ctx c = { .fs = fs, .st = st };
	struct list_rows lr = { .height = height, .draw = draw_row, .ctx = &c };
	char what[160];
	struct line l;

	if (r.h <= 0)
		return;
	describe(m, what, sizeof(what));
	line_start(&l, r.y, r.x, r.w);
	line_skip(&l, 1);
	line_putf(&l, ST_HEAD, "FINDINGS  %s", what);
	line_end(&l, ST_NORMAL);
	if (!fs || fs->n == 0) {
		rect_message((struct rect){ r.y + 1, r.x, r.h - 1, r.w }, ST_DIM,
			     fs ? " nothing found in this window" : " waiting for the first window");
		return;
	}
	lr.n = (int)fs->n;
	list_draw((struct rect){ r.y + 1, r.x, r.h - 1, r.w }, st, &lr);
}

int findings_strip_height(const struct model *m, int max)
{
	const struct findings_set *fs = model_findings(m);
	int want = 1 + (fs && fs->n ? (int)fs->n : 1);

	return want < max ? want : max;
}

void findings_strip_draw(const struct model *m, struct rect r)
{
	const struct findings_set *fs = model_findings(m);
	char what[160];
	struct line l;
	int i, shown;

	if (r.h <= 0)
		return;
	describe(m, what, sizeof(what));
	line_start(&l, r.y, r.x, r.w);
	line_skip(&l, 1);
	line_put(&l, ST_HEAD, "FINDINGS");
	line_skip(&l, 2);
	line_put(&l, ST_DIM, what);
	line_end(&l, ST_NORMAL);
	if (!fs || fs->n == 0) {
		rect_message((struct rect){ r.y + 1, r.x, r.h - 1, r.w }, ST_DIM,
			     fs ? " nothing found in the last window" : " waiting for the first window");
		return;
	}
	shown = r.h - 1;
	if ((size_t)shown > fs->n)
		shown = (int)fs->n;
	for (i = 0; i < shown; i++) {
		line_start(&l, r.y + 1 + i, r.x, r.w);
		if (i == shown - 1 && (size_t)shown < fs->n) {
			line_putf(&l, ST_DIM, " ... %zu more: Tab to the Findings panel",
				  fs->n - (size_t)i);
		} else {
			draw_summary_line(&fs->items[i], &l, false);
		}
		line_end(&l, ST_NORMAL);
	}
	rect_blank((struct rect){ r.y + 1 + shown, r.x, r.h - 1 - shown, r.w });
}

const struct panel_ops panel_findings = {
	.name = "Findings",
	.rows = rows,
	.key = key,
	.draw = draw,
};
