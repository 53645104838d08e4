// SPDX-License-Identifier: GPL-2.0-only
/* User side of the growth probes: load, attach to one process, turn records into stacks. */
#include "collectors/bpf_growth.h"
#include "lib/idmap.h"
#include "collectors/bpf_common.h"
#include "lib/log.h"
#include "collectors/rangemap.h"
#include "collectors/stackres.h"
#include "lib/clock.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/growth.h"
#include "growth.skel.h"

/* Events kept per sample; the rest are counted in events_dropped, never silently. */
#define MAX_EVENTS_PER_SAMPLE 65536
/* mmap'd ranges tracked at once; further ones are counted as lost. */
#define MAX_RANGES (1U << 18)
/* Key/value pairs read per batch from the fd table. */
#define FD_BATCH 1024
/* Stack copies per budget burst, in seconds of the rate. */
#define BURST_S 1

struct bpf_growth {
	struct growth_bpf *skel;
	struct ring_buffer *rb;
	struct stackres *res;		/* borrowed */
	struct stacktab *stacks;	/* borrowed from res */
	struct rangemap ranges;
	struct idmap seq_young;		/* fd opener seq -> stack id, seen this tick */
	struct idmap seq_old;		/* ... seen before, and still open or just seen */
	struct sample *into;		/* the sample being filled during a drain */
	int err;			/* first failure inside a drain callback */
	char *exec_path;
	uint32_t fault_rate;
	uint64_t page_size;
	uint64_t faults_uncaptured;	/* kernel count already credited */
	uint64_t user_lost;		/* ranges and fds that could not be tracked */
	uint64_t records;
	double mono_to_unix;		/* add to CLOCK_MONOTONIC seconds to get unix time */
};

static uint64_t page_round(const struct bpf_growth *g, uint64_t len)
{
	return (len + g->page_size - 1) & ~(g->page_size - 1);
}

/* Unwinds and symbolizes a copied stack; returns its id, or 0 on ENOMEM. */
static uint64_t stack_of(struct bpf_growth *g, const struct growth_rec *r, size_t size)
{
	return stackres_capture(g->res, (int)r->ev.tid, &r->cap, r->stack,
				size - offsetof(struct growth_rec, stack), false, NULL, NULL);
}

static void on_range_removed(void *arg, uint64_t owner, uint64_t bytes, int ranges)
{
	struct bpf_growth *g = arg;

	if (!stacktab_add(g->stacks, owner, STACK_MMAP, -(int64_t)bytes, ranges))
		g->err = -ENOMEM;
}

/* Credits a new mapping to `id` and remembers its range for the unmap. */
static uint64_t map_range(struct bpf_growth *g, uint64_t start, uint64_t len, uint64_t id)
{
	uint64_t eff = stacktab_add(g->stacks, id, STACK_MMAP, (int64_t)len, 1);
	int ret;

	if (!eff) {
		g->err = -ENOMEM;
		return 0;
	}
	ret = rangemap_add(&g->ranges, start, start + len, eff, on_range_removed, g);
	if (ret) {
		stacktab_add(g->stacks, eff, STACK_MMAP, -(int64_t)len, -1);
		if (ret == -ENOSPC)
			g->user_lost++;
		else
			g->err = ret;
	}
	return eff;
}

static void unmap_range(struct bpf_growth *g, uint64_t start, uint64_t len, uint64_t *owner)
{
	stackres_unmapped(g->res, start, start + len);
	if (rangemap_remove(&g->ranges, start, start + len, on_range_removed, g, owner))
		g->user_lost++;
}

static void add_event(struct bpf_growth *g, const struct growth_ev *ev, uint8_t kind,
		      int64_t bytes, uint64_t stack_id)
{
	struct sample *s = g->into;
	struct growth_event *out;

	if (s->nevents >= MAX_EVENTS_PER_SAMPLE) {
		s->events_dropped++;
		return;
	}
	out = sample_add_event(s);
	if (!out) {
		s->events_dropped++;
		return;
	}
	out->t = (double)ev->ts_ns / 1e9 + g->mono_to_unix;
	out->kind = kind;
	out->bytes = bytes;
	out->addr = ev->addr;
	out->stack_id = stack_id;
}

static void on_mem(struct bpf_growth *g, const struct growth_ev *ev, uint64_t id)
{
	uint64_t len, owner = 0, eff = 0;
	int64_t bytes;

	switch (ev->kind) {
	case GROWTH_EV_BRK:
		bytes = (int64_t)(ev->addr - ev->old);
		if (bytes > 0) {
			eff = stacktab_add(g->stacks, id, STACK_BRK, bytes, 1);
			if (!eff)
				g->err = -ENOMEM;
		}
		add_event(g, ev, GROWTH_BRK, bytes, eff);
		break;
	case GROWTH_EV_MMAP:
		len = page_round(g, ev->len);
		if (!(ev->old & MAP_ANONYMOUS))
			stackres_mapped_file(g->res);
		eff = map_range(g, ev->addr, len, id);
		add_event(g, ev, GROWTH_MMAP, (int64_t)len, eff);
		break;
	case GROWTH_EV_MUNMAP:
		len = page_round(g, ev->len);
		unmap_range(g, ev->addr, len, &owner);
		add_event(g, ev, GROWTH_MUNMAP, -(int64_t)len, owner);
		break;
	case GROWTH_EV_MREMAP:
		/* The moved or resized mapping belongs to the code that grew it, else stays put. */
		unmap_range(g, ev->seq, page_round(g, ev->old), &owner);
		if (id == STACK_ID_UNCAPTURED && owner)
			id = owner;
		len = page_round(g, ev->len);
		eff = map_range(g, ev->addr, len, id);
		add_event(g, ev, GROWTH_MREMAP, (int64_t)len - (int64_t)page_round(g, ev->old), eff);
		break;
	}
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct bpf_growth *g = ctx;
	const struct growth_ev *ev = data;
	uint64_t id = STACK_ID_UNCAPTURED;

	if (size < sizeof(*ev) || !g->into)
		return 0;
	g->records++;
	if (ev->kind == GROWTH_EV_EXEC) {
		const struct growth_exec *e = data;

		char *c;

		if (size >= sizeof(*e) && !g->exec_path)
			g->exec_path = strndup(e->path, sizeof(e->path));
		if (!g->exec_path)
			g->exec_path = strdup("?");
		/* The path goes into a message for a terminal: no control bytes from the target. */
		for (c = g->exec_path; c && *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		return 0;
	}
	if (g->exec_path)
		return 0;
	if ((ev->flags & GROWTH_F_CAPTURE) &&
	    size >= offsetof(struct growth_rec, stack)) {
		id = stack_of(g, data, size);
		if (!id) {
			g->err = -ENOMEM;
			return 0;
		}
	}
	switch (ev->kind) {
	case GROWTH_EV_FAULT:
		if (!stacktab_add(g->stacks, id, STACK_FAULT, (int64_t)(g->fault_rate * g->page_size),
				  g->fault_rate))
			g->err = -ENOMEM;
		break;
	case GROWTH_EV_FD:
		if (idmap_put(&g->seq_young, ev->seq, id))
			g->err = -ENOMEM;
		break;
	default:
		on_mem(g, ev, id);
		break;
	}
	return 0;
}

/* The stack of a table entry: its opener's, or a stand-in that says why there is none. */
static uint64_t fd_owner_stack(struct bpf_growth *g, const struct growth_fd_owner *o)
{
	size_t id;

	if (o->flags & GROWTH_FD_LOST)
		return STACK_ID_LOST;
	if (!(o->flags & GROWTH_FD_CAPTURED))
		return STACK_ID_UNCAPTURED;
	id = idmap_get(&g->seq_young, o->seq);
	if (id == SIZE_MAX)
		id = idmap_get(&g->seq_old, o->seq);
	/* Recorded after this drain's ring buffer read: counted next tick. */
	return id == SIZE_MAX ? 0 : (uint64_t)id;
}

/*
 * Recounts the fds still open by opener from the kernel's table, and keeps
 * the openers of those fds, plus the ones first seen this tick (their table
 * entry may be written just after the read), for the next count.
 */
static int fds_count(struct bpf_growth *g)
{
	int fd = bpf_map__fd(g->skel->maps.fds);
	__u32 keys[FD_BATCH], batch = 0;
	struct growth_fd_owner vals[FD_BATCH];
	struct idmap next = { 0 };
	bool first = true, done = false;
	size_t i;
	int ret = 0;

	stacktab_zero_kind(g->stacks, STACK_FD);
	while (!done) {
		__u32 n = FD_BATCH;

		ret = bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch, keys, vals, &n, NULL);
		first = false;
		if (ret < 0) {
			ret = -errno;
			if (ret != -ENOENT)
				goto out;
			done = true;
			ret = 0;
		}
		for (i = 0; i < n; i++) {
			uint64_t id = fd_owner_stack(g, &vals[i]);

			if (!id)
				continue;
			if (!stacktab_add(g->stacks, id, STACK_FD, 0, 1) ||
			    ((vals[i].flags & GROWTH_FD_CAPTURED) && idmap_put(&next, vals[i].seq, id))) {
				ret = -ENOMEM;
				goto out;
			}
		}
	}
	for (i = 0; g->seq_young.slots && i <= g->seq_young.mask; i++) {
		const struct idmap_slot *sl = &g->seq_young.slots[i];

		if (sl->value != SIZE_MAX && idmap_put(&next, sl->key, sl->value)) {
			ret = -ENOMEM;
			goto out;
		}
	}
	idmap_free(&g->seq_old);
	idmap_free(&g->seq_young);
	g->seq_old = next;
	memset(&next, 0, sizeof(next));
out:
	idmap_free(&next);
	return ret;
}

/* Sampled faults whose stack the budget refused are counted in the kernel; credit them. */
static int faults_credit(struct bpf_growth *g)
{
	uint64_t now = __atomic_load_n(&g->skel->bss->faults_uncaptured, __ATOMIC_RELAXED);
	uint64_t n = now - g->faults_uncaptured;

	g->faults_uncaptured = now;
	if (!n)
		return 0;
	return stacktab_add(g->stacks, STACK_ID_UNCAPTURED, STACK_FAULT,
			    (int64_t)(n * g->fault_rate * g->page_size),
			    (int64_t)(n * g->fault_rate))
		       ? 0
		       : -ENOMEM;
}

int bpf_growth_drain(struct bpf_growth *g, struct sample *s)
{
	int ret;

	g->into = s;
	g->err = 0;
	ret = ring_buffer__consume(g->rb);
	g->into = NULL;
	if (ret < 0)
		return ret;
	if (g->err)
		return g->err;
	if (g->exec_path)
		return -ENOEXEC;
	ret = fds_count(g);
	if (!ret)
		ret = faults_credit(g);
	if (ret)
		return ret;
	s->has_bpf = true;
	s->lost_events = __atomic_load_n(&g->skel->bss->lost_events, __ATOMIC_RELAXED) +
			 g->user_lost + stacktab_collisions(g->stacks);
	return 0;
}

const char *bpf_growth_exec_path(const struct bpf_growth *g)
{
	return g->exec_path;
}

static int configure(struct bpf_growth *g, int pid, const struct bpf_growth_opts *o, char *err,
		     size_t errlen)
{
	struct growth_bpf *skel = g->skel;
	uint32_t stack_rate = o->stack_rate ? o->stack_rate : BPF_GROWTH_STACK_RATE;
	uint32_t kib = o->ringbuf_kib ? o->ringbuf_kib : BPF_GROWTH_RINGBUF_KIB;
	int ret;

	skel->rodata->target_tgid = (__u32)pid;
	skel->rodata->fault_rate = g->fault_rate == BPF_GROWTH_OFF ? 0 : g->fault_rate;
	if (stack_rate != BPF_GROWTH_UNLIMITED) {
		skel->rodata->capture_interval_ns = 1000000000ULL / stack_rate;
		skel->rodata->capture_burst_ns = BURST_S * 1000000000ULL;
	}
	if (g->fault_rate == BPF_GROWTH_OFF)
		bpf_program__set_autoload(skel->progs.ms_fault, false);
	if (kib < 4 || (kib & (kib - 1))) {
		snprintf(err, errlen, "ring buffer size %u KiB: not a power of 2 >= 4", kib);
		return -EINVAL;
	}
	ret = bpf_map__set_max_entries(skel->maps.events, kib * 1024);
	if (ret) {
		snprintf(err, errlen, "cannot size the ring buffer: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

/*
 * The probes decode x86_64 syscall numbers and registers: a 32-bit program
 * makes other syscalls under the same numbers. Returns 0, -ENOTSUP with a
 * reason, or -ESRCH.
 */
static int check_abi(const struct proc_target *t, char *err, size_t errlen)
{
	Elf64_Ehdr eh;
	ssize_t n;
	int fd;

	fd = openat(t->dirfd, "exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot read /proc/%d/exe: %s", t->pid, strerror(errno));
		return proc_errno_gone(errno) ? -ESRCH : -errno;
	}
	n = read(fd, &eh, sizeof(eh));
	close(fd);
	if (n == (ssize_t)sizeof(eh) && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
	    eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_machine == EM_X86_64)
		return 0;
	snprintf(err, errlen, "process %d is not an x86_64 program: the eBPF probes need one", t->pid);
	return -ENOTSUP;
}

int bpf_growth_open(const struct proc_target *t, struct stackres *res,
		    const struct bpf_growth_opts *o, struct bpf_growth **out, char *err, size_t errlen)
{
	struct bpf_growth *g;
	int ret;

	*out = NULL;
	ret = bpf_common_check_privileges(err, errlen);
	if (!ret)
		ret = check_abi(t, err, errlen);
	if (ret)
		return ret;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->mono_to_unix = clock_unix() - clock_mono();
	g->page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	g->fault_rate = o->fault_rate ? o->fault_rate : BPF_GROWTH_FAULT_RATE;
	g->ranges.max = MAX_RANGES;
	g->res = res;
	g->stacks = stackres_table(res);
	/* The module list first: a target gone by now needs no probes. */
	ret = stackres_load(res, err, errlen);
	if (ret)
		goto fail;
	g->skel = growth_bpf__open();
	if (!g->skel) {
		ret = -errno;
		snprintf(err, errlen, "cannot open the growth probes: %s", strerror(errno));
		goto fail;
	}
	ret = configure(g, t->pid, o, err, errlen);
	if (ret)
		goto fail;
	ret = growth_bpf__load(g->skel);
	if (ret) {
		snprintf(err, errlen, "cannot load the growth probes: %s", strerror(-ret));
		goto fail;
	}
	ret = growth_bpf__attach(g->skel);
	if (ret) {
		snprintf(err, errlen, "cannot attach the growth probes: %s", strerror(-ret));
		goto fail;
	}
	g->rb = ring_buffer__new(bpf_map__fd(g->skel->maps.events), on_record, g, NULL);
	if (!g->rb) {
		ret = -errno;
		snprintf(err, errlen, "cannot open the event ring buffer: %s", strerror(errno));
		goto fail;
	}
	*out = g;
	return 0;
fail:
	bpf_growth_close(g);
	return ret;
}

void bpf_growth_close(struct bpf_growth *g)
{
	if (!g)
		return;
	if (g->skel && g->skel->bss)
		log_debug("probes: %" PRIu64 " records, %" PRIu64 " lost, %" PRIu64
			  " stack copies refused by the budget",
			  g->records, (uint64_t)g->skel->bss->lost_events,
			  (uint64_t)g->skel->bss->budget_refused);
	ring_buffer__free(g->rb);
	growth_bpf__destroy(g->skel);
	rangemap_free(&g->ranges);
	idmap_free(&g->seq_young);
	idmap_free(&g->seq_old);
	free(g->exec_path);
	free(g);
}
