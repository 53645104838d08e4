// SPDX-License-Identifier: GPL-2.0-only
/* arena_fragmentation: glibc arenas holding memory that is free but not given back. */
#include "analyzer/detect.h"
#include "analyzer/arenas.h"
#include "lib/units.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * Per arena, from its last frozen reading in the window:
 *   (A) = (system - live - top) / system, with live = system - top - free when
 *       --alloc gives no exact figure, so (A) = free / system;
 *   (B) = reclaimable: resident whole pages inside free chunks (malloc_trim).
 * Free memory costs RSS only while resident: after malloc_trim the chunks stay
 * in the bins but their pages are gone. Resident free is estimated as the
 * arena's RSS less its live bytes and top, at most its free bytes.
 * Threshold: resident free >= FRAG_MIN_FREE and (A) >= FRAG_MIN_RATIO.
 * Critical when resident free >= FRAG_CRITICAL_FREE, or (A) >= 0.5 with
 * resident free >= FRAG_CRITICAL_HALF.
 * The trend is the change of the arena's free bytes since the previous window.
 * At most FRAG_MAX_FINDINGS arenas are reported, most free bytes first.
 */
#define FRAG_MIN_FREE ((uint64_t)4 << 20)
#define FRAG_MIN_RATIO 0.30
#define FRAG_CRITICAL_FREE ((uint64_t)256 << 20)
#define FRAG_CRITICAL_HALF ((uint64_t)64 << 20)
#define FRAG_MAX_FINDINGS 4

static uint64_t resident_free(const struct arena_stat *a)
{
	uint64_t busy = a->system - a->free;	/* live bytes and top */

	if (a->free > a->system || a->rss <= busy)
		return 0;
	return a->rss - busy < a->free ? a->rss - busy : a->free;
}

static bool fragmented(const struct arena_stat *a)
{
	return a->walked && a->system && resident_free(a) >= FRAG_MIN_FREE &&
	       a->fragmentation >= FRAG_MIN_RATIO;
}

static int by_free(const void *pa, const void *pb)
{
	const struct arena_stat *a = *(const struct arena_stat *const *)pa;
	const struct arena_stat *b = *(const struct arena_stat *const *)pb;

	if (a->free != b->free)
		return a->free > b->free ? -1 : 1;
	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

/* The arena's free bytes in the previous window, or -1. */
static int64_t prev_free(const struct analyzer *a, uint64_t addr)
{
	const struct win_record *p = detect_prev(a, 0);
	size_t i;

	for (i = 0; p && i < p->narenas; i++)
		if (p->arenas[i].addr == addr && p->arenas[i].free != UINT64_MAX)
			return (int64_t)p->arenas[i].free;
	return -1;
}

static const char *advice(const struct arena_stat *ar, size_t narenas)
{
	if (ar->reclaimable * 2 >= ar->free)
		return "malloc_trim(0) would return the resident free pages";
	if (narenas > 4)
		return "MALLOC_ARENA_MAX=2 would pool threads into fewer arenas";
	return "a different allocator (jemalloc, tcmalloc) fragments less";
}

static int report(struct analyzer *a, struct window *w, const struct sample *s,
		  const struct arena_stat *ar)
{
	int64_t before = prev_free(a, ar->addr);
	char b1[24], b2[24], b3[24], b4[32], addr[32];
	uint64_t held = resident_free(ar);
	bool critical = held >= FRAG_CRITICAL_FREE ||
			(ar->fragmentation >= 0.5 && held >= FRAG_CRITICAL_HALF);
	struct finding *f = detect_add(w, FINDING_ARENA_FRAGMENTATION, critical ? SEV_CRITICAL : SEV_WARN);

	if (!f)
		return -ENOMEM;
	snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)ar->addr);
	b4[0] = '\0';
	if (before >= 0)
		snprintf(b4, sizeof(b4), ", %s%s this window", (int64_t)ar->free >= before ? "+" : "",
			 units_bytes(b3, sizeof(b3), (double)((int64_t)ar->free - before)));
	/* A read cut short found part of the free chunks: its figures are lower bounds. */
	finding_set_summary(f, "%s arena %s (%u thread%s): %s%s of %s free (A %.0f%%), %s resident "
			       "and reclaimable (B)%s; %s",
			    ar->main ? "main" : "thread", addr, ar->threads,
			    ar->threads == 1 ? "" : "s", s->arenas_complete ? "" : "at least ",
			    units_bytes(b1, sizeof(b1), (double)ar->free),
			    units_bytes(b2, sizeof(b2), (double)ar->system), ar->fragmentation * 100,
			    units_bytes(b3, sizeof(b3), (double)ar->reclaimable), b4,
			    advice(ar, s->narenas));
	if (!f->summary || finding_add_str(f, EVK_ARENA, addr) ||
	    finding_add_int(f, EVK_MAIN, ar->main) || finding_add_int(f, EVK_THREADS, ar->threads) ||
	    finding_add_int(f, EVK_SYSTEM, (int64_t)ar->system) ||
	    finding_add_int(f, EVK_TOP, (int64_t)ar->top) ||
	    finding_add_int(f, EVK_FREE, (int64_t)ar->free) ||
	    finding_add_int(f, EVK_FREE_RESIDENT, (int64_t)held) ||
	    finding_add_int(f, EVK_RECLAIMABLE, (int64_t)ar->reclaimable) ||
	    finding_add_int(f, EVK_RSS, (int64_t)ar->rss) ||
	    finding_add_real(f, EVK_FRAGMENTATION, ar->fragmentation) ||
	    finding_add_int(f, EVK_ARENAS, (int64_t)s->narenas) ||
	    finding_add_int(f, EVK_PARTIAL_READ, !s->arenas_complete) ||
	    (before >= 0 && finding_add_int(f, EVK_FREE_DELTA, (int64_t)ar->free - before)))
		return -ENOMEM;
	return 0;
}

int detect_arena_fragmentation(struct analyzer *a, struct window *w)
{
	const struct sample *s = arenas_latest(w);
	const struct arena_stat **rows;
	size_t i, n = 0;
	int ret = 0;

	if (!s || s->allocator != ALLOC_GLIBC || !s->narenas)
		return 0;
	rows = calloc(s->narenas, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	for (i = 0; i < s->narenas; i++)
		if (fragmented(&s->arenas[i]))
			rows[n++] = &s->arenas[i];
	qsort(rows, n, sizeof(*rows), by_free);
	for (i = 0; !ret && i < n && i < FRAG_MAX_FINDINGS; i++)
		ret = report(a, w, s, rows[i]);
	free(rows);
	return ret;
}
