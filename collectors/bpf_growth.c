// SPDX-License-Identifier: GPL-2.0-only
/* User side of the growth probes: load, attach to one process, drain events. */
#include "collectors/bpf_growth.h"
#include "collectors/bpf_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "bpf/growth.h"
#include "growth.skel.h"

/* Events kept per sample; the rest are counted in events_dropped, never silently. */
#define MAX_EVENTS_PER_SAMPLE 65536

struct bpf_growth {
	struct growth_bpf *skel;
	struct ring_buffer *rb;
	struct sample *into;	/* the sample being filled during a drain */
	double mono_to_unix;	/* add to CLOCK_MONOTONIC seconds to get unix time */
};

static double clock_offset(void)
{
	struct timespec rt, mono;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	return (double)(rt.tv_sec - mono.tv_sec) + (double)(rt.tv_nsec - mono.tv_nsec) / 1e9;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct bpf_growth *g = ctx;
	const struct growth_ev *ev = data;
	struct growth_event *out;
	struct sample *s = g->into;

	if (size < sizeof(*ev) || !s)
		return 0;
	if (s->nevents >= MAX_EVENTS_PER_SAMPLE) {
		s->events_dropped++;
		return 0;
	}
	out = sample_add_event(s);
	if (!out) {
		s->events_dropped++;
		return 0;
	}
	out->t = (double)ev->ts_ns / 1e9 + g->mono_to_unix;
	out->addr = ev->addr;
	switch (ev->kind) {
	case GROWTH_EV_BRK:
		out->kind = GROWTH_BRK;
		out->bytes = (int64_t)(ev->addr - ev->old);
		break;
	case GROWTH_EV_MMAP:
		out->kind = GROWTH_MMAP;
		out->bytes = (int64_t)ev->len;
		break;
	case GROWTH_EV_MUNMAP:
		out->kind = GROWTH_MUNMAP;
		out->bytes = -(int64_t)ev->len;
		break;
	default:
		out->kind = GROWTH_MREMAP;
		out->bytes = (int64_t)(ev->len - ev->old);
		break;
	}
	return 0;
}

int bpf_growth_open(int pid, struct bpf_growth **out, char *err, size_t errlen)
{
	struct bpf_growth *g;
	int ret;

	*out = NULL;
	ret = bpf_common_check_privileges(err, errlen);
	if (ret)
		return ret;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->mono_to_unix = clock_offset();
	g->skel = growth_bpf__open();
	if (!g->skel) {
		ret = -errno;
		snprintf(err, errlen, "cannot open the growth probes: %s", strerror(errno));
		goto fail;
	}
	g->skel->rodata->target_tgid = (__u32)pid;
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
	g->rb = ring_buffer__new(bpf_map__fd(g->skel->maps.events), on_event, g, NULL);
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

int bpf_growth_drain(struct bpf_growth *g, struct sample *s)
{
	int ret;

	g->into = s;
	ret = ring_buffer__consume(g->rb);
	g->into = NULL;
	s->has_bpf = true;
	s->lost_events = __atomic_load_n(&g->skel->bss->lost_events, __ATOMIC_RELAXED);
	return ret < 0 ? ret : 0;
}

void bpf_growth_close(struct bpf_growth *g)
{
	if (!g)
		return;
	ring_buffer__free(g->rb);
	growth_bpf__destroy(g->skel);
	free(g);
}
