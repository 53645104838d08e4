/* SPDX-License-Identifier: GPL-2.0-only */
/* Folded stacks ("root;caller;leaf BYTES"), the input of flame graph tools. */
#ifndef MEMSLEUTH_PRINT_FOLDED_H
#define MEMSLEUTH_PRINT_FOLDED_H

#include <stdio.h>

#include "analyzer/window.h"

/*
 * Writes one line per alloc stack with outstanding bytes at the window's end:
 * its frames from the outermost to the allocating call, separated by ';',
 * then a space and the bytes. A frame is its function name where there is
 * one (offsets and source lines would split one function into many boxes).
 * Bytes are estimates when the window says so (--alloc-duty below 100).
 * Returns 0 or -EIO.
 */
int print_window_folded(FILE *f, const struct window *w);

#endif
