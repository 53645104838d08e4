/* SPDX-License-Identifier: GPL-2.0-only */
/* Finding the arena figures of a window: arenas are read less often than other sources. */
#ifndef MEMSLEUTH_ARENAS_H
#define MEMSLEUTH_ARENAS_H

#include "analyzer/window.h"

/*
 * The newest (or oldest) sample of the window that holds arena figures;
 * NULL when none does. Borrowed from the window.
 */
const struct sample *arenas_latest(const struct window *w);
const struct sample *arenas_earliest(const struct window *w);

/*
 * Free bytes of an arena that cost RSS: its RSS less its live bytes and top,
 * at most its free bytes (after malloc_trim the chunks stay in the bins but
 * their pages are gone). 0 when the figures do not add up.
 */
uint64_t arenas_resident_free(const struct arena_stat *a);

/*
 * Whether arena `a` of sample `s` has whole free figures: its lists were
 * walked, in a read that finished (a walk cut short by the freeze budget on
 * a busy machine leaves the free bytes partial, and the live bytes derived
 * from them too large).
 */
bool arenas_walked(const struct sample *s, const struct arena_stat *a);

/* The arena at `addr` in `s`, or NULL. */
const struct arena_stat *arenas_find(const struct sample *s, uint64_t addr);

/* Sums over every arena of a sample. */
struct arena_sums {
	uint64_t system, top, free, rss, reclaimable;
	bool walked;		/* every arena's free lists were walked */
};
void arenas_sum(const struct sample *s, struct arena_sums *out);

#endif
