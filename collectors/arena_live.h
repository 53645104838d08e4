/* SPDX-License-Identifier: GPL-2.0-only */
/* Live bytes per glibc arena: from a complete frozen walk, carried forward by --alloc's counts. */
#ifndef MEMSLEUTH_ARENA_LIVE_H
#define MEMSLEUTH_ARENA_LIVE_H

#include "analyzer/sample.h"

/*
 * A complete frozen walk gives an arena's live chunk bytes exactly:
 * system - top - free (its own bookkeeping, a few KiB, included). With
 * --alloc in exact mode the probes count net chunk bytes per arena since
 * attach; remembering "walk - net" at each complete walk lets later samples
 * whose walk was partial, unfrozen or skipped know live bytes as
 * "that base + net now". Without either source, live stays -1.
 */
struct arena_live;

/* NULL on ENOMEM. */
struct arena_live *arena_live_new(void);

/*
 * Fills arena_stat.live, .live_source and .fragmentation of the arenas in `s`,
 * using s->arenas (when read this tick) and s->alloc (when --alloc counts per
 * arena). Returns 0 or -ENOMEM.
 */
int arena_live_fill(struct arena_live *l, struct sample *s);

void arena_live_free(struct arena_live *l);

#endif
