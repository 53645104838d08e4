// SPDX-License-Identifier: GPL-2.0-only
/* leak: allocation stacks whose outstanding bytes keep rising, window after window. */
#include "analyzer/detect.h"
#include "analyzer/preattach.h"
#include "lib/units.h"

#include <errno.h>
#include <stdlib.h>

/*
 * Threshold: a stack of kind alloc (malloc family, --alloc) or mmap whose
 * outstanding bytes rose by at least LEAK_MIN_RISE and by 1% of what it holds,
 * in each of LEAK_MIN_RUN consecutive windows. A cache that fills and then
 * churns rises in one window and then stays flat; steady churn nets zero.
 * Critical when the rise rate is at least LEAK_CRITICAL_PER_HOUR.
 * At most LEAK_MAX_FINDINGS stacks are reported per window, largest first.
 *
 * Memory allocated before --alloc attached has no record, so a bounded cache
 * filled before attach looks like a leak: each insert is recorded, the
 * eviction it causes frees an old entry that matches nothing, and the insert
 * stack "holds more" in every window until the whole cache has turned over.
 * So an alloc stack's rise counts only beyond what pre-attach memory freed in
 * the same window balances (analyzer/preattach.h: estimated from the
 * unmatched frees beyond those the records expect, matched to the rises by
 * size class). The same threshold then applies to what is left: a window
 * whose recorded growth is within LEAK_MIN_RISE (or 1%) of the pre-attach
 * bytes freed is steady state. In exact mode both sides are counted, so a
 * cache that evicts one entry per insert leaves at most an entry or two of
 * difference at the window's edges, far below 16 KiB; sampled figures keep
 * their sampling noise. What the balance can hide is bounded by the
 * pre-attach bytes freed: live bytes did not grow by that much.
 */
#define LEAK_MIN_RISE ((int64_t)16 << 10)
#define LEAK_MIN_RUN 2
#define LEAK_CRITICAL_PER_HOUR ((double)(100u << 20))
#define LEAK_MAX_FINDINGS 5

static uint64_t key_of(const struct stack_stat *s)
{
	return s->id * 8 + s->kind;
}

static struct stack_trend *trend_of(struct analyzer *a, uint64_t key)
{
	size_t at = idmap_get(&a->stack_index, key);
	struct stack_trend *t;

	if (at != SIZE_MAX)
		return &a->stacks[at];
	if (a->nstacks >= HIST_STACKS)
		return NULL;
	if (a->nstacks == a->stacks_cap) {
		size_t cap = a->stacks_cap ? a->stacks_cap * 2 : 64;
		struct stack_trend *n = realloc(a->stacks, cap * sizeof(*n));

		if (!n)
			return NULL;
		a->stacks = n;
		a->stacks_cap = cap;
	}
	if (idmap_put(&a->stack_index, key, a->nstacks))
		return NULL;
	t = &a->stacks[a->nstacks++];
	*t = (struct stack_trend){ .key = key };
	return t;
}

/* Drops stacks not seen in the last window, so the table stays bounded. */
static int prune(struct analyzer *a, uint32_t window)
{
	size_t i, kept = 0;
	int ret = 0;

	if (a->nstacks < HIST_STACKS)
		return 0;
	idmap_free(&a->stack_index);
	for (i = 0; i < a->nstacks; i++) {
		if (a->stacks[i].last_window + 1 < window)
			continue;
		a->stacks[kept] = a->stacks[i];
		if (idmap_put(&a->stack_index, a->stacks[kept].key, kept))
			ret = -ENOMEM;
		kept++;
	}
	a->nstacks = kept;
	return ret;
}

/* Reports stack `d` as a leak, and adds what it holds to the verdict's figures in a->cur. */
static int report(struct analyzer *a, struct window *w, const struct stack_delta *d,
		  const struct stack_trend *t, int64_t preattach)
{
	const struct stack_stat *s = d->cur;
	double rate = t->run_s > 0 ? (double)t->run_bytes / t->run_s : 0;
	/* Allocations a full map could not record are missing from the figures. */
	bool lower = s->kind == STACK_ALLOC && w->end->has_alloc && w->end->alloc.lost;
	char b1[24], b2[24], b3[24];
	struct finding *f;
	int64_t held;

	f = detect_add(w, FINDING_LEAK, rate * 3600 >= LEAK_CRITICAL_PER_HOUR ? SEV_CRITICAL : SEV_WARN);
	if (!f)
		return -ENOMEM;
	finding_set_summary(f, "%s from %s holds %s%s more over %u windows (%s/min, %s and %lld "
			       "blocks outstanding): memory allocated here is not freed",
			    s->kind == STACK_MMAP ? "mmap" : "malloc",
			    /* Past the allocator and its wrappers: the code that allocated. */
			    stack_stat_site(s),
			    lower ? "at least " : "",
			    units_bytes(b1, sizeof(b1), (double)t->run_bytes), t->run,
			    units_bytes(b2, sizeof(b2), rate * 60),
			    units_bytes(b3, sizeof(b3), (double)s->bytes), (long long)s->count);
	if (!f->summary || finding_set_stack(f, s) ||
	    finding_add_str(f, EVK_STACK_KIND, stack_kind_name((enum stack_kind)s->kind)) ||
	    finding_add_int(f, EVK_ALLOC, s->kind == STACK_ALLOC) ||
	    finding_add_int(f, EVK_LOWER_BOUND, lower) ||
	    finding_add_int(f, EVK_STACK_ID, (int64_t)s->id) ||
	    finding_add_int(f, EVK_BYTES, s->bytes) || finding_add_int(f, EVK_COUNT, s->count) ||
	    finding_add_int(f, EVK_BYTES_DELTA, d->bytes_delta) ||
	    finding_add_int(f, EVK_PREATTACH_BYTES, preattach) ||
	    finding_add_int(f, EVK_RUN_BYTES, t->run_bytes) ||
	    finding_add_int(f, EVK_WINDOWS, t->run) || finding_add_real(f, EVK_BYTES_PER_S, rate))
		return -ENOMEM;
	/* What pre-attach memory freed balances is not the leak's. */
	held = d->bytes_delta - preattach > 0 ? d->bytes_delta - preattach : 0;
	a->cur.leak_bytes += held;
	if (s->kind == STACK_ALLOC)
		a->cur.leak_alloc_bytes += held;
	return 0;
}

int detect_leak(struct analyzer *a, struct window *w)
{
	/* Trends are kept by position: the table may move while it grows. */
	const struct stack_delta *hits[LEAK_MAX_FINDINGS] = { NULL };
	size_t trends[LEAK_MAX_FINDINGS] = { 0 }, i, k, nhits = 0;
	int64_t *explained = calloc(w->nstacks ? w->nstacks : 1, sizeof(*explained));
	int64_t pre[LEAK_MAX_FINDINGS] = { 0 };
	int ret = 0;

	if (!explained)
		return -ENOMEM;
	preattach_balance(w, explained);
	for (i = 0; i < w->nstacks; i++) {
		const struct stack_delta *d = &w->stacks[i];
		int64_t need, rise = d->bytes_delta - explained[i];
		struct stack_trend *t;

		if (!d->cur || (d->cur->kind != STACK_ALLOC && d->cur->kind != STACK_MMAP))
			continue;
		t = trend_of(a, key_of(d->cur));
		if (!t)
			continue;	/* the table is full: this stack is not followed */
		need = d->cur->bytes / 100 > LEAK_MIN_RISE ? d->cur->bytes / 100 : LEAK_MIN_RISE;
		if (rise >= need && (t->run == 0 || t->last_window + 1 == w->index)) {
			t->run++;
			t->run_bytes += rise;
			t->run_s += w->window_s;
		} else if (rise >= need) {
			t->run = 1;
			t->run_bytes = rise;
			t->run_s = w->window_s;
		} else {
			t->run = 0;
			t->run_bytes = 0;
			t->run_s = 0;
		}
		t->last_window = w->index;
		if (t->run < LEAK_MIN_RUN)
			continue;
		/* Keep the largest risers, in order. */
		for (k = 0; k < LEAK_MAX_FINDINGS; k++) {
			if (!hits[k] || t->run_bytes > a->stacks[trends[k]].run_bytes) {
				size_t m;

				for (m = LEAK_MAX_FINDINGS - 1; m > k; m--) {
					hits[m] = hits[m - 1];
					trends[m] = trends[m - 1];
					pre[m] = pre[m - 1];
				}
				hits[k] = d;
				trends[k] = (size_t)(t - a->stacks);
				pre[k] = explained[i];
				if (nhits < LEAK_MAX_FINDINGS)
					nhits++;
				break;
			}
		}
	}
	free(explained);
	for (k = 0; k < nhits && !ret; k++)
		ret = report(a, w, hits[k], &a->stacks[trends[k]], pre[k]);
	return ret ? ret : prune(a, w->index);
}
