// SPDX-License-Identifier: GPL-2.0-only
/* The detectors' shared state: what earlier windows of the same process left behind. */
#include "analyzer/detect.h"
#include "analyzer/arenas.h"

#include <stdlib.h>
#include <string.h>

const struct win_record *detect_prev(const struct analyzer *a, size_t i)
{
	return i < a->nhist ? &a->hist[i] : NULL;
}

size_t detect_run(const struct analyzer *a, bool (*rose)(const struct win_record *),
		  int64_t (*bytes)(const struct win_record *), int64_t *sum, double *span)
{
	size_t i;

	for (i = 0; i < a->nhist && rose(&a->hist[i]); i++) {
		*sum += bytes(&a->hist[i]);
		*span += a->hist[i].window_s;
	}
	return i + 1;
}

struct finding *detect_add(struct window *w, enum finding_kind kind, enum severity sev)
{
	struct finding *f = window_add_finding(w);

	if (f) {
		f->kind = (uint8_t)kind;
		f->severity = (uint8_t)sev;
	}
	return f;
}

static void forget_trends(struct analyzer *a)
{
	a->ntrends = 0;
	idmap_free(&a->trend_index);
}

void detect_begin(struct analyzer *a, const struct window *w)
{
	const struct sample *arena_s = arenas_latest(w);
	size_t i;

	/* Another process (restart, reused PID): nothing learnt about the old one applies. */
	if (a->nhist && a->hist[0].pid != w->end->pid) {
		a->nhist = 0;
		forget_trends(a);
	}
	memset(&a->cur, 0, sizeof(a->cur));
	a->cur.pid = w->end->pid;
	a->cur.window_s = w->window_s;
	a->cur.rss_delta = w->delta.rss;
	a->cur.has_fds = w->start->has_fds && w->end->has_fds;
	a->cur.fds_delta = a->cur.has_fds ? w->fds_delta : 0;
	if (arena_s) {
		for (i = 0; i < arena_s->narenas && i < HIST_ARENAS; i++) {
			a->cur.arenas[i].addr = arena_s->arenas[i].addr;
			a->cur.arenas[i].free = arenas_walked(arena_s, &arena_s->arenas[i])
							? arena_s->arenas[i].free
							: UINT64_MAX;
			a->cur.arenas[i].free_resident = arenas_resident_free(&arena_s->arenas[i]);
		}
		a->cur.narenas = i;
	}
}

void detect_commit(struct analyzer *a)
{
	memmove(&a->hist[1], &a->hist[0], sizeof(a->hist[0]) * (HIST_WINDOWS - 1));
	a->hist[0] = a->cur;
	if (a->nhist < HIST_WINDOWS)
		a->nhist++;
}

void detect_free(struct analyzer *a)
{
	free(a->trends);
	idmap_free(&a->trend_index);
}
