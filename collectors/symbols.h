/* SPDX-License-Identifier: GPL-2.0-only */
/* Symbolization of user code addresses with libdwfl, cached per build-id and offset. */
#ifndef MEMSLEUTH_SYMBOLS_H
#define MEMSLEUTH_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collectors/modmap.h"

/*
 * A frame reads, by what is known about it:
 *   "func+0x1a (file.c:42)"   symbol and source line (debug info present)
 *   "func+0x1a (libc.so.6)"   symbol, no line: the module's file name
 *   "libfoo.so+0x1234"        no symbol: the module and the ELF address
 *   "0x7f12345678"            no module
 * C++ names are demangled. For a return address (not an activation frame) the
 * function and line are those of the call (pc - 1); the offset shown is the
 * return address's, as debuggers print it.
 *
 * Resolving an address costs 0.3-0.8 ms, so results are cached by (build-id,
 * offset in the module): the cache survives a library being unloaded and
 * loaded elsewhere. The cache is bounded; it is emptied when full.
 */
struct symbols;

/* Builds a symbolizer over `m` (borrowed: it must outlive the symbolizer). 0 or -ENOMEM. */
int symbols_new(struct modmap *m, struct symbols **out);

/*
 * Formats the frame at `pc`. Returns a string owned by the symbolizer, valid
 * until the next call (copy it to keep it), or NULL on ENOMEM.
 */
const char *symbols_frame(struct symbols *s, uint64_t pc, bool activation);

/* Lookups answered from the cache, and resolved anew (for tests and -v). */
void symbols_stats(const struct symbols *s, uint64_t *hits, uint64_t *misses);

/* Frees; NULL is accepted. */
void symbols_free(struct symbols *s);

#endif
