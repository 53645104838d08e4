// SPDX-License-Identifier: GPL-2.0-only
/* Growable arrays: one helper shared by every module that appends to a buffer. */
#include "lib/vec.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int vec_reserve(void **buf, size_t *cap, size_t need, size_t elsize)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 8;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return -ENOMEM;
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / elsize)
		return -ENOMEM;
	p = realloc(*buf, ncap * elsize);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = ncap;
	return 0;
}

void *vec_push(void **buf, size_t *n, size_t *cap, size_t elsize)
{
	char *slot;

	if (vec_reserve(buf, cap, *n + 1, elsize)) {
		errno = ENOMEM;
		return NULL;
	}
	slot = (char *)*buf + *n * elsize;
	memset(slot, 0, elsize);
	(*n)++;
	return slot;
}
