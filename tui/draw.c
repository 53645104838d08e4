// SPDX-License-Identifier: GPL-2.0-only
/* Drawing primitives for the live view: styled, clipped, sanitised text on one line at a time. */
#include "tui/draw.h"
#include "tui/curses.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "analyzer/finding.h"

#define PAGE_BYTES 4096

static attr_t styles[ST_COUNT];
static bool use_utf8;

enum { PAIR_TITLE = 1, PAIR_LABEL, PAIR_GROW, PAIR_SHRINK, PAIR_WARN, PAIR_CRIT, PAIR_INFO };

void draw_init(bool color, bool utf8)
{
	use_utf8 = utf8;
	/* Monochrome first: every style must read without colour. */
	styles[ST_NORMAL] = A_NORMAL;
	styles[ST_TITLE] = A_REVERSE;
	styles[ST_LABEL] = A_BOLD;
	styles[ST_DIM] = A_DIM;
	styles[ST_HEAD] = A_UNDERLINE;
	styles[ST_GROW] = A_BOLD;
	styles[ST_SHRINK] = A_NORMAL;
	styles[ST_INFO] = A_NORMAL;
	styles[ST_WARN] = A_BOLD;
	styles[ST_CRIT] = A_BOLD | A_REVERSE;
	styles[ST_SELECTED] = A_REVERSE;
	styles[ST_TAB] = A_NORMAL;
	styles[ST_TAB_ACTIVE] = A_REVERSE | A_BOLD;
	styles[ST_NOTICE] = A_BOLD | A_REVERSE;
	if (!color)
		return;
	init_pair(PAIR_TITLE, COLOR_BLACK, COLOR_CYAN);
	init_pair(PAIR_LABEL, COLOR_CYAN, -1);
	init_pair(PAIR_GROW, COLOR_RED, -1);
	init_pair(PAIR_SHRINK, COLOR_GREEN, -1);
	init_pair(PAIR_WARN, COLOR_YELLOW, -1);
	init_pair(PAIR_CRIT, COLOR_RED, -1);
	init_pair(PAIR_INFO, COLOR_BLUE, -1);
	styles[ST_TITLE] = COLOR_PAIR(PAIR_TITLE);
	styles[ST_LABEL] = COLOR_PAIR(PAIR_LABEL) | A_BOLD;
	styles[ST_HEAD] = COLOR_PAIR(PAIR_LABEL) | A_UNDERLINE;
	styles[ST_GROW] = COLOR_PAIR(PAIR_GROW) | A_BOLD;
	styles[ST_SHRINK] = COLOR_PAIR(PAIR_SHRINK);
	styles[ST_INFO] = COLOR_PAIR(PAIR_INFO) | A_BOLD;
	styles[ST_WARN] = COLOR_PAIR(PAIR_WARN) | A_BOLD;
	styles[ST_CRIT] = COLOR_PAIR(PAIR_CRIT) | A_BOLD;
	styles[ST_TAB_ACTIVE] = COLOR_PAIR(PAIR_TITLE) | A_BOLD;
}

bool draw_utf8(void)
{
	return use_utf8;
}

void line_start(struct line *l, int y, int x, int w)
{
	l->y = y;
	l->x = l->col = x;
	l->end = x + (w > 0 ? w : 0);
}

int line_left(const struct line *l)
{
	return l->end - l->col;
}

/*
 * Decodes one character of `s` into *wc and returns the bytes it took; bytes
 * that would drive the terminal or are not valid text become '?'.
 */
static size_t next_char(const char *s, wchar_t *wc, int *width)
{
	const unsigned char c = (unsigned char)s[0];
	mbstate_t st;
	size_t n;
	int w;

	*width = 1;
	if (c < 0x80) {
		*wc = c < 0x20 || c == 0x7f ? L'?' : (wchar_t)c;
		return 1;
	}
	*wc = L'?';
	if (!use_utf8)
		return 1;
	/* The locale is UTF-8 here: the C library validates the sequence. */
	memset(&st, 0, sizeof(st));
	n = mbrtowc(wc, s, MB_CUR_MAX, &st);
	if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
		*wc = L'?';
		return 1;
	}
	w = wcwidth(*wc);
	/* C1 controls and other unprintable characters must not reach the terminal. */
	if (*wc < 0xa0 || w < 1 || w > 2) {
		*wc = L'?';
		return n;
	}
	*width = w;
	return n;
}

int text_width(const char *s)
{
	int w = 0, cw;
	wchar_t wc;

	while (*s) {
		s += next_char(s, &wc, &cw);
		w += cw;
	}
	return w;
}

/* Writes at most `max` columns of `s`; returns the columns written. */
static int put_clipped(struct line *l, enum style st, const char *s, int max)
{
	wchar_t buf[256];
	int n = 0, used = 0, cw;
	wchar_t wc;

	if (max > line_left(l))
		max = line_left(l);
	if (max <= 0)
		return 0;
	attrset(styles[st]);
	move(l->y, l->col);
	while (*s) {
		size_t k = next_char(s, &wc, &cw);

		if (used + cw > max)
			break;
		s += k;
		buf[n++] = wc;
		used += cw;
		if (n == (int)(sizeof(buf) / sizeof(buf[0]))) {
			addnwstr(buf, n);
			n = 0;
		}
	}
	if (n)
		addnwstr(buf, n);
	l->col += used;
	return used;
}

void line_put(struct line *l, enum style st, const char *s)
{
	put_clipped(l, st, s, line_left(l));
}

void line_putf(struct line *l, enum style st, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	line_put(l, st, buf);
}

bool text_figure_before(const char *s, size_t at)
{
	size_t start = at, i;
	bool digit = false;

	while (start > 0 && s[start - 1] != ' ')
		start--;
	while (start < at && strchr("(+-", s[start]))
		start++;
	for (i = start; i < at; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digit = true;
		else if (s[i] != '.')
			return false;
	}
	return digit;
}

void line_put_words(struct line *l, enum style st, const char *s)
{
	const char *ellipsis = use_utf8 ? "\u2026" : "...";
	int left = line_left(l), budget = left - text_width(ellipsis), w = 0, cut = 0, cw;
	const char *p = s;
	wchar_t wc;

	if (text_width(s) <= left) {
		put_clipped(l, st, s, left);
		return;
	}
	if (budget <= 0) {
		put_clipped(l, st, s, left);
		return;
	}
	/* The widest prefix that ends a word and fits before the ellipsis, less a clause mark. */
	while (*p) {
		size_t k = next_char(p, &wc, &cw);

		if (w + cw > budget)
			break;
		/* A figure keeps its unit: "(10" alone would say nothing. */
		if (*p == ' ' && w > 0 && !text_figure_before(s, (size_t)(p - s)))
			cut = p[-1] == ',' || p[-1] == ';' || p[-1] == ':' ? w - 1 : w;
		w += cw;
		p += k;
	}
	/* One long word (a path, a symbol): cut it where it stops fitting. */
	if (cut < budget / 2)
		cut = w;
	put_clipped(l, st, s, cut);
	put_clipped(l, st, ellipsis, text_width(ellipsis));
}

void line_skip(struct line *l, int n)
{
	static const char blanks[] = "                                                                ";

	while (n > 0 && line_left(l) > 0) {
		int k = n < (int)sizeof(blanks) - 1 ? n : (int)sizeof(blanks) - 1;
		int done = put_clipped(l, ST_NORMAL, blanks + sizeof(blanks) - 1 - k, k);

		if (done <= 0)
			break;
		n -= done;
	}
}

void line_put_right(struct line *l, enum style st, const char *s, int w)
{
	int tw = text_width(s);

	if (tw < w)
		line_skip(l, w - tw);
	put_clipped(l, st, s, tw < w ? tw : w);
}

void line_put_tail(struct line *l, enum style st, const char *s, int w)
{
	int tw = text_width(s), cw, start = l->col;
	wchar_t wc;

	if (w <= 0)
		return;
	if (tw > w && w > 3) {
		/* The end of a path names the file: drop from the front. */
		while (*s && tw > w - 3) {
			s += next_char(s, &wc, &cw);
			tw -= cw;
		}
		put_clipped(l, st, "...", 3);
	}
	put_clipped(l, st, s, w - (l->col - start));
	line_skip(l, w - (l->col - start));
}

void line_end(struct line *l, enum style st)
{
	int n = line_left(l);

	if (n <= 0)
		return;
	move(l->y, l->col);
	/* hline does not move the cursor, so the bottom-right cell cannot scroll the screen. */
	hline(' ' | styles[st], n);
	l->col = l->end;
}

void line_spark(struct line *l, enum style st, const double *v, size_t n, int w)
{
	static const wchar_t blocks[] = L"\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588";
	static const char ascii[] = "_.,-~=*#";
	double lo, hi, level[512];
	size_t per, cols, i, j;
	char out[600];
	wchar_t wout[512];

	if (w > line_left(l))
		w = line_left(l);
	if (w <= 0)
		return;
	if (w > 512)
		w = 512;
	if (n == 0) {
		line_skip(l, w);
		return;
	}
	per = (n + (size_t)w - 1) / (size_t)w;
	cols = (n + per - 1) / per;
	lo = hi = v[n - 1];
	for (i = 0; i < cols; i++) {
		/* The newest point ends the last column, so buckets are counted from the end. */
		size_t hi_end = n - (cols - 1 - i) * per, from = hi_end > per ? hi_end - per : 0;
		double top = v[from];

		for (j = from; j < hi_end; j++)
			if (v[j] > top)
				top = v[j];
		level[i] = top;
		lo = top < lo ? top : lo;
		hi = top > hi ? top : hi;
	}
	line_skip(l, w - (int)cols);
	/* Changes under half a percent are noise (a page here and there): draw them flat. */
	for (i = 0; i < cols; i++) {
		int k = hi - lo > hi * 0.005 ? (int)((level[i] - lo) / (hi - lo) * 7.0 + 0.5) : 0;

		if (use_utf8)
			wout[i] = blocks[k];
		else
			out[i] = ascii[k];
	}
	attrset(styles[st]);
	move(l->y, l->col);
	if (use_utf8)
		addnwstr(wout, (int)cols);
	else
		addnstr(out, (int)cols);
	l->col += (int)cols;
}

enum style style_delta(int64_t v)
{
	if (v >= PAGE_BYTES)
		return ST_GROW;
	if (v <= -PAGE_BYTES)
		return ST_SHRINK;
	return ST_NORMAL;
}

enum style style_severity(int sev)
{
	switch (sev) {
	case SEV_CRITICAL:
		return ST_CRIT;
	case SEV_WARN:
		return ST_WARN;
	default:
		return ST_INFO;
	}
}
