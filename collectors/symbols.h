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
 *   "func+0x1a (file.c:42)"        symbol and source line (debug info present)
 *   "func+0x1a (libc.so.6)"        symbol, no line: the module's file name
 *   "libfoo.so+0x1234"             no symbol: the module and the ELF address
 *   "0x7f12345678"                 no module
 *   "helper [inlined] (file.c:17)" a function inlined at this address (debug
 *                                  info present): such frames come first, the
 *                                  innermost first, then the function holding
 *                                  the code, at the line of the outermost call
 * C++, Rust and D names are demangled (libiberty) and shortened for the text
 * (analyzer/names.h); the full name and the raw symbol come beside it. For a
 * return address (not an activation frame) the function and line are those
 * of the call (pc - 1); the offset shown is the return address's, as
 * debuggers print it.
 *
 * Resolving an address costs 0.3-0.8 ms, so results are cached by (build-id,
 * offset in the module): the cache survives a library being unloaded and
 * loaded elsewhere. The cache is bounded; it is emptied when full.
 *
 * The first time a frame falls in a module that has no symbols beyond its
 * exports and no debug info, a warning says once which file or package would
 * name its frames (debug_hint.h).
 */
struct symbols;

/* Builds a symbolizer over `m` (borrowed: it must outlive the symbolizer). 0 or -ENOMEM. */
int symbols_new(struct modmap *m, struct symbols **out);

/* Frames one address can stand for: itself and the functions inlined there. */
#define SYMBOLS_MAX_INLINE 8

/* One frame; the strings belong to the symbolizer, valid until its next call. */
struct symbols_frame {
	const char *text;	/* as above (never NULL) */
	const char *name;	/* the short name ("ns::Class::method"); NULL: no symbol */
	const char *function;	/* the full demangled name; NULL: no symbol */
	const char *symbol;	/* the raw (mangled) symbol; NULL: no symbol */
	const char *file;	/* the source file; NULL unknown */
	uint32_t line;		/* 0 unknown */
	bool inlined;
};

/*
 * Resolves `pc` into out[0..n), innermost first, n at most
 * SYMBOLS_MAX_INLINE (deeper inlining keeps the innermost and the holder).
 * Returns n >= 1, or -ENOMEM.
 */
int symbols_frames(struct symbols *s, uint64_t pc, bool activation,
		   struct symbols_frame out[SYMBOLS_MAX_INLINE]);

/* Lookups answered from the cache, and resolved anew (for tests and -v). */
void symbols_stats(const struct symbols *s, uint64_t *hits, uint64_t *misses);

/* Frees; NULL is accepted. */
void symbols_free(struct symbols *s);

#endif
