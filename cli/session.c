// SPDX-License-Identifier: GPL-2.0-only
/* A live session: sampler, timeline and recorder run together on a tick schedule. */
#include "cli/session.h"
#include "analyzer/analyze.h"
#include "analyzer/timeline.h"
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
	struct timeline *timeline;
	struct analyzer *analyzer;
	struct recorder *recorder;
	struct sample *latest;	/* held */
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
	ret = timeline_push(s->timeline, smp, w);
	if (ret == 1 && analyzer_window(s->analyzer, *w))
		ret = -ENOMEM;
	if (ret < 0) {
		window_free(*w);
		*w = NULL;
		snprintf(err, errlen, "out of memory");
	}
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
	ret = sampler_open(o->pid, &so, &s->sampler, err, errlen);
	if (ret)
		goto fail;
	warn_probes_off(s);
	s->timeline = timeline_new(o->window_s, o->tick_s);
	s->analyzer = analyzer_new();
	if (!s->timeline || !s->analyzer) {
		ret = -ENOMEM;
		goto fail;
	}
	if (o->record_path) {
		struct recording_header h = {
			.version = RECORDING_VERSION,
			.pid = o->pid,
			.comm = (char *)sampler_comm(s->sampler),
			.window_s = o->window_s,
			.tick_s = o->tick_s,
			.created = clock_unix(),
			.bpf = sampler_has_bpf(s->sampler),
			.alloc = o->alloc,
		};

		ret = recorder_open(o->record_path, &h, &s->recorder, err, errlen);
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
	int ret = timeline_flush(s->timeline, w);

	if (ret == 1 && analyzer_window(s->analyzer, *w)) {
		window_free(*w);
		*w = NULL;
		ret = 0;
	}

	if (s->recorder) {
		if (recorder_close(s->recorder, reason))
			log_error("the recording %s may be incomplete: write error",
				  s->opts.record_path);
		s->recorder = NULL;
	}
	return ret < 0 ? 0 : ret;
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
	struct timeline *tl = timeline_new(window_s, s->opts.tick_s);
	struct analyzer *an = analyzer_new();
	struct window *w = NULL;

	if (!tl || !an || (s->latest && timeline_push(tl, sample_ref(s->latest), &w) < 0)) {
		timeline_free(tl);
		analyzer_free(an);
		return -ENOMEM;
	}
	timeline_free(s->timeline);
	analyzer_free(s->analyzer);
	s->timeline = tl;
	s->analyzer = an;
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

void session_close(struct session *s)
{
	if (!s)
		return;
	if (s->recorder)
		recorder_close(s->recorder, "stopped");
	sample_unref(s->latest);
	timeline_free(s->timeline);
	analyzer_free(s->analyzer);
	sampler_close(s->sampler);
	free(s);
}
