// SPDX-License-Identifier: GPL-2.0-only
/* The options that choose what a live subcommand (watch, top) reads from its target. */
#include "cli/live_opts.h"
#include "cli/util.h"
#include "analyzer/timeline.h"
#include "lib/log.h"

#include <math.h>
#include <stdio.h>

/* A freeze longer than this would be an outage of the target, not a pause. */
#define FREEZE_MAX_MS 10000

void live_opts_init(struct session_opts *o)
{
	static const struct bpf_alloc_opts alloc_defaults = BPF_ALLOC_OPTS_DEFAULT;

	o->arenas = true;
	o->freeze = true;
	o->alloc_opts = alloc_defaults;
}

int live_opt_parse(int c, const char *arg, struct session_opts *o, char *err, size_t errlen)
{
	long ms;
	int ret;

	switch (c) {
	case LIVE_OPT_ALLOC:
		o->alloc = true;
		return 1;
	case LIVE_OPT_NO_BPF:
		o->bpf = false;
		o->no_bpf = true;
		return 1;
	case LIVE_OPT_NO_FREEZE:
		o->freeze = false;
		return 1;
	case LIVE_OPT_NO_ARENAS:
		o->arenas = false;
		return 1;
	case LIVE_OPT_ROTATE:
		return parse_rotate(arg, &o->rotate_bytes, &o->rotate_s, err, errlen) ? -1 : 1;
	case LIVE_OPT_SKIP:
		if (!*arg || o->nskip >= SESSION_MAX_SKIP) {
			snprintf(err, errlen, "--skip: %s", *arg ? "too many patterns (32 at most)"
								 : "the pattern is empty");
			return -1;
		}
		o->skip[o->nskip++] = arg;
		return 1;
	case LIVE_OPT_FREEZE_MAX:
		if (parse_count(arg, "freeze-max", &ms, err, errlen))
			return -1;
		if (ms > FREEZE_MAX_MS) {
			snprintf(err, errlen, "freeze-max: at most %d ms", FREEZE_MAX_MS);
			return -1;
		}
		o->freeze_max_s = (double)ms / 1000.0;
		return 1;
	}
	ret = growth_opt_parse(c, arg, &o->growth, err, errlen);
	if (ret == 0) {
		ret = alloc_opts_parse(c, arg, &o->alloc_opts, err, errlen);
		/* How to probe malloc says to probe it: --alloc-exact alone is not ignored. */
		if (ret == 1)
			o->alloc = true;
	}
	return ret;
}

int live_opt_parse_rest(int c, const char *arg, const char *opt, struct session_opts *o,
			struct exporter_opts *ex, char *err, size_t errlen)
{
	int ret;

	if (c == ':') {
		snprintf(err, errlen, "option '%s' needs a value", opt);
		return -1;
	}
	if (ex && exporter_opt_parse(c, arg, ex))
		return 0;
	ret = live_opt_parse(c, arg, o, err, errlen);
	if (ret == 0)
		snprintf(err, errlen, "unknown option '%s'", opt);
	return ret == 1 ? 0 : -1;
}

int live_opts_check(struct session_opts *o, bool tick_set, char *err, size_t errlen)
{
	double ticks;

	/* Without root top leaves the probes off by itself: --alloc then says why it fails. */
	if (o->alloc && o->no_bpf) {
		snprintf(err, errlen, "--alloc and its --alloc-... options need the eBPF probes: "
			 "drop --no-bpf, run as root");
		return -1;
	}
	/*
	 * Byte sampling thins what is recorded, not what is trapped: on top of the
	 * default 10% duty it would record one allocation per 10 x BYTES, a few a
	 * window on a service leaking hundreds of KiB a minute, too few to stand out
	 * of their own noise. So --alloc-sample probes every call unless
	 * --alloc-duty says otherwise.
	 */
	if (o->alloc_opts.sample_bytes && !o->alloc_opts.duty_given)
		o->alloc_opts.duty = 1;
	if ((o->rotate_bytes || o->rotate_s) && !o->record_path) {
		snprintf(err, errlen, "--rotate rotates the recording: it needs -o FILE");
		return -1;
	}
	if (tick_set && o->tick_s > o->window_s) {
		snprintf(err, errlen, "tick (%g s) must not exceed the interval (%g s)", o->tick_s,
			 o->window_s);
		return -1;
	}
	/*
	 * A window is a whole number of ticks: -i 2.5 ticks every 0.833 s, not 3 s
	 * windows. A given tick makes it the least whole number of ticks that
	 * covers the length asked: said when that is not the length asked.
	 */
	if (!tick_set) {
		o->tick_s = o->window_s / ceil(o->window_s / o->tick_s - 1e-9);
		return 0;
	}
	if (timeline_whole_ticks(o->window_s, o->tick_s, &ticks)) {
		log_info("windows of %g s: %g ticks of %g s (-i %g s is not a whole number of "
			 "ticks)", ticks * o->tick_s, ticks, o->tick_s, o->window_s);
		o->window_s = ticks * o->tick_s;
	}
	return 0;
}
