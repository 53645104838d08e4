/* SPDX-License-Identifier: GPL-2.0-only */
/* Which malloc a statically linked executable carries, judged from the strings in it. */
#ifndef MEMSLEUTH_EXE_ALLOCATOR_H
#define MEMSLEUTH_EXE_ALLOCATOR_H

#include <stddef.h>

#include "analyzer/sample.h"
#include "collectors/proc.h"

/*
 * Judges an executable image (`len` bytes): jemalloc, tcmalloc and mimalloc
 * by their message prefixes, glibc by its malloc error text and tunables
 * variable. Returns ALLOC_UNKNOWN when none is found or the bytes are not ELF.
 */
enum allocator_kind exe_allocator_judge(const void *image, size_t len);

/*
 * Reads the target's executable (/proc/PID/exe, at most 256 MiB) and judges
 * it. For processes that map no allocator library (statically linked).
 */
enum allocator_kind exe_allocator_detect(const struct proc_target *t);

#endif
