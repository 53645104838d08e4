// SPDX-License-Identifier: GPL-2.0-only
/* The --alloc family of options: how much of the allocator traffic the malloc probes watch. */
#include "cli/alloc_opts.h"
#include "cli/util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int parse_real(const char *arg, const char *what, double lo, double hi, double *out,
		      char *err, size_t errlen)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (!*arg || *end || errno || isnan(v) || v <= lo || v > hi) {
		snprintf(err, errlen, "%s must be a number above %g and at most %g: '%s'", what, lo,
			 hi, arg);
		return -1;
	}
	*out = v;
	return 0;
}

int alloc_opts_parse(int opt, const char *arg, struct bpf_alloc_opts *o, char *err, size_t errlen)
{
	double v = 0;
	long n;

	switch (opt) {
	case OPT_ALLOC_DUTY:
		if (parse_real(arg, "--alloc-duty", 0, 100, &v, err, errlen))
			return -1;
		if (o->exact && v != 100)
			goto disagree;
		o->duty = v / 100;
		o->duty_given = true;
		return 1;
	case OPT_ALLOC_EXACT:
		if (o->duty_given && o->duty != 1)
			goto disagree;
		o->duty = 1;
		o->exact = true;
		return 1;
	case OPT_ALLOC_SAMPLE:
		if (parse_count(arg, "--alloc-sample", &n, err, errlen))
			return -1;
		o->sample_bytes = (uint64_t)n;
		return 1;
	case OPT_ALLOC_PERIOD:
		if (parse_seconds(arg, "--alloc-period", &o->period_s, err, errlen))
			return -1;
		return 1;
	case OPT_ALLOC_FREE_AT_ENTRY:
		o->free_at_entry = true;
		return 1;
	case OPT_ALLOC_OPTIONAL:
		o->optional = true;
		return 1;
	default:
		return 0;
	}
disagree:
	snprintf(err, errlen, "--alloc-exact probes every call, --alloc-duty %g%% some of them: "
		 "give one", o->exact ? v : o->duty * 100);
	return -1;
}
