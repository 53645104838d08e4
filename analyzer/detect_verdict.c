// SPDX-License-Identifier: GPL-2.0-only
/* verdict: which causes explain this window's growth, what share of it each, and what to do next. */
#include "analyzer/detect.h"
#include "analyzer/arenas.h"
#include "lib/units.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>

/*
 * Given when the process's own memory grew (rss_growth fired), when its live
 * heap grew in this window and the one before by VERDICT_MIN_LIVE (and 0.5%
 * of RSS) while RSS held (new blocks filling free space of the arenas, which
 * RSS shows only later), or when a leak was reported: one story per window.
 * The window's own-memory growth G is split into parts that do not overlap:
 * free bytes gained by glibc arenas (fragmentation), the leaks at their
 * established rates, the rest of the live heap (arena bytes neither free nor
 * top, plus malloc's mmap'd blocks), the arenas' top chunks, memory outside
 * malloc (mmap_growth's figure), and what is left ("other": file mappings,
 * or arenas not read). An arena whose free lists were not walked at both
 * readings (a thread held its lock at the freeze) counts by its RSS growth
 * as "malloc heaps"; without any walked arena that part is the RSS growth of
 * [heap] and the arenas. Each share is its bytes over the larger of G and
 * the parts' sum; the largest named part is the cause, except that reported
 * leaks are the cause whenever they hold VERDICT_LEAK_SHARE of the growth,
 * and otherwise the verdict says what share they hold. Each cause names the
 * next step: what to run and for how long, or what to change. When either
 * arena reading was incomplete (a read cut short, or racing the target to
 * the end), the arena parts rest on a partial read: the verdict says so
 * (evidence `arena_read_partial`), and the live heap's own growth is not
 * judged from it (its free bytes are a floor, so its live bytes too large).
 */
#define VERDICT_MIN_LIVE ((int64_t)1 << 20)
#define VERDICT_MIN_LIVE_PER_MILLE 5
#define VERDICT_LEAK_SHARE 0.25
/* Windows of --alloc that name a leak: two to establish it, a third to be sure. */
#define VERDICT_ALLOC_WINDOWS 3

enum cause { C_FRAG, C_LEAK, C_LIVE, C_HEAP, C_OUTSIDE, C_TOP, C_OTHER, C_N };

static const struct {
	const char *name, *label;
	enum ev_key bytes_key, share_key;
} causes[C_N] = {
	[C_FRAG] = { "arena_fragmentation", "free space held by glibc arenas",
		     EVK_BYTES_ARENA_FRAGMENTATION, EVK_SHARE_ARENA_FRAGMENTATION },
	[C_LEAK] = { "leak", "leaking sites", EVK_BYTES_LEAK, EVK_SHARE_LEAK },
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

	*dfree = *dtop = *dheap = *dlive = 0;
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

static bool live_rose(const struct win_record *r)
{
	return r->live_grew;
}

static int64_t live_rise(const struct win_record *r)
{
	return r->live_delta;
}

/* What to do about `cause`: what to run and for how long, or what to change. */
static void next_step(const struct analyzer *a, const struct window *w, int cause, bool steps,
		      char *buf, size_t len)
{
	const struct sample *s = w->end;
	char b1[24];

	switch (cause) {
	case C_LEAK:
		snprintf(buf, len, steps ? "the leaking sites take fresh chunks: reuse them, or build "
					   "into one growable buffer"
					 : "free the blocks of the leaking sites named above where their "
					   "work ends, or bound the structure that keeps them");
		break;
	case C_LIVE:
	case C_HEAP:
		if (a->cur.alloc && w->index < VERDICT_ALLOC_WINDOWS)
			snprintf(buf, len, "live heap growth is a leak or a structure that only grows; "
					   "the malloc probes name a stack that keeps what it allocates "
					   "from the third window on");
		else if (a->cur.alloc && s->has_alloc && s->alloc.estimated)
			snprintf(buf, len, "live heap growth is a leak or a structure that only grows; "
					   "no allocating stack stands out of the sampling noise yet: "
					   "watch longer windows, or use --alloc-exact");
		else if (a->cur.alloc)
			snprintf(buf, len, "live heap growth is a leak or a structure that only grows; "
					   "no one stack keeps what it allocates: see the alloc stacks "
					   "that rise, which free part of what they hold");
		else
			snprintf(buf, len, "live heap growth is a leak or a structure that only grows; "
					   "to name its allocating stack, run memsleuth watch %d --alloc "
					   "for %u windows or more (%s)",
				 (int)w->end->pid, VERDICT_ALLOC_WINDOWS,
				 units_duration(b1, sizeof(b1), VERDICT_ALLOC_WINDOWS * w->window_s));
		break;
	case C_FRAG:
		snprintf(buf, len, steps ? "reuse the chunks, or build into one growable buffer; the "
					   "arena findings say what else returns the free pages"
					 : "see the arena findings: malloc_trim(0) returns resident free "
					   "pages, MALLOC_ARENA_MAX=2 pools threads into fewer arenas, "
					   "another allocator fragments less");
		break;
	case C_OUTSIDE:
		snprintf(buf, len, "memory mapped outside malloc: the mmap stacks and mmap_growth "
				   "name who maps it");
		break;
	case C_TOP:
		snprintf(buf, len, "the heap tops grow: freed memory at the top that malloc keeps; "
				   "malloc_trim(0) returns it");
		break;
	default:
		snprintf(buf, len, "file mappings or arenas not read: see the regions");
	}
}

/* The live heap's change over the window (for the live-heap-only verdict), into a->cur. */
static void note_live(struct analyzer *a, const struct window *w, int64_t dlive, bool known)
{
	int64_t need = (int64_t)(w->start->totals.rss * VERDICT_MIN_LIVE_PER_MILLE / 1000);

	a->cur.live_known = known;
	a->cur.live_delta = known ? dlive : 0;
	a->cur.live_grew = known && dlive >= (need > VERDICT_MIN_LIVE ? need : VERDICT_MIN_LIVE);
}

/*
 * Adds the verdict finding: `bytes` split `whole`, `best` the cause, `text`
 * what grew, `partial` when the arena parts rest on an incomplete read.
 */
static int add(struct analyzer *a, struct window *w, const int64_t *bytes, int64_t whole,
	       int best, const char *text, bool partial)
{
	enum severity sev = a->cur.rss_growth ? (enum severity)a->cur.rss_growth_severity : SEV_WARN;
	bool steps = a->cur.steps_reported;
	char step[320], why[96];
	struct finding *f;
	int c;

	next_step(a, w, best, steps, step, sizeof(step));
	why[0] = '\0';
	if (a->cur.leaks && best != C_LEAK)
		snprintf(why, sizeof(why), " (the leaking sites named above hold %.0f%% of it)",
			 whole > 0 ? 100.0 * (double)bytes[C_LEAK] / (double)whole : 0.0);
	f = detect_add(w, FINDING_VERDICT, sev);
	if (!f)
		return -ENOMEM;
	finding_set_summary(f, "%s%s%s%s; main cause: %s: %s", text,
			    steps ? " (arriving in equal chunk steps)" : "",
			    partial ? " (arena figures from a partial read)" : "", why,
			    causes[best].name, step);
	if (!f->summary || finding_add_str(f, EVK_CAUSE, causes[best].name) ||
	    finding_add_int(f, EVK_RSS_DELTA, w->delta.rss) ||
	    finding_add_int(f, EVK_OWN_DELTA, window_own_delta(w)) ||
	    finding_add_int(f, EVK_CHUNK_STEPS, steps) ||
	    finding_add_int(f, EVK_ARENA_READ_PARTIAL, partial) ||
	    (a->cur.live_known && finding_add_int(f, EVK_LIVE_DELTA, a->cur.live_delta)))
		return -ENOMEM;
	for (c = 0; c < C_N; c++)
		if (finding_add_int(f, causes[c].bytes_key, bytes[c]) ||
		    finding_add_real(f, causes[c].share_key,
				     whole > 0 ? (double)bytes[c] / (double)whole : 0))
			return -ENOMEM;
	return 0;
}

int detect_verdict(struct analyzer *a, struct window *w)
{
	int64_t bytes[C_N] = { 0 }, sum = 0, whole, dfree, dtop, dlive, dheap, grown;
	int64_t leak_alloc = a->cur.leak_alloc_bytes, leak_map, leak_in_heap, run_live = 0;
	bool partial = false, listed = false;
	bool walked = arena_parts(w, &dfree, &dtop, &dlive, &dheap, &partial);
	double run_s = 0;
	char text[512], over[64] = "", b1[24], b2[24], b3[24];
	size_t n = 0, run;
	int c, best = -1;

	/* Free bytes from a partial read are a floor, and the live bytes from them too large. */
	note_live(a, w, dlive, walked && !partial);
	a->cur.alloc = w->end->has_alloc;
	run_live = a->cur.live_delta;
	run = a->cur.live_grew ? detect_run(a, live_rose, live_rise, &run_live, &run_s) : 0;
	grown = window_own_delta(w);
	if (!a->cur.rss_growth && run < 2 && !a->cur.leaks)
		return 0;
	if (!a->cur.rss_growth || grown <= 0) {
		/* RSS held: the new live blocks fill free space the arenas held. */
		bytes[C_LEAK] = a->cur.leak_bytes;
		bytes[C_LIVE] = pos(a->cur.live_delta - leak_alloc);
		best = a->cur.leaks ? C_LEAK : C_LIVE;
		if (run >= 2)
			snprintf(over, sizeof(over), " (%s over %zu windows)",
				 units_bytes(b2, sizeof(b2), (double)run_live), run);
		if (a->cur.live_known && a->cur.live_delta > 0)
			snprintf(text, sizeof(text), "live heap +%s in this window%s while RSS changed "
						     "by %s: the new blocks fill free space the arenas "
						     "held, and RSS grows once it is used up",
				 units_bytes(b1, sizeof(b1), (double)a->cur.live_delta), over,
				 units_bytes(b3, sizeof(b3), (double)w->delta.rss));
		else
			snprintf(text, sizeof(text), "the leaking sites gain %s in this window while "
						     "RSS changed by %s: their blocks fill memory the "
						     "allocator held free",
				 units_bytes(b1, sizeof(b1), (double)bytes[C_LEAK]),
				 units_bytes(b2, sizeof(b2), (double)w->delta.rss));
		return add(a, w, bytes, a->cur.live_delta > 0 ? a->cur.live_delta : bytes[C_LEAK], best,
			   text, false);
	}
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
	if (walked) {
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
	bytes[C_OTHER] = pos(grown - sum);
	sum += bytes[C_OTHER];
	whole = sum > grown ? sum : grown;
	for (c = 0; c < C_OTHER; c++)
		if (bytes[c] > 0 && (best < 0 || bytes[c] > bytes[best]))
			best = c;
	if (a->cur.leaks && (double)bytes[C_LEAK] >= VERDICT_LEAK_SHARE * (double)whole)
		best = C_LEAK;
	if (best < 0)
		best = C_OTHER;
	n = (size_t)snprintf(text, sizeof(text), "RSS +%s in this window:",
			     units_bytes(b1, sizeof(b1), (double)grown));
	for (c = 0; c < C_N; c++) {
		int k = c == 0 ? best : (c <= best ? c - 1 : c);

		if (bytes[k] * 100 < whole || n >= sizeof(text) - 80)
			continue;
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s %.0f%% %s", listed ? "," : "",
				      100.0 * (double)bytes[k] / (double)whole, causes[k].label);
		listed = true;
	}
	return add(a, w, bytes, whole, best, text, walked && partial);
}
