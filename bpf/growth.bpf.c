// SPDX-License-Identifier: GPL-2.0-only
/* Growth probes: the target's memory and fd syscalls and sampled page faults, with user stacks. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "growth.h"
#include "capture.bpf.h"

/*
 * BTF tracepoints (raw syscalls, page_fault_user, sched_process_exec) need no
 * tracefs, which a fresh machine lacks. Every program tests the tgid first:
 * sys_enter/sys_exit run for every syscall on the machine.
 */

#define NR_OPEN 2
#define NR_CLOSE 3
#define NR_MMAP 9
#define NR_MUNMAP 11
#define NR_BRK 12
#define NR_PIPE 22
#define NR_MREMAP 25
#define NR_DUP 32
#define NR_DUP2 33
#define NR_SOCKET 41
#define NR_ACCEPT 43
#define NR_SOCKETPAIR 53
#define NR_FCNTL 72
#define NR_CREAT 85
#define NR_EPOLL_CREATE 213
#define NR_MQ_OPEN 240
#define NR_INOTIFY_INIT 253
#define NR_OPENAT 257
#define NR_SIGNALFD 282
#define NR_TIMERFD_CREATE 283
#define NR_EVENTFD 284
#define NR_ACCEPT4 288
#define NR_SIGNALFD4 289
#define NR_EVENTFD2 290
#define NR_EPOLL_CREATE1 291
#define NR_DUP3 292
#define NR_PIPE2 293
#define NR_INOTIFY_INIT1 294
#define NR_PERF_EVENT_OPEN 298
#define NR_FANOTIFY_INIT 300
#define NR_OPEN_BY_HANDLE_AT 304
#define NR_MEMFD_CREATE 319
#define NR_USERFAULTFD 323
#define NR_IO_URING_SETUP 425
#define NR_OPEN_TREE 428
#define NR_FSOPEN 430
#define NR_FSMOUNT 432
#define NR_FSPICK 433
#define NR_PIDFD_OPEN 434
#define NR_CLOSE_RANGE 436
#define NR_OPENAT2 437
#define NR_PIDFD_GETFD 438
#define NR_LANDLOCK_CREATE_RULESET 444
#define NR_MEMFD_SECRET 447

#define F_DUPFD 0
#define F_DUPFD_CLOEXEC 1030
#define CLOSE_RANGE_CLOEXEC (1U << 2)

/* close_range walks at most this many fds; the rest are counted as lost. */
#define CLOSE_RANGE_MAX (1U << 20)

const volatile __u32 target_tgid = 0;
/* Sample one page fault in fault_rate (1: all); 0 turns fault probing off. */
const volatile __u32 fault_rate = 1;
/* Capture budget per family: one capture per interval, bursts up to burst_ns ahead. */
const volatile __u64 capture_interval_ns = 0;
const volatile __u64 capture_burst_ns = 0;

/* Events that could not be delivered or kept; read by user space every tick. */
__u64 lost_events = 0;
/* Captures refused by the budget (the events themselves are delivered). */
__u64 budget_refused = 0;
/* Sampled faults whose stack the budget refused. */
__u64 faults_uncaptured = 0;
/* Set once the target has executed a new program: its later events are not ours. */
__u32 exec_seen = 0;
/* The largest fd number recorded, bounding close_range's walk. */
__u32 max_fd = 0;
/* Theoretical arrival times of the budgets (GCRA). */
__u64 budget_tat[GROWTH_NBUDGETS] = {};

struct pending_brk {
	__u64 old_brk;
};

/* LRU: an entry left by a thread killed inside brk must not hold a slot for ever. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct pending_brk);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct growth_fd_owner);
} fds SEC(".maps");

/* Per-CPU counters: fault sampling and fd sequence numbers, without atomics. */
struct cpu_state {
	__u64 fd_seq;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cpu_state);
} cpu_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

static __always_inline bool is_target(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid && !exec_seen;
}

static __always_inline void count_lost(void)
{
	__sync_fetch_and_add(&lost_events, 1);
}

/*
 * Generic cell rate algorithm: a capture is allowed when the budget's
 * theoretical arrival time is less than a burst ahead of now. Updates race
 * between CPUs without atomics; the budget is then exceeded by a capture or
 * two, which is harmless.
 */
static __always_inline bool budget_take(__u32 family)
{
	__u64 now, tat;

	if (!capture_interval_ns)
		return true;
	if (family >= GROWTH_NBUDGETS)
		return false;
	now = bpf_ktime_get_ns();
	tat = budget_tat[family];
	if (tat < now)
		tat = now;
	if (tat - now > capture_burst_ns) {
		__sync_fetch_and_add(&budget_refused, 1);
		return false;
	}
	budget_tat[family] = tat + capture_interval_ns;
	return true;
}

#define REC_HDR offsetof(struct growth_rec, stack)

static __always_inline void ev_fill(struct growth_ev *ev, __u16 kind, __u64 addr, __u64 len,
				    __u64 old, __u64 seq)
{
	ev->ts_ns = bpf_ktime_get_ns();
	ev->tid = (__u32)bpf_get_current_pid_tgid();
	ev->kind = kind;
	ev->flags = 0;
	ev->addr = addr;
	ev->len = len;
	ev->old = old;
	ev->seq = seq;
}

/*
 * Emits an event with the user stack when the budget of `family` allows.
 * Returns 0 when sent, 1 when the budget refused (nothing sent), -1 when the
 * ring buffer was full (counted as lost).
 */
static __always_inline int emit_capture(struct pt_regs *regs, __u32 family, __u16 kind,
					__u64 addr, __u64 len, __u64 old, __u64 seq)
{
	struct capture_pos pos;
	struct bpf_dynptr rec;
	struct growth_rec *hdr;

	if (!budget_take(family))
		return 1;
	if (capture_reserve(&events, REC_HDR, regs, &rec, &pos)) {
		count_lost();
		return -1;
	}
	hdr = bpf_dynptr_data(&rec, 0, REC_HDR);
	if (!hdr) {
		bpf_ringbuf_discard_dynptr(&rec, 0);
		count_lost();
		return -1;
	}
	ev_fill(&hdr->ev, kind, addr, len, old, seq);
	hdr->ev.flags = GROWTH_F_CAPTURE;
	capture_fill(&rec, REC_HDR, &hdr->cap, regs, &pos);
	bpf_ringbuf_submit_dynptr(&rec, 0);
	return 0;
}

/* Emits an event without a stack. */
static __always_inline void emit_plain(__u16 kind, __u64 addr, __u64 len, __u64 old, __u64 seq)
{
	struct growth_ev *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);

	if (!ev) {
		count_lost();
		return;
	}
	ev_fill(ev, kind, addr, len, old, seq);
	bpf_ringbuf_submit(ev, 0);
}

/* A memory event is always delivered (step detection needs each one); its stack if budgeted. */
static __always_inline void emit_mem(struct pt_regs *regs, __u16 kind, __u64 addr, __u64 len,
				     __u64 old, __u64 seq)
{
	if (regs && emit_capture(regs, GROWTH_BUDGET_MEM, kind, addr, len, old, seq) != 1)
		return;
	emit_plain(kind, addr, len, old, seq);
}

struct close_range_ctx {
	__u32 first;
};

static long close_one(__u64 i, struct close_range_ctx *c)
{
	__u32 fd = c->first + (__u32)i;

	bpf_map_delete_elem(&fds, &fd);
	return 0;
}

/* A close is handled at entry: after the kernel frees the number another thread may reuse it. */
static __always_inline void on_close_range(struct pt_regs *regs)
{
	__u32 first = (__u32)PT_REGS_PARM1_CORE_SYSCALL(regs);
	__u32 last = (__u32)PT_REGS_PARM2_CORE_SYSCALL(regs);
	__u32 flags = (__u32)PT_REGS_PARM3_CORE_SYSCALL(regs);
	struct close_range_ctx c = { .first = first };
	__u64 n;

	if (flags & CLOSE_RANGE_CLOEXEC)
		return;
	if (last > max_fd)
		last = max_fd;
	if (last < first)
		return;
	n = (__u64)last - first + 1;
	if (n > CLOSE_RANGE_MAX) {
		count_lost();
		n = CLOSE_RANGE_MAX;
	}
	bpf_loop(n, close_one, &c, 0);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(ms_sys_enter, struct pt_regs *regs, long id)
{
	struct pending_brk p;
	__u32 tid, fd;

	if (!is_target())
		return 0;
	switch (id) {
	case NR_BRK: {
		struct task_struct *task = bpf_get_current_task_btf();

		tid = (__u32)bpf_get_current_pid_tgid();
		p.old_brk = BPF_CORE_READ(task, mm, brk);
		if (bpf_map_update_elem(&pending, &tid, &p, BPF_ANY))
			count_lost();
		break;
	}
	case NR_CLOSE:
		fd = (__u32)PT_REGS_PARM1_CORE_SYSCALL(regs);
		bpf_map_delete_elem(&fds, &fd);
		break;
	case NR_CLOSE_RANGE:
		on_close_range(regs);
		break;
	}
	return 0;
}

static __always_inline void on_brk_exit(struct pt_regs *regs, long ret)
{
	struct pending_brk *p;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 old;

	p = bpf_map_lookup_elem(&pending, &tid);
	if (!p)
		return;
	old = p->old_brk;
	bpf_map_delete_elem(&pending, &tid);
	/* A brk that fails returns the old break; one that shrinks needs no stack. */
	if ((__u64)ret == old)
		return;
	emit_mem((__u64)ret > old ? regs : NULL, GROWTH_EV_BRK, (__u64)ret, 0, old, 0);
}

static __always_inline void on_mem_exit(struct pt_regs *regs, long id, long ret)
{
	__u64 a0 = PT_REGS_PARM1_CORE_SYSCALL(regs);
	__u64 a1 = PT_REGS_PARM2_CORE_SYSCALL(regs);
	__u64 a2 = PT_REGS_PARM3_CORE_SYSCALL(regs);
	__u64 a3 = PT_REGS_PARM4_CORE_SYSCALL(regs);

	if (id == NR_BRK) {
		on_brk_exit(regs, ret);
		return;
	}
	if (ret < 0 && ret > -4096)
		return;
	if (id == NR_MMAP)
		emit_mem(regs, GROWTH_EV_MMAP, (__u64)ret, a1, a3, 0);
	else if (id == NR_MUNMAP)
		emit_mem(NULL, GROWTH_EV_MUNMAP, a0, a1, 0, 0);
	else
		emit_mem(a2 > a1 ? regs : NULL, GROWTH_EV_MREMAP, (__u64)ret, a2, a1, a0);
}

static __always_inline void fd_record(__u32 fd, const struct growth_fd_owner *o)
{
	if (bpf_map_update_elem(&fds, &fd, o, BPF_ANY)) {
		count_lost();
		return;
	}
	if (fd > max_fd)
		max_fd = fd;
}

static __always_inline void on_fd_exit(struct pt_regs *regs, long id, long ret)
{
	struct growth_fd_owner o = { .nr = (__u32)id };
	struct cpu_state *cs;
	__u32 zero = 0, fd1 = (__u32)ret, fd2 = ~0U;
	int pair[2];
	int sent;

	if (id == NR_PIPE || id == NR_PIPE2 || id == NR_SOCKETPAIR) {
		const void *uptr = (const void *)(id == NR_SOCKETPAIR ? PT_REGS_PARM4_CORE_SYSCALL(regs)
								      : PT_REGS_PARM1_CORE_SYSCALL(regs));

		if (bpf_probe_read_user(pair, sizeof(pair), uptr)) {
			count_lost();
			return;
		}
		fd1 = (__u32)pair[0];
		fd2 = (__u32)pair[1];
	} else if (id == NR_FCNTL) {
		__u64 cmd = PT_REGS_PARM2_CORE_SYSCALL(regs);

		if (cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC)
			return;
	} else if (id == NR_DUP2 || id == NR_DUP3) {
		/* dup2(fd, fd) changes nothing. */
		if (PT_REGS_PARM1_CORE_SYSCALL(regs) == PT_REGS_PARM2_CORE_SYSCALL(regs))
			return;
	}
	cs = bpf_map_lookup_elem(&cpu_state, &zero);
	if (!cs)
		return;
	/* Unique without atomics: a per-CPU counter with the CPU number in the low bits. */
	o.seq = (cs->fd_seq++ << 12) | (bpf_get_smp_processor_id() & 0xfff);
	/* Without a stack the table entry alone says how the fd is counted. */
	sent = emit_capture(regs, GROWTH_BUDGET_FD, GROWTH_EV_FD, fd1, fd2 == ~0U ? ~0ULL : fd2, id,
			    o.seq);
	o.flags = sent == 0 ? GROWTH_FD_CAPTURED : sent < 0 ? GROWTH_FD_LOST : 0;
	fd_record(fd1, &o);
	if (fd2 != ~0U)
		fd_record(fd2, &o);
}

static __always_inline bool creates_fd(long id)
{
	switch (id) {
	case NR_OPEN: case NR_OPENAT: case NR_OPENAT2: case NR_CREAT: case NR_OPEN_BY_HANDLE_AT:
	case NR_SOCKET: case NR_SOCKETPAIR: case NR_ACCEPT: case NR_ACCEPT4:
	case NR_PIPE: case NR_PIPE2: case NR_DUP: case NR_DUP2: case NR_DUP3: case NR_FCNTL:
	case NR_EVENTFD: case NR_EVENTFD2: case NR_EPOLL_CREATE: case NR_EPOLL_CREATE1:
	case NR_TIMERFD_CREATE: case NR_SIGNALFD: case NR_SIGNALFD4:
	case NR_INOTIFY_INIT: case NR_INOTIFY_INIT1: case NR_FANOTIFY_INIT:
	case NR_MEMFD_CREATE: case NR_MEMFD_SECRET: case NR_USERFAULTFD: case NR_PERF_EVENT_OPEN:
	case NR_IO_URING_SETUP: case NR_PIDFD_OPEN: case NR_PIDFD_GETFD: case NR_MQ_OPEN:
	case NR_OPEN_TREE: case NR_FSOPEN: case NR_FSMOUNT: case NR_FSPICK:
	case NR_LANDLOCK_CREATE_RULESET:
		return true;
	}
	return false;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(ms_sys_exit, struct pt_regs *regs, long ret)
{
	long id;

	if (!is_target())
		return 0;
	id = regs->orig_ax;
	if (id == NR_MMAP || id == NR_MUNMAP || id == NR_BRK || id == NR_MREMAP) {
		on_mem_exit(regs, id, ret);
		return 0;
	}
	if (ret < 0 || !creates_fd(id))
		return 0;
	on_fd_exit(regs, id, ret);
	return 0;
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(ms_fault, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	if (!is_target())
		return 0;
	if (fault_rate > 1 && bpf_get_prandom_u32() % fault_rate)
		return 0;
	/* Faults beyond the budget are only counted: there can be millions a second. */
	if (emit_capture(regs, GROWTH_BUDGET_FAULT, GROWTH_EV_FAULT, address, error_code, 0, 0) == 1)
		__sync_fetch_and_add(&faults_uncaptured, 1);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(ms_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct growth_exec *e;

	if (!is_target())
		return 0;
	exec_seen = 1;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost();
		return 0;
	}
	ev_fill(&e->ev, GROWTH_EV_EXEC, 0, 0, 0, 0);
	bpf_probe_read_kernel_str(e->path, sizeof(e->path), BPF_CORE_READ(bprm, filename));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
