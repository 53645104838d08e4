/* SPDX-License-Identifier: GPL-2.0-only */
/* Memory freed that was allocated before the malloc probes attached, and which rises it balances. */
#ifndef MEMSLEUTH_PREATTACH_H
#define MEMSLEUTH_PREATTACH_H

#include <stdint.h>

#include "analyzer/sample.h"
#include "analyzer/window.h"

/*
 * --alloc records allocations from the moment it attaches. A free that
 * matches no record is of memory allocated either before attach or while it
 * was not recorded (sampled out, probes off in the duty cycle, map full).
 * The records say how many of the second kind to expect (see bpf/alloc.h):
 * a record of sampling probability p stands for 1/p allocations, and the
 * share of calls recorded scales the rest as it scales the stack figures.
 * What is left is memory from before attach, in each size class:
 *
 *     preattach = (unmatched while recording - expected) / share
 *
 * Exact mode (share 1, p 1) has nothing to expect: every unmatched free is
 * pre-attach memory.
 */
struct preattach {
	double bytes[SAMPLE_FREE_CLASSES];	/* usable bytes; 0 in the unsized class */
	double count[SAMPLE_FREE_CLASSES];
	double noise[SAMPLE_FREE_CLASSES];	/* preattach_window: bytes within the noise */
};

/* Cumulative since attach, at sample `s` (zero without --alloc); classes may be negative. */
void preattach_at(const struct sample *s, struct preattach *out);

/*
 * Over window `w`: end minus start, each class at least 0. Where frees were
 * expected unmatched (all but exact, unsampled mode) a class's excess is the
 * difference of two counts with sampling noise: crossings between the duty
 * cycle's phases (allocated while the probes were off and freed while on, or
 * the other way) land on one side or the other. Without pre-attach frees
 * both sides are near-Poisson with the expected count E, so the excess has
 * a standard deviation of about sqrt(2E) blocks; noise[] holds
 * PREATTACH_NOISE_Z of those, in bytes at the class's mean unmatched block,
 * scaled up by the share (0 in exact mode, which expects nothing). With
 * --alloc-sample each record freed stands for 1/p blocks (p = size / BYTES
 * for a block smaller than BYTES): E is a sum of steps of 1/p and its
 * variance about E/p, so the noise is sqrt(2E/p) blocks (28 times E's
 * own for the 24-64 B keys of a cache sampled at 64 KiB).
 */
#define PREATTACH_NOISE_Z 3.0
#define PREATTACH_SIGNIFICANT 2.0
void preattach_window(const struct window *w, struct preattach *out);

/* Sum over the classes of p->bytes or p->count, each class counted only when positive. */
double preattach_sum(const double *classes);

/*
 * For each alloc stack of `w` that rose (w->stacks[i]), the part of its rise
 * that pre-attach memory freed in the window balances, in bytes, into
 * explained[i] (w->nstacks entries; 0 for the others). A bounded cache filled
 * before attach replaces its old entries with new ones: the new ones are
 * recorded, the old ones' frees are not, so its stack rises by what the old
 * entries held. The pre-attach bytes of a size class are spent first on the
 * rises of stacks whose mean block is of that class (an insert usually
 * replaces an entry of its own kind), in proportion to their rises, when
 * the class's estimate stands PREATTACH_SIGNIFICANT standard deviations out
 * of its noise (about 2% of windows of a class whose frees are noise alone);
 * each stack so balanced is given its part of the class's noise in noise[i]
 * (PREATTACH_NOISE_Z standard deviations, in bytes): the leak rule asks its
 * rise to stand out of that too. An estimate within its noise balances
 * nothing, so the allowance falls to nothing once the structures that were
 * full at attach have turned over and their frees are gone, whatever noise
 * the duty cycle's crossings make in their classes. What is left beyond the
 * class's noise goes to the nearest classes (a cache of entries of varied
 * sizes), shared in proportion between classes at the same distance. Frees
 * whose size is not known (allocators other than
 * glibc) balance by count, at each stack's mean block size.
 */
void preattach_balance(const struct window *w, int64_t *explained, double *noise);

#endif
