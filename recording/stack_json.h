/* SPDX-License-Identifier: GPL-2.0-only */
/* A stack's per-frame identity as JSON: what --json prints and what a recording keeps. */
#ifndef MEMSLEUTH_STACK_JSON_H
#define MEMSLEUTH_STACK_JSON_H

#include <jansson.h>

#include "analyzer/stack.h"
#include "analyzer/stack_site.h"

/*
 * Adds to `obj` (a stack or a recording's stack line) the keys that go with
 * its "frames" (README "JSON output"):
 *   "site": the site frame's text, "site_index": its index,
 *   "truncated": bool,
 *   "modules": [{"path", "build_id" (null when none), "start", "end"}],
 *   "frame_info": [{"addr", "module" (index or null), "function", "symbol",
 *                   "file", "line", "inlined"}, ...] (one per frame; names
 *                   null when no symbol covers the frame).
 * Strings from the target pass through json_text. Returns 0 or -ENOMEM.
 */
int stack_json_add(json_t *obj, const struct stack_frames *d);

/*
 * Reads a stack from a recording's stack line: "frames" and, when present,
 * the keys above; the site is found anew with `rules` (NULL: built-in).
 * Returns the stack (one reference), or NULL with errno: EINVAL when the
 * line is malformed (a reason in `why`), ENOMEM.
 */
struct stack_frames *stack_json_read(json_t *obj, const struct site_rules *rules,
				     const char **why);

#endif
