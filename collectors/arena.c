// SPDX-License-Identifier: GPL-2.0-only
/* Reads a glibc target's arenas into a sample: frozen for the free lists, or fixed fields only. */
#include "collectors/arena.h"
#include "lib/vec.h"
#include "collectors/arena_decode.h"
#include "collectors/arena_locate.h"
#include "collectors/freeze.h"
#include "lib/log.h"
#include "collectors/procmem.h"
#include "lib/clock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TLS_SCAN 16384u		/* bytes below a thread pointer searched for `tcache` */
#define FREEZE_ATTEMPTS 3	/* when an arena lock is held or a list is mid-update */
#define REREADS 3		/* unfrozen reads failing the consistency check */
#define PAGE 4096u

struct range {
	uint64_t lo, hi;
	uint64_t *bits;		/* residency, one bit per page */
};

/* One arena during one read. */
struct acc {
	struct arena_fixed fx;
	bool main;
	struct range *ranges;
	size_t nranges, cap;
	uint64_t rss;
	struct arena_walk_result walk;
	uint64_t tcache;
	uint64_t reclaimable;
	bool walked;
};

struct arena_reader {
	int pid;
	struct arena_opts o;
	struct procmem *mem;
	struct mem_reader mr;
	struct freezer *fz;
	struct arena_target tgt;
	bool located;		/* tried again at every read until it succeeds */
	bool warned_locate, warned_freeze;
	uint64_t tls_off;	/* `tcache` is at thread pointer minus this; 0 unknown */
	/*
	 * Test hook (MEMSLEUTH_TEST_FREEZE_HOLD_MS): stay frozen this long, bounded
	 * like any freeze, so that tests can kill memsleuth while the target is stopped.
	 */
	double hold_s;
	struct acc *accs;
	size_t nacc, acc_cap;
};

struct arena_reader *arena_reader_new(int pid, const struct arena_opts *o)
{
	struct arena_reader *r = calloc(1, sizeof(*r));
	const char *hold = getenv("MEMSLEUTH_TEST_FREEZE_HOLD_MS");

	if (!r)
		return NULL;
	r->pid = pid;
	r->o = *o;
	if (r->o.freeze_max_s <= 0)
		r->o.freeze_max_s = ARENA_FREEZE_MAX_S;
	r->mem = procmem_new(pid);
	r->fz = freezer_new(pid);
	if (!r->mem || !r->fz) {
		arena_reader_free(r);
		return NULL;
	}
	r->mr.read = procmem_read;
	r->mr.ctx = r->mem;
	if (hold)
		r->hold_s = atof(hold) / 1000.0;
	return r;
}

static void clear_accs(struct arena_reader *r)
{
	size_t i, j;

	for (i = 0; i < r->nacc; i++) {
		for (j = 0; j < r->accs[i].nranges; j++)
			free(r->accs[i].ranges[j].bits);
		free(r->accs[i].ranges);
	}
	r->nacc = 0;
}

void arena_reader_free(struct arena_reader *r)
{
	if (!r)
		return;
	freezer_free(r->fz);
	clear_accs(r);
	free(r->accs);
	procmem_free(r->mem);
	free(r);
}

static int add_range(struct arena_reader *r, struct acc *a, uint64_t lo, uint64_t hi)
{
	struct range *g;
	long n;

	lo &= ~(uint64_t)(PAGE - 1);
	hi = (hi + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	if (hi <= lo)
		return 0;
	g = VEC_PUSH(a->ranges, a->nranges, a->cap);
	if (!g)
		return -ENOMEM;
	g->lo = lo;
	g->hi = hi;
	g->bits = calloc(((hi - lo) / PAGE + 63) / 64, sizeof(uint64_t));
	if (!g->bits)
		return -ENOMEM;
	n = procmem_resident(r->mem, lo, hi, g->bits);
	if (n > 0)
		a->rss += (uint64_t)n * PAGE;
	return 0;
}

struct heap_ctx {
	struct arena_reader *r;
	struct acc *a;
	int err;
};

static void on_heap(void *ctx, uint64_t start, uint64_t size)
{
	struct heap_ctx *hc = ctx;

	if (!hc->err)
		hc->err = add_range(hc->r, hc->a, start, start + size);
}

/* The bytes the target maps (0 when unknown): no arena's memory is larger. */
static uint64_t mapped_bytes(const struct vma_list *l)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; l && i < l->n; i++)
		sum += l->v[i].end - l->v[i].start;
	return sum;
}

/* The committed memory of each arena and its residency. */
static int map_heaps(struct arena_reader *r, struct acc *a, const struct vma_list *vmas)
{
	struct heap_ctx hc = { .r = r, .a = a };
	uint64_t end = a->fx.top + a->fx.top_size, len = a->fx.system, mapped;
	int n;

	if (a->fx.system == 0)
		return 0;
	if (a->main) {
		/*
		 * A system figure larger than all the target maps (garbage, or a
		 * hostile target's) is cut to that: the pagemap is read for what
		 * exists, not for terabytes of address space.
		 */
		mapped = mapped_bytes(vmas);
		if (mapped && len > mapped)
			len = mapped;
		return add_range(r, a, end - len, end);
	}
	n = arena_heaps(&r->tgt.layout, &r->mr, &a->fx, ARENA_MAX_HEAPS, on_heap, &hc);
	if (hc.err)
		return hc.err;
	return n < 0 ? n : 0;
}

static struct acc *acc_of(struct arena_reader *r, uint64_t arena)
{
	size_t i;

	for (i = 0; i < r->nacc; i++)
		if (r->accs[i].fx.addr == arena)
			return &r->accs[i];
	return NULL;
}

/*
 * The top chunk's size of an arena whose lock is held, from the end of its
 * committed memory: its header may be mid-update (or not yet written).
 */
static void busy_top(struct arena_reader *r, struct acc *a, uint64_t sbrk)
{
	uint64_t end;

	if (arena_committed_end(&r->tgt.layout, &r->mr, &a->fx, a->main, sbrk, &end) == 0 &&
	    end > a->fx.top && end - a->fx.top <= a->fx.system)
		a->fx.top_size = end - a->fx.top;
	else
		a->fx.top_size = 0;
}

/*
 * Reads every arena's fixed fields, following `next` from main_arena, and
 * checks each top chunk against the end of its committed memory. Unfrozen, a
 * read torn by a writer is read again a few times; frozen, a failed check
 * means a thread stopped mid-update. Either way, when that arena's lock is
 * held it is listed (walk_frozen skips it and asks for another freeze) and
 * the list goes on: a thread inside malloc, stopped by the freeze in the page
 * fault of a new top's header, would otherwise hide every older arena on
 * every attempt. Its `next` is sound: arenas are linked once, under
 * list_lock, and never unlinked.
 */
static int list_arenas(struct arena_reader *r, const struct vma_list *vmas, bool frozen)
{
	uint64_t addr = r->tgt.main_arena, sbrk = 0;
	int ret = 0, tries;

	clear_accs(r);
	if (r->tgt.mp_sbrk_base)
		r->mr.read(r->mr.ctx, r->tgt.mp_sbrk_base, &sbrk, sizeof(sbrk));
	do {
		struct acc *a;
		bool sane = false;

		if (r->nacc >= ARENA_MAX_ARENAS)
			return -E2BIG;
		/* The ring closes on main_arena: an arena met twice is garbage, not more arenas. */
		if (acc_of(r, addr))
			return -ELOOP;
		a = VEC_PUSH(r->accs, r->nacc, r->acc_cap);
		if (!a)
			return -ENOMEM;
		a->main = r->nacc == 1;
		for (tries = 0; tries < (frozen ? 1 : REREADS); tries++) {
			uint64_t base = sbrk;

			ret = arena_read_fixed(&r->tgt.layout, &r->mr, addr, &a->fx);
			/* Without mp_, the main heap is taken to start where top says it does. */
			if (!ret && a->main && !base)
				base = a->fx.top + a->fx.top_size - a->fx.system;
			if (!ret)
				ret = arena_check_top(&r->tgt.layout, &r->mr, &a->fx, a->main, base);
			/* -EAGAIN: the malloc_state made sense, its top did not. */
			sane = ret == 0 || ret == -EAGAIN;
			if (ret == -EINVAL)
				ret = -EAGAIN;
			if (ret != -EAGAIN)
				break;
			procmem_forget(r->mem);
		}
		if (ret == -EAGAIN && sane && a->fx.mutex) {
			busy_top(r, a, sbrk);
			ret = 0;
		}
		if (ret) {
			r->nacc--;
			return ret;
		}
		ret = map_heaps(r, a, vmas);
		if (ret == -ENOMEM)
			return ret;
		addr = a->fx.next;
	} while (addr != r->tgt.main_arena);
	return 0;
}

/* Resident whole pages inside a free chunk: what malloc_trim would hand back (see mtrim). */
static uint64_t resident_inside(const struct acc *a, uint64_t p, uint64_t size)
{
	uint64_t lo = (p + 48 + PAGE - 1) & ~(uint64_t)(PAGE - 1), hi, n = 0, pg;
	size_t i;

	if (p + size <= lo)
		return 0;
	hi = lo + ((p + size - lo) & ~(uint64_t)(PAGE - 1));
	for (i = 0; i < a->nranges; i++) {
		const struct range *g = &a->ranges[i];

		if (lo < g->lo || hi > g->hi)
			continue;
		for (pg = (lo - g->lo) / PAGE; pg < (hi - g->lo) / PAGE; pg++)
			n += (g->bits[pg / 64] >> (pg % 64)) & 1;
		break;
	}
	return n * PAGE;
}

struct chunk_ctx {
	struct arena_reader *r;
	struct acc *a;
};

static void on_chunk(void *ctx, enum free_list where, uint64_t chunk, uint64_t size,
		     uint64_t raw)
{
	struct chunk_ctx *cc = ctx;
	struct acc *a = cc->a;
	uint64_t owner;

	if (where == FREE_BIN) {
		a->reclaimable += resident_inside(a, chunk, size);
		return;
	}
	if (where != FREE_TCACHE)
		return;
	/* A thread caches chunks of whichever arena they came from. */
	if (arena_owner(&cc->r->tgt.layout, &cc->r->mr, chunk, raw, cc->r->tgt.main_arena,
			&owner) == 0 && (a = acc_of(cc->r, owner)))
		a->tcache += size;
}

static bool in_ranges(const struct arena_reader *r, uint64_t p)
{
	size_t i, j;

	for (i = 0; i < r->nacc; i++)
		for (j = 0; j < r->accs[i].nranges; j++)
			if (p >= r->accs[i].ranges[j].lo && p < r->accs[i].ranges[j].hi)
				return true;
	return false;
}

/* Finds the thread's `tcache` pointer: at a known TLS offset, or by searching below tp. */
static uint64_t tcache_of(struct arena_reader *r, uint64_t tp)
{
	uint64_t *words, v = 0;
	size_t i, n = TLS_SCAN / 8;

	if (r->tls_off) {
		if (tp > r->tls_off && r->mr.read(r->mr.ctx, tp - r->tls_off, &v, 8) == 0 &&
		    (!v || arena_tcache_check(&r->tgt.layout, &r->mr, v) == 0))
			return v;
		return 0;
	}
	if (tp < TLS_SCAN || !(words = malloc(TLS_SCAN)))
		return 0;
	if (r->mr.read(r->mr.ctx, tp - TLS_SCAN, words, TLS_SCAN) == 0) {
		/* Closest to tp first: libc's TLS block sits just below the thread pointer. */
		for (i = n; i-- > 0;) {
			v = words[i];
			if (v && v % 16 == 0 && in_ranges(r, v) &&
			    arena_tcache_check(&r->tgt.layout, &r->mr, v) == 0) {
				r->tls_off = TLS_SCAN - i * 8;
				break;
			}
			v = 0;
		}
	}
	free(words);
	return v;
}

/*
 * Walks every free list with the target frozen. Returns 0, -EAGAIN to retry
 * (a lock held or a list mid-update), or another error for a walk cut short
 * (time or chunk budget, unreadable memory): the figures are then partial.
 */
static int walk_frozen(struct arena_reader *r)
{
	uint64_t budget = ARENA_MAX_CHUNKS;
	bool busy = false;
	int ret, first = 0;
	size_t i;

	for (i = 0; i < r->nacc; i++) {
		struct acc *a = &r->accs[i];
		struct chunk_ctx cc = { .r = r, .a = a };

		/*
		 * A held lock means a thread stopped inside malloc: this arena's lists may
		 * be half-written. The other arenas are still walked, for a last attempt.
		 */
		if (a->fx.mutex) {
			busy = true;
			continue;
		}
		ret = arena_walk_bins(&r->tgt.layout, &r->mr, &a->fx, &budget, on_chunk, &cc,
				      &a->walk);
		if (ret == -EAGAIN) {
			busy = true;
			memset(&a->walk, 0, sizeof(a->walk));
			a->reclaimable = 0;
			continue;
		}
		if (ret && !first)
			first = ret;
		a->walked = true;
	}
	for (i = 0; r->tgt.layout.tcache_chunk && i < freezer_nthreads(r->fz); i++) {
		struct arena_walk_result tw = { 0 };
		struct chunk_ctx cc = { .r = r, .a = NULL };
		uint64_t tp, tc;

		if (freezer_thread_pointer(r->fz, i, &tp) || !(tc = tcache_of(r, tp)))
			continue;
		ret = arena_walk_tcache(&r->tgt.layout, &r->mr, tc, &budget, on_chunk, &cc, &tw);
		if (ret == -EAGAIN)
			busy = true;
		else if (ret && !first)
			first = ret;
	}
	return busy ? -EAGAIN : first;
}

static void hold_for_tests(struct arena_reader *r, double t0)
{
	double until = t0 + r->hold_s, limit = t0 + r->o.freeze_max_s;
	struct timespec nap = { 0, 1000 * 1000 };

	if (until > limit)
		until = limit;
	while (clock_mono() < until)
		nanosleep(&nap, NULL);
}

static void warn_no_freeze(struct arena_reader *r, int err, int tracer)
{
	if (r->warned_freeze)
		return;
	r->warned_freeze = true;
	if (err == -EBUSY)
		log_warn("target %d is traced by PID %d (a debugger?): cannot freeze it; arenas "
			 "are read without freezing (fixed fields only)", r->pid, tracer);
	else
		log_warn("cannot freeze target %d: %s (needs CAP_SYS_PTRACE); arenas are read "
			 "without freezing (fixed fields only)", r->pid, strerror(-err));
}

/*
 * Freezes, reads, resumes; again (up to FREEZE_ATTEMPTS) while a lock is held.
 * Returns 0 when a frozen read produced arenas, -1 to fall back to an
 * unfrozen read.
 */
static int read_frozen(struct arena_reader *r, const struct vma_list *vmas, struct sample *s)
{
	struct timespec backoff = { 0, 2 * 1000 * 1000 };
	int attempt, ret = 0, tracer = 0;

	clear_accs(r);
	for (attempt = 0; attempt < FREEZE_ATTEMPTS; attempt++) {
		double t0 = clock_mono(), took;

		ret = freezer_stop(r->fz, r->o.freeze_max_s / 2, &tracer);
		if (ret)
			break;
		procmem_forget(r->mem);
		procmem_set_deadline(r->mem, t0 + r->o.freeze_max_s);
		if (r->hold_s > 0)
			hold_for_tests(r, t0);
		ret = list_arenas(r, vmas, true);
		if (ret == 0)
			ret = walk_frozen(r);
		freezer_thaw(r->fz);
		took = clock_mono() - t0;
		procmem_set_deadline(r->mem, 0);
		procmem_forget(r->mem);
		if (took * 1e6 > s->freeze_us)
			s->freeze_us = (uint32_t)(took * 1e6);
		if (ret != -EAGAIN)
			break;
		nanosleep(&backoff, NULL);
		backoff.tv_nsec *= 2;
	}
	if (ret == -EBUSY || ret == -EPERM)
		warn_no_freeze(r, ret, tracer);
	else if (ret != -ETIMEDOUT || r->nacc)
		r->warned_freeze = false;
	if (ret == -ENOMEM || r->nacc == 0 || ret == -EBUSY || ret == -EPERM || ret == -ESRCH)
		return -1;
	/* A walk still racing a writer after every attempt is reported as incomplete. */
	s->arenas_frozen = true;
	s->arenas_complete = ret == 0;
	return 0;
}

static int locate(struct arena_reader *r, const struct vma_list *vmas)
{
	char why[256];
	int ret;

	procmem_forget(r->mem);
	ret = arena_locate(r->pid, vmas, &r->mr, r->o.debuginfo, &r->tgt, why, sizeof(why));
	if (ret) {
		if (!r->warned_locate)
			log_info("glibc arenas not read: %s", why);
		r->warned_locate = true;
		return ret;
	}
	log_debug("glibc 2.%u: main_arena at 0x%llx (%s)", r->tgt.glibc_minor,
		  (unsigned long long)r->tgt.main_arena,
		  r->tgt.from_debuginfo ? "debug info" : "found by scanning libc's data");
	r->located = true;
	return 0;
}

static int fill(struct arena_reader *r, struct sample *s)
{
	size_t i;

	for (i = 0; i < r->nacc; i++) {
		const struct acc *a = &r->accs[i];
		struct arena_stat *st = sample_add_arena(s);

		if (!st)
			return -ENOMEM;
		st->addr = a->fx.addr;
		st->main = a->main;
		st->threads = (uint32_t)a->fx.attached;
		st->nheaps = (uint32_t)a->nranges;
		st->system = a->fx.system;
		st->max_system = a->fx.max_system;
		st->top = a->fx.top_size;
		st->rss = a->rss;
		st->walked = a->walked;
		if (a->walked) {
			/*
			 * Free chunks lie in the arena's memory outside top: as the bin
			 * walk does, cap the tcaches (garbage or a chunk on two lists) to
			 * what is left of it.
			 */
			uint64_t room = a->fx.system > a->fx.top_size ? a->fx.system - a->fx.top_size : 0;
			uint64_t binned = a->walk.bin_bytes + a->walk.fast_bytes;

			st->tcache = binned + a->tcache <= room ? a->tcache
				   : room > binned ? room - binned : 0;
			st->free = binned + st->tcache;
			st->reclaimable = a->reclaimable;
			/* Without exact live bytes, live = system - top - free, so (A) = free / system. */
			st->fragmentation = a->fx.system ? (double)st->free / (double)a->fx.system : 0;
		}
	}
	s->has_arenas = r->nacc > 0;
	s->arenas_debuginfo = r->tgt.from_debuginfo;
	s->glibc_minor = (uint16_t)r->tgt.glibc_minor;
	return 0;
}

void arena_reader_release(struct arena_reader *r)
{
	freezer_thaw(r->fz);
}

int arena_reader_read(struct arena_reader *r, const struct vma_list *vmas, struct sample *s)
{
	int64_t mmapped;
	size_t i;
	int ret = 0;

	freezer_thaw(r->fz);
	if (!r->located && locate(r, vmas))
		return 0;
	if (!r->o.freeze || read_frozen(r, vmas, s) != 0) {
		s->arenas_frozen = false;
		s->arenas_complete = false;
		procmem_forget(r->mem);
		ret = list_arenas(r, vmas, false);
		for (i = 0; i < r->nacc; i++)
			r->accs[i].walked = false;
	}
	if (ret == -ENOMEM)
		return ret;
	if (r->nacc == 0) {
		/* main_arena no longer reads as one (exec, or a wrong guess): locate again. */
		r->located = false;
		return 0;
	}
	if (r->tgt.mp_mmapped_mem &&
	    r->mr.read(r->mr.ctx, r->tgt.mp_mmapped_mem, &mmapped, sizeof(mmapped)) == 0 &&
	    mmapped >= 0)
		s->malloc_mmapped = mmapped;
	procmem_forget(r->mem);
	return fill(r, s);
}
