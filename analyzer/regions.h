/* SPDX-License-Identifier: GPL-2.0-only */
/* Classifies mappings into named regions (heap, arenas, stacks, files...) and sums them. */
#ifndef MEMSLEUTH_REGIONS_H
#define MEMSLEUTH_REGIONS_H

#include "analyzer/sample.h"
#include "analyzer/vma.h"

/* glibc's HEAP_MAX_SIZE on 64-bit: non-main heaps are this size and aligned to it. */
#define ARENA_HEAP_SIZE ((uint64_t)64 << 20)

#define REGION_NAME_ANON "[anon]"
#define REGION_NAME_THREAD_STACKS "[thread stacks]"
#define REGION_NAME_SHARED_ANON "[shared anon]"

/*
 * Distinct regions kept per sample. Past it, the regions of smallest virtual
 * size are summed into one "[other files]" (etc.) region per kind, and counted
 * in sample.regions_folded: a process mapping 100,000 files costs memsleuth a
 * bounded amount per tick and per window, and nothing goes missing from totals.
 */
#define REGIONS_MAX 1000

/*
 * Groups `vmas` into regions, appends them to `out->regions` and fills
 * `out->totals`. `sps` holds stack pointers of the target's threads (may be
 * NULL): a mapping that contains one is a stack. Mappings are grouped so that
 * VMAs merging or splitting between two snapshots leave the groups unchanged:
 * all unnamed anonymous memory is one region, files are grouped per path, each
 * glibc heap is one region; beyond REGIONS_MAX groups the rest are folded.
 * Returns 0 or -ENOMEM.
 */
int regions_build(const struct vma_list *vmas, const uint64_t *sps, size_t nsps,
		  struct sample *out);

/*
 * Applies the REGIONS_MAX cap to a sample's regions (regions_build does; the
 * recording reader does for files written by anything else): keeps the first
 * REGIONS_MAX by rank, in their order, and sums the rest per kind. Returns 0
 * or -ENOMEM, leaving the sample unchanged on failure.
 */
int regions_fold(struct sample *s);

/* Classifies a single mapping path the way regions_build does, for tests and tools. */
enum region_kind regions_kind_of_path(const char *path);

#endif
