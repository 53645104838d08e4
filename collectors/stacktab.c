// SPDX-License-Identifier: GPL-2.0-only
/* Per-stack figures kept by a collector across ticks, and copied into each sample. */
#include "collectors/stacktab.h"
#include "lib/idmap.h"
#include "lib/vec.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Exports a stack's frames outlive their last use by, so that fd openers seen
 * in the ring buffer but counted a tick later still find their frames. */
#define KEEP_EXPORTS 3

struct stack_def {
	uint64_t id;
	uint64_t last_used;	/* export generation */
	struct stack_frames *frames;	/* a reference */
};

struct stack_fig {
	uint64_t id;
	uint8_t kind;
	int64_t bytes, count;
};

struct stacktab {
	size_t max_per_kind[STACK_NKINDS];
	struct stack_def *defs;
	size_t ndefs, defs_cap;
	struct idmap def_index;		/* id -> defs[] */
	struct stack_fig *figs;
	size_t nfigs, figs_cap;
	struct idmap fig_index;		/* id | kind -> figs[] */
	size_t per_kind[STACK_NKINDS];
	uint64_t gen;
	uint64_t collisions;
};

static const struct {
	uint64_t id;
	const char *frame;
} synthetic[] = {
	{ STACK_ID_UNCAPTURED, "[no stack: capture budget spent]" },
	{ STACK_ID_LOST, "[no stack: lost, the probe ring buffer was full]" },
	{ STACK_ID_OTHER, "[other stacks: over the per-kind limit]" },
};

static bool is_synthetic(uint64_t id)
{
	return id < STACK_ID_FIRST;
}

static void def_free(struct stack_def *d)
{
	stack_frames_unref(d->frames);
}

/* Adds stack `id`, taking a reference to `frames`. */
static struct stack_def *def_add(struct stacktab *t, uint64_t id, struct stack_frames *frames)
{
	struct stack_def *d;

	d = VEC_PUSH(t->defs, t->ndefs, t->defs_cap);
	if (!d)
		return NULL;
	d->id = id;
	d->last_used = t->gen;
	if (idmap_put(&t->def_index, id, t->ndefs - 1)) {
		t->ndefs--;
		return NULL;
	}
	d->frames = stack_frames_ref(frames);
	return d;
}

/* Adds a stack of text-only frames (no site rules: every frame is the site's candidate). */
static struct stack_def *def_add_text(struct stacktab *t, uint64_t id, const char *const *text,
				      size_t n)
{
	struct stack_frames *f = stack_frames_from_text((char *const *)text, (uint32_t)n, false);
	struct stack_def *d = f ? def_add(t, id, f) : NULL;

	stack_frames_unref(f);
	return d;
}

struct stacktab *stacktab_new(const size_t max_per_kind[STACK_NKINDS])
{
	struct stacktab *t = calloc(1, sizeof(*t));
	size_t i;

	if (!t)
		return NULL;
	memcpy(t->max_per_kind, max_per_kind, sizeof(t->max_per_kind));
	for (i = 0; i < sizeof(synthetic) / sizeof(synthetic[0]); i++) {
		if (!def_add_text(t, synthetic[i].id, &synthetic[i].frame, 1)) {
			stacktab_free(t);
			errno = ENOMEM;
			return NULL;
		}
	}
	return t;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n--) {
		h ^= *c++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* A stack is what it shows and where its frames are: its text, pcs and whether it was cut. */
static uint64_t frames_hash(const struct stack_frames *f)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	uint32_t i;

	for (i = 0; i < f->n; i++) {
		h = fnv(h, f->f[i].text, strlen(f->f[i].text) + 1);
		h = fnv(h, &f->f[i].pc, sizeof(f->f[i].pc));
	}
	return fnv(h, &f->truncated, sizeof(f->truncated));
}

static bool same_frames(const struct stack_frames *a, const struct stack_frames *b)
{
	uint32_t i;

	if (a->n != b->n || a->truncated != b->truncated)
		return false;
	for (i = 0; i < a->n; i++)
		if (a->f[i].pc != b->f[i].pc || strcmp(a->f[i].text, b->f[i].text) != 0)
			return false;
	return true;
}

uint64_t stacktab_intern(struct stacktab *t, struct stack_frames *frames)
{
	uint64_t id;
	size_t at;

	id = frames_hash(frames) & 0x7ffffffffffffff8ULL;
	if (id < STACK_ID_FIRST)
		id += STACK_ID_FIRST;
	at = idmap_get(&t->def_index, id);
	if (at != SIZE_MAX) {
		if (same_frames(t->defs[at].frames, frames)) {
			t->defs[at].last_used = t->gen;
			return id;
		}
		/* Probing for another id could give one stack two ids in a run. */
		t->collisions++;
		return STACK_ID_OTHER;
	}
	return def_add(t, id, frames) ? id : 0;
}

uint64_t stacktab_intern_text(struct stacktab *t, const char *const *text, size_t n)
{
	struct stack_frames *f = stack_frames_from_text((char *const *)text, (uint32_t)n, false);
	uint64_t id = f ? stacktab_intern(t, f) : 0;

	stack_frames_unref(f);
	return id;
}

bool stacktab_touch(struct stacktab *t, uint64_t id)
{
	size_t at = idmap_get(&t->def_index, id);

	if (at == SIZE_MAX)
		return false;
	t->defs[at].last_used = t->gen;
	return true;
}

static uint64_t fig_key(uint64_t id, uint8_t kind)
{
	return id | kind;
}

uint64_t stacktab_add(struct stacktab *t, uint64_t id, uint8_t kind, int64_t bytes,
		      int64_t count)
{
	struct stack_fig *f;
	size_t at;

	if (kind >= STACK_NKINDS)
		return 0;
	if (idmap_get(&t->def_index, id) == SIZE_MAX)
		id = STACK_ID_OTHER;
	at = idmap_get(&t->fig_index, fig_key(id, kind));
	if (at == SIZE_MAX) {
		if (!is_synthetic(id) && t->per_kind[kind] >= t->max_per_kind[kind])
			return stacktab_add(t, STACK_ID_OTHER, kind, bytes, count);
		f = VEC_PUSH(t->figs, t->nfigs, t->figs_cap);
		if (!f)
			return 0;
		f->id = id;
		f->kind = kind;
		if (idmap_put(&t->fig_index, fig_key(id, kind), t->nfigs - 1)) {
			t->nfigs--;
			return 0;
		}
		if (!is_synthetic(id))
			t->per_kind[kind]++;
		at = t->nfigs - 1;
	}
	f = &t->figs[at];
	f->bytes += bytes;
	f->count += count;
	return id;
}

void stacktab_zero_kind(struct stacktab *t, uint8_t kind)
{
	size_t i;

	for (i = 0; i < t->nfigs; i++)
		if (t->figs[i].kind == kind)
			t->figs[i].bytes = t->figs[i].count = 0;
}

static int export_one(struct sample *s, const struct stack_fig *f, const struct stack_def *d)
{
	struct stack_stat *st = sample_add_stack(s);

	if (!st)
		return -ENOMEM;
	st->id = f->id;
	st->kind = f->kind;
	st->bytes = f->bytes;
	st->count = f->count;
	stack_stat_set_frames(st, d->frames);
	return 0;
}

static bool fig_live(const struct stack_fig *f)
{
	return f->bytes || f->count;
}

static bool def_live(const struct stacktab *t, const struct stack_def *d)
{
	return is_synthetic(d->id) || d->last_used + KEEP_EXPORTS >= t->gen;
}

/*
 * Drops figures that are all zero and definitions nothing used lately. The
 * new indexes are built first, so that on ENOMEM the table is left as it was.
 */
static int collect(struct stacktab *t)
{
	struct idmap defs = { 0 }, figs = { 0 };
	size_t i, nd = 0, nf = 0;

	for (i = 0; i < t->nfigs; i++)
		if (fig_live(&t->figs[i]) &&
		    idmap_put(&figs, fig_key(t->figs[i].id, t->figs[i].kind), nf++))
			goto nomem;
	for (i = 0; i < t->ndefs; i++)
		if (def_live(t, &t->defs[i]) && idmap_put(&defs, t->defs[i].id, nd++))
			goto nomem;
	memset(t->per_kind, 0, sizeof(t->per_kind));
	for (i = 0, nf = 0; i < t->nfigs; i++) {
		if (!fig_live(&t->figs[i]))
			continue;
		if (!is_synthetic(t->figs[i].id))
			t->per_kind[t->figs[i].kind]++;
		t->figs[nf++] = t->figs[i];
	}
	for (i = 0, nd = 0; i < t->ndefs; i++) {
		if (!def_live(t, &t->defs[i])) {
			def_free(&t->defs[i]);
			continue;
		}
		t->defs[nd++] = t->defs[i];
	}
	t->nfigs = nf;
	t->ndefs = nd;
	idmap_free(&t->fig_index);
	idmap_free(&t->def_index);
	t->fig_index = figs;
	t->def_index = defs;
	return 0;
nomem:
	idmap_free(&defs);
	idmap_free(&figs);
	return -ENOMEM;
}

int stacktab_export(struct stacktab *t, struct sample *s)
{
	size_t i, at;
	int ret;

	s->has_stacks = true;
	for (i = 0; i < t->nfigs; i++) {
		const struct stack_fig *f = &t->figs[i];

		if (!fig_live(f))
			continue;
		at = idmap_get(&t->def_index, f->id);
		if (at == SIZE_MAX)
			continue;
		t->defs[at].last_used = t->gen;
		ret = export_one(s, f, &t->defs[at]);
		if (ret)
			return ret;
	}
	t->gen++;
	return collect(t);
}

uint64_t stacktab_collisions(const struct stacktab *t)
{
	return t->collisions;
}

size_t stacktab_count(const struct stacktab *t)
{
	return t->ndefs;
}

void stacktab_free(struct stacktab *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->ndefs; i++)
		def_free(&t->defs[i]);
	free(t->defs);
	free(t->figs);
	idmap_free(&t->def_index);
	idmap_free(&t->fig_index);
	free(t);
}
