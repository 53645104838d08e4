// SPDX-License-Identifier: GPL-2.0-only
/* Growth probes: the target's brk/mmap/munmap/mremap calls, as exact events. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "growth.h"

/* BTF tracepoints on raw syscalls need no tracefs, which a fresh machine lacks. */

#if defined(__TARGET_ARCH_x86)
#define NR_MMAP 9
#define NR_MUNMAP 11
#define NR_BRK 12
#define NR_MREMAP 25
#elif defined(__TARGET_ARCH_arm64)
#define NR_MMAP 222
#define NR_MUNMAP 215
#define NR_BRK 214
#define NR_MREMAP 216
#else
#error "syscall numbers for this architecture are missing"
#endif

const volatile __u32 target_tgid = 0;

/* Events that could not be delivered; read by user space every tick. */
__u64 lost_events = 0;

struct pending {
	__u64 args[4];
	__u64 old_brk;
	__u32 nr;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct pending);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

static __always_inline bool is_target(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(growth_enter, struct pt_regs *regs, long id)
{
	struct pending p = {};
	__u32 tid;

	if (!is_target())
		return 0;
	if (id != NR_MMAP && id != NR_MUNMAP && id != NR_BRK && id != NR_MREMAP)
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	p.nr = (__u32)id;
	p.args[0] = PT_REGS_PARM1_CORE_SYSCALL(regs);
	p.args[1] = PT_REGS_PARM2_CORE_SYSCALL(regs);
	p.args[2] = PT_REGS_PARM3_CORE_SYSCALL(regs);
	p.args[3] = PT_REGS_PARM4_CORE_SYSCALL(regs);
	if (id == NR_BRK) {
		struct task_struct *task = bpf_get_current_task_btf();

		p.old_brk = BPF_CORE_READ(task, mm, brk);
	}
	if (bpf_map_update_elem(&pending, &tid, &p, BPF_ANY))
		__sync_fetch_and_add(&lost_events, 1);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(growth_exit, struct pt_regs *regs, long ret)
{
	struct growth_ev *ev;
	struct pending *p;
	__u32 tid;

	if (!is_target())
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	p = bpf_map_lookup_elem(&pending, &tid);
	if (!p)
		return 0;
	/* Failed calls change nothing; a brk that fails returns the old break. */
	if (ret < 0 && ret > -4096)
		goto out;
	if (p->nr == NR_BRK && (__u64)ret == p->old_brk)
		goto out;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		__sync_fetch_and_add(&lost_events, 1);
		goto out;
	}
	ev->ts_ns = bpf_ktime_get_ns();
	ev->tid = tid;
	ev->pad = 0;
	switch (p->nr) {
	case NR_BRK:
		ev->kind = GROWTH_EV_BRK;
		ev->addr = (__u64)ret;
		ev->len = 0;
		ev->old = p->old_brk;
		break;
	case NR_MMAP:
		ev->kind = GROWTH_EV_MMAP;
		ev->addr = (__u64)ret;
		ev->len = p->args[1];
		ev->old = p->args[3];
		break;
	case NR_MUNMAP:
		ev->kind = GROWTH_EV_MUNMAP;
		ev->addr = p->args[0];
		ev->len = p->args[1];
		ev->old = 0;
		break;
	default:
		ev->kind = GROWTH_EV_MREMAP;
		ev->addr = (__u64)ret;
		ev->len = p->args[2];
		ev->old = p->args[1];
		break;
	}
	bpf_ringbuf_submit(ev, 0);
out:
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
