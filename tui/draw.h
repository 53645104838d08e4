/* SPDX-License-Identifier: GPL-2.0-only */
/* Drawing primitives for the live view: styled, clipped, sanitised text on one line at a time. */
#ifndef MEMSLEUTH_TUI_DRAW_H
#define MEMSLEUTH_TUI_DRAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Every line of the screen is written whole: text, then blanks to the edge,
 * so nothing needs clearing between frames (no flicker), and curses sends
 * only the cells that changed.
 */

enum style {
	ST_NORMAL,
	ST_TITLE,	/* the title bar */
	ST_LABEL,	/* figure names */
	ST_DIM,		/* secondary text */
	ST_HEAD,	/* column headings */
	ST_GROW,	/* a figure that grew */
	ST_SHRINK,	/* a figure that shrank */
	ST_INFO,
	ST_WARN,
	ST_CRIT,
	ST_SELECTED,	/* the selected row */
	ST_TAB,
	ST_TAB_ACTIVE,
	ST_NOTICE,	/* status messages that matter (target exited, paused) */
	ST_COUNT
};

/* Sets up the styles: colours only when the terminal has them, attributes otherwise. */
void draw_init(bool color, bool utf8);
bool draw_utf8(void);

/* A cursor over one screen line, from column x to x + w. */
struct line {
	int y, x, end, col;
};

void line_start(struct line *l, int y, int x, int w);
/* Columns left on the line. */
int line_left(const struct line *l);
/* Writes text from the target or the user: control bytes and invalid UTF-8 become '?'. */
void line_put(struct line *l, enum style st, const char *s);
void line_putf(struct line *l, enum style st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Writes `s` in exactly `w` columns, right-aligned, cut on the right when longer. */
void line_put_right(struct line *l, enum style st, const char *s, int w);
/*
 * Whether the word that ends before the space at s[at] is a figure ("7.3",
 * "(10", "+5"): a line is not cut there, so that a figure keeps its unit.
 */
bool text_figure_before(const char *s, size_t at);
/*
 * Writes `s` in what is left of the line; a longer text is cut at a space and
 * ends with an ellipsis, so that no figure is cut in two or from its unit.
 */
void line_put_words(struct line *l, enum style st, const char *s);
/* Writes `s` in exactly `w` columns, left-aligned; a longer text keeps its tail ("...tail"). */
void line_put_tail(struct line *l, enum style st, const char *s, int w);
/* Writes `n` blanks. */
void line_skip(struct line *l, int n);
/* Blanks the rest of the line in style `st`. */
void line_end(struct line *l, enum style st);

/*
 * A sparkline of the last values of `v` (n points, oldest first) in `w`
 * columns, right-aligned: when there are more points than columns each column
 * shows the highest of its points. Block characters in UTF-8, ASCII otherwise.
 */
void line_spark(struct line *l, enum style st, const double *v, size_t n, int w);

/* Display columns `s` takes once sanitised. */
int text_width(const char *s);


/* The selected row is drawn in one style, whatever its cells would use. */
static inline enum style sel_style(bool selected, enum style st)
{
	return selected ? ST_SELECTED : st;
}

/* The style for a change of `v` bytes: grew, shrank, or normal under a page. */
enum style style_delta(int64_t v);
/* The style for a finding of severity `sev` (enum severity). */
enum style style_severity(int sev);

#endif
