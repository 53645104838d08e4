// SPDX-License-Identifier: GPL-2.0-only
/* verdict: which causes explain this window's RSS growth, and what share of it each. */
#include "analyzer/detect.h"
#include "analyzer/arenas.h"
#include "lib/units.h"

#include <errno.h>
#include <stdio.h>

/*
 * Given only when rss_growth fired. The window's RSS growth G is split into
 * parts that do not overlap: free bytes gained by glibc arenas (fragmentation),
 * bytes gained by leaking stacks, the rest of the live heap (arena bytes
 * neither free nor top, plus malloc's mmap'd blocks), the arenas' top chunks,
 * memory outside malloc (mmap_growth's figure), and what is left ("other":
 * file mappings, or arenas not read). An arena whose free lists were not
 * walked at both readings (a thread held its lock at the freeze) counts by its
 * RSS growth as "malloc heaps"; without any walked arena that part is the RSS
 * growth of [heap] and the arenas. Each share is its
 * bytes over the larger of G and the parts' sum; the largest named part is
 * the cause. When either arena reading was incomplete (a read cut short, or
 * racing the target to the end), the arena parts rest on a partial read: the
 * verdict says so (evidence `arena_read_partial`).
 */

enum cause { C_FRAG, C_LEAK, C_LIVE, C_HEAP, C_OUTSIDE, C_TOP, C_OTHER, C_N };

static const struct {
	const char *name, *label;
	enum ev_key bytes_key, share_key;
} causes[C_N] = {
	[C_FRAG] = { "arena_fragmentation", "free space held by glibc arenas",
		     EVK_BYTES_ARENA_FRAGMENTATION, EVK_SHARE_ARENA_FRAGMENTATION },
	[C_LEAK] = { "leak", "leaking stacks", EVK_BYTES_LEAK, EVK_SHARE_LEAK },
	[C_LIVE] = { "live_heap", "live heap bytes", EVK_BYTES_LIVE_HEAP, EVK_SHARE_LIVE_HEAP },
	[C_HEAP] = { "malloc_heap", "malloc heaps (arenas not walked)", EVK_BYTES_MALLOC_HEAP,
		     EVK_SHARE_MALLOC_HEAP },
	[C_OUTSIDE] = { "mmap_growth", "memory outside malloc", EVK_BYTES_MMAP_GROWTH,
			EVK_SHARE_MMAP_GROWTH },
	[C_TOP] = { "top", "unused heap tops", EVK_BYTES_TOP, EVK_SHARE_TOP },
	[C_OTHER] = { "other", "other", EVK_BYTES_OTHER, EVK_SHARE_OTHER },
};

static int64_t pos(int64_t v)
{
	return v > 0 ? v : 0;
}

static bool any_walked(const struct sample *s)
{
	size_t i;

	for (i = 0; i < s->narenas; i++)
		if (s->arenas[i].walked)
			return true;
	return false;
}

/*
 * Free, top and live (system - top - free) growth over the window's arena
 * readings, from the arenas walked at both (or new since the first and walked
 * at the last); the RSS growth of the other arenas in *dheap. False when
 * either reading walked no arena: its list may then be cut short, and an
 * arena missing from it is not new.
 */
static bool arena_parts(const struct window *w, int64_t *dfree, int64_t *dtop, int64_t *dlive,
			int64_t *dheap, bool *partial)
{
	const struct sample *s0 = arenas_earliest(w), *s1 = arenas_latest(w);
	int64_t dsystem = 0, dmm = 0;
	bool walked = false;
	size_t i;

	*dfree = *dtop = *dheap = 0;
	if (!s0 || !s1 || s0 == s1 || !any_walked(s0))
		return false;
	for (i = 0; i < s1->narenas; i++) {
		const struct arena_stat *b = &s1->arenas[i], *a = arenas_find(s0, b->addr);

		if (!b->walked || (a && !a->walked)) {
			*dheap += (int64_t)b->rss - (a ? (int64_t)a->rss : 0);
			continue;
		}
		*dfree += (int64_t)b->free - (a ? (int64_t)a->free : 0);
		*dtop += (int64_t)b->top - (a ? (int64_t)a->top : 0);
		dsystem += (int64_t)b->system - (a ? (int64_t)a->system : 0);
		walked = true;
	}
	if (!walked)
		return false;
	*partial = !s0->arenas_complete || !s1->arenas_complete;
	if (s0->malloc_mmapped >= 0 && s1->malloc_mmapped >= 0)
		dmm = s1->malloc_mmapped - s0->malloc_mmapped;
	*dlive = dsystem - *dtop - *dfree + dmm;
	return true;
}

int detect_verdict(struct analyzer *a, struct window *w)
{
	bool steps = a->cur.steps_reported;
	int64_t bytes[C_N] = { 0 }, sum = 0, whole, dfree, dtop, dlive, dheap;
	int64_t leak_alloc = a->cur.leak_alloc_bytes, leak_map, leak_in_heap;
	char text[512], b1[24];
	struct finding *f;
	size_t n = 0;
	int c, best = -1;
	bool partial = false;

	if (!a->cur.rss_growth || w->delta.rss <= 0)
		return 0;
	/* The leaks' rise beyond what pre-attach memory freed balances (detect_leak.c). */
	bytes[C_LEAK] = a->cur.leak_bytes;
	/*
	 * A leak on a mapping or fault stack is memory outside malloc, but for
	 * the blocks malloc itself maps (its mmap inside malloc's own frames):
	 * those are live heap bytes (malloc_mmapped), which outside_delta leaves
	 * out. What outside growth cannot hold of such a leak is taken from there.
	 */
	leak_map = bytes[C_LEAK] - leak_alloc;
	leak_in_heap = leak_map - (leak_map < pos(a->cur.outside_delta) ?
					   leak_map : pos(a->cur.outside_delta));
	if (arena_parts(w, &dfree, &dtop, &dlive, &dheap, &partial)) {
		bytes[C_FRAG] = pos(dfree);
		bytes[C_TOP] = pos(dtop);
		bytes[C_LIVE] = pos(dlive - leak_alloc - leak_in_heap);
		bytes[C_HEAP] = pos(dheap);
	} else {
		bytes[C_HEAP] = pos(window_heap_delta(w) - leak_alloc);
	}
	bytes[C_OUTSIDE] = pos(a->cur.outside_delta - leak_map);
	for (c = 0; c < C_OTHER; c++)
		sum += bytes[c];
	bytes[C_OTHER] = pos(w->delta.rss - sum);
	sum += bytes[C_OTHER];
	whole = sum > w->delta.rss ? sum : w->delta.rss;
	for (c = 0; c < C_OTHER; c++)
		if (bytes[c] > 0 && (best < 0 || bytes[c] > bytes[best]))
			best = c;
	if (best < 0)
		best = C_OTHER;
	for (c = 0; c < C_N; c++) {
		int k = c == 0 ? best : (c <= best ? c - 1 : c);

		if (bytes[k] * 100 < whole || n >= sizeof(text) - 80)
			continue;
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%.0f%% %s", n ? ", " : "",
				      100.0 * (double)bytes[k] / (double)whole, causes[k].label);
	}
	f = detect_add(w, FINDING_VERDICT, (enum severity)a->cur.rss_growth_severity);
	if (!f)
		return -ENOMEM;
	finding_set_summary(f, "RSS +%s in this window: %s%s%s; main cause: %s",
			    units_bytes(b1, sizeof(b1), (double)w->delta.rss), text,
			    steps ? " (arriving in equal chunk steps)" : "",
			    partial ? " (arena figures from a partial read)" : "", causes[best].name);
	if (!f->summary || finding_add_str(f, EVK_CAUSE, causes[best].name) ||
	    finding_add_int(f, EVK_RSS_DELTA, w->delta.rss) ||
	    finding_add_int(f, EVK_ARENA_READ_PARTIAL, partial) ||
	    finding_add_int(f, EVK_CHUNK_STEPS, steps))
		return -ENOMEM;
	for (c = 0; c < C_N; c++)
		if (finding_add_int(f, causes[c].bytes_key, bytes[c]) ||
		    finding_add_real(f, causes[c].share_key, (double)bytes[c] / (double)whole))
			return -ENOMEM;
	return 0;
}
