/* SPDX-License-Identifier: GPL-2.0-only */
/* The live view's panels: one interface, one file each, drawing the model into a rectangle. */
#ifndef MEMSLEUTH_TUI_PANEL_H
#define MEMSLEUTH_TUI_PANEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/model.h"
#include "tui/draw.h"

struct rect {
	int y, x, h, w;
};

/* What the user did to a panel's list; kept by the view across frames. */
struct list_state {
	int sel;		/* selected row, in display order */
	/*
	 * Once the user moves the selection it follows its row (by the list's
	 * key) when a refresh reorders the list: rows do not move under it.
	 */
	bool follow;
	bool keyed;		/* sel_key holds the selected row's key */
	uint64_t sel_key;
	int top;		/* first row on screen */
	int sort;		/* index into the panel's sort names */
	bool expanded;		/* the row with key `expanded_key` shows its detail */
	uint64_t expanded_key;
};

/* A list as a panel hands it to list_draw. */
struct list_rows {
	int n;
	/* Lines row `row` takes (1 unless expanded). */
	int (*height)(const void *ctx, int row, int width);
	/* Draws line `sub` of row `row`. */
	void (*draw)(const void *ctx, int row, int sub, struct line *l, bool selected);
	/* What row `row` shows, the same across refreshes (NULL: the selection stays by index). */
	uint64_t (*key)(const void *ctx, int row);
	const void *ctx;
};

/*
 * Draws the rows that fit in `r`, scrolled so that the selection shows; blanks
 * the rest. A selection that follows its row finds it by key first.
 */
void list_draw(struct rect r, struct list_state *st, const struct list_rows *rows);

/* Whether row `key` of a list is the expanded one. */
bool list_is_expanded(const struct list_state *st, uint64_t key);

enum panel_id { PANEL_FINDINGS, PANEL_REGIONS, PANEL_ARENAS, PANEL_FDS, PANEL_STACKS, PANEL_COUNT };

struct panel_ops {
	const char *name;
	const char *const *sorts;	/* NULL-terminated sort orders, or NULL */
	/* Rows in the list, for moving the selection. */
	int (*rows)(const struct model *m);
	/* The figure on the panel's tab; NULL: the number of rows. */
	int (*badge)(const struct model *m);
	/* The key of row `row` for expanding it; NULL when rows do not expand. */
	uint64_t (*key)(const struct model *m, const struct list_state *st, int row);
	/* Draws the whole panel into `r`, every line of it. */
	void (*draw)(const struct model *m, struct list_state *st, struct rect r);
};

extern const struct panel_ops panel_findings;
extern const struct panel_ops panel_regions;
extern const struct panel_ops panel_arenas;
extern const struct panel_ops panel_fds;
extern const struct panel_ops panel_stacks;
/* Every panel, indexed by enum panel_id (the order of the tabs). */
extern const struct panel_ops *const panel_all[PANEL_COUNT];

/*
 * Lines the findings strip wants (shown above the other panels), at most
 * `max`; with `verdict_only` (above the Findings panel itself) the verdict's
 * line alone, or none.
 */
int findings_strip_height(const struct model *m, int max, bool verdict_only);
/* The verdict, then a line per kind, most severe first, under the panel title. */
void findings_strip_draw(const struct model *m, struct rect r, bool verdict_only);

/* Blanks lines y .. y+h-1 of width w at x. */
void rect_blank(struct rect r);
/* Writes one line of text (a message in an empty panel) and blanks the rest of `r`. */
void rect_message(struct rect r, enum style st, const char *msg);

#endif
