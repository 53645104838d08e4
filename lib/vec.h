/* SPDX-License-Identifier: GPL-2.0-only */
/* Growable arrays: one helper shared by every module that appends to a buffer. */
#ifndef MEMSLEUTH_VEC_H
#define MEMSLEUTH_VEC_H

#include <stddef.h>

/*
 * Makes room for at least `need` elements of `elsize` bytes in *buf (capacity
 * *cap, in elements), doubling. Returns 0, or -ENOMEM leaving *buf untouched.
 */
int vec_reserve(void **buf, size_t *cap, size_t need, size_t elsize);

/* Appends one zeroed element; returns it, or NULL (errno ENOMEM). */
void *vec_push(void **buf, size_t *n, size_t *cap, size_t elsize);

#define VEC_PUSH(arr, n, cap) \
	((__typeof__(arr))vec_push((void **)&(arr), &(n), &(cap), sizeof(*(arr))))

#endif
