/* SPDX-License-Identifier: GPL-2.0-only */
/* Parser for /proc/PID/smaps and smaps_rollup text, live or saved to a file. */
#ifndef MEMSLEUTH_SMAPS_H
#define MEMSLEUTH_SMAPS_H

#include <stddef.h>

#include "analyzer/sample.h"
#include "analyzer/vma.h"

/* Where and why a parse failed: a line number (1-based, 0 for the whole input). */
struct parse_error {
	size_t line;
	char msg[200];
};

/*
 * Parses smaps text into `out` (which must be empty). Returns 0, or -EINVAL with
 * `err` filled for input that is not smaps (empty, binary, /proc/PID/maps,
 * smaps_rollup, a broken line), or -ENOMEM. On failure `out` is left empty.
 */
int smaps_parse(const char *buf, size_t len, struct vma_list *out, struct parse_error *err);

/*
 * Reads smaps text from `fd` (/proc/PID/smaps, or a saved copy) a chunk at a
 * time and parses it as smaps_parse does, so that memory follows the number of
 * mappings, not the size of the text (~700 bytes per mapping). Returns 0,
 * -ENODATA when there is no text at all (a process that is exiting), -EINVAL
 * with `err` filled, -ENOMEM, or a negative errno from read(). On failure `out`
 * is left empty.
 */
int smaps_read_fd(int fd, struct vma_list *out, struct parse_error *err);

/* PSS by what backs it: smaps_rollup's Pss_Anon, Pss_File and Pss_Shmem (Linux 5.9+). */
struct pss_split {
	uint64_t anon, file, shmem;
};

/*
 * Parses smaps_rollup text into totals, and into `split` when not NULL (0
 * for a field the kernel does not write). Returns 0 or -EINVAL with `err`
 * filled.
 */
int smaps_rollup_parse(const char *buf, size_t len, struct totals *out, struct pss_split *split,
		       struct parse_error *err);

#endif
