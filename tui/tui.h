/* SPDX-License-Identifier: GPL-2.0-only */
/* The live view: a curses screen that draws the model and turns keys into actions. */
#ifndef MEMSLEUTH_TUI_H
#define MEMSLEUTH_TUI_H

#include <stdbool.h>
#include <stddef.h>

#include "analyzer/host.h"
#include "analyzer/model.h"

/* What a key asks of the controller; keys that only move the view are handled inside. */
enum tui_action {
	TUI_QUIT,
	TUI_PAUSE,		/* live: freeze the display; replay: play/pause */
	TUI_WIDER,		/* a longer window */
	TUI_NARROWER,
	TUI_STEP_FORWARD,	/* replay: one sample */
	TUI_STEP_BACK,
	TUI_WINDOW_FORWARD,	/* replay: one window */
	TUI_WINDOW_BACK,
	TUI_FIRST,		/* replay: first / last sample */
	TUI_LAST,
	TUI_OPEN,		/* host view: open the selected process (tui_host_selected) */
	TUI_BACK,		/* process view opened from the host view: back to it (Esc) */
};

struct tui_opts {
	bool replay;		/* show the replay keys */
	bool host;		/* start in the host view (top without a PID) */
};

/* What the host view shows (top without a PID); all borrowed. */
struct tui_host {
	const struct host_window *w;	/* the newest window; NULL before the second scan */
	double window_s;		/* the window asked for (-i) */
	double tick_s;			/* seconds between scans */
	const char *message;		/* said on the status line (a process that cannot be opened), or NULL */
	const char *scope;		/* what the rows are limited to ("cgroup /x"), or NULL: every process */
};

struct tui;

/*
 * Takes over the terminal (stdin and stdout must both be one). From here on
 * log messages are held until tui_close(). Returns 0 with *out, or a negative
 * errno with a one-line reason in `err` (-ENOTTY, or the terminal cannot be
 * driven).
 */
int tui_open(const struct tui_opts *o, struct tui **out, char *err, size_t errlen);

/*
 * Gives the terminal back as it was and prints the held log messages. Safe on
 * every exit path: NULL is accepted, and the terminal is also restored at
 * exit() if this was never called.
 */
void tui_close(struct tui *t);

/* The model changed: every panel is redrawn on the next tui_draw(). */
void tui_invalidate(struct tui *t);

/* Redraws what is dirty and updates the terminal (only the changed cells are sent). */
void tui_draw(struct tui *t, const struct model *m);

/*
 * Switches to the process view, its panels as on a fresh start; with
 * `back`, Esc asks to come back (TUI_BACK) and the status line says so.
 */
void tui_show_process(struct tui *t, bool back);
/* Switches to the host view, its selection kept from before. */
void tui_show_host(struct tui *t);
/* Draws the host view (everything: it is cheap). */
void tui_draw_host(struct tui *t, const struct tui_host *h);
/* Reads every pending key of the host view; as tui_read_keys. */
size_t tui_read_host_keys(struct tui *t, const struct tui_host *h, enum tui_action *acts,
			  size_t max);
/* The process selected in the host view's table. false when none. */
bool tui_host_selected(const struct tui *t, const struct tui_host *h, int32_t *pid,
		       uint64_t *start_time);

/*
 * Reads every pending key. Keys for the view (panels, selection, sort, help,
 * resize, Ctrl-L) are handled here; the others are stored in `acts` (at most
 * `max`). Returns the number of actions stored.
 */
size_t tui_read_keys(struct tui *t, const struct model *m, enum tui_action *acts, size_t max);

/*
 * Whether the terminal hung up (its window closed): input then polls readable
 * forever without keys, so the controller must stop instead of spinning.
 */
bool tui_hung_up(const struct tui *t);

#endif
