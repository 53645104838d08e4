/* SPDX-License-Identifier: GPL-2.0-only */
/* The analyzer: runs every detector over each window and keeps the history they need. */
#ifndef MEMSLEUTH_ANALYZE_H
#define MEMSLEUTH_ANALYZE_H

#include "analyzer/window.h"

struct analyzer;

/* Creates an analyzer with empty history; NULL on ENOMEM. */
struct analyzer *analyzer_new(void);

/*
 * Adds the findings for window `w` (most severe first) and records what later
 * windows need to see trends. Pure: the same windows in the same order give
 * the same findings, live or from a recording. Returns 0 or -ENOMEM.
 */
int analyzer_window(struct analyzer *a, struct window *w);

void analyzer_free(struct analyzer *a);

#endif
