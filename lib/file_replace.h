/* SPDX-License-Identifier: GPL-2.0-only */
/* Replacing a file atomically: readers see the old file or the new one, never half of one. */
#ifndef MEMSLEUTH_FILE_REPLACE_H
#define MEMSLEUTH_FILE_REPLACE_H

#include <stddef.h>

/*
 * Writes data[0..len) to a temporary file beside `path` (same directory, so
 * the rename stays on one file system), flushes it, and renames it over
 * `path`. Mode 0644. Returns 0, or a negative errno (the temporary file is
 * removed; `path` is left as it was).
 */
int file_replace(const char *path, const void *data, size_t len);

#endif
