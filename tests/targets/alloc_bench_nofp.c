// SPDX-License-Identifier: GPL-2.0-only
/* alloc_bench built without frame pointers (the Makefile keys on "nofp" in the name). */
#include "alloc_bench.c"
