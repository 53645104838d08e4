/* SPDX-License-Identifier: GPL-2.0-only */
/* Which malloc a process uses, judged from the libraries it maps. */
#ifndef MEMSLEUTH_ALLOCATOR_H
#define MEMSLEUTH_ALLOCATOR_H

#include <stdbool.h>

#include "analyzer/sample.h"
#include "analyzer/vma.h"

/*
 * Whether the file at `path` is library `stem`: its base name is the stem
 * followed by '.', '_' or '-' (libjemalloc.so.2, libtcmalloc_minimal.so.4,
 * libc-2.31.so for "libjemalloc", "libtcmalloc", "libc").
 */
bool allocator_lib_is(const char *path, const char *stem);

/*
 * The allocator a mapped file provides, judged from its name (the one rule
 * set, for the sample's allocator and for where the malloc probes go):
 * libjemalloc, libtcmalloc (and _minimal), libmimalloc; musl's libc, which is
 * its own dynamic loader (ld-musl-ARCH.so.1, or a libc in a path that says
 * musl); glibc's libc.so.6 (libc-2.N.so before 2.34). ALLOC_UNKNOWN for any
 * other file.
 */
enum allocator_kind allocator_of_file(const char *path);

/*
 * A preloaded or linked jemalloc/tcmalloc/mimalloc replaces libc's malloc, so
 * it wins over libc; musl's libc is its own allocator. A process that maps no
 * known library (statically linked) is ALLOC_UNKNOWN.
 */
enum allocator_kind allocator_detect(const struct vma_list *vmas);

#endif
