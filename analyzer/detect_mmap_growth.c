// SPDX-License-Identifier: GPL-2.0-only
/* mmap_growth: memory outside malloc's heaps (anonymous maps, shm, thread stacks) that keeps growing. */
#include "analyzer/detect.h"
#include "analyzer/arenas.h"
#include "lib/units.h"

#include <errno.h>

/*
 * Growth outside malloc = RSS growth of anonymous mappings, shared memory and
 * thread stacks, less the growth of glibc's own mmap'd blocks (mp_.mmapped_mem,
 * read with the arenas) when known, and less the pages of shared segments
 * mapped already that the process touched (window_shared_touched: memory the
 * segment's maker paid for, not growth of this process). Threshold: at least
 * MMAP_MIN_RISE in this window and in the one before it.
 */
#define MMAP_MIN_RISE ((int64_t)1 << 20)

/* Growth of glibc's mmap'd malloc blocks across the window; false when unknown. */
static bool malloc_mmapped_delta(const struct window *w, int64_t *out)
{
	const struct sample *s0 = arenas_earliest(w), *s1 = arenas_latest(w);

	if (!s0 || !s1 || s0 == s1 || s0->malloc_mmapped < 0 || s1->malloc_mmapped < 0)
		return false;
	*out = s1->malloc_mmapped - s0->malloc_mmapped;
	return true;
}

static bool rose(const struct win_record *r)
{
	return r->outside_grew;
}

static int64_t rise(const struct win_record *r)
{
	return r->outside_delta;
}

static int add_stack(struct finding *f, const struct window *w)
{
	const struct stack_delta *best = NULL;
	size_t i;

	for (i = 0; i < w->nstacks; i++) {
		const struct stack_delta *d = &w->stacks[i];

		if (d->cur && d->cur->kind == STACK_MMAP && d->bytes_delta > 0 &&
		    (!best || d->bytes_delta > best->bytes_delta))
			best = d;
	}
	if (!best)
		return 0;
	if (finding_set_stack(f, best->cur) ||
	    finding_add_int(f, EVK_TOP_STACK_BYTES_DELTA, best->bytes_delta))
		return -ENOMEM;
	return 0;
}

int detect_mmap_growth(struct analyzer *a, struct window *w)
{
	int64_t by_kind[REGION_NKINDS] = { 0 }, outside, mm = 0, run_bytes;
	bool known_mm = malloc_mmapped_delta(w, &mm), with_malloc;
	double run_s = w->window_s, rate;
	char b1[24], b2[24], b3[24], b4[24], b5[24];
	struct finding *f;
	size_t i, run;

	if (!w->start->has_regions || !w->end->has_regions)
		return 0;
	for (i = 0; i < w->nregions; i++)
		by_kind[w->regions[i].kind] += w->regions[i].rss_delta;
	outside = by_kind[REGION_ANON] + by_kind[REGION_SHMEM] + by_kind[REGION_STACK] -
		  window_shared_touched(w);
	if (known_mm)
		outside -= mm;
	a->cur.outside_delta = outside;
	a->cur.outside_grew = outside >= MMAP_MIN_RISE;
	if (!a->cur.outside_grew)
		return 0;
	run_bytes = outside;
	run = detect_run(a, rose, rise, &run_bytes, &run_s);
	if (run < 2 || run_s <= 0)
		return 0;
	rate = (double)run_bytes / run_s;
	/* glibc's big blocks are mmap'd too; other allocators map their whole heap. */
	with_malloc = !known_mm;
	f = detect_add(w, FINDING_MMAP_GROWTH, SEV_WARN);
	if (!f)
		return -ENOMEM;
	finding_set_summary(f, "memory outside malloc's heaps grew %s (%s/min over %zu windows): "
			       "anon %s, shm %s, thread stacks %s%s",
			    units_bytes(b1, sizeof(b1), (double)outside),
			    units_bytes(b2, sizeof(b2), rate * 60), run,
			    units_bytes(b3, sizeof(b3), (double)by_kind[REGION_ANON]),
			    units_bytes(b4, sizeof(b4), (double)by_kind[REGION_SHMEM]),
			    units_bytes(b5, sizeof(b5), (double)by_kind[REGION_STACK]),
			    w->end->allocator == ALLOC_GLIBC
				    ? (with_malloc ? "; may include malloc blocks of 128 KiB and more "
						     "(glibc's own figure was not read)"
						   : "; mmap stacks, when collected, show who maps it")
				    : "; includes malloc: this allocator maps its heap anonymously");
	if (!f->summary || finding_add_int(f, EVK_BYTES_DELTA, outside) ||
	    finding_add_int(f, EVK_RUN_BYTES, run_bytes) ||
	    finding_add_int(f, EVK_WINDOWS, (int64_t)run) || finding_add_real(f, EVK_BYTES_PER_S, rate) ||
	    finding_add_int(f, EVK_ANON_DELTA, by_kind[REGION_ANON]) ||
	    finding_add_int(f, EVK_SHMEM_DELTA, by_kind[REGION_SHMEM]) ||
	    finding_add_int(f, EVK_STACK_DELTA, by_kind[REGION_STACK]) ||
	    (known_mm && finding_add_int(f, EVK_MALLOC_MMAPPED_DELTA, mm)))
		return -ENOMEM;
	return add_stack(f, w);
}
