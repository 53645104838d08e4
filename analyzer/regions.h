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
 * Groups `vmas` into regions, appends them to `out->regions` and fills
 * `out->totals`. `sps` holds stack pointers of the target's threads (may be
 * NULL): a mapping that contains one is a stack. Mappings are grouped so that
 * VMAs merging or splitting between two snapshots leave the groups unchanged:
 * all unnamed anonymous memory is one region, files are grouped per path, each
 * glibc heap is one region. Returns 0 or -ENOMEM.
 */
int regions_build(const struct vma_list *vmas, const uint64_t *sps, size_t nsps,
		  struct sample *out);

/* Classifies a single mapping path the way regions_build does, for tests and tools. */
enum region_kind regions_kind_of_path(const char *path);

#endif
