/* SPDX-License-Identifier: GPL-2.0-only */
/* The timeline: samples in, windows out, the same for a live target and a recording. */
#ifndef MEMSLEUTH_TIMELINE_H
#define MEMSLEUTH_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>

#include "analyzer/sample.h"
#include "analyzer/window.h"

struct timeline;

/*
 * Samples kept per open window. Beyond it the window is thinned (every other
 * sample between its first and newest dropped, their growth events handed on)
 * and window.samples_thinned says how many went.
 */
#define TIMELINE_MAX_SAMPLES 128

/*
 * Ticks are scheduled on exact multiples of the tick but run a little late
 * now and then: a span of `span_s` seconds counts as a whole window of
 * `window_s` when it is short of it by less than half a tick (`tick_s`), so
 * that a window closes at the tick that makes it whole, never one early
 * (-i 300 with 1 s ticks spans 300 s, not 294). When the tick is not known
 * (tick_s <= 0) TIMELINE_TOLERANCE of the window stands in for it. Every
 * rule that asks whether a window has passed asks timeline_span_full(): the
 * timeline closing windows, the view's sliding window, the arenas read once
 * a window, the header's "window still filling".
 */
#define TIMELINE_TOLERANCE 0.02
bool timeline_span_full(double span_s, double window_s, double tick_s);

/*
 * A window of `window_s` cut from ticks `tick_s` apart spans a whole number
 * of ticks, the least that covers it, stored in *ticks. Returns true when
 * that is not `window_s` (-i 2.5 with 1 s ticks cuts windows of 3 s).
 */
bool timeline_whole_ticks(double window_s, double tick_s, double *ticks);

/*
 * Creates a timeline closing a window every `window_s` seconds of samples
 * taken every `tick_s` (0: not known); NULL on ENOMEM.
 */
struct timeline *timeline_new(double window_s, double tick_s);
void timeline_free(struct timeline *tl);

/*
 * Adds a sample, taking over the caller's reference (also on failure). When
 * the sample closes a window, returns 1 and stores it in *out (the caller
 * frees it with window_free); returns 0 otherwise, -ENOMEM on failure. A
 * sample from another process (PID reuse, a restarted target in a recording)
 * closes the current window early and starts a new one.
 */
int timeline_push(struct timeline *tl, struct sample *s, struct window **out);

/*
 * Closes the open window early (target exited, recording ended). Returns 1 with
 * *out set when it held at least two samples, 0 when there was nothing to close.
 */
int timeline_flush(struct timeline *tl, struct window **out);

#endif
