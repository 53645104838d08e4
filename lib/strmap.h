/* SPDX-License-Identifier: GPL-2.0-only */
/* A fixed-capacity string-keyed index: key to position in the caller's array. */
#ifndef MEMSLEUTH_STRMAP_H
#define MEMSLEUTH_STRMAP_H

#include <stddef.h>
#include <stdint.h>

/*
 * Keys are borrowed: the caller keeps them alive while the map lives. A key is
 * a (tag, string) pair so that one name can stand in several kinds.
 */
struct strmap {
	size_t mask;
	struct strmap_slot {
		const char *key;
		uint32_t tag;
		size_t value;
	} *slots;
};

/* The hash of (tag, s) the map uses (FNV-1a): also a stable identity for a name. */
uint64_t strmap_hash(uint32_t tag, const char *s);

/* Sizes the map for up to `n` keys. Returns 0 or -ENOMEM. */
int strmap_init(struct strmap *m, size_t n);
void strmap_free(struct strmap *m);
/* Returns the value for (tag, key), or SIZE_MAX when absent. */
size_t strmap_get(const struct strmap *m, uint32_t tag, const char *key);
/* Sets (tag, key) to value; the map must have room (see strmap_init). */
void strmap_put(struct strmap *m, uint32_t tag, const char *key, size_t value);

#endif
