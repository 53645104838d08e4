/* SPDX-License-Identifier: GPL-2.0-only */
/* The parts of the screen around the panels: header, tab bar, status line and help. */
#ifndef MEMSLEUTH_TUI_CHROME_H
#define MEMSLEUTH_TUI_CHROME_H

#include <stdbool.h>

#include "analyzer/model.h"
#include "tui/panel.h"

/* Lines the header takes. */
int header_height(void);
/* Title bar, the four figures with their sparklines, and which collectors run. */
void header_draw(const struct model *m, struct rect r);

/* The tab bar: every panel's name and size, the focused one highlighted. */
void tabs_draw(const struct model *m, int focus, struct rect r);
/*
 * The status line: live/paused/exited or the replay position, and the key
 * hints (with `back`, Esc's: the view was opened from the host view).
 */
void status_draw(const struct model *m, struct rect r, bool back);

/* Which help: a live process, a replay, one opened from the host view, or the host view. */
enum help_kind { HELP_LIVE, HELP_REPLAY, HELP_BACK, HELP_HOST };
/* The help screen, over the whole terminal. */
void help_draw(enum help_kind kind, struct rect r);

#endif
