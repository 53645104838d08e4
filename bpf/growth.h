/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by growth.bpf.c and user space: the record layouts, their kinds and limits. */
#ifndef MEMSLEUTH_BPF_GROWTH_H
#define MEMSLEUTH_BPF_GROWTH_H

/* Fixed-width types and explicit padding only: clang's BPF target and gcc must agree on the layout. */

#include "capture.h"

#define GROWTH_EV_BRK 0		/* addr: new break; old: old break */
#define GROWTH_EV_MMAP 1	/* addr: mapped address; len: length; old: mmap flags */
#define GROWTH_EV_MUNMAP 2	/* addr, len: the range unmapped */
#define GROWTH_EV_MREMAP 3	/* addr: new address; len: new length; old: old length;
				 * seq: old address */
#define GROWTH_EV_FAULT 4	/* addr: faulting address; len: error code */
#define GROWTH_EV_FD 5		/* addr: fd; len: second fd or ~0; old: syscall nr;
				 * seq: the opener's number in the fd table */
#define GROWTH_EV_EXEC 6	/* followed by struct growth_exec */

/* The record carries a struct stack_capture and the stack chunks after the event. */
#define GROWTH_F_CAPTURE 1

/* Capture budgets, one per event family, so that one family cannot starve the others. */
#define GROWTH_BUDGET_MEM 0	/* brk, mmap, mremap */
#define GROWTH_BUDGET_FAULT 1
#define GROWTH_BUDGET_FD 2
#define GROWTH_NBUDGETS 3

struct growth_ev {
	__u64 ts_ns;		/* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 addr;
	__u64 len;
	__u64 old;
	__u64 seq;
	__u32 tid;
	__u16 kind;		/* GROWTH_EV_* */
	__u16 flags;		/* GROWTH_F_* */
};

/* The largest record: an event with its registers and a full stack copy. */
struct growth_rec {
	struct growth_ev ev;
	struct stack_capture cap;
	__u8 stack[CAPTURE_STACK_BYTES];
};

#define GROWTH_EXEC_PATH 256

struct growth_exec {
	struct growth_ev ev;
	char path[GROWTH_EXEC_PATH];	/* NUL-terminated, possibly cut */
};

/* The in-kernel table of fds opened since attach: fd -> who opened it. */
#define GROWTH_FD_CAPTURED 1	/* a record with the opener's stack was submitted */
#define GROWTH_FD_LOST 2	/* the record could not be submitted (ring buffer full) */

struct growth_fd_owner {
	__u64 seq;		/* matches growth_ev.seq of the GROWTH_EV_FD record */
	__u32 nr;		/* the syscall that created the fd */
	__u32 flags;		/* GROWTH_FD_* */
};

#endif
