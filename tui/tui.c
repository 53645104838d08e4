// SPDX-License-Identifier: GPL-2.0-only
/* The live view: a curses screen that draws the model and turns keys into actions. */
#include "tui/tui.h"
#include "lib/log.h"
#include "tui/chrome.h"
#include "tui/curses.h"
#include "tui/host_view.h"
#include "tui/terminfo.h"

#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What needs drawing on the next frame. */
enum {
	D_HEADER = 1 << 0,
	D_STRIP = 1 << 1,
	D_TABS = 1 << 2,
	D_PANEL = 1 << 3,
	D_STATUS = 1 << 4,
	D_ALL = (1 << 5) - 1,
};

/* Below this the view cannot say anything useful; it asks for a bigger terminal. */
#define MIN_COLS 40
#define MIN_LINES 12
/* Lines the focused panel keeps below the findings strip. */
#define MIN_PANEL 4

struct tui {
	SCREEN *scr;
	bool replay;
	bool help;
	bool host;			/* the host view is up, not a process */
	bool back;			/* the process view was opened from the host view */
	int host_focus;			/* HOST_TAB_... */
	struct list_state host_ls[HOST_TABS];
	struct host_filter filter;
	int focus;			/* enum panel_id */
	struct list_state ls[PANEL_COUNT];
	unsigned int dirty;
	int strip_h;			/* as last drawn: a change moves everything below */
	int panel_h;			/* rows of the panel as last drawn, for paging */
};

struct layout {
	struct rect all, header, strip, tabs, panel, status;
};

/* The screen in use, so that an exit on any path gives the terminal back. */
static struct tui *current;

static void restore_at_exit(void)
{
	if (current)
		endwin();
}

int tui_open(const struct tui_opts *o, struct tui **out, char *err, size_t errlen)
{
	static bool registered;
	const char *term = getenv("TERM");
	struct tui *t;
	bool utf8, color;

	*out = NULL;
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		snprintf(err, errlen, "the live view needs a terminal (use 'memsleuth %s' for "
				      "text or JSON output)", o->host ? "ps" : "watch");
		return -ENOTTY;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* Only the character type: numbers in the output stay in the C locale. */
	setlocale(LC_CTYPE, "");
	utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	/* newterm, unlike initscr, reports an unusable terminal instead of exiting. */
	t->scr = terminfo_usable() ? newterm(NULL, stdout, stdin) : NULL;
	if (!t->scr) {
		snprintf(err, errlen, "cannot drive the terminal (TERM=%s): top needs one that "
			 "terminfo knows and that can move its cursor; 'memsleuth watch' prints "
			 "plain text", term ? term : "unset");
		free(t);
		return -ENOTTY;
	}
	set_term(t->scr);
	if (!registered) {
		atexit(restore_at_exit);
		registered = true;
	}
	current = t;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	color = has_colors() && !getenv("NO_COLOR");
	if (color) {
		start_color();
		/* Colour -1 is the terminal's own; say what it is where it cannot be kept. */
		if (use_default_colors() == ERR)
			assume_default_colors(COLOR_WHITE, COLOR_BLACK);
	}
	draw_init(color, utf8);
	log_hold();
	t->replay = o->replay;
	t->host = o->host;
	t->focus = PANEL_REGIONS;
	t->dirty = D_ALL;
	t->strip_h = -1;
	*out = t;
	return 0;
}

void tui_close(struct tui *t)
{
	if (!t)
		return;
	endwin();
	delscreen(t->scr);
	if (current == t)
		current = NULL;
	free(t);
	log_release();
}

void tui_invalidate(struct tui *t)
{
	t->dirty = D_ALL;
}

static void layout(const struct tui *t, const struct model *m, struct layout *lo)
{
	int y, strip_max;

	lo->all = (struct rect){ 0, 0, LINES, COLS };
	lo->header = (struct rect){ 0, 0, header_height(), COLS };
	y = lo->header.h;
	/*
	 * The findings come first: at 80x24 the strip holds the verdict and four
	 * other kinds (the panel keeps ten rows), taller terminals give it more,
	 * while the panel keeps MIN_PANEL lines.
	 */
	strip_max = 7 + (LINES > 24 ? (LINES - 24) / 3 : 0);
	if (strip_max > 10)
		strip_max = 10;
	if (strip_max > LINES - y - 2 - MIN_PANEL)
		strip_max = LINES - y - 2 - MIN_PANEL;
	lo->strip = (struct rect){ y, 0, 0, COLS };
	lo->strip.h = findings_strip_height(m, strip_max, t->focus == PANEL_FINDINGS);
	y += lo->strip.h;
	lo->tabs = (struct rect){ y++, 0, 1, COLS };
	lo->panel = (struct rect){ y, 0, LINES - 1 - y, COLS };
	lo->status = (struct rect){ LINES - 1, 0, 1, COLS };
}

void tui_draw(struct tui *t, const struct model *m)
{
	struct layout lo;

	if (!t || !t->dirty)
		return;
	layout(t, m, &lo);
	if (t->help) {
		help_draw(t->replay ? HELP_REPLAY : t->back ? HELP_BACK : HELP_LIVE, lo.all);
	} else if (COLS < MIN_COLS || LINES < MIN_LINES) {
		rect_message(lo.all, ST_WARN, "terminal too small: 40x12 at least");
		t->strip_h = -1;
	} else {
		if (lo.strip.h != t->strip_h)
			t->dirty = D_ALL;
		t->strip_h = lo.strip.h;
		if (t->dirty & D_HEADER)
			header_draw(m, lo.header);
		if (t->dirty & D_STRIP)
			findings_strip_draw(m, lo.strip, t->focus == PANEL_FINDINGS);
		if (t->dirty & D_TABS)
			tabs_draw(m, t->focus, lo.tabs);
		if (t->dirty & D_PANEL)
			panel_all[t->focus]->draw(m, &t->ls[t->focus], lo.panel);
		if (t->dirty & D_STATUS)
			status_draw(m, lo.status, t->back);
		t->panel_h = lo.panel.h;
	}
	refresh();
	t->dirty = 0;
}

/*
 * Moves the selection of `st` (a list of `n` rows) to `row`. From now on the
 * row chosen is followed when the list reorders; the next draw records its key.
 */
static void move_selection(struct list_state *st, int n, int row)
{
	st->sel = row >= n ? n - 1 : row;
	if (st->sel < 0)
		st->sel = 0;
	st->follow = true;
	st->keyed = false;
}

/* Applies a key that moves the selection of a list of `n` rows; false for other keys. */
static bool navigate(struct list_state *st, int n, int page, int ch)
{
	switch (ch) {
	case KEY_UP:
	case 'k':
		move_selection(st, n, st->sel - 1);
		return true;
	case KEY_DOWN:
	case 'j':
		move_selection(st, n, st->sel + 1);
		return true;
	case KEY_PPAGE:
		move_selection(st, n, st->sel - page);
		return true;
	case KEY_NPAGE:
		move_selection(st, n, st->sel + page);
		return true;
	case KEY_HOME:
	case 'g':
		move_selection(st, n, 0);
		return true;
	case KEY_END:
	case 'G':
		move_selection(st, n, n - 1);
		return true;
	}
	return false;
}

static void focus_panel(struct tui *t, int panel)
{
	t->focus = (panel + PANEL_COUNT) % PANEL_COUNT;
	t->dirty = D_ALL;
}

static void toggle_expand(struct tui *t, const struct model *m)
{
	const struct panel_ops *p = panel_all[t->focus];
	struct list_state *st = &t->ls[t->focus];
	uint64_t key;

	if (!p->key || p->rows(m) == 0)
		return;
	key = p->key(m, st, st->sel);
	st->expanded = !list_is_expanded(st, key);
	st->expanded_key = key;
	t->dirty |= D_PANEL;
}

static void next_sort(struct tui *t)
{
	const struct panel_ops *p = panel_all[t->focus];
	struct list_state *st = &t->ls[t->focus];

	if (!p->sorts)
		return;
	st->sort = p->sorts[st->sort + 1] ? st->sort + 1 : 0;
	st->sel = st->top = 0;
	st->follow = false;
	t->dirty |= D_PANEL;
}

/* Keys that ask the controller for something; -1 when the key is not one of them. */
static int action_of(const struct tui *t, int ch)
{
	switch (ch) {
	case 'q':
	case 'Q':
		return TUI_QUIT;
	case 'p':
	case ' ':
		return TUI_PAUSE;
	case '+':
	case '=':
		return TUI_WIDER;
	case '-':
	case '_':
		return TUI_NARROWER;
	}
	if (ch == 27 && t->back)
		return TUI_BACK;
	if (!t->replay)
		return -1;
	switch (ch) {
	case '.':
		return TUI_STEP_FORWARD;
	case ',':
		return TUI_STEP_BACK;
	case ']':
		return TUI_WINDOW_FORWARD;
	case '[':
		return TUI_WINDOW_BACK;
	case '<':
		return TUI_FIRST;
	case '>':
		return TUI_LAST;
	}
	return -1;
}

static void handle_view_key(struct tui *t, const struct model *m, int ch)
{
	int page = t->panel_h > 3 ? t->panel_h - 2 : 1;

	if (navigate(&t->ls[t->focus], panel_all[t->focus]->rows(m), page, ch)) {
		t->dirty |= D_PANEL;
		return;
	}
	switch (ch) {
	case '\t':
	case KEY_RIGHT:
		focus_panel(t, t->focus + 1);
		break;
	case KEY_BTAB:
	case KEY_LEFT:
		focus_panel(t, t->focus - 1);
		break;
	case '1': case '2': case '3': case '4': case '5':
		focus_panel(t, ch - '1');
		break;
	case '\r':
	case '\n':
	case KEY_ENTER:
		toggle_expand(t, m);
		break;
	case 's':
		next_sort(t);
		break;
	}
}

/* Keys every view takes alike: a resize, any key that closes the help, Ctrl-L. */
static bool common_key(struct tui *t, int ch)
{
	if (ch == KEY_RESIZE) {
		/* curses already knows the new size; lay everything out again. */
		erase();
		t->dirty = D_ALL;
		return true;
	}
	if (t->help) {
		t->help = false;
		t->dirty = D_ALL;
		erase();
		return true;
	}
	if (ch == ('L' & 0x1f)) {
		/* The terminal may hold garbage from another program: send every cell again. */
		clearok(curscr, TRUE);
		t->dirty = D_ALL;
		return true;
	}
	if (ch == 'h' || ch == '?' || ch == KEY_F(1)) {
		t->help = true;
		t->dirty = D_ALL;
		return true;
	}
	return false;
}

size_t tui_read_keys(struct tui *t, const struct model *m, enum tui_action *acts, size_t max)
{
	size_t n = 0;
	int ch;

	while ((ch = getch()) != ERR) {
		int act;

		if (common_key(t, ch))
			continue;
		act = action_of(t, ch);
		if (act >= 0) {
			if (n < max)
				acts[n++] = (enum tui_action)act;
			continue;
		}
		handle_view_key(t, m, ch);
	}
	return n;
}

bool tui_hung_up(const struct tui *t)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };

	(void)t;
	return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLERR | POLLNVAL));
}

/* ---- the host view ---- */

void tui_show_process(struct tui *t, bool back)
{
	t->host = false;
	t->back = back;
	memset(t->ls, 0, sizeof(t->ls));
	t->focus = PANEL_REGIONS;
	t->strip_h = -1;
	t->dirty = D_ALL;
	erase();
}

void tui_show_host(struct tui *t)
{
	t->host = true;
	t->back = false;
	t->dirty = D_ALL;
	erase();
}

void tui_draw_host(struct tui *t, const struct tui_host *h)
{
	struct rect all = { 0, 0, LINES, COLS };

	if (t->help)
		help_draw(HELP_HOST, all);
	else if (COLS < MIN_COLS || LINES < MIN_LINES)
		rect_message(all, ST_WARN, "terminal too small: 40x12 at least");
	else
		host_view_draw(h, t->host_focus, &t->host_ls[t->host_focus], &t->filter, all);
	/* Four lines of chrome around the table: what pages move by. */
	t->panel_h = LINES - 4;
	refresh();
	t->dirty = 0;
}

/* A key while the user types a filter: text, Backspace, Enter ends, Esc clears. Always taken. */
static bool filter_key(struct tui *t, int ch)
{
	struct host_filter *f = &t->filter;
	size_t n = strlen(f->text);

	if (ch == '\r' || ch == '\n' || ch == KEY_ENTER) {
		f->typing = false;
	} else if (ch == 27) {
		f->typing = false;
		f->text[0] = '\0';
	} else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		if (n)
			f->text[n - 1] = '\0';
	} else if (ch >= 0x20 && ch < 0x7f && n + 1 < sizeof(f->text)) {
		f->text[n] = (char)ch;
		f->text[n + 1] = '\0';
	} else if (ch == KEY_RESIZE) {
		common_key(t, ch);
	}
	/* The rows under the selection change: back to the top of what matches. */
	t->host_ls[t->host_focus].sel = t->host_ls[t->host_focus].top = 0;
	t->host_ls[t->host_focus].follow = false;
	return true;
}

static void host_tab(struct tui *t, int tab)
{
	t->host_focus = (tab + HOST_TABS) % HOST_TABS;
	erase();
}

size_t tui_read_host_keys(struct tui *t, const struct tui_host *h, enum tui_action *acts,
			  size_t max)
{
	int page = t->panel_h > 3 ? t->panel_h - 2 : 1, ch;
	size_t n = 0;

	while ((ch = getch()) != ERR) {
		struct list_state *st = &t->host_ls[t->host_focus];
		const char *const *sorts = host_view_sorts(t->host_focus);

		if (t->filter.typing ? filter_key(t, ch)
				     : common_key(t, ch) ||
					       navigate(st, host_view_rows(h, t->host_focus, &t->filter),
							page, ch))
			continue;
		switch (ch) {
		case '/':
			t->filter.typing = true;
			t->filter.text[0] = '\0';
			break;
		case 27:
			t->filter.text[0] = '\0';
			break;
		case 'q':
		case 'Q':
			if (n < max)
				acts[n++] = TUI_QUIT;
			break;
		case '\r':
		case '\n':
		case KEY_ENTER:
			if (t->host_focus == HOST_TAB_PROCS && n < max)
				acts[n++] = TUI_OPEN;
			break;
		case '\t':
		case KEY_RIGHT:
		case KEY_BTAB:
		case KEY_LEFT:
			host_tab(t, t->host_focus + 1);
			break;
		case '1':
		case '2':
			host_tab(t, ch - '1');
			break;
		case 's':
			st->sort = sorts[st->sort + 1] ? st->sort + 1 : 0;
			st->sel = st->top = 0;
			st->follow = false;
			break;
		}
	}
	return n;
}

bool tui_host_selected(const struct tui *t, const struct tui_host *h, int32_t *pid,
		       uint64_t *start_time)
{
	return host_view_process(h, &t->host_ls[HOST_TAB_PROCS], pid, start_time);
}
