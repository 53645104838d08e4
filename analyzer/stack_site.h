/* SPDX-License-Identifier: GPL-2.0-only */
/* Which frame of a stack names the program's code (its site), and whether a stack reached its root. */
#ifndef MEMSLEUTH_STACK_SITE_H
#define MEMSLEUTH_STACK_SITE_H

#include <stdbool.h>
#include <stddef.h>

#include "analyzer/stack.h"

/*
 * A stack's site is its first frame, from the leaf, that belongs to the
 * program rather than to the allocator or the runtime. Frames skipped on
 * the way (README "Stacks: sites"):
 *
 * - by module: the C library and the dynamic loader (libc, ld-linux, libm,
 *   libpthread, libdl, librt, musl), the C++ runtime (libstdc++, libc++,
 *   libc++abi), libgcc_s, the allocators (libjemalloc, libtcmalloc*,
 *   libmimalloc) and the sanitizer runtimes; the vDSO;
 * - by function: the C library's allocator, memory and syscall wrapper names
 *   (malloc, mmap, brk, socket, openat, memcpy, ... and every name beginning
 *   "__"), for statically linked programs; C++ operator new and delete and
 *   everything in std::, __gnu_cxx:: and __cxxabiv1:: (container and string
 *   internals instantiated in the program's own code); Rust's alloc::,
 *   core::alloc/ptr, hashbrown and __rust_alloc; Zig's heap., mem.Allocator,
 *   array_list. and hash_map.;
 * - allocator wrappers, by rule: a function whose own name (the last part of
 *   ns::Class::name) contains malloc, calloc, realloc or zalloc, ends in
 *   "_alloc", or is a strdup/strndup/memdup (xmalloc, zmalloc_usable,
 *   g_malloc0, PyMem_Malloc, xstrdup, ...), case ignored;
 * - glibc's allocator and thread-start sources, by the frame's source file
 *   (malloc.c, arena.c, pthread_create.c, clone.S, ...): internal functions
 *   whose names carry no "__" ("mremap_chunk", inlined into malloc), for a
 *   statically linked program or a frame read from an older recording whose
 *   module is not known;
 * - the user's --skip PATTERN: a glob (fnmatch) on the frame's short name, on
 *   its own name, or on its module's file name.
 *
 * Only the frames before the site are judged: a program function that
 * happens to match is skipped only when it sits between the allocator and
 * the rest of the program. When every frame is skipped (a stack cut inside
 * the allocator), the site is the outermost frame.
 */
struct site_rules;

/* An empty rule set (the built-in rules only); NULL with errno ENOMEM. */
struct site_rules *site_rules_new(void);

/*
 * Adds a --skip pattern (copied). Returns 0, -EINVAL for an empty pattern
 * or -ENOMEM.
 */
int site_rules_skip(struct site_rules *r, const char *pattern);

void site_rules_free(struct site_rules *r);

/* Sets d->site by the built-in rules and those of `r` (NULL: built-in only). */
void stack_site_find(struct stack_frames *d, const struct site_rules *r);

/*
 * The name of a stack's site, the same for every call path to it: the site
 * frame's function without offset, inline mark or source line ("lru_put");
 * a frame without a symbol is its own site ("memcached+0x11d1d", "0x7f..").
 * `d` NULL gives "an unknown stack". Written into buf (len > 0); returns buf.
 */
const char *stack_site_name(const struct stack_frames *d, char *buf, size_t len);

/* Whether frame i is the allocator's or the runtime's (see above). */
bool stack_site_skips(const struct stack_frames *d, uint32_t i, const struct site_rules *r);

/*
 * Whether the outermost frame is where a process or thread starts (_start,
 * __libc_start_main, __libc_start_call_main, main, start_thread, clone,
 * clone3): a stack that ends elsewhere was cut (a frame-pointer walk that
 * lost the chain).
 */
bool stack_site_reaches_root(const struct stack_frames *d);

#endif
