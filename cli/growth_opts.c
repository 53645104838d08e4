// SPDX-License-Identifier: GPL-2.0-only
/* Command-line options of the eBPF growth probes, shared by the live subcommands. */
#include "cli/growth_opts.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int parse_u32(const char *arg, const char *what, uint32_t *out, char *err, size_t errlen)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (!*arg || *end || errno || arg[0] == '-' || v >= UINT32_MAX) {
		snprintf(err, errlen, "%s must be a whole number from 0 to %u: '%s'", what,
			 UINT32_MAX - 1, arg);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/* A rate where 0 means "none" (stored as `zero`, since a zeroed field means the default). */
static int parse_rate(const char *arg, const char *what, uint32_t *out, uint32_t zero, char *err,
		      size_t errlen)
{
	if (parse_u32(arg, what, out, err, errlen))
		return -1;
	if (!*out)
		*out = zero;
	return 1;
}

int growth_opt_parse(int c, const char *arg, struct bpf_growth_opts *o, char *err, size_t errlen)
{
	switch (c) {
	case GROWTH_OPT_FAULT_RATE:
		return parse_rate(arg, "fault-rate", &o->fault_rate, BPF_GROWTH_OFF, err, errlen);
	case GROWTH_OPT_STACK_RATE:
		return parse_rate(arg, "stack-rate", &o->stack_rate, BPF_GROWTH_UNLIMITED, err,
				  errlen);
	case GROWTH_OPT_RINGBUF_KIB:
		if (parse_u32(arg, "ringbuf-kib", &o->ringbuf_kib, err, errlen))
			return -1;
		if (o->ringbuf_kib < 4 || (o->ringbuf_kib & (o->ringbuf_kib - 1))) {
			snprintf(err, errlen, "ringbuf-kib must be a power of 2 of at least 4: '%s'",
				 arg);
			return -1;
		}
		return 1;
	}
	return 0;
}
