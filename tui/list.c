// SPDX-License-Identifier: GPL-2.0-only
/* Scrolling lists for the panels: the selection stays on screen, every line is rewritten. */
#include "tui/panel.h"

static int row_height(const struct list_rows *rows, int row, int width)
{
	int h = rows->height ? rows->height(rows->ctx, row, width) : 1;

	return h > 0 ? h : 1;
}

void list_draw(struct rect r, struct list_state *st, const struct list_rows *rows)
{
	int y, row, used, i;

	if (r.h <= 0 || r.w <= 0)
		return;
	if (st->follow && st->keyed && rows->key)
		for (i = 0; i < rows->n; i++)
			if (rows->key(rows->ctx, i) == st->sel_key) {
				/* Keep it on its screen line too, where the list allows. */
				st->top += i - st->sel;
				if (st->top < 0)
					st->top = 0;
				st->sel = i;
				break;
			}
	if (st->sel >= rows->n)
		st->sel = rows->n - 1;
	if (st->sel < 0)
		st->sel = 0;
	if (st->top > st->sel)
		st->top = st->sel;
	/* Scroll until the selected row fits, as much of it as the panel can hold. */
	for (;;) {
		used = 0;
		for (i = st->top; i <= st->sel && i < rows->n; i++)
			used += row_height(rows, i, r.w);
		if (used <= r.h || st->top >= st->sel)
			break;
		st->top++;
	}
	/* After the list shrank, show as many rows as fit rather than blank space. */
	while (st->top > 0 && rows->n - st->top < r.h) {
		used = 0;
		for (i = st->top - 1; i < rows->n; i++)
			used += row_height(rows, i, r.w);
		if (used > r.h)
			break;
		st->top--;
	}
	y = r.y;
	for (row = st->top; row < rows->n && y < r.y + r.h; row++) {
		int h = row_height(rows, row, r.w), sub;

		for (sub = 0; sub < h && y < r.y + r.h; sub++, y++) {
			struct line l;

			line_start(&l, y, r.x, r.w);
			rows->draw(rows->ctx, row, sub, &l, row == st->sel);
			line_end(&l, row == st->sel && sub == 0 ? ST_SELECTED : ST_NORMAL);
		}
	}
	rect_blank((struct rect){ y, r.x, r.y + r.h - y, r.w });
	st->keyed = rows->key && rows->n > 0;
	if (st->keyed)
		st->sel_key = rows->key(rows->ctx, st->sel);
}

bool list_is_expanded(const struct list_state *st, uint64_t key)
{
	return st->expanded && st->expanded_key == key;
}

void rect_blank(struct rect r)
{
	int y;

	for (y = r.y; y < r.y + r.h; y++) {
		struct line l;

		line_start(&l, y, r.x, r.w);
		line_end(&l, ST_NORMAL);
	}
}

void rect_message(struct rect r, enum style st, const char *msg)
{
	struct line l;

	if (r.h <= 0)
		return;
	line_start(&l, r.y, r.x, r.w);
	line_put(&l, st, msg);
	line_end(&l, ST_NORMAL);
	rect_blank((struct rect){ r.y + 1, r.x, r.h - 1, r.w });
}
