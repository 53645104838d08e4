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

static const char *const back_keys[] = {
	"  p, Space        pause the display (sampling goes on; p again shows the newest)",
	"  Esc             back to every process (the probes on this one are removed)",
	NULL,
};

static const char *const host[] = {
	"memsleuth top: which process is growing?",
	"",
	"  Up/Down, j/k    move the selection  PgUp/PgDn        page",
	"  Home/End, g/G   first/last row      Tab, 1-2         processes / cgroups",
	"  Enter           open the selected process in the live view (Esc comes back)",
	"  s               change the sort order (the column marked *)",
	"  Ctrl-L          repaint the screen  h, F1, ?         this help",
	"  q               quit",
	"",
	"Every process on the host, by how much its RSS grew over the last window",
	"(-i), from one scan a tick (--tick): + marks those that grew by 1 MiB and 0.5%.",
	"PSS shares shared pages among the processes that map them. LIMIT IN: when",
	"the process reaches its cgroup's memory limit, else RAM, at its rate.",
	"The selection follows its process when the order changes.",
	"",
	"Any key closes this help.",
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

/* The first line of a text is its title. */
static int put_lines(const char *const *text, struct rect r, int y)
{
	const char *const *first = text;
	struct line l;

	for (; *text && y < r.y + r.h; text++, y++) {
		enum style st = text == first && (first == common || first == host) ? ST_TITLE
										: ST_NORMAL;

		line_start(&l, y, r.x, r.w);
		line_put(&l, st, *text);
		line_end(&l, st);
	}
	return y;
}

void help_draw(enum help_kind kind, struct rect r)
{
	int y = r.y;

	if (kind == HELP_HOST) {
		y = put_lines(host, r, y);
	} else {
		y = put_lines(common, r, y);
		y = put_lines(kind == HELP_REPLAY ? replay_keys : kind == HELP_BACK ? back_keys
										  : live_keys,
			      r, y);
		y = put_lines(figures, r, y);
	}
	rect_blank((struct rect){ y, r.x, r.y + r.h - y, r.w });
}
