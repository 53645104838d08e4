// SPDX-License-Identifier: GPL-2.0-only
/* memsleuth top --replay: the live view over a recording, with keys to step and play. */
#include "analyzer/model.h"
#include "cli/commands.h"
#include "cli/replay.h"
#include "cli/signals.h"
#include "cli/top.h"
#include "cli/util.h"
#include "lib/clock.h"

#include <unistd.h>

#define REFRESH_S 1.0
#define MAX_ACTIONS 64

/* Applies the controller's keys to the replay; returns 1 to quit, -1 on failure. */
static int replay_keys(struct tui *t, struct replay *r, struct model *m, char *err,
		       size_t errlen)
{
	enum tui_action acts[MAX_ACTIONS];
	size_t n = tui_read_keys(t, m, acts, MAX_ACTIONS), i, pos;
	struct model_meta meta;
	double window = replay_window(r);
	int ret = 0;

	for (i = 0; i < n && !ret; i++) {
		pos = replay_pos(r);
		switch (acts[i]) {
		case TUI_QUIT:
			return 1;
		case TUI_PAUSE:
			meta = *model_meta(m);
			meta.playing = !meta.playing && pos + 1 < replay_count(r);
			model_set_meta(m, &meta);
			break;
		case TUI_STEP_FORWARD:
			ret = replay_show(r, pos + 1, m, err, errlen);
			break;
		case TUI_STEP_BACK:
			ret = replay_show(r, pos ? pos - 1 : 0, m, err, errlen);
			break;
		case TUI_WINDOW_FORWARD:
		case TUI_WINDOW_BACK:
			ret = replay_show(r,
					  replay_nearest(r, replay_time(r, pos) +
								    (acts[i] == TUI_WINDOW_FORWARD
									     ? window
									     : -window)),
					  m, err, errlen);
			break;
		case TUI_FIRST:
			ret = replay_show(r, 0, m, err, errlen);
			break;
		case TUI_LAST:
			ret = replay_show(r, replay_count(r) - 1, m, err, errlen);
			break;
		case TUI_WIDER:
		case TUI_NARROWER:
			ret = replay_set_window(r, top_window_step(window, acts[i] == TUI_WIDER ? 1 : -1),
						m, err, errlen);
			window = replay_window(r);
			break;
		default:
			break;
		}
		tui_invalidate(t);
	}
	return ret ? -1 : 0;
}

int top_replay(const struct top_args *a)
{
	struct tui_opts to = { .replay = true };
	struct replay *r = NULL;
	struct model *m = NULL;
	struct tui *t = NULL;
	char err[512];
	struct top_budget b = { .frames = 1 };
	const struct findings_set *fs;
	uint32_t last_window;
	double next_frame;
	int status = EXIT_OK, ret;

	signals_install();
	ret = replay_open(a->replay, a->window_set ? a->s.window_s : 0, &r, err, sizeof(err));
	if (ret)
		return runtime_error("top", false, err);
	m = model_new(replay_window(r), replay_tick(r));
	if (!m) {
		status = runtime_error("top", false, "out of memory");
		goto out;
	}
	if (replay_show(r, replay_first_window_end(r), m, err, sizeof(err)) ||
	    tui_open(&to, &t, err, sizeof(err))) {
		status = runtime_error("top", false, err);
		goto out;
	}
	next_frame = clock_mono() + REFRESH_S;
	fs = model_findings(m);
	last_window = fs ? fs->window_index : 0;
	for (;;) {
		tui_draw(t, m);
		/* -n counts the windows the replay shows closing as it plays or steps. */
		fs = model_findings(m);
		if (fs && fs->window_index != last_window) {
			last_window = fs->window_index;
			b.windows++;
		}
		if (top_budget_spent(a, &b))
			break;
		signals_wait_wake(next_frame, STDIN_FILENO);
		if (signals_stop_requested())
			break;
		ret = replay_keys(t, r, m, err, sizeof(err));
		if (ret || tui_hung_up(t))
			break;
		if (clock_mono() < next_frame)
			continue;
		next_frame += REFRESH_S;
		if (next_frame < clock_mono())
			next_frame = clock_mono() + REFRESH_S;
		b.frames++;
		if (model_meta(m)->playing) {
			struct model_meta meta;

			ret = replay_show(r, replay_pos(r) + 1, m, err, sizeof(err));
			if (ret)
				break;
			meta = *model_meta(m);
			meta.playing = !meta.ended;
			model_set_meta(m, &meta);
			tui_invalidate(t);
		}
	}
	tui_close(t);
	if (ret < 0)
		status = runtime_error("top", false, err);
out:
	model_free(m);
	replay_close(r);
	return status;
}

