/* SPDX-License-Identifier: GPL-2.0-only */
/* A target's one stack pipeline: its modules, unwinder, symbols and stack table, for every probe. */
#ifndef MEMSLEUTH_STACKRES_H
#define MEMSLEUTH_STACKRES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/types.h>

#include "analyzer/sample.h"
#include "analyzer/stack_site.h"
#include "bpf/capture.h"
#include "collectors/proc.h"
#include "collectors/modmap.h"
#include "collectors/stacktab.h"
#include "collectors/unwind.h"

/*
 * Every probe family of a target turns what it took into stack ids here:
 * the growth tracepoints and the sampled malloc probes copy registers and
 * stack (stackres_capture: unwound with DWARF CFI, unwind.h), the other
 * malloc probes walk frame pointers in the kernel (stackres_walk). Either
 * way the frames are symbolized with inlined functions (symbols.h, cached by
 * build-id and offset) and interned in one stack table (stacktab.h), which
 * the collectors credit with their figures and the sampler exports once per
 * tick. So a target's modules are read, opened and symbolized once however
 * many families watch it.
 *
 * Every stack is checked on the way: each return address must lie in an
 * executable mapping of the target, and the stack stops at the first that
 * does not (a frame-pointer walk through code without frame pointers, or a
 * stack holding text, reads data as return addresses). A stack that stops
 * before the program's entry point (_start, a thread's start, main), for
 * that reason, for want of CFI, at the end of the copied window or past
 * STACKTAB_MAX_FRAMES, is marked truncated. Each stack's site (stack_site.h)
 * is found with the rules given to stackres_new.
 *
 * One per target process, owned by the sampler, borrowed by the collectors.
 * Two threads use it: the sampler's, and the malloc probes' learning thread
 * (bpf_alloc.c), which unwinds copied stacks as they arrive. Each holds
 * stackres_lock() while it uses the resolver, its table or anything that
 * calls into them (the probe families' reads); nothing here takes it.
 */
struct stackres;

/*
 * Makes the resolver of target `t`; sites are found with `rules` (NULL:
 * the built-in ones). Both are borrowed: they must outlive the resolver.
 * Nothing is read yet (stackres_load). Returns 0 with *out set, or -ENOMEM.
 */
int stackres_new(const struct proc_target *t, const struct site_rules *rules,
		 struct stackres **out);

/*
 * Reads the target's module list, opens every module and prepares the
 * unwinder and the symbolizer on them (see modmap_open), the first time it
 * is called; later calls give the first call's answer. Each probe family
 * calls it before it attaches, so that the modules are read while the target
 * lives. Returns 0, or a negative errno with a one-line reason in `err`
 * (-ESRCH: the process has gone). After a failure the resolver still works,
 * degraded: a capture gives the frame where the probe fired, and frames are
 * addresses.
 */
int stackres_load(struct stackres *r, char *err, size_t errlen);

/*
 * Unwinds a capture (bpf/capture.h) of thread `tid`: `cap` and the
 * `stack_bytes` bytes of stack copied after it in the record; symbolizes and
 * interns its frames. `at_return`: it was taken as a function returned (a
 * uretprobe), so that its first pc is a return address like the others.
 * When `pcs` is given, the pcs unwound (before any check) go there, at most
 * `*npcs`, and *npcs says how many. Returns the stack id, or 0 on ENOMEM.
 */
uint64_t stackres_capture(struct stackres *r, int tid, const struct stack_capture *cap,
			  const uint8_t *stack, size_t stack_bytes, bool at_return, uint64_t *pcs,
			  size_t *npcs);

/* How a walk taken in the kernel ended. */
enum stackres_walk_end {
	STACKRES_WALK_UNKNOWN,	/* a frame-pointer walk: it ends where the chain does */
	STACKRES_WALK_WHOLE,	/* at the stack's end, as the CFI says */
	STACKRES_WALK_CUT,	/* before it: no rule for a frame, a failed read, the depth */
};

/*
 * Symbolizes and interns a walk taken in the kernel: return addresses
 * pcs[0..n), innermost first. Returns the stack id, or 0 on ENOMEM.
 */
uint64_t stackres_walk(struct stackres *r, const uint64_t *pcs, size_t n,
		       enum stackres_walk_end end);

/*
 * The rule that steps from return address `pc` to its caller (unwind.h),
 * for walks in the kernel. Returns 0, or a negative errno: -ENOENT no CFI
 * or module covers pc, -ENOTSUP a rule the kernel side cannot follow,
 * -ENODEV no modules (stackres_load failed).
 */
int stackres_unwind_rule(struct stackres *r, uint64_t pc, struct unwind_rule *out);

/*
 * The executable mappings of modules that keep frame pointers (modfp.h),
 * into out[0..max): where a frame-pointer walk is right. Returns how many.
 * *reads is the module list's read count (modmap_reads): the answer changes
 * only when it does.
 */
size_t stackres_fp_ranges(struct stackres *r, struct modmap_range *out, size_t max,
			  unsigned *reads);

/*
 * The executable mappings as last read (modmap_exec_ranges): a copy the
 * caller frees in *out, their count returned; 0 without modules, -ENOMEM.
 */
ssize_t stackres_exec_ranges(const struct stackres *r, struct modmap_range **out);

/* The stack table the ids belong to, for the collectors' figures (borrowed). */
struct stacktab *stackres_table(const struct stackres *r);

/*
 * The module list may have changed: the target mapped a file (dlopen), or
 * unmapped [start, end) (dlclose, when a module lies there). It is read again
 * when next needed (modmap_invalidate).
 */
void stackres_mapped_file(struct stackres *r);
void stackres_unmapped(struct stackres *r, uint64_t start, uint64_t end);

/* Copies every stack with figures into `s` (stacktab_export). Returns 0 or -ENOMEM. */
int stackres_export(struct stackres *r, struct sample *s);

/* The lock every user of the resolver holds (see above). */
void stackres_lock(struct stackres *r);
void stackres_unlock(struct stackres *r);

/* Frees; NULL is accepted. With -v, says what was resolved and how much the cache saved. */
void stackres_free(struct stackres *r);

#endif
