// SPDX-License-Identifier: GPL-2.0-only
/* The frames of allocation stacks: frame-pointer walks and DWARF captures, symbolized once. */
#include "collectors/alloc_stacks.h"
#include "lib/idmap.h"
#include "lib/vec.h"
#include "lib/log.h"
#include "collectors/modmap.h"
#include "collectors/symbols.h"
#include "collectors/unwind.h"

#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include "bpf/alloc.h"

/* Forgotten entries are compacted away once there are this many and more than live ones. */
#define COMPACT_AT 1024

struct entry {
	uint32_t id;
	bool dead;
	uint32_t born;		/* the sweep generation it arrived in */
	uint32_t used;		/* the last generation its frames were asked for */
	struct alloc_frames f;
};

struct alloc_stacks {
	int stackmap_fd;
	struct ring_buffer *ring;
	struct modmap *mods;
	struct symbols *syms;
	struct unwinder *unw;
	struct idmap index;	/* id -> entries[] */
	struct entry *entries;
	size_t n, cap, ndead;
	int error;		/* ENOMEM met while draining */
	uint32_t gen;		/* sweeps so far */
};

static void entry_clear(struct entry *e)
{
	uint32_t i;

	for (i = 0; i < e->f.n; i++)
		free(e->f.v[i]);
	free(e->f.v);
	e->f.v = NULL;
	e->f.n = 0;
}

/* Appends one frame's text to e; false on ENOMEM. */
static bool push_frame(struct entry *e, uint32_t *cap, const char *text)
{
	if (e->f.n == *cap) {
		char **v = realloc(e->f.v, (size_t)*cap * 2 * sizeof(char *));

		if (!v)
			return false;
		e->f.v = v;
		*cap *= 2;
	}
	e->f.v[e->f.n] = strdup(text);
	if (!e->f.v[e->f.n])
		return false;
	e->f.n++;
	return true;
}

/* Adds the frames for return addresses pcs[0..n), inlined functions expanded; NULL on ENOMEM. */
static struct entry *add(struct alloc_stacks *s, uint32_t id, const uint64_t *pcs, uint32_t n)
{
	struct entry *e = VEC_PUSH(s->entries, s->n, s->cap);
	uint32_t i, cap = n ? n : 1;

	if (!e)
		return NULL;
	e->id = id;
	e->born = s->gen;
	e->used = s->gen;
	e->f.v = calloc(cap, sizeof(char *));
	if (!e->f.v || idmap_put(&s->index, id, s->n - 1)) {
		free(e->f.v);
		s->n--;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		const char *texts[SYMBOLS_MAX_INLINE];
		char hex[24];
		int k, nt = -1;

		/* Every frame is a return address: the allocator has returned into frame 0. */
		if (s->syms)
			nt = symbols_frames(s->syms, pcs[i], false, texts);
		if (nt < 1) {
			snprintf(hex, sizeof(hex), "0x%" PRIx64, pcs[i]);
			texts[0] = hex;
			nt = 1;
		}
		for (k = 0; k < nt; k++)
			if (!push_frame(e, &cap, texts[k]))
				return e;
	}
	return e;
}

static int on_capture(void *ctx, void *data, size_t size)
{
	struct alloc_stacks *s = ctx;
	const struct alloc_capture *c = data;
	struct unwind_frame frames[ALLOC_STACK_DEPTH];
	uint64_t pcs[ALLOC_STACK_DEPTH];
	struct unwind_input in;
	int n, i;

	if (size < offsetof(struct alloc_capture, stack) || idmap_get(&s->index, c->id) != SIZE_MAX)
		return 0;
	if (s->unw) {
		unwind_input_capture(&in, (int)c->tid, &c->cap, c->stack,
				     size - offsetof(struct alloc_capture, stack));
		n = unwind_frames(s->unw, &in, frames, ALLOC_STACK_DEPTH);
	} else {
		n = -EINVAL;
	}
	if (n <= 0) {
		frames[0].pc = c->cap.regs[CAPTURE_REG_IP];
		n = 1;
	}
	for (i = 0; i < n; i++)
		pcs[i] = frames[i].pc;
	if (!add(s, c->id, pcs, (uint32_t)n))
		s->error = -ENOMEM;
	return 0;
}

int alloc_stacks_new(const struct proc_target *t, int stackmap_fd, int ring_fd,
		     struct alloc_stacks **out)
{
	struct alloc_stacks *s;
	char why[256];

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->stackmap_fd = stackmap_fd;
	/* Without symbols the frames are printed as addresses: degraded, not fatal. */
	if (modmap_open(t, &s->mods, why, sizeof(why)))
		log_warn("--alloc: frames will be addresses: %s", why);
	else if (symbols_new(s->mods, &s->syms) || (ring_fd >= 0 && unwinder_new(s->mods, &s->unw)))
		log_warn("--alloc: frames will be addresses or stop early: no symbolizer or unwinder");
	if (ring_fd >= 0) {
		s->ring = ring_buffer__new(ring_fd, on_capture, s, NULL);
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

const struct alloc_frames *alloc_stacks_frames(struct alloc_stacks *s, uint32_t id)
{
	static char lost_frame[] = "[stack lost]";
	static char *lost_v[] = { lost_frame };
	static const struct alloc_frames lost = { .v = lost_v, .n = 1 };
	uint64_t pcs[ALLOC_STACK_DEPTH] = { 0 };
	size_t at = idmap_get(&s->index, id);
	struct entry *e;
	uint32_t n;

	if (at != SIZE_MAX && !s->entries[at].dead) {
		s->entries[at].used = s->gen;
		return &s->entries[at].f;
	}
	/* A record made since the last drain: its capture went into the ring before it. */
	if ((id & ALLOC_CAPTURE_BIT) && at == SIZE_MAX && alloc_stacks_drain(s) == 0 &&
	    (at = idmap_get(&s->index, id)) != SIZE_MAX)
		return &s->entries[at].f;
	if ((id & ALLOC_CAPTURE_BIT) || at != SIZE_MAX ||
	    bpf_map_lookup_elem(s->stackmap_fd, &id, pcs))
		return &lost;
	for (n = 0; n < ALLOC_STACK_DEPTH && pcs[n]; n++)
		;
	e = add(s, id, pcs, n);
	return e ? &e->f : NULL;
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
	entry_clear(e);
	e->dead = true;
	s->ndead++;
}

static void compact_if_sparse(struct alloc_stacks *s)
{
	if (s->ndead >= COMPACT_AT && s->ndead * 2 > s->n)
		compact(s);
}

void alloc_stacks_forget(struct alloc_stacks *s, uint32_t id)
{
	size_t at = idmap_get(&s->index, id);

	if (!(id & ALLOC_CAPTURE_BIT) || at == SIZE_MAX || s->entries[at].dead)
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

		if (!e->dead && (e->id & ALLOC_CAPTURE_BIT) && e->born != s->gen && e->used != s->gen)
			drop(s, e);
	}
	compact_if_sparse(s);
	s->gen++;
}

void alloc_stacks_free(struct alloc_stacks *s)
{
	size_t i;

	if (!s)
		return;
	ring_buffer__free(s->ring);
	for (i = 0; i < s->n; i++)
		entry_clear(&s->entries[i]);
	free(s->entries);
	idmap_free(&s->index);
	unwinder_free(s->unw);
	symbols_free(s->syms);
	modmap_free(s->mods);
	free(s);
}
