/* SPDX-License-Identifier: GPL-2.0-only */
/* Replay of a recording for the live view: an index of its samples and its findings, and seeking. */
#ifndef MEMSLEUTH_REPLAY_H
#define MEMSLEUTH_REPLAY_H

#include <stdbool.h>
#include <stddef.h>

#include "analyzer/model.h"
#include "recording/recording.h"

/* Samples indexed at most (about 56 bytes each); past it the rest is not shown, and says so. */
#define REPLAY_MAX_SAMPLES 1000000

struct replay;

/*
 * Opens a recording, indexes every sample and cuts it into windows of
 * `window_s` (0: the window it was recorded with), running the analyzer over
 * them exactly as `memsleuth report` does. Returns 0 with *out, or a negative
 * errno with a one-line reason in `err` (unreadable, malformed, fewer than two
 * samples). The caller frees with replay_close().
 */
int replay_open(const char *path, double window_s, struct replay **out, char *err,
		size_t errlen);

/* Samples that can be shown, and the position shown (0-based). */
size_t replay_count(const struct replay *r);
size_t replay_pos(const struct replay *r);
double replay_window(const struct replay *r);
/* Seconds between the recorded samples (the header's tick; 0 not known). */
double replay_tick(const struct replay *r);
/* The position at which the first window closes (where a replay starts). */
size_t replay_first_window_end(const struct replay *r);

/* The sample nearest to unix time `t`, and the time of sample `pos`. */
size_t replay_nearest(const struct replay *r, double t);
double replay_time(const struct replay *r, size_t pos);

/*
 * Makes `m` show the recording at sample `pos` (clamped to the recording): its
 * sliding window, history and the findings of the last window closed by then,
 * and the replay fields of its meta. Stepping one sample forward reads one
 * line; any other move re-reads one window. Returns 0, or a negative errno with
 * a reason in `err` (the file changed under us, out of memory).
 */
int replay_show(struct replay *r, size_t pos, struct model *m, char *err, size_t errlen);

/*
 * Re-cuts the recording into windows of `window_s` and re-runs the analyzer,
 * then shows the same position again. Returns 0 or a negative errno with `err`.
 */
int replay_set_window(struct replay *r, double window_s, struct model *m, char *err,
		      size_t errlen);

/* NULL is accepted. */
void replay_close(struct replay *r);

#endif
