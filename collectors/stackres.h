/* SPDX-License-Identifier: GPL-2.0-only */
/* A target's one stack pipeline: its modules, unwinder, symbols and stack table, for every probe. */
#ifndef MEMSLEUTH_STACKRES_H
#define MEMSLEUTH_STACKRES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include "analyzer/sample.h"
#include "bpf/capture.h"
#include "collectors/proc.h"
#include "collectors/stacktab.h"

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
 * One per target process, owned by the sampler, borrowed by the collectors.
 * Not thread-safe: one thread uses it.
 */
struct stackres;

/*
 * Makes the resolver of target `t` (borrowed: it must outlive the resolver).
 * Nothing is read yet (stackres_load). Returns 0 with *out set, or -ENOMEM.
 */
int stackres_new(const struct proc_target *t, struct stackres **out);

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
 * Returns the stack id, or 0 on ENOMEM.
 */
uint64_t stackres_capture(struct stackres *r, int tid, const struct stack_capture *cap,
			  const uint8_t *stack, size_t stack_bytes, bool at_return);

/*
 * Symbolizes and interns a frame-pointer walk: return addresses pcs[0..n),
 * innermost first. Returns the stack id, or 0 on ENOMEM.
 */
uint64_t stackres_walk(struct stackres *r, const uint64_t *pcs, size_t n);

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

/* Frees; NULL is accepted. With -v, says what was resolved and how much the cache saved. */
void stackres_free(struct stackres *r);

#endif
