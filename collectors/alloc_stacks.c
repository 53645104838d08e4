// SPDX-License-Identifier: GPL-2.0-only
/* The stacks of the malloc probes' records: frame-pointer walks and DWARF captures, by BPF stack id. */
#include "collectors/alloc_stacks.h"
#include "lib/idmap.h"
#include "lib/vec.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/alloc.h"

/* Forgotten entries are compacted away once there are this many and more than live ones. */
#define COMPACT_AT 1024

struct entry {
	uint64_t id;
	bool dead;
	uint32_t born;		/* the sweep generation it arrived in */
	uint32_t used;		/* the last generation it was asked for */
	uint64_t stack;		/* in the stack table */
};

struct alloc_stacks {
	struct stackres *res;
	struct alloc_stacks_maps maps;
	struct ring_buffer *ring;
	struct idmap learned;	/* return addresses whose rule was looked up: 1 taught, 2 refused */
	uint64_t taught, refused;
	struct idmap index;	/* id -> entries[] */
	struct entry *entries;
	size_t n, cap, ndead;
	int error;		/* ENOMEM met while draining */
	uint32_t gen;		/* sweeps so far */
};

/* Remembers that BPF stack `id` is table stack `stack`; NULL on ENOMEM. */
static struct entry *add(struct alloc_stacks *s, uint64_t id, uint64_t stack)
{
	struct entry *e = VEC_PUSH(s->entries, s->n, s->cap);

	if (!e)
		return NULL;
	e->id = id;
	e->dead = false;
	e->born = s->gen;
	e->used = s->gen;
	e->stack = stack;
	if (idmap_put(&s->index, id, s->n - 1)) {
		s->n--;
		return NULL;
	}
	return e;
}

/* Teaches the kernel side the rule of each return address of an unwound copy. */
static void teach(struct alloc_stacks *s, const uint64_t *pcs, size_t n)
{
	struct alloc_unwind_rule br = { 0 };
	struct unwind_rule ur;
	size_t i;

	for (i = 0; i < n && s->maps.rules >= 0; i++) {
		if (idmap_get(&s->learned, pcs[i]) != SIZE_MAX)
			continue;
		if (stackres_unwind_rule(s->res, pcs[i], &ur)) {
			s->refused++;
			idmap_put(&s->learned, pcs[i], 2);
			/* Past a frame without a rule the kernel cannot walk: nothing more to teach. */
			break;
		}
		br.kind = ur.kind == UNWIND_RULE_END ? ALLOC_RULE_END
			  : ur.kind == UNWIND_RULE_BP ? ALLOC_RULE_BP : ALLOC_RULE_SP;
		br.cfa_off = ur.cfa_off;
		br.bp_off = ur.bp_off;
		if (bpf_map_update_elem(s->maps.rules, &pcs[i], &br, BPF_ANY) == 0 &&
		    idmap_put(&s->learned, pcs[i], 1) == 0)
			s->taught++;
		if (ur.kind == UNWIND_RULE_END)
			break;
	}
}

static int on_capture(void *ctx, void *data, size_t size)
{
	struct alloc_stacks *s = ctx;
	const struct alloc_capture *c = data;
	const size_t hdr = offsetof(struct alloc_capture, stack);
	uint64_t stack, pcs[ALLOC_STACK_DEPTH];
	size_t npcs = ALLOC_STACK_DEPTH;

	if (size < hdr || idmap_get(&s->index, c->id) != SIZE_MAX)
		return 0;
	/* Taken in the allocator's return probe: the first pc is where it returned to. */
	stack = stackres_capture(s->res, (int)c->tid, &c->cap, c->stack, size - hdr, true, pcs,
				 &npcs);
	if (!stack || !add(s, c->id, stack))
		s->error = -ENOMEM;
	teach(s, pcs, npcs);
	return 0;
}

int alloc_stacks_new(struct stackres *res, const struct alloc_stacks_maps *maps,
		     struct alloc_stacks **out)
{
	struct alloc_stacks *s;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->res = res;
	s->maps = *maps;
	if (maps->ring >= 0) {
		s->ring = ring_buffer__new(maps->ring, on_capture, s, NULL);
		if (!s->ring) {
			alloc_stacks_free(s);
			return -errno;
		}
	}
	*out = s;
	return 0;
}

int alloc_stacks_drain(struct alloc_stacks *s)
{
	int ret;

	if (!s->ring)
		return 0;
	s->error = 0;
	ret = ring_buffer__consume(s->ring);
	return ret < 0 ? ret : s->error;
}

int alloc_stacks_epoll_fd(const struct alloc_stacks *s)
{
	return s->ring ? ring_buffer__epoll_fd(s->ring) : -EINVAL;
}

static uint64_t lost(struct alloc_stacks *s)
{
	static const char *const frame[] = { "[stack lost]" };

	return stacktab_intern_text(stackres_table(s->res), frame, 1);
}

/* The stack of walk `id`, from the stack map or the walks map; lost when it is not there. */
static uint64_t walk(struct alloc_stacks *s, uint64_t id)
{
	uint64_t pcs[ALLOC_STACK_DEPTH] = { 0 };
	struct alloc_walk w;
	uint32_t key = (uint32_t)id;
	size_t n;

	if (id & ALLOC_WALK_BIT) {
		if (bpf_map_lookup_elem(s->maps.walks, &id, &w) || w.n > ALLOC_STACK_DEPTH)
			return lost(s);
		return stackres_walk(s->res, (const uint64_t *)w.pcs, w.n,
				     w.end == ALLOC_WALK_WHOLE ? STACKRES_WALK_WHOLE : STACKRES_WALK_CUT);
	}
	if (bpf_map_lookup_elem(s->maps.stackmap, &key, pcs))
		return lost(s);
	for (n = 0; n < ALLOC_STACK_DEPTH && pcs[n]; n++)
		;
	return stackres_walk(s->res, pcs, n, STACKRES_WALK_UNKNOWN);
}

uint64_t alloc_stacks_id(struct alloc_stacks *s, uint64_t id)
{
	size_t at = idmap_get(&s->index, id);
	struct entry *e;
	uint64_t stack;

	if (at != SIZE_MAX && !s->entries[at].dead) {
		e = &s->entries[at];
		e->used = s->gen;
		/* The table forgets a stack whose figures stayed zero a while: a walk is read again. */
		if (!stacktab_touch(stackres_table(s->res), e->stack) && !ALLOC_IS_CAPTURE(id)) {
			stack = walk(s, id);
			if (stack)
				e->stack = stack;
			return stack;
		}
		return e->stack;
	}
	/* A record made since the last drain: its capture went into the ring before it. */
	if (ALLOC_IS_CAPTURE(id) && at == SIZE_MAX && alloc_stacks_drain(s) == 0 &&
	    (at = idmap_get(&s->index, id)) != SIZE_MAX)
		return s->entries[at].stack;
	if (ALLOC_IS_CAPTURE(id) || at != SIZE_MAX)
		return lost(s);
	stack = walk(s, id);
	return stack && add(s, id, stack) ? stack : 0;
}

/* Drops dead entries and rebuilds the index; on ENOMEM everything stays as it was. */
static void compact(struct alloc_stacks *s)
{
	struct idmap index = { 0 };
	size_t i, k = 0;

	for (i = 0; i < s->n; i++)
		if (!s->entries[i].dead && idmap_put(&index, s->entries[i].id, k++)) {
			idmap_free(&index);
			return;
		}
	for (i = 0, k = 0; i < s->n; i++)
		if (!s->entries[i].dead)
			s->entries[k++] = s->entries[i];
	s->n = k;
	s->ndead = 0;
	idmap_free(&s->index);
	s->index = index;
}

static void drop(struct alloc_stacks *s, struct entry *e)
{
	e->dead = true;
	s->ndead++;
}

static void compact_if_sparse(struct alloc_stacks *s)
{
	if (s->ndead >= COMPACT_AT && s->ndead * 2 > s->n)
		compact(s);
}

void alloc_stacks_forget(struct alloc_stacks *s, uint64_t id)
{
	size_t at = idmap_get(&s->index, id);

	if (!ALLOC_IS_CAPTURE(id) || at == SIZE_MAX || s->entries[at].dead)
		return;
	drop(s, &s->entries[at]);
	compact_if_sparse(s);
}

void alloc_stacks_sweep(struct alloc_stacks *s)
{
	size_t i;

	/*
	 * A capture goes into the ring just before its record is stored: one that
	 * arrived in this generation may be about to be used, so it waits one more.
	 */
	for (i = 0; i < s->n; i++) {
		struct entry *e = &s->entries[i];

		if (!e->dead && ALLOC_IS_CAPTURE(e->id) && e->born != s->gen && e->used != s->gen)
			drop(s, e);
	}
	compact_if_sparse(s);
	s->gen++;
}

void alloc_stacks_forget_rules(struct alloc_stacks *s)
{
	uint64_t key, next;

	if (s->maps.rules < 0 || !s->learned.n)
		return;
	/* Deleting the key just read keeps the iteration going from the map's start. */
	while (bpf_map_get_next_key(s->maps.rules, NULL, &next) == 0) {
		key = next;
		if (bpf_map_delete_elem(s->maps.rules, &key))
			break;
	}
	idmap_free(&s->learned);
	memset(&s->learned, 0, sizeof(s->learned));
}

void alloc_stacks_rule_stats(const struct alloc_stacks *s, uint64_t *taught, uint64_t *refused)
{
	*taught = s->taught;
	*refused = s->refused;
}

void alloc_stacks_free(struct alloc_stacks *s)
{
	if (!s)
		return;
	ring_buffer__free(s->ring);
	free(s->entries);
	idmap_free(&s->index);
	idmap_free(&s->learned);
	free(s);
}
