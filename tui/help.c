// SPDX-License-Identifier: GPL-2.0-only
/* The help screen of the live view: every key, and what the figures mean. */
#include "tui/chrome.h"

static const char *const common[] = {
	"memsleuth top: why is this process's memory or fd table growing?",
	"",
	"  Tab, Right      next panel          Shift-Tab, Left  previous panel",
	"  1-5             go to a panel       Up/Down, j/k     move the selection",
	"  PgUp/PgDn       page                Home/End, g/G    first/last row",
	"  Enter           expand a finding or a stack (evidence, all frames)",
	"  s               change the panel's sort order (the column marked *)",
	"  + / -           longer / shorter window (the span of every delta)",
	"  Ctrl-L          repaint the screen  h, F1, ?         this help",
	"  q               quit",
	NULL,
};

static const char *const live_keys[] = {
	"  p, Space        pause the display (sampling goes on; p again shows the newest)",
	NULL,
};

static const char *const replay_keys[] = {
	"  p, Space        play / pause (one sample per second)",
	"  . ,             one sample forward / back",
	"  ] [             one window forward / back",
	"  > <             last / first sample",
	NULL,
};

static const char *const figures[] = {
	"",
	"Deltas are taken between the newest sample and the one a window earlier",
	"(a sliding window). Findings come from the analyzer, once per closed window,",
	"exactly as 'memsleuth watch' reports them, most severe first (CRIT, WARN):",
	"the strip above the panel shows one line per kind, panel 1 every finding.",
	"heap = [heap] + glibc arena heaps. Sparklines: the last ten minutes at most.",
	"",
	"Any key closes this help.",
	NULL,
};

static int put_lines(const char *const *text, struct rect r, int y)
{
	struct line l;

	for (; *text && y < r.y + r.h; text++, y++) {
		line_start(&l, y, r.x, r.w);
		line_put(&l, text == common ? ST_TITLE : ST_NORMAL, *text);
		line_end(&l, text == common ? ST_TITLE : ST_NORMAL);
	}
	return y;
}

void help_draw(bool replay, struct rect r)
{
	int y = r.y;

	y = put_lines(common, r, y);
	y = put_lines(replay ? replay_keys : live_keys, r, y);
	y = put_lines(figures, r, y);
	rect_blank((struct rect){ y, r.x, r.y + r.h - y, r.w });
}
