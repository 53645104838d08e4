// SPDX-License-Identifier: GPL-2.0-only
/* User side of the malloc probes: attach to one process, cycle them, read bytes by stack. */
#include "collectors/bpf_alloc.h"
#include "lib/vec.h"
#include "collectors/alloc_ages.h"
#include "collectors/alloc_lib.h"
#include "collectors/alloc_rules.h"
#include "collectors/alloc_stacks.h"
#include "collectors/bpf_common.h"
#include "lib/log.h"
#include "collectors/uprobe_multi.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/alloc.h"
#include "alloc.skel.h"
#include "lib/clock.h"

#define MAX_LINKS 6

struct bpf_alloc {
	struct alloc_bpf *skel;
	struct alloc_lib lib;
	struct bpf_alloc_opts opts;
	int pid;
	bool exact;

	int always[MAX_LINKS];	/* link fds attached from open to close */
	size_t nalways;
	int cycled[MAX_LINKS];	/* attached for `duty` of each period */
	size_t ncycled;

	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	int cycle_error;
	size_t nclosing;	/* links still closing in the background */
	double start_mono;	/* when the probes first attached */
	double on_since;	/* when the cycled probes last attached; 0 while detached */
	double on_total;	/* seconds they were attached, closed cycles */
	double since_unix;

	struct stackres *res;		/* borrowed */
	struct alloc_stacks *stacks;
	struct alloc_ages *ages;
	struct alloc_rules *rules;	/* walks by rules (alloc_rules.h); NULL when not used */
};


/* Attaches `prog` at the functions of `a` that `pick` selects: one link per file. */
static int attach_set(struct bpf_alloc *a, struct bpf_program *prog, bool retprobe,
		      bool (*pick)(const struct bpf_alloc *, const struct alloc_lib_sym *),
		      int *fds, size_t *nfds)
{
	uint64_t offsets[ALLOC_LIB_MAX_SYMS], cookies[ALLOC_LIB_MAX_SYMS];
	size_t i, k, n;
	int fd;

	for (k = 0; k < a->lib.nfiles; k++) {
		const struct alloc_file *f = &a->lib.files[k];

		for (i = 0, n = 0; i < f->nsyms; i++) {
			if (!pick(a, &f->syms[i]))
				continue;
			offsets[n] = f->syms[i].offset;
			cookies[n++] = f->syms[i].fn;
		}
		if (!n)
			continue;
		fd = uprobe_multi_attach(bpf_program__fd(prog), f->path, offsets, cookies, n,
					 a->pid, retprobe);
		if (fd < 0)
			return fd;
		fds[(*nfds)++] = fd;
	}
	return 0;
}

static void *close_main(void *fd)
{
	close((int)(intptr_t)fd);
	return NULL;
}

struct closing {
	struct bpf_alloc *a;
	int fd;
};

static void *close_async_main(void *arg)
{
	struct closing *c = arg;
	struct bpf_alloc *a = c->a;

	close(c->fd);
	free(c);
	pthread_mutex_lock(&a->lock);
	a->nclosing--;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

/*
 * The cycle does not wait for the grace period: the breakpoints are gone when
 * close() starts, so the next cycle may attach while the old links finish.
 * Called with the lock held.
 */
static void detach_async(struct bpf_alloc *a, int *fds, size_t *n)
{
	pthread_attr_t attr;
	pthread_t th;
	size_t i;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (i = 0; i < *n; i++) {
		struct closing *c = malloc(sizeof(*c));

		if (c) {
			c->a = a;
			c->fd = fds[i];
			a->nclosing++;
			if (pthread_create(&th, &attr, close_async_main, c) == 0)
				continue;
			a->nclosing--;
			free(c);
		}
		close(fds[i]);
	}
	pthread_attr_destroy(&attr);
	*n = 0;
}

/*
 * Closing a uprobe link removes its breakpoints at once but then waits for a
 * grace period (about 80 ms here). The links are closed in parallel so that
 * none stays armed while another one waits.
 */
static void detach_all(int *fds, size_t *n)
{
	pthread_t th[MAX_LINKS];
	bool started[MAX_LINKS] = { false };
	size_t i;

	for (i = 0; i < *n; i++)
		started[i] = pthread_create(&th[i], NULL, close_main, (void *)(intptr_t)fds[i]) == 0;
	for (i = 0; i < *n; i++) {
		if (started[i])
			pthread_join(th[i], NULL);
		else
			close(fds[i]);
	}
	*n = 0;
}

/* realloc's entry frees the old block, so it stays attached with free in the cycled mode. */
static bool is_always(const struct bpf_alloc *a, const struct alloc_lib_sym *s)
{
	return a->exact || s->fn == ALLOC_FN_REALLOC;
}

static bool is_cycled(const struct bpf_alloc *a, const struct alloc_lib_sym *s)
{
	return !is_always(a, s);
}

static bool any(const struct bpf_alloc *a, const struct alloc_lib_sym *s)
{
	(void)a;
	(void)s;
	return true;
}

static int attach_always(struct bpf_alloc *a)
{
	uint64_t free_off = a->opts.free_at_entry ? a->lib.free_entry : a->lib.free_probe;
	uint64_t cookie = 0;
	int fd, ret;

	fd = uprobe_multi_attach(bpf_program__fd(a->skel->progs.alloc_free), a->lib.files[0].path,
				 &free_off, &cookie, 1, a->pid, false);
	if (fd < 0)
		return fd;
	a->always[a->nalways++] = fd;
	ret = attach_set(a, a->skel->progs.alloc_enter, false, is_always, a->always, &a->nalways);
	if (!ret && a->exact)
		ret = attach_set(a, a->skel->progs.alloc_return, true, any, a->always,
				 &a->nalways);
	return ret;
}

/* Returns first, so that an entry never waits long for its return probe. */
static int attach_cycled(struct bpf_alloc *a)
{
	int ret = attach_set(a, a->skel->progs.alloc_return, true, any, a->cycled, &a->ncycled);

	return ret ? ret : attach_set(a, a->skel->progs.alloc_enter, false, is_cycled, a->cycled,
				      &a->ncycled);
}

/* Waits until `deadline` (monotonic) or stop; called and returns with the lock held. */
static void wait_until(struct bpf_alloc *a, double deadline)
{
	struct timespec now_rt, until;
	double left;

	while (!a->stop && (left = deadline - clock_mono()) > 0) {
		clock_gettime(CLOCK_REALTIME, &now_rt);
		until.tv_sec = now_rt.tv_sec + (time_t)left;
		until.tv_nsec = now_rt.tv_nsec + (long)((left - floor(left)) * 1e9);
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&a->cond, &a->lock, &until);
	}
}

/*
 * The cycle: attach the allocating functions' probes, wait, detach, wait.
 * Each attach starts a new phase so that a call whose return probe was
 * detached under it is not paired with a later return.
 */
static void *cycle_main(void *arg)
{
	struct bpf_alloc *a = arg;
	unsigned int seed = (unsigned int)(clock_mono() * 1e6) ^ (unsigned int)a->pid;
	double cycle = clock_mono(), len = a->opts.period_s;
	int ret;

	pthread_mutex_lock(&a->lock);
	while (!a->stop) {
		/*
		 * Cycle lengths vary at random between half and one and a half
		 * periods: a target that allocates on a fixed period would
		 * otherwise always, or never, fall in the part that is watched.
		 */
		len = a->opts.period_s * (0.5 + (double)rand_r(&seed) / RAND_MAX);
		pthread_mutex_unlock(&a->lock);
		__atomic_add_fetch(&a->skel->bss->phase, 1, __ATOMIC_RELAXED);
		ret = attach_cycled(a);
		pthread_mutex_lock(&a->lock);
		if (ret) {
			a->cycle_error = ret;
			pthread_mutex_unlock(&a->lock);
			detach_all(a->cycled, &a->ncycled);
			return NULL;
		}
		__atomic_store_n(&a->skel->bss->recording, 1, __ATOMIC_SEQ_CST);
		a->on_since = clock_mono();
		/*
		 * On for the duty's part of the cycle from when recording
		 * starts, not from the cycle's start: on a loaded machine the
		 * attach alone can take the whole on-phase (the relay's
		 * watchers recorded 3-6% of the time at --alloc-duty 10 in the
		 * sanitizer pass of make test). The off-phase pays for it.
		 */
		wait_until(a, a->on_since + a->opts.duty * len);
		__atomic_store_n(&a->skel->bss->recording, 0, __ATOMIC_SEQ_CST);
		a->on_total += clock_mono() - a->on_since;
		a->on_since = 0;
		detach_async(a, a->cycled, &a->ncycled);
		/* A cycle that overran (a slow attach, a late wake-up) starts late, not bunched. */
		cycle += len;
		if (cycle < clock_mono())
			cycle = clock_mono();
		wait_until(a, cycle);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

/*
 * Test hook (MEMSLEUTH_TEST_ALLOC_LIVE_CAP): a smaller live map, so that a
 * test fills it in a moment. It can only shrink the map, never grow it.
 */
static void live_cap_shrink(struct alloc_bpf *skel)
{
	const char *env = getenv("MEMSLEUTH_TEST_ALLOC_LIVE_CAP");
	long cap = env ? atol(env) : 0;

	if (cap > 0 && cap < (long)bpf_map__max_entries(skel->maps.live))
		bpf_map__set_max_entries(skel->maps.live, (__u32)cap);
}

int bpf_alloc_check_privileges(char *err, size_t errlen)
{
	int ret = bpf_common_check_privileges(err, errlen);

	if (ret == -EPERM)
		strncat(err, " for the malloc probes", errlen - strlen(err) - 1);
	return ret;
}

int bpf_alloc_open(const struct proc_target *t, struct stackres *res, const struct bpf_alloc_opts *o,
		   struct bpf_alloc **out, char *err, size_t errlen)
{
	struct alloc_stacks_maps maps;
	struct bpf_alloc *a;
	char why[256];
	int ret;

	*out = NULL;
	ret = bpf_alloc_check_privileges(err, errlen);
	if (ret)
		return ret;
	if (!(o->duty > 0 && o->duty <= 1) || !(o->period_s > 0)) {
		snprintf(err, errlen, "malloc probes: the duty must be in (0, 1] and the period "
			 "positive");
		return -EINVAL;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	a->pid = t->pid;
	a->res = res;
	a->opts = *o;
	a->exact = o->duty >= 1;
	ret = alloc_lib_find(t, &a->lib, err, errlen);
	if (ret)
		goto fail;
	a->skel = alloc_bpf__open();
	if (!a->skel) {
		ret = -errno;
		snprintf(err, errlen, "cannot open the malloc probes: %s", strerror(errno));
		goto fail;
	}
	bpf_program__set_expected_attach_type(a->skel->progs.alloc_enter, UPROBE_MULTI_ATTACH_TYPE);
	bpf_program__set_expected_attach_type(a->skel->progs.alloc_return, UPROBE_MULTI_ATTACH_TYPE);
	bpf_program__set_expected_attach_type(a->skel->progs.alloc_free, UPROBE_MULTI_ATTACH_TYPE);
	a->skel->rodata->sample_bytes = o->sample_bytes;
	/* Sampled records are rare enough to copy their stacks for DWARF unwinding. */
	a->skel->rodata->capture_stacks = o->sample_bytes > 0;
	/* Others walk by frame pointers where the code keeps them, by learned rules elsewhere. */
	a->skel->rodata->rule_walks = o->sample_bytes == 0 && !alloc_rules_off();
	a->skel->rodata->track_arenas = a->exact && a->lib.allocator == ALLOC_GLIBC;
	live_cap_shrink(a->skel);
	/*
	 * Sampled mode copies every stack (8 MiB of ring); the others copy only
	 * to learn rules, a few a second (1 MiB: 64 copies of 16 KiB between two
	 * ticks), and keep walks (12 MiB of stack map, walks as they come).
	 */
	if (!o->sample_bytes) {
		bpf_map__set_max_entries(a->skel->maps.captures, 1u << 20);
	} else {
		bpf_map__set_max_entries(a->skel->maps.stacks, 1);
		bpf_map__set_max_entries(a->skel->maps.walks, 1);
		bpf_map__set_max_entries(a->skel->maps.rules, 1);
	}
	a->skel->rodata->read_chunks = a->lib.allocator == ALLOC_GLIBC;
	ret = alloc_bpf__load(a->skel);
	if (ret) {
		snprintf(err, errlen, "cannot load the malloc probes: %s", strerror(-ret));
		goto fail;
	}
	/* Without the modules the frames are addresses: degraded, not fatal. */
	if (stackres_load(res, why, sizeof(why)))
		log_warn("malloc probes: frames will be addresses: %s", why);
	maps.stackmap = bpf_map__fd(a->skel->maps.stacks);
	maps.walks = bpf_map__fd(a->skel->maps.walks);
	maps.rules = a->skel->rodata->rule_walks ? bpf_map__fd(a->skel->maps.rules) : -1;
	maps.ring = o->sample_bytes || a->skel->rodata->rule_walks
			    ? bpf_map__fd(a->skel->maps.captures) : -1;
	ret = alloc_stacks_new(res, &maps, &a->stacks);
	if (ret) {
		snprintf(err, errlen, "cannot read allocation stacks: %s", strerror(-ret));
		goto fail;
	}
	a->ages = alloc_ages_new();
	if (!a->ages) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (a->skel->rodata->rule_walks) {
		ret = alloc_rules_start(res, a->stacks, bpf_map__fd(a->skel->maps.fp_ranges),
					&a->skel->bss->nfp_ranges, &a->rules);
		if (ret) {
			snprintf(err, errlen, "cannot start walking stacks by rules: %s",
				 strerror(-ret));
			goto fail;
		}
	}
	a->start_mono = clock_mono();
	a->since_unix = (double)time(NULL);
	a->skel->bss->recording = a->exact;
	ret = attach_always(a);
	if (ret) {
		snprintf(err, errlen, "cannot attach the malloc probes to %s: %s%s",
			 a->lib.files[0].name, strerror(-ret),
			 ret == -EINVAL || ret == -EOPNOTSUPP ? " (uprobe_multi links need Linux 6.6+)"
							       : "");
		goto fail;
	}
	if (!a->exact) {
		ret = -pthread_create(&a->thread, NULL, cycle_main, a);
		if (ret) {
			snprintf(err, errlen, "cannot start the probe cycle: %s", strerror(-ret));
			goto fail;
		}
		a->thread_started = true;
	}
	*out = a;
	return 0;
fail:
	bpf_alloc_close(a);
	return ret;
}

/*
 * The share of allocator calls that were recorded, by which the figures are
 * scaled up. free() is probed all the time, so the share of free() calls made
 * while allocations were recorded measures it in calls rather than in time:
 * a busy target runs slower while probed, and a leak that follows its work
 * slows with it. Until there are enough frees, the time share stands in for
 * it (as this many pseudo-calls): enough to steady the first few recorded
 * frees, few enough not to pull a share measured in thousands of frees
 * towards the time share (a realloc-heavy target probed 8.9% of the time made
 * 3.5% of its 3,000 frees then: 1000 pseudo-calls put its kept bytes 25% low).
 */
#define SHARE_PRIOR_CALLS 100.0

static double share_of_calls(const struct bpf_alloc *a, double duty)
{
	const __u64 *c = a->skel->bss->counters;
	double all = (double)__atomic_load_n(&c[ALLOC_CNT_FREES], __ATOMIC_RELAXED);
	double rec = (double)__atomic_load_n(&c[ALLOC_CNT_FREES_RECORDING], __ATOMIC_RELAXED);

	if (a->exact)
		return 1;
	return (rec + SHARE_PRIOR_CALLS * duty) / (all + SHARE_PRIOR_CALLS);
}

/* The fraction of time the allocating functions have been probed since attach. */
static double duty_measured(struct bpf_alloc *a)
{
	double now, on, total;

	if (a->exact)
		return 1;
	pthread_mutex_lock(&a->lock);
	now = clock_mono();
	on = a->on_total + (a->on_since > 0 ? now - a->on_since : 0);
	pthread_mutex_unlock(&a->lock);
	total = now - a->start_mono;
	return total > 0 ? on / total : 0;
}

static int read_stacks(struct bpf_alloc *a, double scale)
{
	struct stacktab *tab = stackres_table(a->res);
	int fd = bpf_map__fd(a->skel->maps.stack_stats);
	uint64_t key, next, *done = NULL;
	size_t i, ndone = 0, done_cap = 0;
	struct alloc_stack_val v;
	void *prev = NULL;
	int ret = alloc_stacks_drain(a->stacks);

	if (ret)
		return ret;
	stacktab_zero_kind(tab, STACK_ALLOC);
	while (!ret && bpf_map_get_next_key(fd, prev, &next) == 0) {
		uint64_t id;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue;
		if (!v.bytes && !v.count256) {
			/* A capture stands for one record: once freed, nothing uses it again. */
			if (!ALLOC_IS_CAPTURE(key))
				continue;
			if (VEC_PUSH(done, ndone, done_cap))
				done[ndone - 1] = key;
			continue;
		}
		id = alloc_stacks_id(a->stacks, key);
		if (!id || !stacktab_add(tab, id, STACK_ALLOC, llround((double)v.bytes / scale),
					 llround((double)v.count256 / 256.0 / scale)))
			ret = -ENOMEM;
	}
	/* Deleted after the walk: deleting during it would break the chain of keys. */
	for (i = 0; i < ndone; i++)
		if (bpf_map_delete_elem(fd, &done[i]) == 0)
			alloc_stacks_forget(a->stacks, done[i]);
	free(done);
	if (!ret)
		alloc_stacks_sweep(a->stacks);
	return ret;
}

static int read_arenas(struct bpf_alloc *a, struct sample *s)
{
	int fd = bpf_map__fd(a->skel->maps.arena_stats);
	struct alloc_arena_val v;
	uint64_t key, next;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct alloc_arena *ar;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue;
		ar = sample_add_alloc_arena(s);
		if (!ar)
			return -ENOMEM;
		ar->addr = key;
		ar->bytes = v.bytes;
		ar->count = v.count;
	}
	s->alloc.has_arenas = true;
	return 0;
}

_Static_assert(ALLOC_FREE_CLASSES == SAMPLE_FREE_CLASSES, "free classes differ");

/* Frees that matched no record, by size class (see bpf/alloc.h). */
static int read_unmatched(struct bpf_alloc *a, struct sample *s)
{
	const struct alloc_free_class *c = a->skel->bss->free_classes;
	uint32_t k;

	s->alloc.unmatched_frees = __atomic_load_n(&a->skel->bss->unmatched_frees, __ATOMIC_RELAXED);
	s->alloc.unmatched_free_bytes =
		__atomic_load_n(&a->skel->bss->unmatched_free_bytes, __ATOMIC_RELAXED);
	s->alloc.unmatched_sized = a->skel->rodata->read_chunks;
	for (k = 0; k < ALLOC_FREE_CLASSES; k++) {
		struct alloc_free_stat st = {
			.cls = k,
			.unmatched = __atomic_load_n(&c[k].unmatched, __ATOMIC_RELAXED),
			.unmatched_bytes = __atomic_load_n(&c[k].unmatched_bytes, __ATOMIC_RELAXED),
			.expected256 = __atomic_load_n(&c[k].expected256, __ATOMIC_RELAXED),
			.expected_bytes = __atomic_load_n(&c[k].expected_bytes, __ATOMIC_RELAXED),
		}, *out;

		if (!st.unmatched && !st.expected256)
			continue;
		out = sample_add_free_class(s);
		if (!out)
			return -ENOMEM;
		*out = st;
	}
	return 0;
}

int bpf_alloc_read(struct bpf_alloc *a, struct sample *s, bool ages)
{
	const __u64 *c = a->skel->bss->counters;
	struct alloc_summary *sum = &s->alloc;
	double duty = duty_measured(a), share = share_of_calls(a, duty);
	int ret;

	pthread_mutex_lock(&a->lock);
	ret = a->cycle_error;
	pthread_mutex_unlock(&a->lock);
	if (ret) {
		log_error("cannot attach the malloc probes: %s", strerror(-ret));
		return ret;
	}
	ret = a->rules ? alloc_rules_update(a->rules) : 0;
	/* Before the first attach completes nothing was seen: nothing to scale. */
	if (!ret)
		ret = read_stacks(a, share > 0 ? share : 1);
	if (!ret && a->skel->rodata->track_arenas)
		ret = read_arenas(a, s);
	if (!ret)
		ret = read_unmatched(a, s);
	/* Last: the pass over the live map takes a while, and the figures above go together. */
	if (!ret && ages)
		ret = alloc_ages_read(a->ages, bpf_map__fd(a->skel->maps.live), a->stacks,
				      share > 0 ? share : 1, s);
	if (ret)
		return ret;
	s->has_alloc = true;
	sum->estimated = !a->exact || a->opts.sample_bytes > 0;
	sum->sample_bytes = a->opts.sample_bytes;
	sum->duty = duty;
	sum->share = share;
	sum->since = a->since_unix;
	sum->calls = __atomic_load_n(&c[ALLOC_CNT_ALLOCS], __ATOMIC_RELAXED);
	sum->frees = __atomic_load_n(&c[ALLOC_CNT_FREES], __ATOMIC_RELAXED);
	sum->recorded = __atomic_load_n(&c[ALLOC_CNT_SAMPLED], __ATOMIC_RELAXED);
	sum->missed_frees = __atomic_load_n(&c[ALLOC_CNT_REUSED], __ATOMIC_RELAXED);
	sum->lost = __atomic_load_n(&c[ALLOC_CNT_LOST_LIVE], __ATOMIC_RELAXED) +
		    __atomic_load_n(&c[ALLOC_CNT_LOST_STACK], __ATOMIC_RELAXED) +
		    __atomic_load_n(&c[ALLOC_CNT_LOST_PENDING], __ATOMIC_RELAXED);
	sum->lost_live = __atomic_load_n(&c[ALLOC_CNT_LOST_LIVE], __ATOMIC_RELAXED);
	sum->live_cap = bpf_map__max_entries(a->skel->maps.live);
	return 0;
}

const char *bpf_alloc_library(const struct bpf_alloc *a)
{
	return a->lib.files[0].name;
}

void bpf_alloc_close(struct bpf_alloc *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
	if (a->thread_started)
		pthread_join(a->thread, NULL);
	if (a->rules) {
		const __u64 *c = a->skel->bss->counters;

		log_debug("malloc probes: %llu stacks walked by rules, %llu of them cut at an "
			  "address without one, %llu copied to learn",
			  (unsigned long long)c[ALLOC_CNT_WALKS],
			  (unsigned long long)c[ALLOC_CNT_WALKS_CUT],
			  (unsigned long long)c[ALLOC_CNT_LEARN]);
	}
	/* Its learner drains the stacks' ring: it stops before they go. */
	alloc_rules_stop(a->rules);
	pthread_mutex_lock(&a->lock);
	while (a->nclosing)
		pthread_cond_wait(&a->cond, &a->lock);
	pthread_mutex_unlock(&a->lock);
	detach_all(a->cycled, &a->ncycled);
	detach_all(a->always, &a->nalways);
	alloc_bpf__destroy(a->skel);
	alloc_ages_free(a->ages);
	alloc_stacks_free(a->stacks);
	alloc_lib_clear(&a->lib);
	pthread_cond_destroy(&a->cond);
	pthread_mutex_destroy(&a->lock);
	free(a);
}
