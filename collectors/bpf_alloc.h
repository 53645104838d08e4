/* SPDX-License-Identifier: GPL-2.0-only */
/* User side of the malloc probes: attach to one process, cycle them, read bytes by stack. */
#ifndef MEMSLEUTH_BPF_ALLOC_COLLECTOR_H
#define MEMSLEUTH_BPF_ALLOC_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/sample.h"
#include "collectors/proc.h"
#include "collectors/stackres.h"

/*
 * How much of the allocator traffic is watched. A uprobe costs a trap per
 * call whatever the program does, so the only way to cost less is to be
 * attached less: free() stays probed all the time (so a recorded allocation
 * is never reported after it was freed), while the probes on the allocating
 * functions are attached for `duty` of each cycle (cycles last period_s on
 * average). Figures are then scaled up by the share of the calls that were
 * recorded (measured on free(), always probed) and marked as estimates.
 * duty 1 is exact: every call is seen and per-arena chunk bytes are kept.
 */
struct bpf_alloc_opts {
	double duty;		/* 0 < duty <= 1 */
	double period_s;	/* one attach/detach cycle */
	uint64_t sample_bytes;	/* record one allocation per this many bytes; 0: all */
	bool free_at_entry;	/* probe free's first instruction (the costly baseline) */
	bool optional;		/* when they cannot attach, go on without them (sampler_open) */
	bool exact, duty_given;	/* command line: --alloc-exact, --alloc-duty seen (not used here) */
};

#define BPF_ALLOC_OPTS_DEFAULT { .duty = 0.1, .period_s = 0.2, .sample_bytes = 0 }

struct bpf_alloc;

/*
 * Whether this process may load the malloc probes: 0, or -EPERM with the
 * missing capabilities named in `err` ("... for the malloc probes").
 */
int bpf_alloc_check_privileges(char *err, size_t errlen);

/*
 * Finds the allocator of target `t`, loads the probes and attaches them to
 * that process only; their stacks go through `res`, the target's stack
 * pipeline (whose modules it loads, see stackres_load). `t` and `res` are
 * borrowed: they must outlive the probes. Returns 0 with *out, or a negative errno with a
 * one-line reason in `err`.
 */
int bpf_alloc_open(const struct proc_target *t, struct stackres *res, const struct bpf_alloc_opts *o,
		   struct bpf_alloc **out, char *err, size_t errlen);

/*
 * Credits the outstanding allocations by stack (kind alloc) to the stack
 * table (exported by the caller) and adds the allocation summary (s->alloc)
 * to `s`; s->alloc.lost_live says when the live map is full. With `ages`,
 * also reads every live record for the stacks' turnover since the previous
 * such reading (collectors/alloc_ages.h; meant once a window). Returns 0 or
 * a negative errno (-ENOMEM; or the error that stopped the attach cycle,
 * with the reason logged).
 */
int bpf_alloc_read(struct bpf_alloc *a, struct sample *s, bool ages);

/* The allocator file probed (as the target names it). */
const char *bpf_alloc_library(const struct bpf_alloc *a);

/* Stops the cycle, detaches every probe and frees; NULL is accepted. */
void bpf_alloc_close(struct bpf_alloc *a);

#endif
