/* SPDX-License-Identifier: GPL-2.0-only */
/* Figures written for people: bytes, signed byte changes, durations. One spelling everywhere. */
#ifndef MEMSLEUTH_UNITS_H
#define MEMSLEUTH_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Each writes into `buf` (UNITS_BUF bytes are always enough) and returns it. */
#define UNITS_BUF 24

/* "512 B", "48.0 MiB", "130 GiB"; a negative figure keeps its minus sign. */
const char *units_bytes(char *buf, size_t len, double bytes);
/* Unsigned byte counts, exactly as units_bytes. */
const char *fmt_bytes(char *buf, size_t len, uint64_t v);
/* A change, signed: "+48.0 MiB", "-4.0 KiB", "0 B". */
const char *fmt_delta(char *buf, size_t len, int64_t v);
/* "45s", "12m", "12m03s", "3h02m", "5d04h"; "never" when not finite; 0s below zero. */
const char *units_duration(char *buf, size_t len, double seconds);

#endif
