// SPDX-License-Identifier: GPL-2.0-only
/* From a stack copied by a probe to a stack id: one process's modules, unwinder, symbols, stacks. */
#include "collectors/stackres.h"
#include "lib/log.h"
#include "collectors/symbols.h"

#include <inttypes.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct stackres {
	struct modmap *map;
	struct unwinder *unwinder;
	struct symbols *syms;
	struct stacktab *stacks;
	uint64_t resolved;
};

int stackres_open(const struct proc_target *t, size_t max_per_kind, struct stackres **out, char *err,
		  size_t errlen)
{
	struct stackres *r;
	int ret;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	ret = modmap_open(t, &r->map, err, errlen);
	if (ret)
		goto fail;
	ret = unwinder_new(r->map, &r->unwinder);
	if (ret) {
		snprintf(err, errlen, "cannot unwind the stacks of process %d: %s", t->pid,
			 strerror(-ret));
		goto fail;
	}
	ret = symbols_new(r->map, &r->syms);
	if (!ret) {
		r->stacks = stacktab_new(max_per_kind);
		if (!r->stacks)
			ret = -ENOMEM;
	}
	if (ret) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	*out = r;
	return 0;
fail:
	stackres_free(r);
	return ret;
}

uint64_t stackres_resolve(struct stackres *r, const struct unwind_input *in)
{
	struct unwind_frame frames[STACKTAB_MAX_FRAMES];
	char *text[STACKTAB_MAX_FRAMES];
	uint64_t id = 0;
	int n, i, j, k = 0;

	n = unwind_frames(r->unwinder, in, frames, STACKTAB_MAX_FRAMES);
	if (n < 0)
		return 0;
	r->resolved++;
	for (i = 0; i < n && k < STACKTAB_MAX_FRAMES; i++) {
		const char *f[SYMBOLS_MAX_INLINE];
		int nf = symbols_frames(r->syms, frames[i].pc, frames[i].activation, f);

		if (nf < 0)
			goto out;
		for (j = 0; j < nf && k < STACKTAB_MAX_FRAMES; j++) {
			text[k] = strdup(f[j]);
			if (!text[k])
				goto out;
			k++;
		}
	}
	id = stacktab_intern(r->stacks, (const char *const *)text, (size_t)k);
out:
	for (i = 0; i < k; i++)
		free(text[i]);
	return id;
}

struct stacktab *stackres_table(const struct stackres *r)
{
	return r->stacks;
}

struct modmap *stackres_modmap(const struct stackres *r)
{
	return r->map;
}

void stackres_free(struct stackres *r)
{
	if (!r)
		return;
	if (r->syms && r->stacks) {
		uint64_t hits, misses;

		symbols_stats(r->syms, &hits, &misses);
		log_debug("stacks: %" PRIu64 " unwound, %zu kept; symbols: %" PRIu64 " cached, %" PRIu64
			  " resolved; module list read %u times",
			  r->resolved, stacktab_count(r->stacks), hits, misses, modmap_reads(r->map));
	}
	/* The unwinder is attached to the modmap's session: it goes first. */
	unwinder_free(r->unwinder);
	symbols_free(r->syms);
	modmap_free(r->map);
	stacktab_free(r->stacks);
	free(r);
}
