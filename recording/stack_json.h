/* SPDX-License-Identifier: GPL-2.0-only */
/* A stack's per-frame identity as JSON: what --json prints and what a recording keeps. */
#ifndef MEMSLEUTH_STACK_JSON_H
#define MEMSLEUTH_STACK_JSON_H

#include <jansson.h>

#include "analyzer/stack.h"
#include "analyzer/stack_site.h"

/*
 * How one output spells a stack's identity: the --json printer and the
 * recording format each have their own table, so that renaming a key in one
 * never changes the other (a recording's are in recording/format.h).
 */
struct stack_json_keys {
	const char *frames, *site, *site_index, *truncated, *modules, *frame_info;
	const char *path, *build_id, *start, *end;			/* a module */
	const char *addr, *module, *function, *symbol, *file, *line, *inlined;	/* a frame */
};

/* The recording format's spelling. */
extern const struct stack_json_keys rec_stack_keys;

/*
 * Adds to `obj` (a stack or a recording's stack line) the keys that go with
 * its frames, spelt by `k`; for the --json output (README "JSON output"):
 *   "site": the site frame's text, "site_index": its index,
 *   "truncated": bool,
 *   "modules": [{"path", "build_id" (null when none), "start", "end"}],
 *   "frame_info": [{"addr", "module" (index or null), "function", "symbol",
 *                   "file", "line", "inlined"}, ...] (one per frame; names
 *                   null when no symbol covers the frame).
 * Strings from the target pass through json_text. Returns 0 or -ENOMEM.
 */
int stack_json_add(json_t *obj, const struct stack_frames *d, const struct stack_json_keys *k);

/*
 * Reads a stack from a recording's stack line (rec_stack_keys): its frames and,
 * when present, the keys above; the site is found anew with `rules` (NULL: built-in).
 * Returns the stack (one reference), or NULL with errno: EINVAL when the
 * line is malformed (a reason in `why`), ENOMEM.
 */
struct stack_frames *stack_json_read(json_t *obj, const struct site_rules *rules,
				     const char **why);

#endif
