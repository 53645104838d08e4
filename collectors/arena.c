// SPDX-License-Identifier: GPL-2.0-only
/* Reads a glibc target's arenas into a sample: frozen for the free lists, or fixed fields only. */
#include "collectors/arena.h"
#include "collectors/arena_chain.h"
#include "collectors/arena_decode.h"
#include "collectors/arena_locate.h"
#include "collectors/arena_parse.h"
#include "collectors/freeze.h"
#include "collectors/procmem.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/vec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TLS_SCAN 16384u		/* bytes below a thread pointer searched for `tcache` */
/*
 * Freezes per read: an arena whose parse raced the target (a heap that moved,
 * a fastbin rewritten since its head was read) is captured and parsed again.
 */
#define FREEZE_ATTEMPTS 3
#define REREADS 3		/* unfrozen reads failing the consistency check */
#define PAGE 4096u
/* A bound on the unfrozen parse of one read (an 8 GiB heap takes ~1.5 s). */
#define PARSE_MAX_S 30.0

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
	struct arena_parser parser;
	struct arena_acc *accs;		/* the figures of this read so far */
	size_t nacc, acc_cap;
	struct arena_acc *round;	/* what the latest freeze captured */
	size_t nround, round_cap;
	bool tcache_ok;			/* every thread's tcache was walked to its end */
};

struct arena_reader *arena_reader_new(int pid, int dirfd, const struct arena_opts *o)
{
	struct arena_reader *r = calloc(1, sizeof(*r));
	const char *hold = getenv("MEMSLEUTH_TEST_FREEZE_HOLD_MS");
	const char *stop = getenv("MEMSLEUTH_TEST_PARSE_STOP");

	if (!r)
		return NULL;
	r->pid = pid;
	r->o = *o;
	if (r->o.freeze_max_s <= 0)
		r->o.freeze_max_s = ARENA_FREEZE_MAX_S;
	r->mem = procmem_new(pid, dirfd);
	r->fz = freezer_new(pid, dirfd);
	if (!r->mem || !r->fz) {
		arena_reader_free(r);
		return NULL;
	}
	r->mr.read = procmem_read;
	r->mr.readv = procmem_readv;
	r->mr.ctx = r->mem;
	r->parser.layout = &r->tgt.layout;
	r->parser.mem = r->mem;
	r->parser.mr = &r->mr;
	if (hold)
		r->hold_s = atof(hold) / 1000.0;
	if (stop)
		r->parser.stop_before_view = atol(stop);
	return r;
}

static void clear_accs(struct arena_acc *v, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++)
		arena_acc_clear(&v[i]);
	*n = 0;
}

void arena_reader_free(struct arena_reader *r)
{
	if (!r)
		return;
	freezer_free(r->fz);
	clear_accs(r->accs, &r->nacc);
	clear_accs(r->round, &r->nround);
	free(r->accs);
	free(r->round);
	arena_parser_free(&r->parser);
	procmem_free(r->mem);
	free(r);
}

static int add_range(struct arena_acc *a, uint64_t lo, uint64_t hi, uint64_t first)
{
	struct arena_range *g;

	if (hi <= lo)
		return 0;
	g = VEC_PUSH(a->ranges, a->nranges, a->cap);
	if (!g)
		return -ENOMEM;
	g->lo = lo;
	g->hi = hi;
	g->first = first;
	return 0;
}

static void on_heap(void *ctx, uint64_t start, uint64_t size)
{
	struct arena_acc *a = ctx;

	/* Only ENOMEM fails: the heap is then missing, and its chain never reached. */
	if (add_range(a, start, start + size, 0))
		a->unread += size;
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

/* The committed memory of each arena. */
static int map_heaps(struct arena_reader *r, struct arena_acc *a, const struct vma_list *vmas)
{
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
		/* Pagemap is read by page; the chain starts at mp_.sbrk_base, which need not be one. */
		return add_range(a, (end - len) & ~(uint64_t)(PAGE - 1), end,
				 arena_heap_first(&r->tgt.layout, end - len, a->fx.addr, true));
	}
	n = arena_heaps(&r->tgt.layout, &r->mr, &a->fx, ARENA_MAX_HEAPS, on_heap, a);
	if (a->unread)
		return -ENOMEM;
	return n < 0 ? n : 0;
}

static struct arena_acc *acc_of(struct arena_acc *v, size_t n, uint64_t arena)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].fx.addr == arena)
			return &v[i];
	return NULL;
}

/*
 * The top chunk's size of an arena whose lock is held, from the end of its
 * committed memory: its header may be mid-update (or not yet written).
 */
static void busy_top(struct arena_reader *r, struct arena_acc *a, uint64_t sbrk)
{
	uint64_t end;

	if (arena_committed_end(&r->tgt.layout, &r->mr, &a->fx, a->main, sbrk, &end) == 0 &&
	    end > a->fx.top && end - a->fx.top <= a->fx.system)
		a->fx.top_size = end - a->fx.top;
	else
		a->fx.top_size = 0;
}

/*
 * Reads every arena's fixed fields into r->round, following `next` from
 * main_arena, and checks each top chunk against the end of its committed
 * memory. Unfrozen, a read torn by a writer is read again a few times;
 * frozen, a failed check means a thread stopped mid-update. Either way, when
 * that arena's lock is held its top is taken from its committed memory and
 * the list goes on: a thread inside malloc, stopped by the freeze in the page
 * fault of a new top's header, would otherwise hide every older arena on
 * every attempt. Its `next` is sound: arenas are linked once, under
 * list_lock, and never unlinked.
 */
static int list_arenas(struct arena_reader *r, const struct vma_list *vmas, bool frozen)
{
	uint64_t addr = r->tgt.main_arena, sbrk = 0;
	int ret = 0, tries;

	clear_accs(r->round, &r->nround);
	if (r->tgt.mp_sbrk_base)
		r->mr.read(r->mr.ctx, r->tgt.mp_sbrk_base, &sbrk, sizeof(sbrk));
	do {
		struct arena_acc *a;
		bool sane = false;

		if (r->nround >= ARENA_MAX_ARENAS)
			return -E2BIG;
		/* The ring closes on main_arena: an arena met twice is garbage, not more arenas. */
		if (acc_of(r->round, r->nround, addr))
			return -ELOOP;
		a = VEC_PUSH(r->round, r->nround, r->round_cap);
		if (!a)
			return -ENOMEM;
		a->main = r->nround == 1;
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
			r->nround--;
			return ret;
		}
		ret = map_heaps(r, a, vmas);
		if (ret == -ENOMEM)
			return ret;
		arena_fastbin_lists(&r->tgt.layout, &a->fx, a->fast);
		addr = a->fx.next;
	} while (addr != r->tgt.main_arena);
	return 0;
}

/* The arena of r->round whose heaps hold `p`, or NULL. */
static struct arena_acc *owner_of(struct arena_reader *r, uint64_t p)
{
	size_t i, j;

	for (i = 0; i < r->nround; i++)
		for (j = 0; j < r->round[i].nranges; j++)
			if (p >= r->round[i].ranges[j].lo && p < r->round[i].ranges[j].hi)
				return &r->round[i];
	return NULL;
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
			if (v && v % 16 == 0 && owner_of(r, v) &&
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

/* A thread caches chunks of whichever arena they came from: its NON_MAIN_ARENA bit says. */
static void on_tcache(void *ctx, enum free_list where, uint64_t chunk, uint64_t size,
		      uint64_t raw)
{
	struct arena_reader *r = ctx;
	struct arena_acc *a = (raw & 4) ? owner_of(r, chunk) : r->nround ? &r->round[0] : NULL;

	(void)where;
	if (a)
		a->tcache += size;
}

/*
 * With the target frozen: the first ARENA_FAST_FROZEN_LEVELS nodes of every
 * fastbin and every thread's whole tcache, a batched read per level. Returns 0 or the
 * error that stopped the reads (-ETIMEDOUT, -ESRCH, -ENOMEM).
 */
static int walk_lists(struct arena_reader *r, uint64_t *budget)
{
	struct arena_list *lists = NULL;
	size_t n = 0, cap = 0, i, k;
	int ret = -ENOMEM;

	if (vec_reserve((void **)&lists, &cap, r->nround * ARENA_NFASTBINS, sizeof(*lists)))
		return -ENOMEM;
	for (i = 0; i < r->nround; i++)
		for (k = 0; k < ARENA_NFASTBINS; k++)
			lists[n++] = r->round[i].fast[k];
	ret = arena_lists_walk(&r->tgt.layout, &r->mr, lists, n, ARENA_FAST_FROZEN_LEVELS,
			       budget, NULL, NULL);
	for (i = 0, n = 0; i < r->nround; i++)
		for (k = 0; k < ARENA_NFASTBINS; k++)
			r->round[i].fast[k] = lists[n++];
	r->tcache_ok = ret == 0;
	n = 0;
	for (i = 0; !ret && r->tgt.layout.tcache_chunk && i < freezer_nthreads(r->fz); i++) {
		uint64_t tp, tc;

		if (freezer_thread_pointer(r->fz, i, &tp) || !(tc = tcache_of(r, tp)))
			continue;
		if (vec_reserve((void **)&lists, &cap, n + ARENA_TCACHE_BINS, sizeof(*lists))) {
			ret = -ENOMEM;
			break;
		}
		if (arena_tcache_lists(&r->tgt.layout, &r->mr, tc, lists + n) == 0)
			n += ARENA_TCACHE_BINS;
	}
	if (!ret)
		ret = arena_lists_walk(&r->tgt.layout, &r->mr, lists, n, UINT32_MAX, budget,
				       on_tcache, r);
	for (i = 0; i < n; i++)
		r->tcache_ok = r->tcache_ok && !lists[i].error && !lists[i].node;
	free(lists);
	return ret;
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

/*
 * Freezes the target, captures what must be consistent (every arena's fixed
 * fields, heaps and fastbin heads, every thread's tcache) into r->round, and
 * lets it go. Adds the time it was stopped to s->freeze_us. Returns 0, or an
 * error from freezing (-EBUSY with the tracer's PID in *tracer, -EPERM,
 * -ETIMEDOUT, -ESRCH) or from the capture.
 */
static int capture(struct arena_reader *r, const struct vma_list *vmas, uint64_t *budget,
		   struct sample *s, int *tracer)
{
	double t0 = clock_mono(), took;
	int ret;

	ret = freezer_stop(r->fz, r->o.freeze_max_s / 2, tracer);
	if (ret)
		return ret;
	procmem_forget(r->mem);
	procmem_set_deadline(r->mem, t0 + r->o.freeze_max_s);
	if (r->hold_s > 0)
		hold_for_tests(r, t0);
	ret = list_arenas(r, vmas, true);
	if (ret == 0)
		ret = walk_lists(r, budget);
	freezer_thaw(r->fz);
	/* The target ran again at the last release, however long memsleuth then waited. */
	took = freezer_released_at(r->fz) > t0 ? freezer_released_at(r->fz) - t0
					       : clock_mono() - t0;
	procmem_set_deadline(r->mem, 0);
	procmem_forget(r->mem);
	s->freeze_us += (uint32_t)(took * 1e6);
	return ret;
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

/* The latest capture becomes the read's figures; what they were is dropped. */
static void adopt_round(struct arena_reader *r)
{
	struct arena_acc *old = r->accs;
	size_t cap = r->acc_cap;

	clear_accs(r->accs, &r->nacc);
	r->accs = r->round;
	r->nacc = r->nround;
	r->acc_cap = r->round_cap;
	r->round = old;
	r->nround = 0;
	r->round_cap = cap;
}

/*
 * Parses the arenas of the latest capture that earlier attempts did not read
 * whole; keeps the ones they did. Returns 0, -ENOMEM or -ESRCH.
 */
static int parse_round(struct arena_reader *r, uint64_t *budget)
{
	size_t i;
	int ret = 0;

	procmem_set_deadline(r->mem, clock_mono() + PARSE_MAX_S);
	for (i = 0; i < r->nround && !ret; i++) {
		struct arena_acc *a = &r->round[i], *old = acc_of(r->accs, r->nacc, a->fx.addr);

		if (old && old->complete) {
			arena_acc_clear(a);
			*a = *old;
			memset(old, 0, sizeof(*old));
			continue;
		}
		ret = arena_parse(&r->parser, a, budget);
		a->complete = a->complete && r->tcache_ok;
	}
	procmem_set_deadline(r->mem, 0);
	procmem_forget(r->mem);
	adopt_round(r);
	return ret;
}

static bool all_complete(const struct arena_reader *r)
{
	size_t i;

	for (i = 0; i < r->nacc; i++)
		if (!r->accs[i].complete)
			return false;
	return r->nacc > 0;
}

/*
 * Captures frozen and parses running; again (up to FREEZE_ATTEMPTS) for the
 * arenas a racing writer kept from being read whole. Returns 0 when arenas
 * were read, -ENOMEM, or -1 to fall back to an unfrozen read of the fixed fields.
 */
static int read_frozen(struct arena_reader *r, const struct vma_list *vmas, struct sample *s)
{
	uint64_t budget = ARENA_MAX_CHUNKS;
	int attempt, ret = 0, tracer = 0;

	clear_accs(r->accs, &r->nacc);
	r->parser.reparses = 0;
	for (attempt = 0; attempt < FREEZE_ATTEMPTS; attempt++) {
		ret = capture(r, vmas, &budget, s, &tracer);
		if (ret == -EBUSY || ret == -EPERM || ret == -ESRCH || ret == -ENOMEM)
			break;
		/* A freeze that timed out, or arenas that could not be listed: try again. */
		if (r->nround == 0 || (ret && ret != -ETIMEDOUT))
			continue;
		ret = parse_round(r, &budget);
		if (ret || all_complete(r))
			break;
		s->arenas_rereads++;
	}
	s->arenas_rereads += r->parser.reparses;
	if (ret == -EBUSY || ret == -EPERM)
		warn_no_freeze(r, ret, tracer);
	else if (ret != -ETIMEDOUT || r->nacc)
		r->warned_freeze = false;
	if (ret == -ENOMEM)
		return ret;
	if (r->nacc == 0 || ret == -EBUSY || ret == -EPERM || ret == -ESRCH)
		return -1;
	s->arenas_frozen = true;
	s->arenas_complete = all_complete(r);
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
		const struct arena_acc *a = &r->accs[i];
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
		s->arenas_unread += a->unread;
		if (a->walked) {
			/*
			 * Free chunks lie in the arena's memory outside top: lists (garbage,
			 * or a chunk on two lists) and a parse racing a writer that moved top
			 * are counted up to what is left of it, bins and fastbins first.
			 */
			uint64_t room = a->fx.system > a->fx.top_size ? a->fx.system - a->fx.top_size : 0;
			uint64_t binned = a->bins + a->fastb < room ? a->bins + a->fastb : room;

			st->tcache = binned + a->tcache <= room ? a->tcache : room - binned;
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

/* Unfrozen: the fixed fields only, each read checked for consistency. */
static int read_fixed(struct arena_reader *r, const struct vma_list *vmas, struct sample *s)
{
	int ret;

	s->arenas_frozen = false;
	s->arenas_complete = false;
	procmem_forget(r->mem);
	ret = list_arenas(r, vmas, false);
	/* What was listed, even when the ring could not be followed to its end. */
	adopt_round(r);
	return ret;
}

int arena_reader_read(struct arena_reader *r, const struct vma_list *vmas, struct sample *s)
{
	double cpu0 = clock_thread_cpu();
	int64_t mmapped;
	int ret = 0;

	freezer_thaw(r->fz);
	if (!r->located && locate(r, vmas))
		return 0;
	if (r->o.freeze)
		ret = read_frozen(r, vmas, s);
	if (!r->o.freeze || ret == -1)
		ret = read_fixed(r, vmas, s);
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
	ret = fill(r, s);
	s->arenas_cpu_us = (uint32_t)((clock_thread_cpu() - cpu0) * 1e6);
	return ret;
}
