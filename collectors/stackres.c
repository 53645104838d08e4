// SPDX-License-Identifier: GPL-2.0-only
/* A target's one stack pipeline: its modules, unwinder, symbols and stack table, for every probe. */
#include "collectors/stackres.h"
#include "collectors/modmap.h"
#include "collectors/symbols.h"
#include "collectors/unwind.h"
#include "lib/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Stacks kept per kind; figures of further stacks are summed under one
 * "other" stack. Allocation stacks are the most varied: a service has many
 * more allocating paths than paths that map memory or open fds.
 */
static const size_t max_per_kind[STACK_NKINDS] = {
	[STACK_ALLOC] = 1024,
	[STACK_MMAP] = 256,
	[STACK_BRK] = 256,
	[STACK_FAULT] = 256,
	[STACK_FD] = 256,
};

struct stackres {
	const struct proc_target *proc;	/* borrowed */
	struct modmap *map;		/* NULL before stackres_load or after it failed */
	struct unwinder *unwinder;	/* NULL: a capture gives its first frame only */
	struct symbols *syms;		/* NULL: frames are addresses */
	struct stacktab *stacks;
	bool loaded;
	int load_ret;
	char load_err[256];
	uint64_t captures, walks;
};

int stackres_new(const struct proc_target *t, struct stackres **out)
{
	struct stackres *r;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->proc = t;
	r->stacks = stacktab_new(max_per_kind);
	if (!r->stacks) {
		free(r);
		return -ENOMEM;
	}
	*out = r;
	return 0;
}

static int load(struct stackres *r)
{
	int ret = modmap_open(r->proc, &r->map, r->load_err, sizeof(r->load_err));

	if (ret)
		return ret;
	ret = unwinder_new(r->map, &r->unwinder);
	if (ret)
		snprintf(r->load_err, sizeof(r->load_err), "cannot unwind the stacks of process %d: %s",
			 r->proc->pid, strerror(-ret));
	if (symbols_new(r->map, &r->syms) && !ret) {
		snprintf(r->load_err, sizeof(r->load_err), "out of memory");
		ret = -ENOMEM;
	}
	return ret;
}

int stackres_load(struct stackres *r, char *err, size_t errlen)
{
	if (!r->loaded) {
		r->loaded = true;
		r->load_ret = load(r);
	}
	if (r->load_ret)
		snprintf(err, errlen, "%s", r->load_err);
	return r->load_ret;
}

/*
 * Where frames become a stack: each pc symbolized into its frames (the
 * functions inlined there first), the first STACKTAB_MAX_FRAMES of them
 * interned. Returns the stack id, or 0 on ENOMEM.
 */
static uint64_t intern(struct stackres *r, const struct unwind_frame *frames, size_t n)
{
	char *text[STACKTAB_MAX_FRAMES] = { NULL };
	uint64_t id = 0;
	size_t i, k = 0;
	int j, nf;

	for (i = 0; i < n && k < STACKTAB_MAX_FRAMES; i++) {
		const char *f[SYMBOLS_MAX_INLINE];
		char hex[24];

		if (r->syms) {
			nf = symbols_frames(r->syms, frames[i].pc, frames[i].activation, f);
			if (nf < 0)
				goto out;
		} else {
			snprintf(hex, sizeof(hex), "0x%" PRIx64, frames[i].pc);
			f[0] = hex;
			nf = 1;
		}
		for (j = 0; j < nf && k < STACKTAB_MAX_FRAMES; j++) {
			text[k] = strdup(f[j]);
			if (!text[k])
				goto out;
			k++;
		}
	}
	id = stacktab_intern(r->stacks, (const char *const *)text, k);
out:
	for (i = 0; i < k; i++)
		free(text[i]);
	return id;
}

uint64_t stackres_capture(struct stackres *r, int tid, const struct stack_capture *cap,
			  const uint8_t *stack, size_t stack_bytes, bool at_return)
{
	/* Each pc gives at least one frame: deeper walks would not be kept. */
	struct unwind_frame frames[STACKTAB_MAX_FRAMES];
	struct unwind_input in;
	int n = -1;

	unwind_input_capture(&in, tid, cap, stack, stack_bytes);
	if (r->unwinder)
		n = unwind_frames(r->unwinder, &in, frames, STACKTAB_MAX_FRAMES);
	if (n < 1) {
		frames[0].pc = cap->regs[CAPTURE_REG_IP];
		frames[0].activation = true;
		n = 1;
	}
	if (at_return)
		frames[0].activation = false;
	r->captures++;
	return intern(r, frames, (size_t)n);
}

uint64_t stackres_walk(struct stackres *r, const uint64_t *pcs, size_t n)
{
	struct unwind_frame frames[STACKTAB_MAX_FRAMES];
	size_t i;

	if (n > STACKTAB_MAX_FRAMES)
		n = STACKTAB_MAX_FRAMES;
	/* Every frame is a return address: the allocator has returned into frame 0. */
	for (i = 0; i < n; i++) {
		frames[i].pc = pcs[i];
		frames[i].activation = false;
	}
	r->walks++;
	return intern(r, frames, n);
}

struct stacktab *stackres_table(const struct stackres *r)
{
	return r->stacks;
}

void stackres_mapped_file(struct stackres *r)
{
	if (r->map)
		modmap_invalidate(r->map);
}

void stackres_unmapped(struct stackres *r, uint64_t start, uint64_t end)
{
	if (r->map && modmap_overlaps(r->map, start, end))
		modmap_invalidate(r->map);
}

int stackres_export(struct stackres *r, struct sample *s)
{
	return stacktab_export(r->stacks, s);
}

void stackres_free(struct stackres *r)
{
	if (!r)
		return;
	if (r->map && r->syms) {
		uint64_t hits, misses;

		symbols_stats(r->syms, &hits, &misses);
		log_debug("stacks: process %d: %" PRIu64 " captures unwound, %" PRIu64
			  " walks resolved, %zu stacks kept; symbols: %" PRIu64 " cached, %" PRIu64
			  " resolved; module list read %u times",
			  r->proc->pid, r->captures, r->walks, stacktab_count(r->stacks), hits, misses,
			  modmap_reads(r->map));
	}
	/* The unwinder is attached to the modmap's session: it goes first. */
	unwinder_free(r->unwinder);
	symbols_free(r->syms);
	modmap_free(r->map);
	stacktab_free(r->stacks);
	free(r);
}
