// SPDX-License-Identifier: GPL-2.0-only
/* Test target: grow_heap_anon linked statically (names with "static" get -static). */
#include "grow_heap_anon.c"
