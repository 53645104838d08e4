// SPDX-License-Identifier: GPL-2.0-only
/* Test target: brk_malloc built without frame pointers, so only DWARF unwinding finds its callers. */
#include "brk_malloc.c"
