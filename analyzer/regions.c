// SPDX-License-Identifier: GPL-2.0-only
/* Classifies mappings into named regions (heap, arenas, stacks, files...) and sums them. */
#include "analyzer/regions.h"
#include "lib/strmap.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A thread's guard below its stack is a page by default; larger ones are set by hand. */
#define MAX_GUARD_SIZE ((uint64_t)16 << 20)

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool is_unnamed_anon(const struct vma *v)
{
	return vma_is_anon(v) && !v->path;
}

enum region_kind regions_kind_of_path(const char *path)
{
	if (!path)
		return REGION_ANON;
	if (strcmp(path, "[heap]") == 0)
		return REGION_HEAP;
	if (strcmp(path, "[stack]") == 0)
		return REGION_STACK;
	if (has_prefix(path, "[anon:"))
		return REGION_ANON;
	if (has_prefix(path, "[anon_shmem:") || has_prefix(path, "/memfd:") ||
	    has_prefix(path, "/SYSV") || has_prefix(path, "/dev/shm/") ||
	    has_prefix(path, "/dev/zero"))
		return REGION_SHMEM;
	if (path[0] == '[' || has_prefix(path, "/dev/"))
		return REGION_OTHER;
	return REGION_FILE;
}

static bool is_prot_none_or_rw(const struct vma *v)
{
	return strcmp(v->perms, "rw-p") == 0 || strcmp(v->perms, "---p") == 0;
}

/*
 * Whether v[i] starts a run of glibc heaps; if so, *end is where the run
 * ends. A heap is a 64 MiB-aligned, 64 MiB reservation, committed (rw-p) from
 * its start, the rest PROT_NONE; the kernel merges what it can, so one VMA
 * may hold several heaps (adjacent full heaps, or a full heap and the
 * committed start of the next) and a heap's PROT_NONE tail may merge with a
 * neighbour's. Other splits (mprotect, madvise) cut a heap into more VMAs.
 * The run must reach a heap boundary: exactly at the end of a VMA of the run,
 * or inside a PROT_NONE one. An aligned rw-p mapping of whole multiples of
 * 64 MiB passes too, as an exactly 64 MiB one always has.
 */
static bool is_arena_heap_start(const struct vma *v, size_t i, size_t n, uint64_t *end)
{
	const struct vma *a = &v[i];
	uint64_t boundary;
	size_t j;

	if (!is_unnamed_anon(a) || a->start % ARENA_HEAP_SIZE != 0 ||
	    strcmp(a->perms, "rw-p") != 0)
		return false;
	boundary = (a->end + ARENA_HEAP_SIZE - 1) & ~(ARENA_HEAP_SIZE - 1);
	for (j = i; j < n; j++) {
		const struct vma *m = &v[j];

		if (j > i && (m->start != v[j - 1].end || !is_unnamed_anon(m) ||
			      !is_prot_none_or_rw(m)))
			return false;
		if (m->end == boundary || (m->end > boundary && strcmp(m->perms, "---p") == 0)) {
			*end = boundary;
			return true;
		}
		if (m->end > boundary)
			return false;
	}
	return false;
}

/* `sps` is sorted: with 10,000 threads a linear search per mapping costs seconds per tick. */
static bool contains_sp(const struct vma *v, const uint64_t *sps, size_t nsps)
{
	size_t lo = 0, hi = nsps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sps[mid] < v->start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < nsps && sps[lo] < v->end;
}

static int u64_cmp(const void *pa, const void *pb)
{
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;

	return a < b ? -1 : a > b;
}

/* Per-mapping classification; `guard_of_stack` marks a guard that belongs to the next VMA. */
struct class {
	uint8_t kind;
	const char *name;	/* static or pointing into the vma */
	char buf[48];		/* for generated names */
};

static void classify(const struct vma *v, size_t i, size_t n, const uint64_t *sps, size_t nsps,
		     uint64_t *arena_end, struct class *c)
{
	const struct vma *m = &v[i];

	c->name = NULL;
	if (m->start < *arena_end && is_unnamed_anon(m)) {
		c->kind = REGION_ARENA;
		snprintf(c->buf, sizeof(c->buf), "[arena 0x%" PRIx64 "]",
			 m->start & ~(ARENA_HEAP_SIZE - 1));
		c->name = c->buf;
		return;
	}
	if (is_arena_heap_start(v, i, n, arena_end)) {
		c->kind = REGION_ARENA;
		snprintf(c->buf, sizeof(c->buf), "[arena 0x%" PRIx64 "]", m->start);
		c->name = c->buf;
		return;
	}
	if (is_unnamed_anon(m)) {
		const struct vma *prev = i > 0 ? &v[i - 1] : NULL;
		uint64_t heap_end;
		const struct vma *next = i + 1 < n ? &v[i + 1] : NULL;
		bool stack = contains_sp(m, sps, nsps);

		/* glibc puts a PROT_NONE guard right below each thread stack. */
		if (!stack && strcmp(m->perms, "rw-p") == 0 && prev && prev->end == m->start &&
		    is_unnamed_anon(prev) && strcmp(prev->perms, "---p") == 0 &&
		    prev->end - prev->start <= MAX_GUARD_SIZE && prev->start >= *arena_end)
			stack = true;
		/* The guard itself, seen from below. */
		if (!stack && strcmp(m->perms, "---p") == 0 && next && next->start == m->end &&
		    m->end - m->start <= MAX_GUARD_SIZE && is_unnamed_anon(next) &&
		    strcmp(next->perms, "rw-p") == 0 && !is_arena_heap_start(v, i + 1, n, &heap_end))
			stack = true;
		c->kind = stack ? REGION_STACK : REGION_ANON;
		c->name = stack ? REGION_NAME_THREAD_STACKS : REGION_NAME_ANON;
		return;
	}
	/* No name but not private anonymous either: a shared anonymous mapping, or a saved file
	 * that was edited or damaged. Every group needs a name. */
	if (!m->path) {
		c->kind = m->perms[3] == 's' ? REGION_SHMEM : REGION_ANON;
		c->name = m->perms[3] == 's' ? REGION_NAME_SHARED_ANON : REGION_NAME_ANON;
		return;
	}
	if (m->perms[3] == 's' && has_prefix(m->path, "/dev/zero")) {
		c->kind = REGION_SHMEM;
		c->name = REGION_NAME_SHARED_ANON;
		return;
	}
	c->kind = (uint8_t)regions_kind_of_path(m->path);
	c->name = m->path;
	if (c->kind == REGION_ANON && contains_sp(m, sps, nsps) && !has_prefix(m->path, "[anon:"))
		c->kind = REGION_STACK;
}

static const char *const fold_names[REGION_NKINDS] = {
	[REGION_HEAP] = "[other heaps]",   [REGION_ARENA] = "[other arenas]",
	[REGION_STACK] = "[other stacks]", [REGION_ANON] = "[other anon]",
	[REGION_FILE] = "[other files]",   [REGION_SHMEM] = "[other shmem]",
	[REGION_OTHER] = "[other mappings]",
};

static bool is_bucket(const struct region *r)
{
	return r->kind < REGION_NKINDS && strcmp(r->name, fold_names[r->kind]) == 0;
}

/*
 * The fixed groups keep their own row whatever the cap: there are few, and they
 * matter most. So do the "[other ...]" rows, which makes folding twice (live,
 * then again when a recording is read) change nothing.
 */
static bool is_pinned(const struct region *r)
{
	return is_bucket(r) || r->kind == REGION_HEAP || strcmp(r->name, REGION_NAME_ANON) == 0 ||
	       strcmp(r->name, REGION_NAME_THREAD_STACKS) == 0 || strcmp(r->name, "[stack]") == 0 ||
	       strcmp(r->name, REGION_NAME_SHARED_ANON) == 0;
}

/*
 * Rank for the cap: by virtual size, which moves far less than RSS, so the same
 * regions keep their rows from tick to tick (no phantom deltas between a row and
 * "[other ...]"); then by kind and name, so that ties are stable too.
 */
static int rank_cmp(const void *pa, const void *pb)
{
	const struct region *a = *(const struct region *const *)pa;
	const struct region *b = *(const struct region *const *)pb;
	bool pin_a = is_pinned(a), pin_b = is_pinned(b);

	if (pin_a != pin_b)
		return pin_a ? -1 : 1;
	if (a->size != b->size)
		return a->size > b->size ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return strcmp(a->name, b->name);
}

static void region_add(struct region *into, const struct region *r)
{
	into->nvmas += r->nvmas;
	into->size += r->size;
	into->rss += r->rss;
	into->pss += r->pss;
	into->anon += r->anon;
	into->private_dirty += r->private_dirty;
	into->swap += r->swap;
}

int regions_fold(struct sample *out)
{
	size_t n = out->nregions, i, nkept = 0, nbuckets = 0;
	struct region *kept, *bucket[REGION_NKINDS] = { NULL };
	char *names[REGION_NKINDS] = { NULL };
	struct region **rank;
	bool *fold;
	int ret = -ENOMEM;

	for (i = 0; i < n; i++)
		nbuckets += is_bucket(&out->regions[i]);
	if (n - nbuckets <= REGIONS_MAX)
		return 0;
	rank = malloc(n * sizeof(*rank));
	fold = calloc(n, sizeof(*fold));
	kept = calloc(REGIONS_MAX + nbuckets + REGION_NKINDS, sizeof(*kept));
	if (!rank || !fold || !kept)
		goto cleanup;
	for (i = 0; i < n; i++)
		rank[i] = &out->regions[i];
	qsort(rank, n, sizeof(*rank), rank_cmp);
	/* Pinned rows rank first, the buckets among them: REGIONS_MAX others stay. */
	for (i = REGIONS_MAX + nbuckets; i < n; i++) {
		uint8_t k = rank[i]->kind;

		fold[rank[i] - out->regions] = true;
		/* Allocate every name before changing anything, so that failure leaves `out` whole. */
		if (!names[k] && !(names[k] = strdup(fold_names[k])))
			goto cleanup;
	}
	for (i = 0; i < n; i++)
		if (!fold[i])
			kept[nkept++] = out->regions[i];
	for (i = 0; i < n; i++) {
		struct region *r = &out->regions[i];
		size_t j;

		if (!fold[i])
			continue;
		if (!bucket[r->kind]) {
			/* A saved file can name a mapping like a bucket: then they are one group. */
			for (j = 0; j < nkept && !bucket[r->kind]; j++)
				if (kept[j].kind == r->kind && strcmp(kept[j].name, names[r->kind]) == 0)
					bucket[r->kind] = &kept[j];
			if (!bucket[r->kind]) {
				bucket[r->kind] = &kept[nkept++];
				bucket[r->kind]->kind = r->kind;
				bucket[r->kind]->name = names[r->kind];
				names[r->kind] = NULL;
			}
		}
		region_add(bucket[r->kind], r);
		free(r->name);
		out->regions_folded++;
	}
	free(out->regions);
	out->regions = kept;
	out->nregions = nkept;
	out->regions_cap = REGIONS_MAX + nbuckets + REGION_NKINDS;
	kept = NULL;
	ret = 0;
cleanup:
	for (i = 0; i < REGION_NKINDS; i++)
		free(names[i]);
	free(kept);
	free(fold);
	free(rank);
	return ret;
}

int regions_build(const struct vma_list *vmas, const uint64_t *sps, size_t nsps,
		  struct sample *out)
{
	uint64_t arena_end = 0, *sorted = NULL;
	struct strmap index;
	size_t i;
	int ret = 0;

	memset(&out->totals, 0, sizeof(out->totals));
	if (nsps) {
		sorted = malloc(nsps * sizeof(*sorted));
		if (!sorted)
			return -ENOMEM;
		memcpy(sorted, sps, nsps * sizeof(*sorted));
		qsort(sorted, nsps, sizeof(*sorted), u64_cmp);
	}
	if (strmap_init(&index, vmas->n)) {
		free(sorted);
		return -ENOMEM;
	}

	for (i = 0; i < vmas->n; i++) {
		const struct vma *m = &vmas->v[i];
		struct region *r;
		struct class c;
		size_t at;

		classify(vmas->v, i, vmas->n, sorted, nsps, &arena_end, &c);
		at = strmap_get(&index, c.kind, c.name);
		if (at != SIZE_MAX) {
			r = &out->regions[at];
		} else {
			char *name = strdup(c.name);

			r = name ? sample_add_region(out) : NULL;
			if (!r) {
				free(name);
				ret = -ENOMEM;
				goto cleanup;
			}
			r->name = name;
			r->kind = c.kind;
			/* The key is the region's own name, which stays put when the array moves. */
			strmap_put(&index, c.kind, r->name, out->nregions - 1);
		}
		r->nvmas++;
		r->size += m->end - m->start;
		r->rss += m->rss;
		r->pss += m->pss;
		r->anon += m->anon;
		r->private_dirty += m->private_dirty;
		r->swap += m->swap;

		out->totals.size += m->end - m->start;
		out->totals.rss += m->rss;
		out->totals.pss += m->pss;
		out->totals.anon += m->anon;
		out->totals.swap += m->swap;
	}
	ret = regions_fold(out);
	if (!ret)
		out->has_regions = true;
cleanup:
	strmap_free(&index);
	free(sorted);
	return ret;
}
