// SPDX-License-Identifier: GPL-2.0-only
/* The tab bar above the panel and the status line at the bottom of the live view. */
#include "tui/chrome.h"

#include <stdio.h>
#include <time.h>

const struct panel_ops *const panel_all[PANEL_COUNT] = {
	&panel_findings, &panel_regions, &panel_arenas, &panel_fds, &panel_stacks,
};

void tabs_draw(const struct model *m, int focus, struct rect r)
{
	struct line l;
	int i;

	if (r.h <= 0)
		return;
	line_start(&l, r.y, r.x, r.w);
	for (i = 0; i < PANEL_COUNT; i++) {
		enum style st = i == focus ? ST_TAB_ACTIVE : ST_TAB;

		if (i)
			line_put(&l, ST_DIM, draw_utf8() ? "\u2502" : "|");
		line_putf(&l, st, " %d %s %d ", i + 1, panel_all[i]->name,
			  panel_all[i]->badge ? panel_all[i]->badge(m) : panel_all[i]->rows(m));
	}
	line_end(&l, ST_NORMAL);
}

static void replay_status(const struct model *m, const struct model_meta *meta, struct line *l)
{
	const struct sample *s = model_latest(m);
	char when[32] = "";

	if (s) {
		time_t t = (time_t)s->t;
		struct tm tm;

		localtime_r(&t, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
	}
	line_putf(l, ST_NOTICE, " REPLAY %zu/%zu ", meta->pos + 1, meta->count);
	line_putf(l, ST_NORMAL, " %s  ", when);
	line_put(l, meta->playing ? ST_LABEL : ST_NORMAL, meta->playing ? "playing" : "paused");
	if (meta->truncated)
		line_putf(l, ST_WARN, "  (only the first %zu samples)", meta->count);
	else if (meta->ended && meta->cut_off)
		line_put(l, ST_WARN, "  (end: cut off, no end line)");
	else if (meta->ended)
		line_put(l, ST_DIM, "  (end of the recording)");
}

void status_draw(const struct model *m, struct rect r, bool back)
{
	const struct model_meta *meta = model_meta(m);
	const struct sample *s = model_latest(m);
	/*
	 * Narrow terminals keep the status whole and leave the other keys to the
	 * help; a replay's status (up to 70 columns) leaves room for its keys at 120.
	 */
	const char *keys = meta->replay ? (r.w < 120 ? "h help  q quit"
						     : "Space play  ,. step  [] window  h help  q quit")
			   : back ? (r.w < 100 ? "Esc back  h help  q quit"
					       : "Esc back  p pause  +- window  s sort  h help  q quit")
			   : r.w < 100 ? "h help  q quit"
				       : "p pause  +- window  s sort  h help  q quit";
	struct line l;
	int keys_w = text_width(keys) + 1;

	if (r.h <= 0)
		return;
	line_start(&l, r.y, r.x, r.w - keys_w > 0 ? r.w - keys_w : r.w);
	if (meta->replay)
		replay_status(m, meta, &l);
	else if (meta->ended)
		line_putf(&l, ST_NOTICE, " target %d exited: final data shown, q quits ",
			  s ? s->pid : 0);
	else if (model_frozen(m))
		line_put(&l, ST_NOTICE, " PAUSED: p resumes (sampling goes on) ");
	else if (meta->tick_s > 0 && meta->tick_s != 1)
		line_putf(&l, ST_DIM, " live, every %.3g s", meta->tick_s);
	else
		line_put(&l, ST_DIM, " live, every second");
	line_end(&l, ST_NORMAL);
	if (r.w - keys_w > 0) {
		line_start(&l, r.y, r.x + r.w - keys_w, keys_w);
		line_put(&l, ST_DIM, keys);
		line_end(&l, ST_NORMAL);
	}
}
