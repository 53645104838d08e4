/* SPDX-License-Identifier: GPL-2.0-only */
/* Figures written for people inside finding summaries: bytes, rates, durations. */
#ifndef MEMSLEUTH_UNITS_H
#define MEMSLEUTH_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Each writes into `buf` (at least 24 bytes) and returns it. */
const char *units_bytes(char *buf, size_t len, double bytes);	/* "12.0 MiB" */
const char *units_duration(char *buf, size_t len, double s);	/* "2h05m", "40 s" */

#endif
