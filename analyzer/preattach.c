// SPDX-License-Identifier: GPL-2.0-only
/* Memory freed that was allocated before the malloc probes attached, and which rises it balances. */
#include "analyzer/preattach.h"

#include <math.h>
#include <string.h>

#define NSIZED (SAMPLE_FREE_CLASSES - 1)

void preattach_at(const struct sample *s, struct preattach *out)
{
	const struct alloc_summary *a = &s->alloc;
	double share = a->share > 0 && a->share <= 1 ? a->share : 1;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!s->has_alloc)
		return;
	for (i = 0; i < a->nfree_classes; i++) {
		const struct alloc_free_stat *c = &a->free_classes[i];

		if (c->cls >= SAMPLE_FREE_CLASSES)
			continue;
		if (c->cls != SAMPLE_FREE_UNSIZED)
			out->bytes[c->cls] +=
				((double)c->unmatched_bytes - (double)c->expected_bytes) / share;
		out->count[c->cls] +=
			((double)c->unmatched - (double)c->expected256 / 256.0) / share;
	}
}

/* Raw figures of one sample by class: unmatched frees, their bytes, and those expected (unscaled). */
struct raw {
	double unmatched[SAMPLE_FREE_CLASSES], bytes[SAMPLE_FREE_CLASSES];
	double expected[SAMPLE_FREE_CLASSES], expected_bytes[SAMPLE_FREE_CLASSES];
};

static void raw_counts(const struct sample *s, struct raw *r)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	for (i = 0; s->has_alloc && i < s->alloc.nfree_classes; i++) {
		const struct alloc_free_stat *c = &s->alloc.free_classes[i];

		if (c->cls < SAMPLE_FREE_CLASSES) {
			r->unmatched[c->cls] += (double)c->unmatched;
			r->bytes[c->cls] += (double)c->unmatched_bytes;
			r->expected[c->cls] += (double)c->expected256 / 256.0;
			r->expected_bytes[c->cls] += (double)c->expected_bytes;
		}
	}
}

/*
 * The share of the allocator's calls recorded within the window: the share is
 * counted since attach, in frees (share x frees are those made while
 * recording), so the window's own is the difference of the two ends'.
 * Scaling the window's counts by the share since attach instead would turn a
 * change of that share (a window in which the probes were attached less)
 * into pre-attach frees that never were.
 */
static double window_share(const struct window *w)
{
	const struct alloc_summary *a0 = &w->start->alloc, *a1 = &w->end->alloc;
	double s1 = a1->share > 0 && a1->share <= 1 ? a1->share : 1, df, s;

	if (!w->start->has_alloc || a0->since != a1->since || a1->frees <= a0->frees)
		return s1;
	df = (double)(a1->frees - a0->frees);
	s = (s1 * (double)a1->frees - a0->share * (double)a0->frees) / df;
	return s > 0 && s <= 1 ? s : s1;
}

/*
 * The chance that --alloc-sample records a block of `size` bytes (1 without
 * it). Each freed record then stands for 1/p blocks, so the expected count
 * is a sum of 1/p-sized steps: its variance is about E/p, not E.
 */
static double sampled_p(const struct window *w, double size)
{
	uint64_t rate = w->end->alloc.sample_bytes;

	return rate && size > 0 && size < (double)rate ? size / (double)rate : 1;
}

void preattach_window(const struct window *w, struct preattach *out)
{
	double share = window_share(w), du, de, db;
	struct raw r1, r0;
	size_t k;

	memset(out, 0, sizeof(*out));
	if (!w->end->has_alloc)
		return;
	raw_counts(w->end, &r1);
	raw_counts(w->start, &r0);
	for (k = 0; k < SAMPLE_FREE_CLASSES; k++) {
		du = r1.unmatched[k] - r0.unmatched[k];
		de = r1.expected[k] - r0.expected[k];
		db = r1.bytes[k] - r0.bytes[k];
		if (k != SAMPLE_FREE_UNSIZED)
			out->bytes[k] = fmax((db - (r1.expected_bytes[k] - r0.expected_bytes[k])) / share,
					     0);
		out->count[k] = fmax((du - de) / share, 0);
		/* The noise in blocks, times the bytes one raw unmatched block stands for. */
		out->noise[k] = de > 0 && du > 0 && db > 0 ? PREATTACH_NOISE_Z *
								     sqrt(2 * de / sampled_p(w, db / du)) *
								     db / du / share
							   : 0;
	}
}

double preattach_sum(const double *classes)
{
	double sum = 0;
	size_t k;

	for (k = 0; k < SAMPLE_FREE_CLASSES; k++)
		sum += fmax(classes[k], 0);
	return sum;
}

/* The size class of a block of `size` requested bytes: log2 of glibc's usable bytes for it. */
static size_t class_of(double size)
{
	double usable = size < 24 ? 24 : floor((size + 8 + 15) / 16) * 16 - 8;
	int e;

	frexp(usable, &e);
	return e - 1 < 0 ? 0 : (size_t)(e - 1) < NSIZED ? (size_t)(e - 1) : NSIZED - 1;
}

/* The mean block size of a rising stack: of the window's new blocks, else of all it holds. */
static double mean_block(const struct stack_delta *d)
{
	if (d->count_delta > 0)
		return (double)d->bytes_delta / (double)d->count_delta;
	if (d->cur->count > 0)
		return (double)d->cur->bytes / (double)d->cur->count;
	return (double)d->bytes_delta;
}

static bool rising_alloc(const struct stack_delta *d)
{
	return d->cur && d->cur->kind == STACK_ALLOC && d->bytes_delta > 0;
}

/* Spends `*pool` on the rises left in classes lo and hi (the same class when equal). */
static void spend(double *pool, double *left, size_t lo, size_t hi)
{
	double demand = left[lo] + (hi != lo ? left[hi] : 0), f;

	if (*pool <= 0 || demand <= 0)
		return;
	f = fmin(*pool / demand, 1);
	*pool -= f * demand;
	left[lo] -= f * left[lo];
	if (hi != lo)
		left[hi] -= f * left[hi];
}

void preattach_balance(const struct window *w, int64_t *explained, double *noise)
{
	double rise[NSIZED] = { 0 }, left[NSIZED], blocks[NSIZED] = { 0 }, demand = 0, f;
	double noise_k[NSIZED];
	struct preattach pool;
	size_t i, k, d;

	for (i = 0; i < w->nstacks; i++) {
		explained[i] = 0;
		noise[i] = 0;
	}
	if (!w->end->has_alloc)
		return;
	preattach_window(w, &pool);
	for (i = 0; i < w->nstacks; i++) {
		const struct stack_delta *sd = &w->stacks[i];
		double mean;

		if (!rising_alloc(sd))
			continue;
		mean = mean_block(sd);
		k = class_of(mean);
		rise[k] += (double)sd->bytes_delta;
		blocks[k] += (double)sd->bytes_delta / fmax(mean, 1);
	}
	memcpy(left, rise, sizeof(left));
	/*
	 * A class's estimate balances its own rises when it stands out of its
	 * noise (PREATTACH_SIGNIFICANT standard deviations): then in full, its
	 * noise going with it to the stacks it balances (the leak rule weighs
	 * it). An estimate within its noise is none: memory from before attach
	 * that is all freed leaves noise around zero in the classes it was in,
	 * and that balances nothing, however large the noise. What is left goes
	 * to other classes only as far as it stands out of the noise.
	 */
	for (k = 0; k < NSIZED; k++) {
		noise_k[k] = 0;
		if (pool.bytes[k] <= 0 ||
		    pool.bytes[k] < pool.noise[k] * PREATTACH_SIGNIFICANT / PREATTACH_NOISE_Z) {
			pool.bytes[k] = 0;
			continue;
		}
		noise_k[k] = pool.noise[k];
		spend(&pool.bytes[k], left, k, k);
		pool.bytes[k] = fmax(pool.bytes[k] - pool.noise[k], 0);
	}
	/* Then one class (2x) away, and so on. */
	for (d = 1; d < NSIZED; d++)
		for (k = 0; k < NSIZED; k++) {
			if (k >= d)
				spend(&pool.bytes[k], left, k - d, k + d < NSIZED ? k + d : k - d);
			else if (k + d < NSIZED)
				spend(&pool.bytes[k], left, k + d, k + d);
		}
	/* Frees of unknown size balance blocks: the rises' blocks left, at their own size. */
	for (k = 0; k < NSIZED; k++)
		if (rise[k] > 0)
			demand += blocks[k] * left[k] / rise[k];
	if (demand > 0 && pool.count[SAMPLE_FREE_UNSIZED] > 0) {
		f = fmin(pool.count[SAMPLE_FREE_UNSIZED] / demand, 1);
		for (k = 0; k < NSIZED; k++)
			left[k] -= f * left[k];
	}
	for (i = 0; i < w->nstacks; i++) {
		const struct stack_delta *sd = &w->stacks[i];

		if (!rising_alloc(sd))
			continue;
		k = class_of(mean_block(sd));
		explained[i] = llround((double)sd->bytes_delta * (1 - left[k] / rise[k]));
		/* Its part of the class's noise: the estimate may be short or long by that much. */
		noise[i] = noise_k[k] * (double)sd->bytes_delta / rise[k];
	}
}
