/* SPDX-License-Identifier: GPL-2.0-only */
/* Which malloc a process uses, judged from the libraries it maps. */
#ifndef MEMSLEUTH_ALLOCATOR_H
#define MEMSLEUTH_ALLOCATOR_H

#include "analyzer/sample.h"
#include "analyzer/vma.h"

/*
 * A preloaded or linked jemalloc/tcmalloc/mimalloc replaces libc's malloc, so
 * it wins over libc; musl's libc is its own allocator. A process that maps no
 * known library (statically linked) is ALLOC_UNKNOWN.
 */
enum allocator_kind allocator_detect(const struct vma_list *vmas);

#endif
