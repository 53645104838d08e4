// SPDX-License-Identifier: GPL-2.0-only
/* Address ranges mapped since attach, each owned by the stack that mapped it. */
#include "collectors/rangemap.h"
#include "lib/vec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The first range whose end lies above `addr`. */
static size_t first_above(const struct rangemap *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->r[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int insert_at(struct rangemap *m, size_t i, uint64_t start, uint64_t end, uint64_t owner)
{
	if (vec_reserve((void **)&m->r, &m->cap, m->n + 1, sizeof(*m->r)))
		return -ENOMEM;
	memmove(&m->r[i + 1], &m->r[i], (m->n - i) * sizeof(*m->r));
	m->r[i].start = start;
	m->r[i].end = end;
	m->r[i].owner = owner;
	m->n++;
	return 0;
}

static void delete_at(struct rangemap *m, size_t i)
{
	memmove(&m->r[i], &m->r[i + 1], (m->n - i - 1) * sizeof(*m->r));
	m->n--;
}

int rangemap_remove(struct rangemap *m, uint64_t start, uint64_t end, range_removed_fn fn,
		    void *arg, uint64_t *first_owner)
{
	size_t i = first_above(m, start);
	int ret = 0;

	if (first_owner)
		*first_owner = 0;
	while (i < m->n && m->r[i].start < end) {
		struct range *r = &m->r[i];

		if (first_owner && !*first_owner)
			*first_owner = r->owner;
		if (start <= r->start && end >= r->end) {
			fn(arg, r->owner, r->end - r->start, -1);
			delete_at(m, i);
			continue;
		}
		if (start > r->start && end < r->end) {
			uint64_t tail_end = r->end, owner = r->owner;

			if (insert_at(m, i + 1, end, tail_end, owner)) {
				/* No room to split: drop the whole range rather than miscount. */
				r = &m->r[i];
				fn(arg, r->owner, r->end - r->start, -1);
				delete_at(m, i);
				ret = -ENOMEM;
				break;
			}
			r = &m->r[i];
			r->end = start;
			fn(arg, owner, end - start, 1);
			break;
		}
		if (start <= r->start) {
			fn(arg, r->owner, end - r->start, 0);
			r->start = end;
			break;
		}
		fn(arg, r->owner, r->end - start, 0);
		r->end = start;
		i++;
	}
	return ret;
}

int rangemap_add(struct rangemap *m, uint64_t start, uint64_t end, uint64_t owner,
		 range_removed_fn fn, void *arg)
{
	int ret;

	if (end <= start)
		return 0;
	ret = rangemap_remove(m, start, end, fn, arg, NULL);
	if (ret)
		return ret;
	if (m->max && m->n >= m->max)
		return -ENOSPC;
	return insert_at(m, first_above(m, start), start, end, owner);
}

void rangemap_free(struct rangemap *m)
{
	free(m->r);
	m->r = NULL;
	m->n = m->cap = 0;
}
