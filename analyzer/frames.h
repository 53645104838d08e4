/* SPDX-License-Identifier: GPL-2.0-only */
/* Which frame of a stack names the program's code: past the C library's allocator and syscall wrappers. */
#ifndef MEMSLEUTH_FRAMES_H
#define MEMSLEUTH_FRAMES_H

#include <stddef.h>
#include <stdint.h>

/*
 * The index of the innermost frame of `frames` (innermost first) that is not
 * inside the C library's allocator, memory functions or syscall wrappers
 * ("brk", "__mmap64", "_int_malloc", "__memset_avx2", ...): the code that made
 * the memory or the fd grow; one with a source line is preferred, since a
 * frame no symbol covers may be misread. 0 when every frame is such a one,
 * or n is 0.
 */
uint32_t frames_first_caller(char *const *frames, uint32_t n);

/*
 * The allocation site of a stack: the function of its first caller frame
 * (frames_first_caller), without offset, inline mark or source line
 * ("lru_put"); a frame without a symbol is its own site ("memcached+0x11d1d",
 * "0x7f.."). Stacks of one site are one leak, reached by several call paths.
 * Written into buf (len > 0); returns buf. This is the one place that says
 * what a site is (a per-stack site from the collectors is to replace it).
 */
const char *frames_site(char *const *frames, uint32_t n, char *buf, size_t len);

#endif
