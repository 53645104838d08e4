/* SPDX-License-Identifier: GPL-2.0-only */
/* Which frame of a stack names the program's code: past the C library's allocator and syscall wrappers. */
#ifndef MEMSLEUTH_FRAMES_H
#define MEMSLEUTH_FRAMES_H

#include <stdbool.h>
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
 * The parts of a frame as collectors/symbols.h writes it: "func+0x1a
 * (file.c:42)", "func+0x1a (libc.so.6)", "helper [inlined] (file.c:17)",
 * "libfoo.so+0x1234", "0x7f12345678". `func` is the function's name, or the
 * whole text before any " (...)" when no symbol covered the address; `file`
 * and `line` are set only for a source location (file_len 0, line 0
 * otherwise). Pointers point into the frame.
 */
struct frame_parts {
	const char *func;
	size_t func_len;
	const char *file;
	size_t file_len;
	uint32_t line;
	bool inlined;
};

void frame_parse(const char *frame, struct frame_parts *out);

#endif
