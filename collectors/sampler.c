// SPDX-License-Identifier: GPL-2.0-only
/* The sampler: reads every source for one target and hands out one sample per tick. */
#include "collectors/sampler.h"
#include "analyzer/allocator.h"
#include "analyzer/regions.h"
#include "analyzer/timeline.h"
#include "collectors/arena.h"
#include "collectors/arena_live.h"
#include "collectors/bpf_alloc.h"
#include "collectors/bpf_growth.h"
#include "collectors/exe_allocator.h"
#include "collectors/fds.h"
#include "lib/log.h"
#include "collectors/memlimit.h"
#include "collectors/proc.h"
#include "collectors/smaps.h"
#include "collectors/stackres.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sampler {
	struct proc_target proc;
	char *comm;
	struct stackres *stacks;	/* shared by the probe families; NULL without probes */
	struct bpf_growth *growth;
	struct bpf_alloc *alloc;
	struct arena_reader *arenas;
	struct arena_live *live;
	double window_s, tick_s;
	double arena_last;	/* time of the last arena read; 0 none */
	double ages_last;	/* time of the last read of the records' ages; 0 none */
	int exe_allocator;	/* judged from the executable once; -1 not yet */
	bool fds_warned;	/* the fd table could not be listed: said once */
	int growth_error;	/* why probes asked for are off: sampler_growth_off() */
	char growth_why[256];
	int alloc_error;
	char alloc_why[256];
};

int sampler_open(int pid, const struct sampler_opts *opts, struct sampler **out, char *err,
		 size_t errlen)
{
	struct sampler *s;
	int ret;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	ret = proc_open(pid, &s->proc, err, errlen);
	if (ret) {
		free(s);
		return ret;
	}
	s->comm = proc_comm(&s->proc);
	s->exe_allocator = -1;
	s->window_s = opts->window_s;
	s->tick_s = opts->tick_s;
	if (opts->arenas) {
		struct arena_opts ao = { .freeze = opts->freeze, .debuginfo = opts->debuginfo,
					 .freeze_max_s = opts->freeze_max_s };

		s->arenas = arena_reader_new(pid, s->proc.dirfd, &ao);
		s->live = arena_live_new();
		if (!s->arenas || !s->live) {
			sampler_close(s);
			return -ENOMEM;
		}
	}
	if ((opts->bpf || opts->alloc) && stackres_new(&s->proc, opts->sites, &s->stacks)) {
		sampler_close(s);
		return -ENOMEM;
	}
	if (opts->bpf)
		s->growth_error = bpf_growth_open(&s->proc, s->stacks, &opts->growth, &s->growth,
						  s->growth_why, sizeof(s->growth_why));
	if (opts->alloc) {
		ret = bpf_alloc_open(&s->proc, s->stacks, &opts->alloc_opts, &s->alloc, err, errlen);
		if (ret && opts->alloc_opts.optional && ret != -ESRCH) {
			s->alloc_error = ret;
			snprintf(s->alloc_why, sizeof(s->alloc_why), "%s", err);
		} else if (ret) {
			sampler_close(s);
			return ret;
		}
	}
	/* No probe family is attached: no stack to resolve. */
	if (!s->growth && !s->alloc) {
		stackres_free(s->stacks);
		s->stacks = NULL;
	}
	*out = s;
	return 0;
}

/* Whether sample `smp` is at a window's boundary for a reading last made at `last` (0: none yet). */
static bool window_boundary(const struct sampler *s, const struct sample *smp, double last)
{
	return !last || timeline_span_full(smp->t - last, s->window_s, s->tick_s);
}

static int read_regions(struct sampler *s, struct sample *smp, char *err, size_t errlen)
{
	struct vma_list vmas = { 0 };
	struct parse_error perr = { 0 };
	uint64_t *sps = NULL;
	size_t nsps;
	int fd, ret;

	/* Streamed: the text of 100,000 mappings is ~70 MB, their parsed list a fifth of it. */
	fd = openat(s->proc.dirfd, "smaps", O_RDONLY | O_CLOEXEC);
	ret = fd < 0 ? -errno : smaps_read_fd(fd, &vmas, &perr);
	if (fd >= 0)
		close(fd);
	/*
	 * Only a process whose memory is gone has no mappings: one exiting (its
	 * state is not Z yet, so it looks alive) or a zombie leader.
	 */
	if (ret == -ENODATA)
		return -ESRCH;
	if (ret == -EINVAL) {
		/* Text cut short by the process exiting mid-read is not a parse failure. */
		if (!proc_alive(&s->proc))
			return -ESRCH;
		snprintf(err, errlen, "cannot parse /proc/%d/smaps: line %zu: %s", s->proc.pid,
			 perr.line, perr.msg);
		return ret;
	}
	if (ret) {
		if (proc_errno_gone(-ret))
			return -ESRCH;
		snprintf(err, errlen, "cannot read /proc/%d/smaps: %s", s->proc.pid, strerror(-ret));
		return ret;
	}
	nsps = proc_thread_sps(&s->proc, &sps);
	smp->allocator = (uint8_t)allocator_detect(&vmas);
	/* No allocator library mapped: a static executable may carry one (read once). */
	if (smp->allocator == ALLOC_UNKNOWN) {
		if (s->exe_allocator < 0)
			s->exe_allocator = (int)exe_allocator_detect(&s->proc);
		smp->allocator = (uint8_t)s->exe_allocator;
	}
	ret = regions_build(&vmas, sps, nsps, smp);
	free(sps);
	/* Arenas are read on their own, slower schedule: the default is once per window. */
	if (!ret && s->arenas && smp->allocator == ALLOC_GLIBC &&
	    window_boundary(s, smp, s->arena_last)) {
		s->arena_last = smp->t;
		ret = arena_reader_read(s->arenas, &vmas, smp);
	} else if (s->arenas) {
		arena_reader_release(s->arenas);
	}
	vma_list_free(&vmas);
	return ret;
}

/*
 * Reads both probe families and exports their stacks, with the resolver's
 * lock held (stackres.h). Returns 0, or a negative errno with the reason in
 * `err` (-ESRCH: the target exited; -ENOEXEC: it executed a new program).
 */
static int read_probes(struct sampler *s, struct sample *smp, char *err, size_t errlen)
{
	int ret;

	if (s->growth) {
		ret = bpf_growth_drain(s->growth, smp);
		if (ret == -ENOEXEC) {
			snprintf(err, errlen, "target %d executed %s: new code, new memory; stopping",
				 s->proc.pid, bpf_growth_exec_path(s->growth));
			return ret;
		}
		if (ret) {
			snprintf(err, errlen, "cannot read the growth probes: %s", strerror(-ret));
			return ret;
		}
	}
	if (s->alloc) {
		bool ages = window_boundary(s, smp, s->ages_last);

		ret = bpf_alloc_read(s->alloc, smp, ages);
		if (!ret && ages)
			s->ages_last = smp->t;
		/* Attaching fails once the target is gone: that is an exit, not a failure. */
		if (ret && !proc_alive(&s->proc))
			ret = -ESRCH;
		if (ret == -ESRCH)
			return ret;
		if (ret) {
			snprintf(err, errlen, "cannot read the malloc probes: %s", strerror(-ret));
			return ret;
		}
	}
	/* Once both families have credited their stacks. */
	if (s->stacks) {
		ret = stackres_export(s->stacks, smp);
		if (ret) {
			snprintf(err, errlen, "cannot read the probes' stacks: %s", strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int sampler_tick(struct sampler *s, double now, struct sample **out, char *err, size_t errlen)
{
	struct sample *smp;
	int ret;

	*out = NULL;
	if (!proc_alive(&s->proc))
		return -ESRCH;
	smp = sample_new();
	if (!smp)
		return -ENOMEM;
	smp->t = now;
	smp->pid = s->proc.pid;
	smp->comm = proc_comm(&s->proc);
	if (!smp->comm)
		smp->comm = strdup(s->comm ? s->comm : "?");
	smp->threads = proc_threads(&s->proc);
	memlimit_read(&s->proc, &smp->mem_limit, &smp->mem_limit_cgroup);

	ret = read_regions(s, smp, err, errlen);
	if (ret)
		goto fail;

	ret = fds_scan(&s->proc, &smp->fds);
	if (ret == 0) {
		smp->has_fds = true;
	} else if (ret == -ESRCH) {
		goto fail;
	} else if (!s->fds_warned) {
		/* Not measured is not zero: the output shows fds as null; say why, once. */
		log_warn("cannot list /proc/%d/fd: %s%s; fd counts are off", s->proc.pid,
			 strerror(-ret), ret == -EACCES ? " (another user's fd table needs "
							  "CAP_DAC_READ_SEARCH)" : "");
		s->fds_warned = true;
	}

	if (s->stacks) {
		stackres_lock(s->stacks);
		ret = read_probes(s, smp, err, errlen);
		stackres_unlock(s->stacks);
		if (ret)
			goto fail;
	}
	if (s->live && arena_live_fill(s->live, smp)) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* The target may have exited while it was being read: do not report half a sample. */
	if (!proc_alive(&s->proc)) {
		ret = -ESRCH;
		goto fail;
	}
	*out = smp;
	return 0;
fail:
	sample_unref(smp);
	return ret;
}

const char *sampler_comm(const struct sampler *s)
{
	return s->comm ? s->comm : "?";
}

bool sampler_has_bpf(const struct sampler *s)
{
	return s->growth != NULL;
}

int sampler_growth_off(const struct sampler *s, const char **why)
{
	*why = s->growth_why;
	return s->growth_error;
}

int sampler_alloc_off(const struct sampler *s, const char **why)
{
	*why = s->alloc_why;
	return s->alloc_error;
}

int sampler_started(const struct sampler *s, double *unix_start)
{
	return proc_started(&s->proc, unix_start);
}

const char *sampler_alloc_library(const struct sampler *s)
{
	return s->alloc ? bpf_alloc_library(s->alloc) : NULL;
}

void sampler_close(struct sampler *s)
{
	if (!s)
		return;
	bpf_alloc_close(s->alloc);
	bpf_growth_close(s->growth);
	stackres_free(s->stacks);
	arena_live_free(s->live);
	arena_reader_free(s->arenas);
	proc_close(&s->proc);
	free(s->comm);
	free(s);
}
