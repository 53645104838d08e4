/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by growth.bpf.c and user space: the event records and their kinds. */
#ifndef MEMSLEUTH_BPF_GROWTH_H
#define MEMSLEUTH_BPF_GROWTH_H

/* Fixed-width types only: clang's BPF target and gcc must agree on the layout. */

#define GROWTH_EV_BRK 0
#define GROWTH_EV_MMAP 1
#define GROWTH_EV_MUNMAP 2
#define GROWTH_EV_MREMAP 3

struct growth_ev {
	__u64 ts_ns;		/* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 addr;		/* new break, mapped address, unmapped or new mremap address */
	__u64 len;		/* bytes mapped/unmapped; new mremap length */
	__u64 old;		/* old break; old mremap length; mmap flags */
	__u32 tid;
	__u16 kind;		/* GROWTH_EV_* */
	__u16 pad;
};

#endif
