// SPDX-License-Identifier: GPL-2.0-only
/* A live session: sampler, pipeline and recorder run together on a tick schedule. */
#include "cli/session.h"
#include "analyzer/pipeline.h"
#include "recording/recording.h"
#include "lib/log.h"
#include "collectors/sampler.h"
#include "lib/clock.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct session {
	struct session_opts opts;
	struct sampler *sampler;
	struct pipeline *pipeline;
	struct recorder *recorder;
	struct sample *latest;	/* held */
	struct site_rules *sites;	/* from opts.skip; the sampler borrows it */
	double start_mono;
	double next_due;	/* monotonic time of the next tick */
	bool warned_full;	/* the malloc probes' live map filled up, and the user was told */
};

/* What the user can do about probes that lack their privileges. */
#define GROWTH_PRIVILEGE_ADVICE " (run as root, or use --no-bpf)"
#define ALLOC_PRIVILEGE_ADVICE " of --alloc (run as root, or drop --alloc)"

/* Says which probes asked for stayed off, and why. */
static void warn_probes_off(const struct session *s)
{
	const char *why;
	int ret;

	ret = sampler_growth_off(s->sampler, &why);
	if (ret)
		log_warn("eBPF probes off: %s%s; using /proc only", why,
			 ret == -EPERM ? GROWTH_PRIVILEGE_ADVICE : "");
	ret = sampler_alloc_off(s->sampler, &why);
	if (ret)
		log_warn("malloc probes off: %s%s", why, ret == -EPERM ? ALLOC_PRIVILEGE_ADVICE : "");
}

/* Said once: from this sample on, outstanding alloc figures are lower bounds. */
static void warn_live_map_full(struct session *s, const struct sample *smp)
{
	if (s->warned_full || !smp->has_alloc || !smp->alloc.lost_live)
		return;
	s->warned_full = true;
	log_warn("--alloc: the live map is full at %" PRIu64 " allocations: newer ones are "
		 "counted, not tracked, and outstanding figures are lower bounds from now "
		 "on (--alloc-sample BYTES tracks fewer)", smp->alloc.live_cap);
}

/* Ticks fall on exact multiples of the tick from the start, so there is no drift over
 * hours; ticks missed while suspended or overloaded are skipped rather than bunched. */
static void schedule_next(struct session *s)
{
	double now = clock_mono(), tick = s->opts.tick_s;

	s->next_due += tick;
	if (s->next_due <= now)
		s->next_due = s->start_mono + ceil((now - s->start_mono) / tick) * tick;
}

static int take(struct session *s, struct window **w, char *err, size_t errlen)
{
	struct sample *smp;
	int ret;

	*w = NULL;
	ret = sampler_tick(s->sampler, clock_unix(), &smp, err, errlen);
	schedule_next(s);
	if (ret)
		return ret;
	warn_live_map_full(s, smp);
	if (s->recorder && recorder_write(s->recorder, smp)) {
		snprintf(err, errlen, "cannot write the recording %s: %s", s->opts.record_path,
			 strerror(EIO));
		sample_unref(smp);
		return -EIO;
	}
	sample_unref(s->latest);
	s->latest = sample_ref(smp);
	ret = pipeline_push(s->pipeline, smp, w);
	if (ret < 0)
		snprintf(err, errlen, "out of memory");
	return ret;
}

int session_open(const struct session_opts *o, struct session **out, char *err, size_t errlen)
{
	const char *nodebug = getenv("MEMSLEUTH_NO_DEBUGINFO");
	struct sampler_opts so = {
		.bpf = o->bpf,
		.arenas = o->arenas,
		.freeze = o->freeze,
		/* MEMSLEUTH_NO_DEBUGINFO=1 forces the path taken where libc6-dbg is absent. */
		.debuginfo = !(nodebug && *nodebug && strcmp(nodebug, "0") != 0),
		/* Freezing costs the target a pause (and ages a pass over the live map): once a window. */
		.window_s = o->window_s,
		.tick_s = o->tick_s,
		.freeze_max_s = o->freeze_max_s,
		.growth = o->growth,
		.alloc = o->alloc,
		.alloc_opts = o->alloc_opts,
	};
	struct session *s;
	struct window *w;
	int ret;

	*out = NULL;
	/* The malloc probes cannot go without their privileges: fail before attaching anything. */
	if (o->alloc && !o->alloc_opts.optional && bpf_alloc_check_privileges(err, errlen)) {
		strncat(err, ALLOC_PRIVILEGE_ADVICE, errlen - strlen(err) - 1);
		return -EPERM;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->opts = *o;
	ret = session_site_rules(o->skip, o->nskip, &s->sites);
	if (ret)
		goto fail;
	so.sites = s->sites;
	ret = sampler_open(o->pid, &so, &s->sampler, err, errlen);
	if (ret)
		goto fail;
	warn_probes_off(s);
	s->pipeline = pipeline_new(o->window_s, o->tick_s);
	if (!s->pipeline) {
		ret = -ENOMEM;
		goto fail;
	}
	if (o->record_path) {
		struct recording_header h = {
			.pid = o->pid,
			.comm = (char *)sampler_comm(s->sampler),
			.window_s = o->window_s,
			.tick_s = o->tick_s,
			.created = clock_unix(),
			.bpf = sampler_has_bpf(s->sampler),
			.alloc = o->alloc,
		};

		struct recorder_opts ro = {
			.compress = !recording_path_plain(o->record_path),
			.rotate_bytes = o->rotate_bytes,
			.rotate_s = o->rotate_s,
		};

		ret = recorder_open(o->record_path, &h, &ro, &s->recorder, err, errlen);
		if (ret)
			goto fail;
	}
	s->start_mono = s->next_due = clock_mono();
	ret = take(s, &w, err, errlen);
	window_free(w);
	if (ret == -ESRCH)
		snprintf(err, errlen, "target %d exited before it could be sampled", o->pid);
	if (ret < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	session_close(s);
	return ret;
}

int session_tick(struct session *s, struct window **w, char *err, size_t errlen)
{
	return take(s, w, err, errlen);
}

int session_finish(struct session *s, const char *reason, struct window **w)
{
	int ret = pipeline_flush(s->pipeline, w);

	/* Ended whatever the flush did: the recording is what outlives the run. */
	if (s->recorder) {
		if (recorder_close(s->recorder, reason))
			log_error("the recording %s may be incomplete: write error",
				  s->opts.record_path);
		s->recorder = NULL;
	}
	return ret;
}

double session_next_tick(const struct session *s)
{
	return s->next_due;
}

const struct sample *session_latest(const struct session *s)
{
	return s->latest;
}

struct sample *session_latest_ref(struct session *s)
{
	return s->latest ? sample_ref(s->latest) : NULL;
}

int session_set_window(struct session *s, double window_s)
{
	struct pipeline *p = pipeline_new(window_s, s->opts.tick_s);
	struct window *w = NULL;

	if (!p || (s->latest && pipeline_push(p, sample_ref(s->latest), &w) < 0)) {
		pipeline_free(p);
		return -ENOMEM;
	}
	pipeline_free(s->pipeline);
	s->pipeline = p;
	s->opts.window_s = window_s;
	return 0;
}

const char *session_comm(const struct session *s)
{
	return sampler_comm(s->sampler);
}

bool session_has_bpf(const struct session *s)
{
	return sampler_has_bpf(s->sampler);
}

const char *session_alloc_library(const struct session *s)
{
	return sampler_alloc_library(s->sampler);
}

int session_target_started(const struct session *s, double *unix_start)
{
	return sampler_started(s->sampler, unix_start);
}

int session_site_rules(const char *const *skip, size_t n, struct site_rules **out)
{
	size_t i;

	*out = NULL;
	if (!n)
		return 0;
	*out = site_rules_new();
	if (!*out)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (site_rules_skip(*out, skip[i])) {
			site_rules_free(*out);
			*out = NULL;
			return -ENOMEM;
		}
	}
	return 0;
}

void session_close(struct session *s)
{
	if (!s)
		return;
	if (s->recorder)
		recorder_close(s->recorder, "stopped");
	sample_unref(s->latest);
	pipeline_free(s->pipeline);
	sampler_close(s->sampler);
	site_rules_free(s->sites);
	free(s);
}
