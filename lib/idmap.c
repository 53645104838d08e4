// SPDX-License-Identifier: GPL-2.0-only
/* A growable map from 64-bit ids (stack ids, addresses) to array positions. */
#include "lib/idmap.h"

#include <errno.h>
#include <stdlib.h>

static size_t slot_of(uint64_t key, size_t mask)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return (size_t)key & mask;
}

void idmap_free(struct idmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->n = m->mask = 0;
}

size_t idmap_get(const struct idmap *m, uint64_t key)
{
	size_t i;

	if (!m->slots)
		return SIZE_MAX;
	for (i = slot_of(key, m->mask); m->slots[i].value != SIZE_MAX; i = (i + 1) & m->mask)
		if (m->slots[i].key == key)
			return m->slots[i].value;
	return SIZE_MAX;
}

static void insert(struct idmap_slot *slots, size_t mask, uint64_t key, size_t value)
{
	size_t i = slot_of(key, mask);

	while (slots[i].value != SIZE_MAX && slots[i].key != key)
		i = (i + 1) & mask;
	slots[i].key = key;
	slots[i].value = value;
}

static int grow(struct idmap *m)
{
	size_t size = m->slots ? (m->mask + 1) * 2 : 64, i;
	struct idmap_slot *s = malloc(size * sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (i = 0; i < size; i++)
		s[i].value = SIZE_MAX;
	for (i = 0; m->slots && i <= m->mask; i++)
		if (m->slots[i].value != SIZE_MAX)
			insert(s, size - 1, m->slots[i].key, m->slots[i].value);
	free(m->slots);
	m->slots = s;
	m->mask = size - 1;
	return 0;
}

int idmap_put(struct idmap *m, uint64_t key, size_t value)
{
	if ((!m->slots || (m->n + 1) * 2 > m->mask + 1) && grow(m))
		return -ENOMEM;
	if (idmap_get(m, key) == SIZE_MAX)
		m->n++;
	insert(m->slots, m->mask, key, value);
	return 0;
}
