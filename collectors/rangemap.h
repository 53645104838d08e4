/* SPDX-License-Identifier: GPL-2.0-only */
/* Address ranges mapped since attach, each owned by the stack that mapped it. */
#ifndef MEMSLEUTH_RANGEMAP_H
#define MEMSLEUTH_RANGEMAP_H

#include <stddef.h>
#include <stdint.h>

/*
 * Ranges never overlap: adding one first removes what it covers (MAP_FIXED
 * over an existing mapping). Unmapping the middle of a range splits it.
 */
struct range {
	uint64_t start, end;
	uint64_t owner;
};

struct rangemap {
	struct range *r;	/* sorted by start */
	size_t n, cap;
	size_t max;		/* ranges kept at most */
};

/*
 * Called for each piece removed: `bytes` taken from `owner`, and the change
 * in its number of ranges (-1 a whole range went, +1 one was split in two, 0
 * one was trimmed).
 */
typedef void (*range_removed_fn)(void *arg, uint64_t owner, uint64_t bytes, int ranges);

/*
 * Removes [start, end) from the map; *first_owner (when not NULL) is set to the
 * owner of the first range touched, 0 when none was. Returns 0, or -ENOMEM
 * when a split found no room (the range is then removed whole). A split may
 * take the map past `max`.
 */
int rangemap_remove(struct rangemap *m, uint64_t start, uint64_t end, range_removed_fn fn,
		    void *arg, uint64_t *first_owner);

/*
 * Adds [start, end) owned by `owner`, removing what it covers first (through
 * `fn`). Returns 0, -ENOSPC when `max` ranges are kept (nothing is added), or
 * -ENOMEM.
 */
int rangemap_add(struct rangemap *m, uint64_t start, uint64_t end, uint64_t owner,
		 range_removed_fn fn, void *arg);

/* Frees the ranges; the map is empty and reusable afterwards. */
void rangemap_free(struct rangemap *m);

#endif
