/* SPDX-License-Identifier: GPL-2.0-only */
/* A finding's evidence written for people: each figure in its unit, the exact value beside it. */
#ifndef MEMSLEUTH_TUI_EVIDENCE_H
#define MEMSLEUTH_TUI_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>

#include "analyzer/finding.h"

/*
 * Whether a figure is for people: identifiers that join JSON objects
 * (ev_key_unit UNIT_ID: stack_id, alloc) and flags that are off say nothing
 * to a reader, and are left out of the view (the JSON output has them all).
 */
bool evidence_shown(const struct evidence *e);

/* How many figures of `f` are shown. */
size_t evidence_count_shown(const struct finding *f);

/* The `k`-th figure shown of `f` (k below evidence_count_shown), or NULL. */
const struct evidence *evidence_nth_shown(const struct finding *f, size_t k);

/*
 * Writes "key: value" for one figure into `buf`, the value in its key's unit
 * (ev_key_unit): bytes as "5.8 MiB (6100286 B)", rates as "4.0 KiB/s" or
 * "2.0/s", shares as "75%", seconds as "7m56s (475.5 s)", flags as "yes";
 * counts and text as they are.
 */
void evidence_format(const struct evidence *e, char *buf, size_t len);

#endif
