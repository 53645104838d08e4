/* SPDX-License-Identifier: GPL-2.0-only */
/* Recordings: samples written as JSON Lines, read back to re-derive the same windows. */
#ifndef MEMSLEUTH_RECORDING_H
#define MEMSLEUTH_RECORDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "analyzer/sample.h"
#include "analyzer/stack_site.h"

/*
 * The recording layer: a writer (the recorder) that appends each sample of a
 * live run to a file, and a reader that gives the same samples back, on any
 * machine, for the analyzer to cut into the same windows. The format itself,
 * every key and version, is in recording/format.h.
 */

/* The header line: what every sample of the run shares. */
struct recording_header {
	int version;		/* set by the reader; the writer writes its own version */
	int pid;
	char *comm;
	double window_s;
	double tick_s;
	double created;
	bool bpf;
	bool alloc;
};

/* Frees what the reader put in `h` (comm) and zeroes it. */
void recording_header_clear(struct recording_header *h);

struct recorder;

/* How a recording is written. */
struct recorder_opts {
	bool compress;		/* zstd (recording/zfile.h); else plain JSON Lines */
	uint64_t rotate_bytes;	/* start a new piece past this many bytes on disk; 0 never */
	double rotate_s;	/* ... or after this many seconds; 0 never */
};

/*
 * Whether a recording at `path` is written plain: a name ending in ".jsonl"
 * asks for JSON Lines other tools read as text; any other name is compressed.
 */
bool recording_path_plain(const char *path);

/*
 * Creates `path` (truncating it) and writes the header. With rotation, full
 * pieces are renamed PATH.1, PATH.2, ... (the oldest first), each a recording
 * of its own. Returns 0, or a negative errno with a one-line reason in `err`.
 */
int recorder_open(const char *path, const struct recording_header *h,
		  const struct recorder_opts *o, struct recorder **out, char *err, size_t errlen);
/*
 * Appends a sample (after the definitions of stacks it uses for the first
 * time); `s` is only read. Returns 0, -ENOMEM (nothing of the line written),
 * or -EIO: the file cannot be written, and every later call returns -EIO.
 */
int recorder_write(struct recorder *r, const struct sample *s);
/* Writes the end line with `reason`, closes, frees. Returns 0 or -EIO. NULL is accepted. */
int recorder_close(struct recorder *r, const char *reason);

struct recording_reader;

/*
 * Opens a recording and reads its header. Returns 0, or -EINVAL/-errno with a
 * one-line reason in `err` (missing file, not a recording, newer version).
 */
int recording_open(const char *path, struct recording_reader **out, struct recording_header *h,
		   char *err, size_t errlen);
/*
 * The same over an open stream (a pipe, or fmemopen for the fuzzer); `name`
 * stands for the file in messages. The reader owns `f` from here on, also on
 * failure.
 */
int recording_open_stream(FILE *f, const char *name, struct recording_reader **out,
			  struct recording_header *h, char *err, size_t errlen);
/*
 * Reads the next sample: returns 1 with *s (the caller owns it), 0 at the end,
 * or -EINVAL with a one-line reason naming the line (malformed or truncated).
 */
int recording_next(struct recording_reader *r, struct sample **s, char *err, size_t errlen);
/* Where the next line starts, for coming back with recording_seek (replays step back). */
struct recording_pos {
	long long offset;
	size_t lineno;
};

void recording_tell(const struct recording_reader *r, struct recording_pos *pos);
/*
 * Goes back (or forward) to a position from recording_tell. Stack definitions
 * read before stay known, so samples after `pos` read as they did the first
 * time. Returns 0 or -errno.
 */
int recording_seek(struct recording_reader *r, const struct recording_pos *pos);
/* NULL until the end line was read: a recording without one was cut off. */
const char *recording_end_reason(const struct recording_reader *r);
/* Lines of a type this reader does not know (from a newer writer), skipped so far. */
size_t recording_unknown_lines(const struct recording_reader *r);
void recording_close(struct recording_reader *r);

/*
 * Finds the sites of the stacks read from now on with `rules` (borrowed: it
 * must outlive the reader; NULL: the built-in rules, the default).
 */
void recording_set_site_rules(struct recording_reader *r, const struct site_rules *rules);

#endif
