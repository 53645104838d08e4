/* SPDX-License-Identifier: GPL-2.0-only */
/* zstd-compressed recordings: a stdio stream that compresses as it writes, and the way back. */
#ifndef MEMSLEUTH_ZFILE_H
#define MEMSLEUTH_ZFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * A recording compresses to a tenth or less with zstd: its lines repeat the
 * same keys, regions and stack rows tick after tick. The writer keeps
 * writing JSON Lines to a FILE; the stream under it compresses into one zstd
 * frame and flushes a block to the file at most every 10 s (and at the
 * first line), so a run that is killed leaves every line written up to
 * then readable: the frame just has no end. The reader inflates into an
 * unlinked temporary file, so that replays can seek as in a plain file.
 */

/*
 * A FILE that compresses what is written to it into `raw` (taken over: it is
 * closed with the returned FILE, or on failure). *out_bytes (may be NULL)
 * counts the compressed bytes written so far. Returns NULL with errno set.
 */
FILE *zfile_writer(FILE *raw, int level, uint64_t *out_bytes);

/* Whether `f` starts with a zstd frame (the stream is left where it was, at its start). */
bool zfile_is_zstd(FILE *f);

/*
 * Inflates all of `raw` (taken over, closed) into a temporary file, and
 * returns it rewound in *out. A frame cut short (its writer was killed) gives
 * what it holds. Returns 0, or a negative errno with a one-line reason in
 * `err` naming `name` (-EINVAL: not valid zstd data).
 */
int zfile_inflate(FILE *raw, const char *name, FILE **out, char *err, size_t errlen);

#endif
