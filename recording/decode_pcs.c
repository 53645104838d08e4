// SPDX-License-Identifier: GPL-2.0-only
/* Recordings, the decoder of where stack frames came from: "module" lines and a stack's "pcs". */
#include "recording/decode.h"
#include "lib/vec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rec_decode_module(struct rec_decoder *d, json_t *j, char *err, size_t errlen)
{
	const char *path = json_string_value(json_object_get(j, REC_MOD_PATH));
	const char *bid = json_string_value(json_object_get(j, REC_MOD_BUILD_ID));
	struct code_module *m;
	uint64_t id, start, end;

	if (!rec_get_u64(j, REC_MOD_ID, &id) || !rec_get_u64(j, REC_MOD_START, &start) ||
	    !rec_get_u64(j, REC_MOD_END, &end) || !path || !bid || end < start)
		return rec_fail(d, err, errlen, "a module line is not {id, start, end, path, "
				"build_id} with start <= end");
	if (idmap_get(&d->module_index, id) != SIZE_MAX)
		return 0;
	m = VEC_PUSH(d->modules, d->nmodules, d->modules_cap);
	if (!m)
		return rec_nomem(d, err, errlen);
	m->start = start;
	m->end = end;
	m->path = strdup(path);
	m->build_id = strdup(bid);
	if (!m->path || !m->build_id || idmap_put(&d->module_index, id, d->nmodules - 1))
		return rec_nomem(d, err, errlen);
	return 0;
}

int rec_decode_pcs(struct rec_decoder *d, json_t *pcs, struct rec_stack_def *def, char *err,
		   size_t errlen)
{
	uint64_t frames = 0;
	json_t *row;
	size_t i, at;

	if (!pcs)
		return 0;
	if (!json_is_array(pcs) || json_array_size(pcs) > def->nframes)
		return rec_fail(d, err, errlen, "'" REC_STACK_PCS "' is not an array of at most "
				"one row per frame");
	def->pcs = calloc(json_array_size(pcs) + 1, sizeof(*def->pcs));
	if (!def->pcs)
		return rec_nomem(d, err, errlen);
	json_array_foreach(pcs, i, row) {
		json_t *addr = json_array_get(row, REC_PC_ADDR);
		json_t *nf = json_array_get(row, REC_PC_NFRAMES);
		json_t *mod = json_array_get(row, REC_PC_MODULE);
		struct stack_pc *pc = &def->pcs[i];

		if (!json_is_integer(addr) || !json_is_integer(nf) || !json_is_integer(mod) ||
		    json_integer_value(nf) < 1 || json_integer_value(nf) > def->nframes)
			return rec_fail(d, err, errlen, "a pcs row is not [address, frames, module]");
		pc->pc = (uint64_t)json_integer_value(addr);
		pc->nframes = (uint32_t)json_integer_value(nf);
		pc->module = -1;
		frames += pc->nframes;
		if (json_integer_value(mod) >= 0) {
			at = idmap_get(&d->module_index, (uint64_t)json_integer_value(mod));
			if (at == SIZE_MAX)
				return rec_fail(d, err, errlen, "a pcs row names a module before its "
						"\"" REC_TYPE_MODULE "\" line");
			pc->module = (int32_t)at;
		}
	}
	if (frames != def->nframes)
		return rec_fail(d, err, errlen, "the pcs rows give %llu frames, the stack has %u",
				(unsigned long long)frames, def->nframes);
	def->npcs = (uint32_t)json_array_size(pcs);
	return 0;
}

/* The index in s->modules of decoder module `m`, added on first use; -1 none, -2 ENOMEM. */
static int32_t sample_module(const struct rec_decoder *d, int32_t m, struct sample *s)
{
	const struct code_module *c;
	size_t i;

	if (m < 0)
		return -1;
	c = &d->modules[m];
	for (i = 0; i < s->nmodules; i++)
		if (s->modules[i].start == c->start && strcmp(s->modules[i].path, c->path) == 0)
			return (int32_t)i;
	return sample_add_module(s, c) < 0 ? -2 : (int32_t)(s->nmodules - 1);
}

int rec_sample_pcs(const struct rec_decoder *d, const struct rec_stack_def *def,
		   struct stack_stat *st, struct sample *s)
{
	uint32_t i;

	if (!def->npcs)
		return 0;
	if (stack_stat_copy_pcs(st, def->pcs, def->npcs))
		return -ENOMEM;
	for (i = 0; i < st->npcs; i++) {
		st->pcs[i].module = sample_module(d, def->pcs[i].module, s);
		if (st->pcs[i].module == -2)
			return -ENOMEM;
	}
	return 0;
}

void rec_modules_clear(struct rec_decoder *d)
{
	size_t i;

	for (i = 0; i < d->nmodules; i++) {
		free(d->modules[i].path);
		free(d->modules[i].build_id);
	}
	free(d->modules);
	idmap_free(&d->module_index);
}
