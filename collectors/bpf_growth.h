/* SPDX-License-Identifier: GPL-2.0-only */
/* User side of the growth probes: load, attach to one process, turn records into stacks. */
#ifndef MEMSLEUTH_BPF_GROWTH_COLLECTOR_H
#define MEMSLEUTH_BPF_GROWTH_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer/sample.h"
#include "collectors/proc.h"
#include "collectors/stackres.h"

/*
 * What the probes give each sample (all figures cumulative since attach):
 *   growth events  every brk/mmap/munmap/mremap, with the stack id of the
 *                  code that mapped the bytes (for munmap: of their owner);
 *   stacks mmap    bytes still mapped by each stack, and their ranges;
 *   stacks brk     bytes the break grew by, per stack, and the calls;
 *   stacks fault   page faults taken, per stack: count is the estimate
 *                  (samples x fault_rate), bytes = count x page size;
 *   stacks fd      fds opened since attach and still open, per opener.
 * Stacks are copied in the kernel and unwound by the stack pipeline (stackres.h),
 * at most `stack_rate` per second per family (memory syscalls, faults, fds);
 * what goes beyond is credited to STACK_ID_UNCAPTURED, never dropped.
 * Events the kernel could not deliver, and ranges or fds that could not be
 * tracked, are counted in sample.lost_events.
 */
/* Zero in a field means its default, so a zeroed struct asks for the defaults. */
struct bpf_growth_opts {
	uint32_t fault_rate;	/* sample 1 page fault in N; BPF_GROWTH_OFF: no fault probe */
	uint32_t stack_rate;	/* stack copies per second per family; BPF_GROWTH_UNLIMITED */
	uint32_t ringbuf_kib;	/* ring buffer size (power of 2 >= 4) */
};

#define BPF_GROWTH_OFF UINT32_MAX
#define BPF_GROWTH_UNLIMITED UINT32_MAX
#define BPF_GROWTH_FAULT_RATE 16
#define BPF_GROWTH_STACK_RATE 100
#define BPF_GROWTH_RINGBUF_KIB (8 * 1024)

struct bpf_growth;

/*
 * Loads and attaches the probes for target `t` (all its threads, also those
 * created later); their stacks go through `res`, the target's stack pipeline,
 * whose modules it loads first (stackres_load). `t` and `res` are borrowed:
 * they must outlive the probes. Returns 0 with *out set, or
 * a negative errno with a one-line reason in `err` (-EPERM: the missing
 * capability is named; -EINVAL: a bad option).
 */
int bpf_growth_open(const struct proc_target *t, struct stackres *res,
		    const struct bpf_growth_opts *o, struct bpf_growth **out, char *err, size_t errlen);

/*
 * Moves what happened since the last call into `s`: growth events and the
 * cumulative lost count; credits the stacks to the stack table (exported by
 * the caller). Returns 0, -ENOEXEC when the target executed a
 * new program (see bpf_growth_exec_path; its events after the exec are
 * ignored), or another negative errno.
 */
int bpf_growth_drain(struct bpf_growth *g, struct sample *s);

/* The program the target executed, once drain returned -ENOEXEC; else NULL. */
const char *bpf_growth_exec_path(const struct bpf_growth *g);

/* Detaches every probe and frees; NULL is accepted. */
void bpf_growth_close(struct bpf_growth *g);

#endif
