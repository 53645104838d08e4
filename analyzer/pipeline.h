/* SPDX-License-Identifier: GPL-2.0-only */
/* The pipeline: samples in, analysed windows out, the same for a live run and a recording. */
#ifndef MEMSLEUTH_PIPELINE_H
#define MEMSLEUTH_PIPELINE_H

#include "analyzer/sample.h"
#include "analyzer/window.h"

/*
 * One timeline cutting samples into windows and one analyzer run over each
 * window as it closes, in order: every caller (watch and top on a live
 * target, report and top --replay on a recording) gets the same windows with
 * the same findings from the same samples. Errors: 0/1 or a negative errno,
 * and *out is NULL unless 1 is returned.
 */
struct pipeline;

/*
 * Creates a pipeline closing a window every `window_s` seconds of samples
 * taken every `tick_s` (0: not known; timeline_new); NULL on ENOMEM.
 */
struct pipeline *pipeline_new(double window_s, double tick_s);

/*
 * Adds a sample; the pipeline takes the caller's reference (also on failure).
 * Returns 1 with *out when the sample closed a window, findings added (the
 * caller frees it with window_free), 0 when it did not, -ENOMEM on failure.
 */
int pipeline_push(struct pipeline *p, struct sample *s, struct window **out);

/*
 * Closes the open window early (the target exited, the recording ended, the
 * run stopped). Returns 1 with *out as pipeline_push does, 0 when fewer than
 * two samples were open, -ENOMEM on failure.
 */
int pipeline_flush(struct pipeline *p, struct window **out);

/* NULL is accepted. */
void pipeline_free(struct pipeline *p);

#endif
