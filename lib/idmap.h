/* SPDX-License-Identifier: GPL-2.0-only */
/* A growable map from 64-bit ids (stack ids, addresses) to array positions. */
#ifndef MEMSLEUTH_IDMAP_H
#define MEMSLEUTH_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct idmap {
	size_t n, mask;
	struct idmap_slot {
		uint64_t key;
		size_t value;	/* SIZE_MAX marks an empty slot */
	} *slots;
};

/* An empty map needs no init beyond zeroing. */
void idmap_free(struct idmap *m);
/* Returns the value for `key`, or SIZE_MAX when absent. */
size_t idmap_get(const struct idmap *m, uint64_t key);
/* Sets `key` to `value` (not SIZE_MAX). Returns 0 or -ENOMEM. */
int idmap_put(struct idmap *m, uint64_t key, size_t value);

#endif
