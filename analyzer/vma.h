/* SPDX-License-Identifier: GPL-2.0-only */
/* One mapping of a process as /proc/PID/smaps describes it, as plain data. */
#ifndef MEMSLEUTH_VMA_H
#define MEMSLEUTH_VMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vma {
	uint64_t start, end;
	uint64_t offset;
	uint64_t inode;
	uint32_t dev_major, dev_minor;
	char perms[5];		/* "rw-p", NUL terminated */
	char *path;		/* NULL when the mapping has no name */
	/* Byte figures from the smaps fields (the file gives kB). */
	uint64_t rss, pss, anon, swap;
	uint64_t private_dirty, private_clean, shared_dirty, shared_clean;
};

struct vma_list {
	struct vma *v;
	size_t n, cap;
};

/* Frees the paths and the array; the list is left empty. NULL is accepted. */
void vma_list_free(struct vma_list *l);

/* Returns true when the mapping is private and has no file behind it. */
bool vma_is_anon(const struct vma *v);

#endif
