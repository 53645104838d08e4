// SPDX-License-Identifier: GPL-2.0-only
/* Malloc probes: outstanding allocations by stack and net chunk bytes by arena, kept in-kernel. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "alloc.h"
#include "alloc_walk.bpf.h"
#include "capture.bpf.h"

/*
 * Nothing here sends a per-call event to user space: allocations are kept in
 * `live` by address and summed by stack in `stack_stats`; user space reads
 * the sums once per tick. The uprobes are attached for the target's PID only
 * (user space passes it to the attach call), so no tgid test is needed here.
 *
 * Entry and return are paired through `pending`, keyed by thread. A call made
 * from inside another allocator call (realloc(NULL, n) calls malloc) is
 * counted once, by the outer call: it runs on a deeper stack, which is how it
 * is told apart from a stale entry whose return was never seen (the return
 * probe was detached while the call ran).
 */

/* Sample allocations by bytes: one per sample_bytes on average (0: every allocation). */
const volatile __u64 sample_bytes = 0;
/* Read glibc chunk headers to keep net chunk bytes per arena (exact mode, glibc only). */
const volatile __u32 track_arenas = 0;
/* Copy registers and stack for DWARF unwinding instead of walking frame pointers. */
const volatile __u32 capture_stacks = 0;
/* Walk code without frame pointers by rules (alloc_walk.bpf.h) instead of by frame pointers. */
const volatile __u32 rule_walks = 0;
/* The allocator is glibc: a block's usable size can be read from its chunk header. */
const volatile __u32 read_chunks = 0;

/* Bumped by user space each time it attaches the malloc-side probes. */
__u64 phase = 0;
/*
 * Whether allocations are recorded now. User space sets it once the probes
 * are attached and clears it before it detaches them, so that the time it
 * measures is exactly the time calls were recorded (detaching takes a while).
 */
__u32 recording = 0;
__u64 counters[ALLOC_NCOUNTERS] = {};
__u32 capture_seq = 0;
/* Frees that matched no record, whenever made; by size class while recording. */
__u64 unmatched_frees = 0;
__u64 unmatched_free_bytes = 0;
struct alloc_free_class free_classes[ALLOC_FREE_CLASSES] = {};

struct pending {
	__u64 size;
	__u64 old;		/* realloc: the old pointer; posix_memalign: the result slot */
	__u64 sp;
	__u64 phase;
	struct alloc_rec old_rec;	/* realloc: the old pointer's record, removed at entry */
	__s64 old_chunk;	/* realloc: the old chunk's bytes (0: none or untracked) */
	__u64 old_arena;
	__u32 fn;		/* ALLOC_FN_* */
	__u32 depth;
	__u32 has_old_rec;
};

struct {
	/* LRU: threads that exit mid-call, or whose return was detached, leave entries behind. */
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct pending);
} pending SEC(".maps");

/*
 * One entry per recorded allocation still live: 96 bytes of kernel memory
 * each, plus 16 per slot from load (bpftool's memlock: 8 MiB empty, 56 MiB
 * full). The cap bounds what --alloc costs the machine whatever the target
 * holds. Only allocations made since attach are kept, by default only the
 * share the duty cycle records (about one in ten); past the cap an
 * allocation is counted (ALLOC_CNT_LOST_LIVE), not kept, and outstanding
 * figures become lower bounds. Twice the cap would cost 16 MiB
 * on every run to hold a million more, and no cap fits every heap: a heap
 * that fills it wants --alloc-sample, which records one allocation per N bytes.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 19);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct alloc_rec);
} live SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 16);
	__type(key, __u64);
	__type(value, struct alloc_stack_val);
} stack_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct alloc_arena_val);
} arena_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1 << 15);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, ALLOC_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} captures SEC(".maps");

static __always_inline void count(__u32 i)
{
	if (i < ALLOC_NCOUNTERS)
		__sync_fetch_and_add(&counters[i], 1);
}

static __always_inline __u32 tid_of(void)
{
	return (__u32)bpf_get_current_pid_tgid();
}

/* glibc chunk of a user pointer: its bytes and the arena it belongs to. */
static __always_inline __s64 chunk_of(__u64 ptr, __u64 *arena)
{
	__u64 hdr = 0, ar = 0;

	if (bpf_probe_read_user(&hdr, sizeof(hdr), (const void *)(ptr - 8)))
		return 0;
	if (hdr & 2) {
		*arena = ALLOC_ARENA_MMAPPED;
	} else if (hdr & 4) {
		/* A non-main arena's chunk: its heap's heap_info starts with the arena pointer. */
		if (bpf_probe_read_user(&ar, sizeof(ar), (const void *)(ptr & ~((64ULL << 20) - 1))))
			return 0;
		*arena = ar;
	} else {
		*arena = ALLOC_ARENA_MAIN;
	}
	return (__s64)(hdr & ~7ULL);
}

/*
 * Usable bytes of the glibc block at `ptr` (malloc_usable_size's figure), or 0
 * when the header cannot be read or does not look like a chunk in use.
 */
static __always_inline __u64 usable_of(__u64 ptr)
{
	__u64 hdr = 0, size;

	if (!read_chunks || bpf_probe_read_user(&hdr, sizeof(hdr), (const void *)(ptr - 8)))
		return 0;
	size = hdr & ~7ULL;
	if (size < 32 || size >= (1ULL << 46))
		return 0;
	if (hdr & 2)
		return size & 4095 ? 0 : size - 16;
	return size & 15 ? 0 : size - 8;
}

static __always_inline __u32 size_class(__u64 n)
{
	__u32 k = 0, shift;

	if (!n)
		return ALLOC_FREE_UNSIZED;
	/* floor(log2(n)) by halving the width: six steps. */
	for (shift = 32; shift; shift >>= 1)
		if (n >> shift) {
			n >>= shift;
			k += shift;
		}
	return k < ALLOC_FREE_UNSIZED ? k : ALLOC_FREE_UNSIZED - 1;
}

/* `u` (a size like the record's) divided by the record's sampling probability. */
static __always_inline __u64 over_p(__u64 u, const struct alloc_rec *r)
{
	if (!r->size || r->weight <= r->size)
		return u;
	if (u < (1ULL << 32) && r->weight < (1ULL << 31))
		return u * r->weight / r->size;
	return r->weight;
}

/*
 * Accounts a free of `ptr` whose record was `r` (NULL: none matched); in the
 * unsized class (u 0) only the counts mean anything. What a record freed
 * adds to the unmatched frees expected: it stands for 1/p allocations like
 * it (p its sampling probability). Freed while recording, the (1-p)/p of
 * them that were not recorded free unmatched beside it. Freed while the
 * probes are off, it stands for the 1/p allocations that cross the other
 * way, made while the probes were off and freed, unmatched, while they are
 * on (in a steady state as many cross one way as the other). `lost`: an
 * allocation that could not be recorded, whose free will be unmatched: 1/p.
 */
static __always_inline void free_account(__u64 ptr, const struct alloc_rec *r, bool lost)
{
	__u64 u = usable_of(ptr);
	__u32 k = size_class(u);
	struct alloc_free_class *c;

	if (k >= ALLOC_FREE_CLASSES)
		return;
	c = &free_classes[k];
	if (!r) {
		__sync_fetch_and_add(&unmatched_frees, 1);
		__sync_fetch_and_add(&unmatched_free_bytes, u);
		if (recording) {
			__sync_fetch_and_add(&c->unmatched, 1);
			__sync_fetch_and_add(&c->unmatched_bytes, u);
		}
		return;
	}
	if (recording && !lost) {
		__sync_fetch_and_add(&c->expected256, r->cweight - 256);
		__sync_fetch_and_add(&c->expected_bytes, over_p(u, r) - u);
	} else {
		__sync_fetch_and_add(&c->expected256, r->cweight);
		__sync_fetch_and_add(&c->expected_bytes, over_p(u, r));
	}
}

static __always_inline void arena_add(__u64 arena, __s64 bytes, __s64 n)
{
	struct alloc_arena_val zero = {}, *v;

	v = bpf_map_lookup_elem(&arena_stats, &arena);
	if (!v) {
		bpf_map_update_elem(&arena_stats, &arena, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&arena_stats, &arena);
		if (!v)
			return;
	}
	__sync_fetch_and_add(&v->bytes, bytes);
	__sync_fetch_and_add(&v->count, n);
}

static __always_inline void stack_add(__u64 id, __s64 bytes, __s64 count256)
{
	struct alloc_stack_val zero = {}, *v;

	v = bpf_map_lookup_elem(&stack_stats, &id);
	if (!v) {
		bpf_map_update_elem(&stack_stats, &id, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&stack_stats, &id);
		if (!v) {
			count(ALLOC_CNT_LOST_STACK);
			return;
		}
	}
	__sync_fetch_and_add(&v->bytes, bytes);
	__sync_fetch_and_add(&v->count256, count256);
}

/* Drops the record of `ptr`, if any, into *out; returns whether there was one. */
static __always_inline bool untrack(__u64 ptr, struct alloc_rec *out)
{
	struct alloc_rec *r = bpf_map_lookup_elem(&live, &ptr);

	if (!r)
		return false;
	*out = *r;
	if (bpf_map_delete_elem(&live, &ptr))
		return false;	/* another thread took it first */
	if (out->stack_id != ALLOC_NO_STACK)
		stack_add(out->stack_id, -(__s64)out->weight, -(__s64)out->cweight);
	return true;
}

/* Whether this call is sampled; sets the weight it stands for. */
static __always_inline bool sample(__u64 size, struct alloc_rec *r)
{
	__u64 rate = sample_bytes;

	r->size = size;
	if (!rate || size >= rate) {
		r->weight = size;
		r->cweight = 256;
		return true;
	}
	/* Bernoulli with p = size / rate: the estimator sum(size / p) is unbiased. */
	if (size == 0 || (__u64)bpf_get_prandom_u32() * rate >= (size << 32))
		return false;
	r->weight = rate;
	r->cweight = (rate << 8) / size;
	return true;
}

static __always_inline int enter(struct pt_regs *ctx, __u32 fn, __u64 size, __u64 old)
{
	__u32 tid = tid_of();
	__u64 sp = PT_REGS_SP(ctx);
	struct pending *p, np = {};

	if (!recording && fn != ALLOC_FN_REALLOC)
		return 0;
	p = bpf_map_lookup_elem(&pending, &tid);
	if (p && p->phase == phase && p->depth && sp < p->sp) {
		p->depth++;
		count(ALLOC_CNT_NESTED);
		return 0;
	}
	np.fn = fn;
	np.size = size;
	np.old = old;
	np.sp = sp;
	np.phase = phase;
	np.depth = 1;
	if (fn == ALLOC_FN_REALLOC && old) {
		/* The old block is gone once realloc runs; undone below if realloc fails. */
		np.has_old_rec = untrack(old, &np.old_rec);
		if (np.has_old_rec)
			count(ALLOC_CNT_FREED_TRACKED);
		free_account(old, np.has_old_rec ? &np.old_rec : NULL, false);
		if (track_arenas) {
			np.old_chunk = chunk_of(old, &np.old_arena);
			if (np.old_chunk)
				arena_add(np.old_arena, -np.old_chunk, -1);
		}
	}
	if (!recording)
		return 0;	/* realloc's free side is always kept; its new block is not */
	if (bpf_map_update_elem(&pending, &tid, &np, BPF_ANY))
		count(ALLOC_CNT_LOST_PENDING);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(alloc_enter)
{
	__u32 fn = (__u32)bpf_get_attach_cookie(ctx);
	__u64 a1 = PT_REGS_PARM1(ctx), a2 = PT_REGS_PARM2(ctx), a3 = PT_REGS_PARM3(ctx);

	switch (fn) {
	case ALLOC_FN_CALLOC:
		return enter(ctx, fn, a1 * a2, 0);
	case ALLOC_FN_REALLOC:
		return enter(ctx, fn, a2, a1);
	case ALLOC_FN_MEMALIGN:
		return enter(ctx, fn, a2, 0);
	case ALLOC_FN_POSIX_MEMALIGN:
		return enter(ctx, fn, a3, a1);
	default:
		return enter(ctx, fn, a1, 0);
	}
}

#define CAPTURE_HDR offsetof(struct alloc_capture, stack)

/*
 * Copies the registers and the top of the stack into the ring buffer
 * (capture.bpf.h). Returns the stack id for the record, ALLOC_NO_STACK when
 * the ring is full.
 */
static __always_inline __u64 capture(struct pt_regs *ctx)
{
	struct alloc_capture *c;
	struct capture_pos pos;
	struct bpf_dynptr rec;
	__u64 id;

	if (capture_reserve(&captures, CAPTURE_HDR, ctx, &rec, &pos))
		return ALLOC_NO_STACK;
	c = bpf_dynptr_data(&rec, 0, CAPTURE_HDR);
	if (!c) {
		bpf_ringbuf_discard_dynptr(&rec, 0);
		return ALLOC_NO_STACK;
	}
	id = ALLOC_CAPTURE_BIT | __sync_fetch_and_add(&capture_seq, 1);
	c->id = id;
	c->tid = tid_of();
	c->pad = 0;
	capture_fill(&rec, CAPTURE_HDR, &c->cap, ctx, &pos);
	bpf_ringbuf_submit_dynptr(&rec, 0);
	return id;
}

/* Walks by rules from the allocator's return; a copy instead when a rule is missing and may be learned. */
static __always_inline __u64 walk_by_rules(struct pt_regs *ctx)
{
	__u64 missing = 0, id = walk_rules(ctx, &missing);

	count(ALLOC_CNT_WALKS);
	if (missing) {
		count(ALLOC_CNT_WALKS_CUT);
		if (learn(missing)) {
			__u64 copy = capture(ctx);

			count(ALLOC_CNT_LEARN);
			if (copy != ALLOC_NO_STACK)
				return copy;
		}
	}
	return id;
}

/* The stack of an allocation at the allocator's return (see alloc.h for the three kinds). */
static __always_inline __u64 stack_of(struct pt_regs *ctx)
{
	long id;

	if (capture_stacks)
		return capture(ctx);
	if (rule_walks && !in_fp_code(ctx->ip))
		return walk_by_rules(ctx);
	id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	return id < 0 ? ALLOC_NO_STACK : (__u64)id;
}

static __always_inline void record(struct pt_regs *ctx, __u64 addr, __u64 size)
{
	struct alloc_rec r = {}, old;
	__u64 id;

	count(ALLOC_CNT_ALLOCS);
	if (track_arenas) {
		__u64 arena = 0;
		__s64 chunk = chunk_of(addr, &arena);

		if (chunk)
			arena_add(arena, chunk, 1);
	}
	/* An address that comes back while still recorded was freed unseen. */
	if (untrack(addr, &old))
		count(ALLOC_CNT_REUSED);
	if (!sample(size, &r))
		return;
	/* One clock read per recorded allocation (tens of ns beside a trap of 5-20 us). */
	r.born = (__u32)(bpf_ktime_get_ns() >> ALLOC_BORN_SHIFT);
	id = stack_of(ctx);
	if (id == ALLOC_NO_STACK)
		count(ALLOC_CNT_LOST_STACK);
	r.stack_id = id;
	if (bpf_map_update_elem(&live, &addr, &r, BPF_ANY)) {
		count(ALLOC_CNT_LOST_LIVE);
		free_account(addr, &r, true);
		return;
	}
	count(ALLOC_CNT_SAMPLED);
	if (r.stack_id != ALLOC_NO_STACK)
		stack_add(r.stack_id, (__s64)r.weight, (__s64)r.cweight);
}

SEC("uretprobe")
int BPF_KRETPROBE(alloc_return, __u64 ret)
{
	__u32 tid = tid_of();
	struct pending *p;
	__u64 addr = ret;

	p = bpf_map_lookup_elem(&pending, &tid);
	if (!p || p->phase != phase || !p->depth)
		return 0;
	if (p->depth > 1) {
		p->depth--;
		return 0;
	}
	if (p->fn == ALLOC_FN_POSIX_MEMALIGN) {
		addr = 0;
		if ((__u32)ret == 0 && p->old)
			bpf_probe_read_user(&addr, sizeof(addr), (const void *)p->old);
	}
	if (p->fn == ALLOC_FN_REALLOC && p->old && !addr && p->size) {
		/* realloc failed: the old block lives on. */
		if (p->has_old_rec && bpf_map_update_elem(&live, &p->old, &p->old_rec, BPF_NOEXIST) == 0 &&
		    p->old_rec.stack_id != ALLOC_NO_STACK)
			stack_add(p->old_rec.stack_id, (__s64)p->old_rec.weight,
				  (__s64)p->old_rec.cweight);
		if (track_arenas && p->old_chunk)
			arena_add(p->old_arena, p->old_chunk, 1);
	}
	if (addr)
		record(ctx, addr, p->size);
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(alloc_free, __u64 ptr)
{
	struct alloc_rec old;
	struct pending *p;
	bool tracked;
	__u32 tid;

	if (!ptr)
		return 0;
	count(ALLOC_CNT_FREES);
	if (recording)
		count(ALLOC_CNT_FREES_RECORDING);
	tracked = untrack(ptr, &old);
	if (tracked)
		count(ALLOC_CNT_FREED_TRACKED);
	tid = tid_of();
	p = bpf_map_lookup_elem(&pending, &tid);
	/*
	 * realloc(p, 0) frees p through free(): its entry already took the chunk
	 * off and accounted the free (not known here when realloc ran unrecorded).
	 */
	if (p && p->phase == phase && p->fn == ALLOC_FN_REALLOC && p->old == ptr)
		return 0;
	free_account(ptr, tracked ? &old : NULL, false);
	if (track_arenas) {
		__u64 arena = 0;
		__s64 chunk = chunk_of(ptr, &arena);

		if (chunk)
			arena_add(arena, -chunk, -1);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
