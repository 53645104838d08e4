// SPDX-License-Identifier: GPL-2.0-only
/* Finding the arena figures of a window: arenas are read less often than other sources. */
#include "analyzer/arenas.h"

#include <string.h>

const struct sample *arenas_latest(const struct window *w)
{
	size_t i;

	for (i = w->nticks; i-- > 0;)
		if (w->ticks[i]->has_arenas)
			return w->ticks[i];
	return w->end->has_arenas ? w->end : NULL;
}

const struct sample *arenas_earliest(const struct window *w)
{
	size_t i;

	for (i = 0; i < w->nticks; i++)
		if (w->ticks[i]->has_arenas)
			return w->ticks[i];
	return w->start->has_arenas ? w->start : NULL;
}

uint64_t arenas_resident_free(const struct arena_stat *a)
{
	uint64_t busy = a->system - a->free;	/* live bytes and top */

	if (a->free > a->system || a->rss <= busy)
		return 0;
	return a->rss - busy < a->free ? a->rss - busy : a->free;
}

bool arenas_walked(const struct sample *s, const struct arena_stat *a)
{
	return a->walked && s->arenas_complete;
}

const struct arena_stat *arenas_find(const struct sample *s, uint64_t addr)
{
	size_t i;

	for (i = 0; s && i < s->narenas; i++)
		if (s->arenas[i].addr == addr)
			return &s->arenas[i];
	return NULL;
}

void arenas_sum(const struct sample *s, struct arena_sums *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	out->walked = s && s->has_arenas && s->narenas > 0;
	for (i = 0; s && i < s->narenas; i++) {
		const struct arena_stat *a = &s->arenas[i];

		out->system += a->system;
		out->top += a->top;
		out->free += a->free;
		out->rss += a->rss;
		out->reclaimable += a->reclaimable;
		out->walked = out->walked && a->walked;
	}
}
