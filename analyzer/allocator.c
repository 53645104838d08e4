// SPDX-License-Identifier: GPL-2.0-only
/* Which malloc a process uses, judged from the libraries it maps. */
#include "analyzer/allocator.h"

#include <string.h>

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

bool allocator_lib_is(const char *path, const char *stem)
{
	const char *base = base_name(path);
	size_t n = strlen(stem);

	return strncmp(base, stem, n) == 0 && (base[n] == '.' || base[n] == '_' || base[n] == '-');
}

enum allocator_kind allocator_of_file(const char *path)
{
	const char *base = base_name(path);

	if (allocator_lib_is(path, "libjemalloc"))
		return ALLOC_JEMALLOC;
	if (allocator_lib_is(path, "libtcmalloc"))
		return ALLOC_TCMALLOC;
	if (allocator_lib_is(path, "libmimalloc"))
		return ALLOC_MIMALLOC;
	if (strncmp(base, "ld-musl-", 8) == 0 ||
	    (allocator_lib_is(path, "libc") && strstr(path, "musl")))
		return ALLOC_MUSL;
	if (strncmp(base, "libc.so.6", 9) == 0 || strncmp(base, "libc-2.", 7) == 0)
		return ALLOC_GLIBC;
	return ALLOC_UNKNOWN;
}

enum allocator_kind allocator_detect(const struct vma_list *vmas)
{
	enum allocator_kind found = ALLOC_UNKNOWN, k;
	size_t i;

	for (i = 0; i < vmas->n; i++) {
		const char *path = vmas->v[i].path;

		if (!path || path[0] != '/')
			continue;
		k = allocator_of_file(path);
		if (k == ALLOC_JEMALLOC || k == ALLOC_TCMALLOC || k == ALLOC_MIMALLOC)
			return k;
		if (k == ALLOC_MUSL || (k == ALLOC_GLIBC && found == ALLOC_UNKNOWN))
			found = k;
	}
	return found;
}
