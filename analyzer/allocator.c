// SPDX-License-Identifier: GPL-2.0-only
/* Which malloc a process uses, judged from the libraries it maps. */
#include "analyzer/allocator.h"

#include <string.h>

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static int lib_is(const char *base, const char *stem)
{
	size_t n = strlen(stem);

	return strncmp(base, stem, n) == 0 && (base[n] == '.' || base[n] == '_' || base[n] == '-');
}

enum allocator_kind allocator_detect(const struct vma_list *vmas)
{
	enum allocator_kind found = ALLOC_UNKNOWN;
	size_t i;

	for (i = 0; i < vmas->n; i++) {
		const char *path = vmas->v[i].path, *base;

		if (!path || path[0] != '/')
			continue;
		base = base_name(path);
		if (lib_is(base, "libjemalloc"))
			return ALLOC_JEMALLOC;
		if (lib_is(base, "libtcmalloc") || lib_is(base, "libtcmalloc_minimal"))
			return ALLOC_TCMALLOC;
		if (lib_is(base, "libmimalloc"))
			return ALLOC_MIMALLOC;
		if (strncmp(base, "ld-musl-", 8) == 0 || lib_is(base, "libc.musl"))
			found = ALLOC_MUSL;
		else if (strncmp(base, "libc.so.6", 9) == 0 || strncmp(base, "libc-2.", 7) == 0)
			if (found == ALLOC_UNKNOWN)
				found = ALLOC_GLIBC;
	}
	return found;
}
