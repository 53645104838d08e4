/* SPDX-License-Identifier: GPL-2.0-only */
/* When a rise of resident memory over one window counts as growth: one rule for every view. */
#ifndef MEMSLEUTH_GROWTH_H
#define MEMSLEUTH_GROWTH_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A rise counts when it is at least GROWTH_MIN_RISE bytes and at least
 * GROWTH_MIN_PER_MILLE thousandths of the figure at the window's start. The
 * noise it stands above: RSS read from smaps is exact at the read, so what
 * varies in a steady process is its own churn, a few pages to a few hundred
 * KiB (glibc gives the top of the heap back past 128 KiB free, M_TRIM_THRESHOLD).
 * A single window still rises this much when a steady process allocates a
 * buffer once; rss_growth asks for two consecutive windows, and `ps` counts
 * them (growing_windows) for the same reason.
 */
#define GROWTH_MIN_RISE ((int64_t)1 << 20)
#define GROWTH_MIN_PER_MILLE 5

/* Whether `delta` bytes over a window that started at `start` bytes count as growth. */
static inline bool growth_rise_counts(uint64_t start, int64_t delta)
{
	int64_t need = (int64_t)(start * GROWTH_MIN_PER_MILLE / 1000);

	return delta >= (need > GROWTH_MIN_RISE ? need : GROWTH_MIN_RISE);
}

#endif
