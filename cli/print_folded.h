/* SPDX-License-Identifier: GPL-2.0-only */
/* Folded stacks ("root;caller;leaf BYTES"), the input of flame graph tools. */
#ifndef MEMSLEUTH_PRINT_FOLDED_H
#define MEMSLEUTH_PRINT_FOLDED_H

#include <stdio.h>

#include "analyzer/window.h"

/*
 * Writes one line per call path to an allocation site with outstanding bytes
 * at the window's end: the frames from the outermost to the site (the
 * allocator's and runtime's frames past it are left out, stack_site.h),
 * separated by ';', then a space and the bytes; stacks that differ only past
 * their site are summed into one line. A stack that was cut starts with a
 * "[truncated]" frame, so that it stands apart as a root of its own. A frame
 * is its function name where there is one (offsets and source lines would
 * split one function into many boxes). Bytes are estimates when the window
 * says so (--alloc-duty below 100). Returns 0, -ENOMEM or -EIO.
 */
int print_window_folded(FILE *f, const struct window *w);

#endif
