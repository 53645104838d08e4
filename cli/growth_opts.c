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

int growth_opt_parse(int c, const char *arg, struct bpf_growth_opts *o, char *err, size_t errlen)
{
	switch (c) {
	case GROWTH_OPT_FAULT_RATE:
		if (parse_u32(arg, "fault-rate", &o->fault_rate, err, errlen))
			return -1;
		if (!o->fault_rate)
			o->fault_rate = BPF_GROWTH_OFF;
		return 1;
	case GROWTH_OPT_STACK_RATE:
		if (parse_u32(arg, "stack-rate", &o->stack_rate, err, errlen))
			return -1;
		if (!o->stack_rate)
			o->stack_rate = BPF_GROWTH_UNLIMITED;
		return 1;
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
