// SPDX-License-Identifier: GPL-2.0-only
/* One mapping of a process as /proc/PID/smaps describes it, as plain data. */
#include "analyzer/vma.h"

#include <stdlib.h>

void vma_list_free(struct vma_list *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

bool vma_is_anon(const struct vma *v)
{
	return v->inode == 0 && v->perms[3] == 'p' &&
	       (!v->path || v->path[0] != '/');
}
