/* SPDX-License-Identifier: GPL-2.0-only */
/* Finds glibc's version, main_arena and mp_ in a target, with debug info or without. */
#ifndef MEMSLEUTH_ARENA_LOCATE_H
#define MEMSLEUTH_ARENA_LOCATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/vma.h"
#include "collectors/arena_decode.h"

/* Hops along a candidate main_arena's `next` ring before it is rejected. */
#define ARENA_LOCATE_MAX_ARENAS 4096

/* What reading a glibc process's arenas needs to know about it, found once. */
struct arena_target {
	unsigned int glibc_minor;	/* glibc 2.N */
	struct arena_layout layout;
	uint64_t main_arena;
	/* mp_ (struct malloc_par): where its fields are; 0 when unknown. */
	uint64_t mp_sbrk_base;		/* address of mp_.sbrk_base */
	uint64_t mp_mmapped_mem;	/* address of mp_.mmapped_mem */
	bool from_debuginfo;		/* symbols and layouts came from DWARF */
	char libc_path[256];
};

/*
 * Locates the arenas of process `pid`, whose mappings are `vmas`, reading its
 * memory through `m`. With `use_debuginfo`, libc's matching debug info (found
 * by build-id, e.g. Debian's libc6-dbg) gives the symbols and struct layouts;
 * otherwise, or when it is absent, main_arena is found by scanning libc's
 * writable data for the one structure that behaves like it. Returns 0, or
 * -ENOENT (no glibc mapped: static or another libc), -ENOTSUP (a version
 * whose layout is unknown), -ESRCH (nothing matched; malloc may be unused
 * yet), with a one-line reason in `why`.
 */
int arena_locate(int pid, const struct vma_list *vmas, const struct mem_reader *m,
		 bool use_debuginfo, struct arena_target *out, char *why, size_t whylen);

/* Parses "2.36" (or "2.36.9") into its minor number; returns 0 or -EINVAL. */
int arena_parse_version(const char *s, unsigned int *minor);

#endif
