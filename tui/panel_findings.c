// SPDX-License-Identifier: GPL-2.0-only
/* The Findings panel and strip: what the analyzer concluded, most severe first, with evidence. */
#include "tui/panel.h"
#include "lib/units.h"
#include "tui/evidence.h"

#include <stdio.h>
#include <string.h>

/* The kind column fits the longest kind shown, within these bounds. */
#define KIND_MIN_COLS 8
#define KIND_MAX_COLS 24
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
			while (cut > 0 && (s[cut] != ' ' || text_figure_before(s, cut)))
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
	int kind_cols;
};

static int detail_lines(const struct finding *f, int width)
{
	return wrap(f->summary ? f->summary : "", width - INDENT, -1, NULL, 0) +
	       (int)evidence_count_shown(f) + (f->nframes ? 1 + (int)f->nframes : 0);
}

static int height(const void *vctx, int row, int width)
{
	const struct findings_ctx *c = vctx;

	if (!list_is_expanded(c->st, finding_subject(&c->fs->items[row])))
		return 1;
	return 1 + detail_lines(&c->fs->items[row], width);
}

/* Columns the kind column needs for `label`. */
static int kind_cols(const char *label, int cols)
{
	int w = text_width(label);

	if (w > cols)
		cols = w;
	return cols > KIND_MAX_COLS ? KIND_MAX_COLS : cols;
}

/* "CRIT  kind  summary", the kind written as `label` (a count may follow it). */
static void draw_summary_line(const struct finding *f, const char *label, int cols,
			      struct line *l, bool sel)
{
	line_skip(l, 1);
	line_put_right(l, sel_style(sel, style_severity(f->severity)), sev_label(f->severity), 4);
	line_skip(l, 2);
	line_put_tail(l, sel_style(sel, ST_LABEL), label, cols);
	line_skip(l, 2);
	line_put_words(l, sel_style(sel, ST_NORMAL), f->summary ? f->summary : "");
}

static void draw_row(const void *vctx, int row, int sub, struct line *l, bool sel)
{
	const struct findings_ctx *c = vctx;
	const struct finding *f = &c->fs->items[row];
	int width = l->end - l->x, nsum;
	char buf[512];

	if (sub == 0) {
		draw_summary_line(f, finding_kind_name((enum finding_kind)f->kind), c->kind_cols, l,
				  sel);
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
	/* The stack answers "which code?": it comes before the figures, which a short screen cuts. */
	if (f->nframes && sub == 0) {
		line_put(l, ST_HEAD, "stack:");
		return;
	}
	if (f->nframes && sub <= (int)f->nframes) {
		line_skip(l, 2);
		line_put_tail(l, ST_NORMAL, f->frames[sub - 1], line_left(l));
		return;
	}
	sub -= f->nframes ? 1 + (int)f->nframes : 0;
	if (sub >= 0 && evidence_nth_shown(f, (size_t)sub)) {
		evidence_format(evidence_nth_shown(f, (size_t)sub), buf, sizeof(buf));
		line_put(l, ST_DIM, buf);
	}
}

/*
 * One line saying which window the findings are from, when it closed (the
 * header's figures are live: they run on past it), and when the next comes.
 */
static void describe(const struct model *m, char *buf, size_t len)
{
	const struct findings_set *fs = model_findings(m);
	const struct sample *s = model_latest(m);
	const struct model_meta *meta = model_meta(m);
	char a[16], b[16];
	int n = 0;

	if (fs) {
		n = snprintf(buf, len, "window #%u (%s%s)", fs->window_index,
			     units_duration(a, sizeof(a), fs->window_s), fs->partial ? ", partial" : "");
		if (n > 0 && (size_t)n < len && s && s->t >= fs->end_t)
			n += snprintf(buf + n, len - (size_t)n, " closed %s ago",
				      units_duration(b, sizeof(b), s->t - fs->end_t));
	} else {
		n = snprintf(buf, len, "no window analysed yet");
	}
	if (n < 0 || (size_t)n >= len)
		return;
	if (s && meta->analysis_due > 0 && !meta->ended)
		snprintf(buf + n, len - (size_t)n, "; next in %s",
			 units_duration(b, sizeof(b), meta->analysis_due - s->t));
}

static int rows(const struct model *m)
{
	const struct findings_set *fs = model_findings(m);

	return fs ? (int)fs->n : 0;
}

static uint64_t key(const struct model *m, const struct list_state *st, int row)
{
	const struct findings_set *fs = model_findings(m);

	(void)st;
	return fs && row >= 0 && (size_t)row < fs->n ? finding_subject(&fs->items[row]) : 0;
}

static uint64_t row_key(const void *vctx, int row)
{
	const struct findings_ctx *c = vctx;

	return finding_subject(&c->fs->items[row]);
}

/*
 * Draws the FINDINGS title on the first line of `r` (the strip dims what it
 * says of the window) and, when there is nothing to list, says so below.
 * Returns the findings to list, or NULL.
 */
static const struct findings_set *draw_title(const struct model *m, struct rect r, bool strip)
{
	const struct findings_set *fs = model_findings(m);
	char what[160];
	struct line l;

	describe(m, what, sizeof(what));
	line_start(&l, r.y, r.x, r.w);
	line_skip(&l, 1);
	if (strip) {
		line_put(&l, ST_HEAD, "FINDINGS");
		line_skip(&l, 2);
		line_put(&l, ST_DIM, what);
	} else {
		line_putf(&l, ST_HEAD, "FINDINGS  %s", what);
	}
	line_end(&l, ST_NORMAL);
	if (fs && fs->n)
		return fs;
	rect_message((struct rect){ r.y + 1, r.x, r.h - 1, r.w }, ST_DIM,
		     !fs     ? " waiting for the first window"
		     : strip ? " nothing found in the last window"
			     : " nothing found in this window");
	return NULL;
}

static void draw(const struct model *m, struct list_state *st, struct rect r)
{
	const struct findings_set *fs;
	struct findings_ctx c = { .st = st };
	struct list_rows lr = { .height = height, .draw = draw_row, .key = row_key, .ctx = &c };
	size_t i;

	if (r.h <= 0)
		return;
	fs = c.fs = draw_title(m, r, false);
	if (!fs)
		return;
	c.kind_cols = KIND_MIN_COLS;
	for (i = 0; i < fs->n; i++)
		c.kind_cols = kind_cols(finding_kind_name((enum finding_kind)fs->items[i].kind),
					c.kind_cols);
	lr.n = (int)fs->n;
	list_draw((struct rect){ r.y + 1, r.x, r.h - 1, r.w }, st, &lr);
}

/*
 * The strip shows one line per kind of finding and how many there are of that
 * kind (three fragmented arenas are one line): the verdict first, as it is the
 * answer and must stay on screen however many kinds there are, then the
 * others, their most severe first.
 */
struct kind_line {
	const struct finding *first;
	size_t count;
};

/* The kinds of `fs` in order into `out` (room for FINDING_NKINDS); returns how many. */
static size_t kind_lines(const struct findings_set *fs, struct kind_line *out)
{
	size_t n = 0, i, k;

	for (i = 0; i < fs->n; i++) {
		for (k = 0; k < n && out[k].first->kind != fs->items[i].kind; k++)
			;
		if (k == n && n == FINDING_NKINDS)
			continue;
		if (k == n)
			out[n++] = (struct kind_line){ .first = &fs->items[i] };
		out[k].count++;
	}
	for (k = 1; k < n && out[k].first->kind != FINDING_VERDICT; k++)
		;
	if (k < n) {
		struct kind_line verdict = out[k];

		memmove(&out[1], &out[0], k * sizeof(*out));
		out[0] = verdict;
	}
	return n;
}

static void kind_label(const struct kind_line *k, char *buf, size_t len)
{
	const char *kind = finding_kind_name((enum finding_kind)k->first->kind);

	if (k->count > 1)
		snprintf(buf, len, "%s %s%zu", kind, draw_utf8() ? "\u00d7" : "x", k->count);
	else
		snprintf(buf, len, "%s", kind);
}

/* The verdict of the findings shown, or NULL. */
static const struct finding *verdict_of(const struct model *m)
{
	const struct findings_set *fs = model_findings(m);
	size_t i;

	for (i = 0; fs && i < fs->n; i++)
		if (fs->items[i].kind == FINDING_VERDICT)
			return &fs->items[i];
	return NULL;
}

int findings_strip_height(const struct model *m, int max, bool verdict_only)
{
	const struct findings_set *fs = model_findings(m);
	struct kind_line lines[FINDING_NKINDS];
	int want = 2;

	if (verdict_only)
		want = verdict_of(m) ? 1 : 0;
	else if (fs && fs->n)
		want = 1 + (int)kind_lines(fs, lines);
	return want < max ? want : max;
}

void findings_strip_draw(const struct model *m, struct rect r, bool verdict_only)
{
	const struct findings_set *fs;
	struct kind_line lines[FINDING_NKINDS];
	char label[48];
	struct line l;
	int i, shown, cols = KIND_MIN_COLS;
	size_t n;

	if (r.h <= 0)
		return;
	if (verdict_only) {
		line_start(&l, r.y, r.x, r.w);
		if (verdict_of(m))
			draw_summary_line(verdict_of(m), "verdict", cols, &l, false);
		line_end(&l, ST_NORMAL);
		rect_blank((struct rect){ r.y + 1, r.x, r.h - 1, r.w });
		return;
	}
	fs = draw_title(m, r, true);
	if (!fs)
		return;
	n = kind_lines(fs, lines);
	shown = r.h - 1;
	if ((size_t)shown > n)
		shown = (int)n;
	for (i = 0; i < shown; i++) {
		kind_label(&lines[i], label, sizeof(label));
		cols = kind_cols(label, cols);
	}
	for (i = 0; i < shown; i++) {
		line_start(&l, r.y + 1 + i, r.x, r.w);
		if (i == shown - 1 && (size_t)shown < n) {
			line_putf(&l, ST_DIM, " ... %zu more kinds: 1 opens the Findings panel",
				  n - (size_t)i);
		} else {
			kind_label(&lines[i], label, sizeof(label));
			draw_summary_line(lines[i].first, label, cols, &l, false);
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
