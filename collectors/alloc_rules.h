/* SPDX-License-Identifier: GPL-2.0-only */
/* The malloc probes' walks by unwinding rules, user side: where frame pointers hold, and learning rules as copies arrive. */
#ifndef MEMSLEUTH_ALLOC_RULES_H
#define MEMSLEUTH_ALLOC_RULES_H

#include <stdbool.h>

#include <linux/types.h>

#include "collectors/alloc_stacks.h"
#include "collectors/stackres.h"

/*
 * Where the allocator returns into a module without frame pointers, the
 * kernel side walks the stack by per-return-address rules (bpf/alloc.h). Two
 * things keep that walk right and cheap, from user space:
 *
 * - the executable ranges of modules that keep frame pointers (modfp.h) are
 *   written to the kernel (at most ALLOC_MAX_FP_RANGES), where its own
 *   frame-pointer walk is cheaper and needs no learning; and when a code
 *   mapping goes away (dlclose), the rules learned so far are dropped: another
 *   module may be mapped at its address;
 * - copies of stacks taken to learn the rules of new return addresses are
 *   unwound as soon as they arrive, by a thread that waits on the capture
 *   ring (alloc_stacks_drain teaches each copy's rules): until then every
 *   stack through a new return address is cut (marked truncated).
 */
struct alloc_rules;

/*
 * Starts the learner over `stacks` (whose capture ring it drains, holding
 * `res`'s lock). `fp_map` is the kernel's fp_ranges map and `nfp` its count
 * in the program's .bss. All are borrowed until alloc_rules_stop. Returns 0
 * with *out, or a negative errno.
 */
int alloc_rules_start(struct stackres *res, struct alloc_stacks *stacks, int fp_map, __u32 *nfp,
		      struct alloc_rules **out);

/*
 * Brings the frame-pointer ranges up to date once the module list was read
 * again, dropping the rules when a code mapping went away. Called each tick
 * with the resolver's lock held. Returns 0 or -ENOMEM.
 */
int alloc_rules_update(struct alloc_rules *r);

/* Stops the learner and frees; NULL is accepted. With -v, says what was taught. */
void alloc_rules_stop(struct alloc_rules *r);

/*
 * MEMSLEUTH_ALLOC_FP_ONLY=1: frame-pointer walks everywhere, as before rules
 * existed (wrong stacks in code without frame pointers); `make bench`
 * measures what the rules cost beside them.
 */
bool alloc_rules_off(void);

#endif
