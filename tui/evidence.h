/* SPDX-License-Identifier: GPL-2.0-only */
/* A finding's evidence written for people: each figure as measured, and in units where it has them. */
#ifndef MEMSLEUTH_TUI_EVIDENCE_H
#define MEMSLEUTH_TUI_EVIDENCE_H

#include <stddef.h>

#include "analyzer/finding.h"

/*
 * Writes "key: value" for one figure of a finding into `buf`: the exact value
 * (as in the JSON output), then, when its key's unit (ev_key_unit) is bytes,
 * a rate, a share or seconds, the same in human units, e.g.
 * "bytes: 6100286 (5.8 MiB)".
 */
void evidence_format(const struct evidence *e, char *buf, size_t len);

#endif
