// SPDX-License-Identifier: GPL-2.0-only
/* A fixed-capacity string-keyed index: key to position in the caller's array. */
#include "lib/strmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint64_t strmap_hash(uint32_t tag, const char *s)
{
	uint64_t h = 1469598103934665603ULL ^ tag;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

int strmap_init(struct strmap *m, size_t n)
{
	size_t size = 16;

	while (size < n * 2)
		size *= 2;
	m->slots = calloc(size, sizeof(*m->slots));
	if (!m->slots)
		return -ENOMEM;
	m->mask = size - 1;
	return 0;
}

void strmap_free(struct strmap *m)
{
	free(m->slots);
	m->slots = NULL;
}

static struct strmap_slot *find(const struct strmap *m, uint32_t tag, const char *key)
{
	size_t i = strmap_hash(tag, key) & m->mask;

	while (m->slots[i].key &&
	       (m->slots[i].tag != tag || strcmp(m->slots[i].key, key) != 0))
		i = (i + 1) & m->mask;
	return &m->slots[i];
}

size_t strmap_get(const struct strmap *m, uint32_t tag, const char *key)
{
	struct strmap_slot *s = find(m, tag, key);

	return s->key ? s->value : SIZE_MAX;
}

void strmap_put(struct strmap *m, uint32_t tag, const char *key, size_t value)
{
	struct strmap_slot *s = find(m, tag, key);

	s->key = key;
	s->tag = tag;
	s->value = value;
}
