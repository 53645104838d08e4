/* SPDX-License-Identifier: GPL-2.0-only */
/* From a stack copied by a probe to a stack id: one process's modules, unwinder, symbols, stacks. */
#ifndef MEMSLEUTH_STACKRES_H
#define MEMSLEUTH_STACKRES_H

#include <stddef.h>
#include <stdint.h>

#include "collectors/modmap.h"
#include "collectors/stacktab.h"
#include "collectors/unwind.h"

/*
 * Every probe that copies registers and the top of the user stack (the
 * growth tracepoints, the malloc uprobes) turns its copies into stack ids
 * here: unwind (unwind.h), symbolize with inlined functions (symbols.h),
 * intern the frames (stacktab.h), whose figures the collector then keeps
 * and exports into each sample. One per target process; not thread-safe.
 */
struct stackres;

/*
 * Reads the module list of target `t` (borrowed; see modmap_open) and prepares a stack
 * table holding at most `max_per_kind` stacks per kind. Returns 0 with *out
 * set, or a negative errno with a one-line reason in `err`.
 */
int stackres_open(const struct proc_target *t, size_t max_per_kind, struct stackres **out, char *err,
		  size_t errlen);

/*
 * Unwinds and symbolizes one copy and interns its frames. Returns the stack
 * id (STACK_ID_OTHER on a hash collision), or 0 on ENOMEM.
 */
uint64_t stackres_resolve(struct stackres *r, const struct unwind_input *in);

/* The stack table the ids belong to (borrowed). */
struct stacktab *stackres_table(const struct stackres *r);
/* The module map, to invalidate it on mmap/munmap (borrowed). */
struct modmap *stackres_modmap(const struct stackres *r);

/* Frees; NULL is accepted. */
void stackres_free(struct stackres *r);

#endif
