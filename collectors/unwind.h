/* SPDX-License-Identifier: GPL-2.0-only */
/* DWARF unwinding of user stacks copied by BPF: registers plus the top of the stack. */
#ifndef MEMSLEUTH_UNWIND_H
#define MEMSLEUTH_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include "bpf/capture.h"
#include "collectors/modmap.h"

/*
 * A probe (tracepoint or uprobe) copies the thread's registers and a window
 * of its stack; this module walks that copy with the CFI (.eh_frame,
 * .debug_frame) of each module, falling back to frame pointers where a module
 * has none, as perf does. Only the copied window is read: live memory outside
 * it would give stale frames.
 */

/* x86_64 registers in DWARF numbering: rax rdx rcx rbx rsi rdi rbp rsp r8-r15 rip. */
#define UNWIND_NREGS 17
#define UNWIND_REG_SP 7
#define UNWIND_REG_IP 16

struct unwind_input {
	int tid;			/* the thread the copy was taken from */
	uint64_t regs[UNWIND_NREGS];
	uint64_t stack_base;		/* user address of stack[0] */
	const uint8_t *stack;		/* borrowed for the call */
	size_t chunk;			/* bytes per chunk of the copy */
	size_t nchunks;
	uint64_t valid;			/* bit i: chunk i holds data */
};

/*
 * Describes a capture taken by a probe (bpf/capture.h) of thread `tid`: its
 * registers, and the `stack_bytes` bytes of stack that followed it in the
 * record (chunks beyond those are not valid). `in` borrows `stack`.
 */
void unwind_input_capture(struct unwind_input *in, int tid, const struct stack_capture *cap,
			  const uint8_t *stack, size_t stack_bytes);

struct unwind_frame {
	uint64_t pc;			/* as found: a return address except in the first frame */
	bool activation;		/* the first frame: pc is exact, do not subtract 1 */
};

struct unwinder;

/*
 * Attaches an unwinder to `m` (one per modmap). Returns 0 with *out set, or
 * a negative errno (-EINVAL: the modules give no architecture).
 */
int unwinder_new(struct modmap *m, struct unwinder **out);

/*
 * Walks the copied stack into frames[0..max), innermost first. When a frame
 * lies in no known module (a library loaded since the list was read), the
 * module list is read again and the walk repeated once. *whole says whether
 * the walk ended where the CFI says the stack ends (the return address of
 * _start or of a thread's clone3 is undefined) rather than at an error (no
 * CFI, memory outside the copy) or at `max`. Returns the number of frames
 * (at least 1: the interrupted pc) or a negative errno.
 */
int unwind_frames(struct unwinder *u, const struct unwind_input *in, struct unwind_frame *frames,
		  size_t max, bool *whole);

/*
 * How to step from a frame to its caller, as the CFI says for return
 * address `pc` (looked up at pc - 1, in the call): the caller's sp is the
 * CFA, (sp or rbp) + cfa_off; the return address is at CFA - 8; rbp was
 * saved at CFA + bp_off (0: this frame did not change it). Only rules of that
 * shape (what compilers emit outside prologues of realigned stacks and
 * signal frames) are given: the BPF side follows them in the kernel.
 */
enum unwind_rule_kind {
	UNWIND_RULE_SP,		/* CFA = sp + cfa_off */
	UNWIND_RULE_BP,		/* CFA = rbp + cfa_off */
	UNWIND_RULE_END,	/* the return address is undefined: the outermost frame */
};

struct unwind_rule {
	enum unwind_rule_kind kind;
	int32_t cfa_off;
	int32_t bp_off;
};

/*
 * The rule for return address `pc`. Returns 0, -ENOENT when no module or CFI
 * covers it, -ENOTSUP when its rule has another shape.
 */
int unwind_rule(struct unwinder *u, uint64_t pc, struct unwind_rule *out);

/* Frees; NULL is accepted. The modmap stays attached and must not get another unwinder. */
void unwinder_free(struct unwinder *u);

#endif
