// SPDX-License-Identifier: GPL-2.0-only
/* chunk_steps: memory growing in bursts of equal steps of a quantum (64 KiB chunk pools). */
#include "analyzer/detect.h"
#include "lib/units.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * The quantum is the most common exact growth size of the window (mmap
 * lengths, mremap growth) when it occurs at least STEP_MIN_STEPS times and carries half of that growth;
 * else STEP_QUANTUM (64 KiB). The RSS of each malloc-area region (heap,
 * arenas, anonymous maps) is then cut at every tick: a tick that grew by n
 * quanta, give or take one page (a chunk's header spilling into the next
 * page), is a burst of n steps. Growth that merely averages a multiple of the
 * quantum lands anywhere between. A tick sampled while the program was still
 * writing its chunks (a busy machine preempts it there) sees part of a burst,
 * and the next tick the rest: a tick off the quantum whose sum with the next
 * growing tick is on it makes one burst with that tick. Only pairs, and at
 * most one burst in STEP_SPLIT_EVERY so made: uneven growth also sums to a
 * multiple by chance, the likelier the more ticks may be summed.
 * Regions are taken one by one first (at most
 * STEP_MAX_REGIONS, those that grew most): another region growing at the same
 * time, such as a thread's arena, would otherwise blur the steps and hide
 * them. When no region shows steps on its own, the regions' sum is tried, for
 * a pool whose chunks come from several arenas.
 * Growth at any other rate also lands on a multiple now and then: a tick's
 * growth in pages, taken modulo the quantum, is one of the three accepted
 * residues (-1, 0, +1 page) with probability 3 pages / quantum when nothing
 * ties it to the quantum. The bursts must be more than that chance makes: of
 * the window's tries (each tick that grew, and each pair tried), the chance of
 * as many landing on a multiple must be below STEP_CHANCE (binomial tail). A
 * leak of 1000-byte blocks growing 109-130 pages a tick landed on a multiple
 * of 64 KiB in 22% of its ticks (chance: 19%). For 64 KiB, 4 tries of 4
 * (0.0012) are not enough, 5 of 5 (0.0002) are.
 * Threshold: at least STEP_MIN_BURSTS bursts, STEP_MIN_STEPS steps, steps
 * making STEP_SHARE of the growth, no burst larger than a third of the steps'
 * bytes (a doubling buffer's last step is half of it), bursts beyond chance,
 * in this window and in the one before it. The quantum is the candidate
 * tested, never the bursts' common multiple: a loop overflowing its pool by
 * the same number of chunks every time makes bursts of equal size (31 chunks
 * of 64 KiB each second), and ticks landing on multiples of 64 KiB that often
 * are what chance cannot do. An exact quantum above STEP_MAX_QUANTUM is growth
 * in large blocks (a slab allocator's pages, big buffers), not a chunk pool.
 */
#define STEP_QUANTUM ((int64_t)64 << 10)
#define STEP_MAX_QUANTUM ((int64_t)1 << 20)
#define STEP_MIN_BURSTS 3
#define STEP_MIN_STEPS 4
#define STEP_SHARE 0.75
#define STEP_PAGE 4096
#define STEP_SPLIT_EVERY 4
#define STEP_CHANCE 1e-3
#define MAX_SIZES 256
#define STEP_MAX_REGIONS 8

struct size_count {
	int64_t size;
	int64_t count;
	uint64_t stack;		/* the stack of the last event of this size */
};

/*
 * brk increments are left out: glibc extends [heap] by the request plus its
 * own padding, so any heap growth of small objects arrives in equal brk steps
 * that say nothing about the program's chunks.
 */
static bool growth_kind(uint8_t k)
{
	return k == GROWTH_MMAP || k == GROWTH_MREMAP;
}

/* The exact quantum from events, with its net count and a stack; 0 when none stands out. */
static int64_t exact_quantum(const struct window *w, int64_t *net, uint64_t *stack)
{
	struct size_count sizes[MAX_SIZES];
	int64_t total = 0;
	size_t n = 0, i, t, best = 0;

	for (t = 1; t < w->nticks; t++) {
		const struct sample *s = w->ticks[t];

		for (i = 0; i < s->nevents; i++) {
			const struct growth_event *e = &s->events[i];
			size_t k;

			if (!growth_kind(e->kind) || e->bytes < STEP_PAGE)
				continue;
			total += e->bytes;
			for (k = 0; k < n && sizes[k].size != e->bytes; k++)
				;
			if (k == n) {
				if (n == MAX_SIZES)
					continue;
				sizes[n++] = (struct size_count){ .size = e->bytes };
			}
			sizes[k].count++;
			if (e->stack_id)
				sizes[k].stack = e->stack_id;
		}
	}
	for (i = 1; i < n; i++)
		if (sizes[i].count > sizes[best].count)
			best = i;
	if (!n || sizes[best].count < STEP_MIN_STEPS || sizes[best].count * sizes[best].size * 2 < total)
		return 0;
	/* Steps given back (munmap of the same size) are churn, not growth. */
	*net = sizes[best].count;
	for (t = 1; t < w->nticks; t++)
		for (i = 0; i < w->ticks[t]->nevents; i++)
			if (w->ticks[t]->events[i].kind == GROWTH_MUNMAP &&
			    w->ticks[t]->events[i].bytes == -sizes[best].size)
				(*net)--;
	*stack = sizes[best].stack;
	return sizes[best].size;
}

static bool malloc_area(uint8_t kind)
{
	return kind == REGION_HEAP || kind == REGION_ARENA || kind == REGION_ANON;
}

/* The RSS of region `only` in a tick (0 when absent), or of every malloc-area region when NULL. */
static int64_t area_rss(const struct sample *s, const struct region_delta *only)
{
	int64_t sum = 0;
	size_t i;

	for (i = 0; i < s->nregions; i++) {
		const struct region *r = &s->regions[i];

		if (only ? r->kind == only->kind && strcmp(r->name, only->name) == 0
			 : malloc_area(r->kind))
			sum += (int64_t)r->rss;
	}
	return sum;
}

/* The number of quanta `d` is, give or take a page; 0 when it is none. */
static int64_t quanta(int64_t d, int64_t q)
{
	int64_t n = (d + q / 2) / q;

	return n >= 1 && llabs(d - n * q) <= STEP_PAGE ? n : 0;
}

struct steps {
	int64_t quantum, steps, bursts, tries, step_bytes, growth;
	double chance;		/* of as many bursts by chance: below STEP_CHANCE */
	bool exact;
};

/* The chance that growth unrelated to quantum q lands on a multiple in `hits` of `tries` or more. */
static double chance(int64_t hits, int64_t tries, int64_t q)
{
	double p = 3.0 * STEP_PAGE / (double)q, tail = 0, all = lgamma((double)tries + 1);
	int64_t k;

	if (p >= 1)
		return 1;
	for (k = hits; k <= tries; k++)
		tail += exp(all - lgamma((double)k + 1) - lgamma((double)(tries - k) + 1) +
			    (double)k * log(p) + (double)(tries - k) * log1p(-p));
	return tail;
}

/*
 * Cuts the window's ticks into bursts of quanta, for region `only` or for the
 * malloc area as a whole (NULL). Returns true when the pattern holds.
 */
static bool find_steps(const struct window *w, int64_t q, const struct region_delta *only,
		       struct steps *st)
{
	int64_t prev = -1, biggest = 0, part = 0, split = 0;
	size_t t;

	memset(st, 0, sizeof(*st));
	st->quantum = q;
	for (t = 0; t < w->nticks; t++) {
		int64_t cur, d, n;

		if (!w->ticks[t]->has_regions)
			continue;
		cur = area_rss(w->ticks[t], only);
		d = prev < 0 ? 0 : cur - prev;
		prev = cur;
		if (d <= 0) {
			part = 0;
			continue;
		}
		st->growth += d;
		n = quanta(d, q);
		st->tries++;
		if (!n && part) {
			/* The rest of a burst that the last tick saw begin. */
			n = quanta(part + d, q);
			st->tries++;
			split += n != 0;
		}
		part = n ? 0 : d;
		if (!n)
			continue;
		st->bursts++;
		st->steps += n;
		st->step_bytes += n * q;
		if (n > biggest)
			biggest = n;
	}
	st->chance = chance(st->bursts, st->tries, q);
	return st->bursts >= STEP_MIN_BURSTS && st->steps >= STEP_MIN_STEPS &&
	       (double)st->step_bytes >= STEP_SHARE * (double)st->growth &&
	       biggest * 3 <= st->steps && split * STEP_SPLIT_EVERY <= st->bursts &&
	       st->chance < STEP_CHANCE;
}

/* The region that grew most among the malloc-area kinds. */
static const char *grown_region(const struct window *w)
{
	const struct region_delta *best = NULL;
	size_t i;

	for (i = 0; i < w->nregions; i++) {
		const struct region_delta *d = &w->regions[i];

		if (malloc_area(d->kind) && (!best || d->rss_delta > best->rss_delta))
			best = d;
	}
	return best ? best->name : "memory";
}

/*
 * The region whose steps carry the most bytes, with its steps in *st; else
 * the malloc area as a whole when the pattern holds there (*region names the
 * region that grew most). Returns false when neither holds.
 */
static bool best_steps(const struct window *w, int64_t q, struct steps *st, const char **region)
{
	struct steps cand;
	size_t i, tried = 0;
	bool found = false;

	/* The window sorts regions by the size of their change: the first that grew lead. */
	for (i = 0; i < w->nregions && tried < STEP_MAX_REGIONS; i++) {
		const struct region_delta *d = &w->regions[i];

		if (!malloc_area(d->kind) || d->rss_delta <= 0)
			continue;
		tried++;
		if (find_steps(w, q, d, &cand) && (!found || cand.step_bytes > st->step_bytes)) {
			*st = cand;
			*region = d->name;
			found = true;
		}
	}
	if (!found && find_steps(w, q, NULL, st)) {
		*region = grown_region(w);
		found = true;
	}
	return found;
}

static const struct stack_stat *stack_by_id(const struct sample *s, uint64_t id)
{
	size_t i;

	for (i = 0; id && i < s->nstacks; i++)
		if (s->stacks[i].id == id)
			return &s->stacks[i];
	return NULL;
}

int detect_chunk_steps(struct analyzer *a, struct window *w)
{
	const struct win_record *p = detect_prev(a, 0);
	const struct stack_stat *stack;
	int64_t q, net = 0;
	uint64_t stack_id = 0;
	char b1[24], b2[24], b3[24];
	const char *region = NULL;
	struct steps st;
	struct finding *f;

	q = exact_quantum(w, &net, &stack_id);
	if (q && (net < STEP_MIN_STEPS || q > STEP_MAX_QUANTUM))
		return 0;
	if (!best_steps(w, q ? q : STEP_QUANTUM, &st, &region))
		return 0;
	st.exact = q != 0;
	a->cur.steps = true;
	if (!p || !p->steps)
		return 0;
	f = detect_add(w, FINDING_CHUNK_STEPS, SEV_WARN);
	if (!f)
		return -ENOMEM;
	a->cur.steps_reported = true;
	finding_set_summary(f, "%s grew %s in %lld steps of %s (%lld bursts; quantum from %s); a loop "
			       "filling fresh %s chunks? Use one growable buffer or reuse the chunks",
			    region, units_bytes(b1, sizeof(b1), (double)st.step_bytes),
			    (long long)(st.step_bytes / st.quantum),
			    units_bytes(b2, sizeof(b2), (double)st.quantum), (long long)st.bursts,
			    st.exact ? "exact growth sizes" : "region RSS",
			    units_bytes(b3, sizeof(b3), (double)st.quantum));
	if (!f->summary || finding_add_int(f, EVK_QUANTUM, st.quantum) ||
	    finding_add_int(f, EVK_STEPS, st.step_bytes / st.quantum) ||
	    finding_add_int(f, EVK_BURSTS, st.bursts) || finding_add_int(f, EVK_TRIES, st.tries) ||
	    finding_add_real(f, EVK_CHANCE, st.chance) || finding_add_int(f, EVK_BYTES, st.step_bytes) ||
	    finding_add_int(f, EVK_GROWTH, st.growth) ||
	    finding_add_str(f, EVK_QUANTUM_SOURCE, st.exact ? "events" : "rss") ||
	    finding_add_str(f, EVK_REGION, region))
		return -ENOMEM;
	stack = stack_by_id(w->end, stack_id);
	if (stack && finding_set_stack(f, stack))
		return -ENOMEM;
	return 0;
}
