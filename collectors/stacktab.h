/* SPDX-License-Identifier: GPL-2.0-only */
/* Per-stack figures kept by a collector across ticks, and copied into each sample. */
#ifndef MEMSLEUTH_STACKTAB_H
#define MEMSLEUTH_STACKTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/sample.h"

/*
 * A stack is identified by a hash of its frames (text and addresses), so the same id
 * always stands for the same frames within a run (recordings write a stack's
 * frames once per id). Ids are multiples of 8 below 2^63; these few stand for
 * figures without a stack of their own:
 */
#define STACK_ID_UNCAPTURED 8	/* the capture budget (--stack-rate) was spent */
#define STACK_ID_LOST 16	/* the event's stack did not fit in the ring buffer */
#define STACK_ID_OTHER 24	/* the per-kind cap on stacks was reached */
#define STACK_ID_FIRST 32	/* the smallest id of a real stack */

/* Frames kept per stack, innermost first (stackres.h marks a deeper stack cut). */
#define STACKTAB_MAX_FRAMES 32

struct stacktab;

/*
 * Makes a table holding at most max_per_kind[k] stacks of kind k; figures of
 * further stacks go to STACK_ID_OTHER. NULL with errno ENOMEM on failure.
 */
struct stacktab *stacktab_new(const size_t max_per_kind[STACK_NKINDS]);

/*
 * Returns the id of the stack with these frames, keeping a reference to them
 * on first sight (the caller keeps its own); 0 on ENOMEM. Should two stacks
 * ever hash alike, the later one is given STACK_ID_OTHER and counted
 * (stacktab_collisions): an id never changes its frames.
 */
uint64_t stacktab_intern(struct stacktab *t, struct stack_frames *frames);

/* The same for a stack of text-only frames ("[stack lost]"). */
uint64_t stacktab_intern_text(struct stacktab *t, const char *const *text, size_t n);

/*
 * Whether stack `id` is still known (the table forgets a stack that had no
 * figures for a few exports); if so it counts as used now, as when interned.
 */
bool stacktab_touch(struct stacktab *t, uint64_t id);

/*
 * Adds bytes and count to the figures of (id, kind). Returns the id actually
 * credited (STACK_ID_OTHER when the kind is full or `id` unknown), or 0 on
 * ENOMEM. Later adjustments to the same figures must use the returned id.
 */
uint64_t stacktab_add(struct stacktab *t, uint64_t id, uint8_t kind, int64_t bytes,
		      int64_t count);

/* Sets every figure of `kind` to zero, before a full recount of that kind. */
void stacktab_zero_kind(struct stacktab *t, uint8_t kind);

/*
 * Copies every stack with a non-zero figure into `s` (s->stacks, has_stacks),
 * then forgets stacks whose figures are all zero and that were not interned
 * in the last few exports. Returns 0 or -ENOMEM.
 */
int stacktab_export(struct stacktab *t, struct sample *s);

/* Stacks given STACK_ID_OTHER because their hash was taken (counted as lost). */
uint64_t stacktab_collisions(const struct stacktab *t);

/* Distinct stacks known (for tests and -v). */
size_t stacktab_count(const struct stacktab *t);

/* Frees; NULL is accepted. */
void stacktab_free(struct stacktab *t);

#endif
