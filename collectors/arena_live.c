// SPDX-License-Identifier: GPL-2.0-only
/* Live bytes per glibc arena: from a complete frozen walk, carried forward by --alloc's counts. */
#include "collectors/arena_live.h"
#include "lib/idmap.h"
#include "lib/vec.h"

#include <errno.h>
#include <stdlib.h>

struct arena_live {
	struct idmap index;	/* arena key -> bases[] */
	int64_t *bases;		/* live bytes at the last complete walk, less the net then */
	size_t n, cap;
};

struct arena_live *arena_live_new(void)
{
	return calloc(1, sizeof(struct arena_live));
}

void arena_live_free(struct arena_live *l)
{
	if (!l)
		return;
	idmap_free(&l->index);
	free(l->bases);
	free(l);
}

/* The probes key the main arena apart: its chunks carry no arena pointer. */
static uint64_t key_of(const struct arena_stat *a)
{
	return a->main ? ALLOC_ARENA_MAIN_KEY : a->addr;
}

/* Net chunk bytes the probes counted for `key` since attach; false when not counted. */
static bool net_of(const struct sample *s, uint64_t key, int64_t *net)
{
	size_t i;

	if (!s->has_alloc || !s->alloc.has_arenas)
		return false;
	for (i = 0; i < s->alloc.narenas; i++) {
		if (s->alloc.arenas[i].addr == key) {
			*net = s->alloc.arenas[i].bytes;
			return true;
		}
	}
	/* An arena the probes never saw a chunk of: nothing changed since attach. */
	*net = 0;
	return true;
}

static int remember(struct arena_live *l, uint64_t key, int64_t base)
{
	size_t at = idmap_get(&l->index, key);
	int64_t *slot;

	if (at != SIZE_MAX) {
		l->bases[at] = base;
		return 0;
	}
	slot = VEC_PUSH(l->bases, l->n, l->cap);
	if (!slot || idmap_put(&l->index, key, l->n - 1))
		return -ENOMEM;
	*slot = base;
	return 0;
}

int arena_live_fill(struct arena_live *l, struct sample *s)
{
	size_t i;

	for (i = 0; s->has_arenas && i < s->narenas; i++) {
		struct arena_stat *a = &s->arenas[i];
		uint64_t key = key_of(a);
		bool counted;
		int64_t net = 0;
		size_t at;

		counted = net_of(s, key, &net);
		if (a->walked && s->arenas_complete && a->system >= a->top + a->free) {
			a->live = (int64_t)(a->system - a->top - a->free);
			a->live_source = ARENA_LIVE_WALK;
			if (counted && remember(l, key, a->live - net))
				return -ENOMEM;
		} else if (counted && (at = idmap_get(&l->index, key)) != SIZE_MAX &&
			   l->bases[at] + net >= 0) {
			a->live = l->bases[at] + net;
			a->live_source = ARENA_LIVE_ALLOC;
		}
		if (a->live >= 0 && a->system) {
			int64_t held = (int64_t)a->system - a->live - (int64_t)a->top;

			a->fragmentation = held > 0 ? (double)held / (double)a->system : 0;
		}
	}
	return 0;
}
