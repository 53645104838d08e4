/* SPDX-License-Identifier: GPL-2.0-only */
/* BPF side only: walks a user stack by per-return-address unwinding rules that user space learned from the CFI. */
#ifndef MEMSLEUTH_BPF_ALLOC_WALK_H
#define MEMSLEUTH_BPF_ALLOC_WALK_H

/*
 * Code built without frame pointers keeps no chain a walk can follow: the
 * caller's frame is found from the CFI, which BPF cannot read. But the CFI
 * of one return address says the same thing every time: the caller's sp
 * (the CFA) is sp or rbp plus an offset, the return address is 8 bytes
 * below it, rbp was saved at an offset from it or kept (alloc.h). User space
 * (collectors/alloc_rules.h) learns that rule for each return address of a
 * copied stack it unwinds and puts it in `rules`; the walk here follows them,
 * one hash lookup and one or two 8-byte reads per frame, and stops at the
 * first return address without one, which the caller may ask to learn
 * (learn(): one copy a second per address, capture_rate a second in all).
 */

#include "alloc.h"

/* Stacks copied per second at most to learn the rules of new return addresses. */
const volatile __u32 capture_rate = 100;

/* Ranges of alloc_range in `fp_ranges` in use; user space rewrites them when modules change. */
__u32 nfp_ranges = 0;
/* The second and the count of learning copies in it (the capture_rate budget). */
__u64 learn_second = 0;
__u64 learn_count = 0;

/* Walks by rules, by id: 400 bytes each, as many as the frame-pointer stack map holds. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 15);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct alloc_walk);
} walks SEC(".maps");

/*
 * Unwinding rules by return address, learned by user space: 65,536 return
 * addresses, 32 bytes each when used. Not an LRU map: its per-CPU free lists
 * evicted rules long before it was full, and each eviction cost a copy.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct alloc_unwind_rule);
} rules SEC(".maps");

/* When a copy was last asked for a return address without a rule (ns). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64);
} learn_asked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ALLOC_MAX_FP_RANGES);
	__type(key, __u32);
	__type(value, struct alloc_range);
} fp_ranges SEC(".maps");

/* The walk being built (too large for the BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct alloc_walk);
} walk_scratch SEC(".maps");

/* Whether the allocator returned into code that keeps frame pointers. */
static __always_inline bool in_fp_code(__u64 ip)
{
	__u32 i, n = nfp_ranges;

	for (i = 0; i < ALLOC_MAX_FP_RANGES && i < n; i++) {
		__u32 k = i;
		struct alloc_range *r = bpf_map_lookup_elem(&fp_ranges, &k);

		if (r && ip >= r->start && ip < r->end)
			return true;
	}
	return false;
}

struct walk_ctx {
	struct alloc_walk *w;
	__u64 pc, sp, bp;
	__u64 missing;		/* the return address that had no rule; 0 none */
};

/* One frame of a walk by rules: records pc, steps to the caller. Returns 1 to stop. */
static long walk_step(__u64 i, struct walk_ctx *c)
{
	struct alloc_walk *w = c->w;
	struct alloc_unwind_rule *r;
	__u64 cfa, ra = 0, bp = c->bp;
	__u32 n = w->n;

	if (n >= ALLOC_STACK_DEPTH) {
		w->end = ALLOC_WALK_CUT;
		return 1;
	}
	w->pcs[n] = c->pc;
	w->n = n + 1;
	r = bpf_map_lookup_elem(&rules, &c->pc);
	if (!r) {
		c->missing = c->pc;
		w->end = ALLOC_WALK_CUT;
		return 1;
	}
	if (r->kind == ALLOC_RULE_END) {
		w->end = ALLOC_WALK_WHOLE;
		return 1;
	}
	cfa = (r->kind == ALLOC_RULE_BP ? c->bp : c->sp) + (__s64)r->cfa_off;
	if (bpf_probe_read_user(&ra, sizeof(ra), (const void *)(cfa - 8)) ||
	    (r->bp_off && bpf_probe_read_user(&bp, sizeof(bp), (const void *)(cfa + (__s64)r->bp_off)))) {
		w->end = ALLOC_WALK_CUT;
		return 1;
	}
	if (!ra) {
		w->end = ALLOC_WALK_WHOLE;
		return 1;
	}
	c->pc = ra;
	c->sp = cfa;
	c->bp = bp;
	return 0;
}

/* Whether to copy the stack to learn the rule of `pc`: once a second per address, within the budget. */
static __always_inline bool learn(__u64 pc)
{
	__u64 now = bpf_ktime_get_ns(), second = now / 1000000000ull, *asked;

	asked = bpf_map_lookup_elem(&learn_asked, &pc);
	if (asked && now - *asked < 1000000000ull)
		return false;
	if (*(volatile __u64 *)&learn_second != second) {
		learn_second = second;
		learn_count = 0;
	}
	if (__sync_fetch_and_add(&learn_count, 1) >= capture_rate)
		return false;
	bpf_map_update_elem(&learn_asked, &pc, &now, BPF_ANY);
	return true;
}

/* A walk's id: its pcs hashed (FNV-1a), with ALLOC_WALK_BIT. */
static __always_inline __u64 walk_id(const struct alloc_walk *w)
{
	__u64 h = 0xcbf29ce484222325ull;
	__u32 i;

	for (i = 0; i < ALLOC_STACK_DEPTH && i < w->n; i++) {
		h ^= w->pcs[i];
		h *= 0x100000001b3ull;
	}
	h ^= w->end;
	h = ALLOC_WALK_BIT | (h >> 1);
	return h == ALLOC_NO_STACK ? h ^ 1 : h;
}

/*
 * Walks by rules from the allocator's return (ctx: the uretprobe's registers,
 * ip the return address) and stores the walk in `walks`. *missing is the
 * return address that had no rule (0 when none). Returns the walk's id, or
 * ALLOC_NO_STACK when it could not be stored.
 */
static __always_inline __u64 walk_rules(struct pt_regs *ctx, __u64 *missing)
{
	__u32 zero = 0;
	struct alloc_walk *w = bpf_map_lookup_elem(&walk_scratch, &zero);
	struct walk_ctx c = { .w = w, .pc = ctx->ip, .sp = ctx->sp, .bp = ctx->bp };
	__u64 id;

	if (!w)
		return ALLOC_NO_STACK;
	w->n = 0;
	w->end = 0;
	bpf_loop(ALLOC_STACK_DEPTH + 1, walk_step, &c, 0);
	*missing = c.missing;
	id = walk_id(w);
	if (bpf_map_update_elem(&walks, &id, w, BPF_NOEXIST) && !bpf_map_lookup_elem(&walks, &id))
		return ALLOC_NO_STACK;
	return id;
}

#endif
