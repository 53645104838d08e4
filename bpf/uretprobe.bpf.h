/* SPDX-License-Identifier: GPL-2.0-only */
/* BPF side only: puts back, in a copied user stack, the return addresses that pending uretprobes replaced. */
#ifndef MEMSLEUTH_BPF_URETPROBE_H
#define MEMSLEUTH_BPF_URETPROBE_H

/*
 * A uretprobe (memsleuth's own malloc probes with --alloc, or any other
 * tool's) replaces the return address of each probed call, on the user stack,
 * by the address of the kernel's trampoline in the [uprobes] page until the
 * call returns. The kernel keeps the real one in the thread's list of return
 * instances, innermost first, each with the stack slot it took over. A copy
 * of the stack taken inside a probed call (a brk or a page fault inside
 * malloc) holds the trampoline in that slot, and an unwinder reading it loses
 * the call's caller: without frame pointers, every frame after it too. perf
 * puts the real addresses back into its own callchains the same way.
 */

/* Return instances looked at per copy: the kernel nests at most 64, a few is usual. */
#define URETPROBE_MAX_RESTORE 16
/* Larger than any copy: keeps offsets in the record within 32 bits. */
#define URETPROBE_MAX_COPY (1U << 24)

struct uretprobe_walk {
	struct bpf_dynptr *rec;		/* the record holding the copy */
	__u32 off;			/* where the copy starts in it */
	__u32 pad;
	struct return_instance *ri;	/* the next instance to look at */
	__u64 tramp;			/* the trampoline's address */
	__u64 base;			/* the user address of the copy's first byte */
};

/*
 * One return instance per call (through bpf_loop, so that the verifier sees
 * the body once, not once per instance and branch). Its slot is restored only
 * where the stack still holds the trampoline's address there (the copy was
 * just taken from it): an instance left behind by a longjmp out of the probed
 * call may name a slot since reused.
 */
static long uretprobe_walk_one(__u64 i, struct uretprobe_walk *w)
{
	struct return_instance *ri = w->ri;
	__u64 slot, word, orig;

	if (!ri)
		return 1;
	w->ri = BPF_CORE_READ(ri, next);
	slot = BPF_CORE_READ(ri, stack);
	/* Beyond the copy, the record's own bounds make bpf_dynptr_write fail. */
	if (slot < w->base || slot - w->base >= URETPROBE_MAX_COPY)
		return 0;
	if (bpf_probe_read_user(&word, sizeof(word), (const void *)slot) || word != w->tramp)
		return 0;
	orig = BPF_CORE_READ(ri, orig_ret_vaddr);
	bpf_dynptr_write(w->rec, w->off + (__u32)(slot - w->base), &orig, sizeof(orig), 0);
	return 0;
}

/*
 * Restores the current thread's hijacked slots in the copy of its user stack
 * from `base`, taken just before, held at `off` in `rec` up to the record's
 * end. The copy's length is not passed: a bound the verifier tracks would
 * make it check the walk once per possible length.
 */
static __always_inline void uretprobe_restore(struct bpf_dynptr *rec, __u32 off, __u64 base)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct uretprobe_walk w = { .rec = rec, .off = off, .base = base };

	/* A kernel built without uprobes has neither the list nor the trampoline. */
	if (!bpf_core_field_exists(task->utask))
		return;
	w.ri = BPF_CORE_READ(task, utask, return_instances);
	if (!w.ri)
		return;
	w.tramp = BPF_CORE_READ(task, mm, uprobes_state.xol_area, vaddr);
	if (!w.tramp)
		return;
	bpf_loop(URETPROBE_MAX_RESTORE, uretprobe_walk_one, &w, 0);
}

#endif
