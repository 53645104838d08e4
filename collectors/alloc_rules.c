// SPDX-License-Identifier: GPL-2.0-only
/* The malloc probes' walks by unwinding rules, user side: where frame pointers hold, and learning rules as copies arrive. */
#include "collectors/alloc_rules.h"
#include "lib/log.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <bpf/bpf.h>

#include "bpf/alloc.h"

/* How long the learner waits on the ring before it looks whether to stop. */
#define LEARN_WAIT_MS 50

struct alloc_rules {
	struct stackres *res;		/* borrowed */
	struct alloc_stacks *stacks;	/* borrowed */
	int fp_map;
	__u32 *nfp_ranges;		/* in the program's .bss */
	unsigned fp_reads;		/* the module list read the ranges are of; 0 none yet */
	struct modmap_range fp[ALLOC_MAX_FP_RANGES];	/* as last written to the kernel */
	size_t nfp;
	struct modmap_range *exec_seen;	/* the executable ranges when rules were last checked */
	size_t nexec_seen;

	pthread_t learner;
	int epoll_fd;			/* the capture ring's (libbpf's) */
	pthread_mutex_t lock;
	bool stop;
};

bool alloc_rules_off(void)
{
	const char *env = getenv("MEMSLEUTH_ALLOC_FP_ONLY");

	return env && *env && strcmp(env, "0") != 0;
}

static void *learn_main(void *arg)
{
	struct alloc_rules *r = arg;
	struct epoll_event ev;
	bool stop = false;

	/* The ring is waited on without the lock; only draining it takes the resolver's. */
	while (!stop) {
		if (epoll_wait(r->epoll_fd, &ev, 1, LEARN_WAIT_MS) > 0) {
			stackres_lock(r->res);
			alloc_stacks_drain(r->stacks);
			stackres_unlock(r->res);
		}
		pthread_mutex_lock(&r->lock);
		stop = r->stop;
		pthread_mutex_unlock(&r->lock);
	}
	return NULL;
}

int alloc_rules_start(struct stackres *res, struct alloc_stacks *stacks, int fp_map, __u32 *nfp,
		      struct alloc_rules **out)
{
	struct alloc_rules *r = calloc(1, sizeof(*r));
	int ret;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->res = res;
	r->stacks = stacks;
	r->fp_map = fp_map;
	r->nfp_ranges = nfp;
	r->epoll_fd = alloc_stacks_epoll_fd(stacks);
	pthread_mutex_init(&r->lock, NULL);
	ret = r->epoll_fd < 0 ? r->epoll_fd : alloc_rules_update(r);
	if (!ret)
		ret = -pthread_create(&r->learner, NULL, learn_main, r);
	if (ret) {
		pthread_mutex_destroy(&r->lock);
		free(r->exec_seen);
		free(r);
		return ret;
	}
	*out = r;
	return 0;
}

/*
 * Whether an executable range seen when rules were last checked is gone (a
 * library unloaded): its rules may now be wrong for whatever is mapped there.
 */
static bool exec_range_gone(const struct alloc_rules *r, const struct modmap_range *now, size_t n)
{
	size_t i, k;

	for (i = 0; i < r->nexec_seen; i++) {
		for (k = 0; k < n; k++)
			if (now[k].start == r->exec_seen[i].start && now[k].end == r->exec_seen[i].end)
				break;
		if (k == n)
			return true;
	}
	return false;
}

int alloc_rules_update(struct alloc_rules *r)
{
	struct modmap_range fp[ALLOC_MAX_FP_RANGES], *exec;
	unsigned reads;
	ssize_t nexec;
	size_t n;
	__u32 i;

	n = stackres_fp_ranges(r->res, fp, ALLOC_MAX_FP_RANGES, &reads);
	if (reads == r->fp_reads && r->fp_reads)
		return 0;
	r->fp_reads = reads;
	nexec = stackres_exec_ranges(r->res, &exec);
	if (nexec < 0)
		return (int)nexec;
	if (exec_range_gone(r, exec, (size_t)nexec)) {
		log_debug("malloc probes: a code mapping went away: unwinding rules learned anew");
		alloc_stacks_forget_rules(r->stacks);
	}
	free(r->exec_seen);
	r->exec_seen = exec;
	r->nexec_seen = (size_t)nexec;
	if (n == r->nfp && memcmp(fp, r->fp, n * sizeof(*fp)) == 0)
		return 0;
	/* Shrink the count first, so that no walk reads a range being rewritten. */
	__atomic_store_n(r->nfp_ranges, 0, __ATOMIC_RELEASE);
	for (i = 0; i < n; i++) {
		struct alloc_range ar = { .start = fp[i].start, .end = fp[i].end };

		bpf_map_update_elem(r->fp_map, &i, &ar, BPF_ANY);
	}
	__atomic_store_n(r->nfp_ranges, (__u32)n, __ATOMIC_RELEASE);
	memcpy(r->fp, fp, n * sizeof(*fp));
	r->nfp = n;
	return 0;
}

void alloc_rules_stop(struct alloc_rules *r)
{
	uint64_t taught, refused;

	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->learner, NULL);
	alloc_stacks_rule_stats(r->stacks, &taught, &refused);
	log_debug("malloc probes: %" PRIu64 " rules taught, %" PRIu64 " return addresses without "
		  "a rule the kernel can follow; %zu frame-pointer ranges", taught, refused, r->nfp);
	pthread_mutex_destroy(&r->lock);
	free(r->exec_seen);
	free(r);
}
