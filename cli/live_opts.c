// SPDX-License-Identifier: GPL-2.0-only
/* The options that choose what a live subcommand (watch, top) reads from its target. */
#include "cli/live_opts.h"
#include "cli/util.h"

#include <stdio.h>

/* A freeze longer than this would be an outage of the target, not a pause. */
#define FREEZE_MAX_MS 10000

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
		return 1;
	case LIVE_OPT_NO_FREEZE:
		o->no_freeze = true;
		return 1;
	case LIVE_OPT_NO_ARENAS:
		o->no_arenas = true;
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
