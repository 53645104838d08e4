/* SPDX-License-Identifier: GPL-2.0-only */
/* Strings from the target made safe to show: valid UTF-8, no terminal control bytes. */
#ifndef MEMSLEUTH_TEXT_SAFE_H
#define MEMSLEUTH_TEXT_SAFE_H

#include <stddef.h>

/*
 * Length of the valid UTF-8 sequence at `s` (at most `n` bytes): 1 to 4, or 0
 * when the bytes there are not valid UTF-8 (overlong, surrogate, truncated).
 */
size_t utf8_seq_len(const unsigned char *s, size_t n);

/*
 * Copies `src` into `dst` (`dstlen` bytes, always NUL-terminated when dstlen > 0),
 * replacing each control character (C0, DEL, C1: they can drive a terminal) and
 * each byte that is not valid UTF-8 with '?'. Whole characters only: a character
 * that does not fit is left out. `dst` may be `src` (the result is never longer).
 * Returns the number of characters written.
 */
size_t text_safe_copy(char *dst, size_t dstlen, const char *src);

#endif
