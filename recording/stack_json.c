// SPDX-License-Identifier: GPL-2.0-only
/* A stack's per-frame identity as JSON, in the spelling of the output that asks: --json or a recording. */
#include "recording/stack_json.h"
#include "recording/format.h"
#include "lib/json_text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const struct stack_json_keys rec_stack_keys = {
	.frames = REC_STACK_FRAMES, .site = REC_STACK_SITE, .site_index = REC_STACK_SITE_INDEX,
	.truncated = REC_STACK_TRUNCATED, .modules = REC_STACK_MODULES,
	.frame_info = REC_STACK_FRAME_INFO, .path = REC_MOD_PATH, .build_id = REC_MOD_BUILD_ID,
	.start = REC_MOD_START, .end = REC_MOD_END, .addr = REC_FI_ADDR, .module = REC_FI_MODULE,
	.function = REC_FI_FUNCTION, .symbol = REC_FI_SYMBOL, .file = REC_FI_FILE,
	.line = REC_FI_LINE, .inlined = REC_FI_INLINED,
};

static json_t *text_or_null(const char *s)
{
	return s ? json_text(s) : json_null();
}

static json_t *modules_json(const struct stack_frames *d, const struct stack_json_keys *k)
{
	json_t *a = json_array();
	uint32_t i;

	for (i = 0; a && i < d->nmodules; i++) {
		const struct stack_module *m = &d->modules[i];

		if (json_array_append_new(a, json_pack("{s:o, s:o, s:I, s:I}", k->path,
						       text_or_null(m->path), k->build_id,
						       text_or_null(m->build_id), k->start,
						       (json_int_t)m->start, k->end, (json_int_t)m->end))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *frame_info_json(const struct stack_frames *d, const struct stack_json_keys *k)
{
	json_t *a = json_array();
	uint32_t i;

	for (i = 0; a && i < d->n; i++) {
		const struct stack_frame *f = &d->f[i];

		if (json_array_append_new(
			    a, json_pack("{s:I, s:o, s:o, s:o, s:o, s:I, s:b}", k->addr, (json_int_t)f->pc,
					 k->module, f->module >= 0 ? json_integer(f->module) : json_null(),
					 k->function, text_or_null(f->function), k->symbol,
					 text_or_null(f->symbol), k->file, text_or_null(f->file), k->line,
					 (json_int_t)f->line, k->inlined, f->inlined))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

int stack_json_add(json_t *obj, const struct stack_frames *d, const struct stack_json_keys *k)
{
	if (json_object_set_new(obj, k->site, json_text(d->n ? d->text[d->site] : "")) ||
	    json_object_set_new(obj, k->site_index, json_integer(d->site)) ||
	    json_object_set_new(obj, k->truncated, json_boolean(d->truncated)) ||
	    json_object_set_new(obj, k->modules, modules_json(d, k)) ||
	    json_object_set_new(obj, k->frame_info, frame_info_json(d, k)))
		return -ENOMEM;
	return 0;
}

/* A copy of an optional string member; false when present but not a string, or ENOMEM. */
static bool opt_str(json_t *o, const char *key, char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return true;
	if (!json_is_string(v))
		return false;
	*out = strdup(json_string_value(v));
	return *out != NULL;
}

static int read_modules(json_t *mods, struct stack_frames *d, const char **why)
{
	json_t *m;
	size_t i;

	json_array_foreach(mods, i, m) {
		struct stack_module *sm = &d->modules[i];
		json_t *start = json_object_get(m, REC_MOD_START), *end = json_object_get(m, REC_MOD_END);

		if (!json_is_object(m) || !json_is_integer(start) || !json_is_integer(end) ||
		    !opt_str(m, REC_MOD_PATH, &sm->path) || !opt_str(m, REC_MOD_BUILD_ID, &sm->build_id)) {
			*why = "a stack's module is not {path, build_id, start, end}";
			return -EINVAL;
		}
		sm->start = (uint64_t)json_integer_value(start);
		sm->end = (uint64_t)json_integer_value(end);
	}
	return 0;
}

static int read_frame_info(json_t *info, struct stack_frames *d, const char **why)
{
	json_t *fi;
	size_t i;

	json_array_foreach(info, i, fi) {
		struct stack_frame *f = &d->f[i];
		json_t *addr = json_object_get(fi, REC_FI_ADDR), *mod = json_object_get(fi, REC_FI_MODULE);
		json_t *line = json_object_get(fi, REC_FI_LINE);

		if (!json_is_object(fi) || !json_is_integer(addr) ||
		    !(json_is_null(mod) || (json_is_integer(mod) && json_integer_value(mod) >= 0 &&
					     json_integer_value(mod) < (json_int_t)d->nmodules)) ||
		    !json_is_integer(line) || !opt_str(fi, REC_FI_FUNCTION, &f->function) ||
		    !opt_str(fi, REC_FI_SYMBOL, &f->symbol) || !opt_str(fi, REC_FI_FILE, &f->file)) {
			*why = "a stack's frame_info entry is malformed";
			return -EINVAL;
		}
		f->pc = (uint64_t)json_integer_value(addr);
		f->module = json_is_integer(mod) ? (int32_t)json_integer_value(mod) : -1;
		f->line = (uint32_t)json_integer_value(line);
		f->inlined = json_is_true(json_object_get(fi, REC_FI_INLINED));
	}
	return 0;
}

struct stack_frames *stack_json_read(json_t *obj, const struct site_rules *rules,
				     const char **why)
{
	json_t *frames = json_object_get(obj, REC_STACK_FRAMES), *fr;
	json_t *mods = json_object_get(obj, REC_STACK_MODULES);
	json_t *info = json_object_get(obj, REC_STACK_FRAME_INFO);
	struct stack_frames *d;
	size_t i, n;
	int ret = 0;

	*why = NULL;
	if (!json_is_array(frames)) {
		*why = "stack line lacks frames";
		errno = EINVAL;
		return NULL;
	}
	n = json_array_size(frames);
	/* Per-frame identity is optional (recordings made before it), but whole when present. */
	if (info && (!json_is_array(info) || json_array_size(info) != n || !json_is_array(mods))) {
		*why = "a stack's frame_info does not match its frames";
		errno = EINVAL;
		return NULL;
	}
	d = stack_frames_new((uint32_t)n, info ? (uint32_t)json_array_size(mods) : 0);
	if (!d)
		return NULL;
	json_array_foreach(frames, i, fr) {
		d->f[i].text = strdup(json_is_string(fr) ? json_string_value(fr) : "?");
		if (!d->f[i].text) {
			ret = -ENOMEM;
			break;
		}
	}
	if (!ret && info)
		ret = read_modules(mods, d, why);
	if (!ret && info)
		ret = read_frame_info(info, d, why);
	if (ret || stack_frames_seal(d)) {
		stack_frames_unref(d);
		errno = *why ? EINVAL : ENOMEM;
		return NULL;
	}
	d->truncated = json_is_true(json_object_get(obj, REC_STACK_TRUNCATED));
	stack_site_find(d, rules);
	return d;
}
