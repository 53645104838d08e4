/* SPDX-License-Identifier: GPL-2.0-only */
/* Recordings, the decoder: one parsed line into a sample or a stack definition (not public). */
#ifndef MEMSLEUTH_RECORDING_DECODE_H
#define MEMSLEUTH_RECORDING_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "analyzer/sample.h"
#include "lib/idmap.h"
#include "analyzer/stack_site.h"
#include "recording/format.h"

/*
 * What decoding needs from the reader: where the line is (for messages), the
 * header's region columns and the stacks defined so far. The reader owns it.
 */
struct rec_decoder {
	const char *path;
	size_t lineno;
	int col[REC_NCOLS];	/* column positions from the header; -1 absent */
	struct idmap stack_index;	/* stack id -> index in stacks */
	struct stack_frames **stacks;	/* a reference each */
	size_t nstacks, stacks_cap;
	const struct site_rules *sites;	/* borrowed; NULL: the built-in rules */
};

/*
 * Writes "PATH: line N: MSG" into `err` (one clean line: a file can hold any
 * byte) and returns -EINVAL.
 */
int rec_fail(const struct rec_decoder *d, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A non-negative integer / any number at `key` of object `o`; false when absent or other. */
bool rec_get_u64(json_t *o, const char *key, uint64_t *out);
bool rec_get_num(json_t *o, const char *key, double *out);

/*
 * Reads the header's region_columns into d->col. Returns 0, or -EINVAL with
 * the reason when the name, kind or rss column is missing.
 */
int rec_decode_columns(struct rec_decoder *d, json_t *header, char *err, size_t errlen);

/*
 * A "stack" line: keeps the frames of its id (a repeated id keeps the first),
 * their site found with d->sites.
 * Returns 0, -EINVAL with the reason, or -ENOMEM with "out of memory".
 */
int rec_decode_stack(struct rec_decoder *d, json_t *j, char *err, size_t errlen);

/*
 * A "sample" line: returns 1 with *out (the caller owns it), or -EINVAL /
 * -ENOMEM with the reason in `err` (then *out is NULL).
 */
int rec_decode_sample(const struct rec_decoder *d, json_t *j, struct sample **out, char *err,
		      size_t errlen);

void rec_decoder_clear(struct rec_decoder *d);

#endif
