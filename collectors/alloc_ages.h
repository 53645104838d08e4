/* SPDX-License-Identifier: GPL-2.0-only */
/* Turnover of the malloc probes' records: of what each stack held at the previous reading, what is still live. */
#ifndef MEMSLEUTH_ALLOC_AGES_H
#define MEMSLEUTH_ALLOC_AGES_H

#include "analyzer/sample.h"
#include "collectors/alloc_stacks.h"

/*
 * Every live record of the malloc probes carries its birth (bpf/alloc.h).
 * Once a window the whole live map is read in batches and summed by stack:
 * what each stack holds now, and how much of it was born before the previous
 * reading, i.e. was held then and has not been freed since. Beside the sums
 * kept from the previous reading, that says how much of what a stack held it
 * freed in between (analyzer/detect_leak.c). Cost: one pass over the live
 * map, at most live_cap (524,288) entries of 48 bytes (key and record), read 4096 at a time:
 * tens of milliseconds of memsleuth's time for a full map, once a window;
 * the target is not touched.
 */
struct alloc_ages;

/* NULL with errno ENOMEM on failure. */
struct alloc_ages *alloc_ages_new(void);

/*
 * Reads the live map `live_fd` (u64 address -> struct alloc_rec), naming
 * each record's stack through `stacks`, and adds one alloc_age per stack to
 * s->alloc (has_ages, ages_since: s->t of the previous reading, 0 for the
 * first). Bytes are divided by `scale` (the share of calls recorded), as the
 * stack figures are. Returns 0 or a negative errno (-ENOMEM; a map read
 * error); on error the sample has no ages and the previous reading stays.
 */
int alloc_ages_read(struct alloc_ages *g, int live_fd, struct alloc_stacks *stacks,
		    double scale, struct sample *s);

/* Frees; NULL is accepted. */
void alloc_ages_free(struct alloc_ages *g);

#endif
