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
 * Free memory costs RSS only while resident (arenas_resident_free).
 * Threshold: resident free >= FRAG_MIN_FREE and (A) >= FRAG_MIN_RATIO.
 * That alone is `info`: a third of an arena free is normal for a threaded
 * service, and free space that stays put does not make memory grow. It is a
 * warning when it matters for growth: the resident free bytes grew, in this
 * window and in the one before, by at least FRAG_MIN_GROWTH_RATE each and
 * FRAG_MIN_GROWTH over both (blocks in flight move a busy arena's free
 * bytes by ~100 KiB a window either way: a relay of 10,000 mallocs a second
 * crept by at most 13 KiB/s), or the free space of the arenas so reported is
 * large against the process: together at least FRAG_LARGE_SHARE of its RSS
 * and FRAG_LARGE_FREE. Critical when it so
 * matters and resident free >= FRAG_CRITICAL_FREE, or (A) >= 0.5 with
 * resident free >= FRAG_CRITICAL_HALF.
 * A read that did not finish (partial_read) gives free bytes that are a
 * floor: reported "at least", never larger than they are; the growth test
 * compares with earlier readings that finished only (detect_begin).
 * The trend is the change of the arena's free bytes since the previous window.
 * At most FRAG_MAX_FINDINGS arenas are reported, most free bytes first.
 */
#define FRAG_MIN_FREE ((uint64_t)4 << 20)
#define FRAG_MIN_RATIO 0.30
#define FRAG_MIN_GROWTH_RATE ((double)(32 << 10))
#define FRAG_MIN_GROWTH ((int64_t)512 << 10)
#define FRAG_LARGE_SHARE 0.25
#define FRAG_LARGE_FREE ((uint64_t)32 << 20)
#define FRAG_CRITICAL_FREE ((uint64_t)256 << 20)
#define FRAG_CRITICAL_HALF ((uint64_t)64 << 20)
#define FRAG_MAX_FINDINGS 4

static bool fragmented(const struct arena_stat *a)
{
	return a->walked && a->system && arenas_resident_free(a) >= FRAG_MIN_FREE &&
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

/* The arena's free bytes (resident free bytes when `resident`) `back` windows ago (0: the previous), or -1. */
static int64_t prev_free(const struct analyzer *a, uint64_t addr, size_t back, bool resident)
{
	const struct win_record *p = detect_prev(a, back);
	size_t i;

	for (i = 0; p && i < p->narenas; i++)
		if (p->arenas[i].addr == addr && p->arenas[i].free != UINT64_MAX)
			return (int64_t)(resident ? p->arenas[i].free_resident : p->arenas[i].free);
	return -1;
}

/* Whether the arena's resident free bytes grew in this window and the one before (see the rule). */
static bool free_grows(const struct analyzer *a, const struct window *w,
		       const struct arena_stat *ar)
{
	int64_t now = (int64_t)arenas_resident_free(ar), p0 = prev_free(a, ar->addr, 0, true);
	int64_t p1 = prev_free(a, ar->addr, 1, true);
	const struct win_record *r0 = detect_prev(a, 0);
	double need0 = FRAG_MIN_GROWTH_RATE * w->window_s;

	if (p0 < 0 || p1 < 0 || !r0)
		return false;
	return now - p0 >= need0 && p0 - p1 >= FRAG_MIN_GROWTH_RATE * r0->window_s &&
	       now - p1 >= FRAG_MIN_GROWTH;
}

/* Whether resident free bytes of `held` are large against the process. */
static bool large(const struct window *w, uint64_t held)
{
	return held >= FRAG_LARGE_FREE && (double)held >= FRAG_LARGE_SHARE * (double)w->end->totals.rss;
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
		  const struct arena_stat *ar, uint64_t all_held)
{
	int64_t before = prev_free(a, ar->addr, 0, false);
	char b1[24], b2[24], b3[24], b4[32], addr[32];
	uint64_t held = arenas_resident_free(ar);
	bool warn = free_grows(a, w, ar) || large(w, all_held);
	bool critical = warn && (held >= FRAG_CRITICAL_FREE ||
				 (ar->fragmentation >= 0.5 && held >= FRAG_CRITICAL_HALF));
	struct finding *f = detect_add(w, FINDING_ARENA_FRAGMENTATION,
				       critical ? SEV_CRITICAL : warn ? SEV_WARN : SEV_INFO);

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
	uint64_t held = 0;
	size_t i, n = 0;
	int ret = 0;

	if (!s || s->allocator != ALLOC_GLIBC || !s->narenas)
		return 0;
	rows = calloc(s->narenas, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	for (i = 0; i < s->narenas; i++)
		if (fragmented(&s->arenas[i])) {
			rows[n++] = &s->arenas[i];
			held += arenas_resident_free(&s->arenas[i]);
		}
	qsort(rows, n, sizeof(*rows), by_free);
	for (i = 0; !ret && i < n && i < FRAG_MAX_FINDINGS; i++)
		ret = report(a, w, s, rows[i], held);
	free(rows);
	return ret;
}
