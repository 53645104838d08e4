// SPDX-License-Identifier: GPL-2.0-only
/* The subcommands' common ground: exit statuses, argument parsing, the stdout failure memo. */
#include "cli/util.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int parse_pid(const char *arg, int *pid, char *err, size_t errlen)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (!*arg || *end || arg[0] == '-' || arg[0] == '+' || arg[0] == ' ') {
		if (arg[0] == '-' && *end == '\0' && end != arg)
			snprintf(err, errlen, "PID must be positive: '%s'", arg);
		else
			snprintf(err, errlen, "PID is not a number: '%s'", arg);
		return -1;
	}
	if (errno == ERANGE || v > INT_MAX) {
		snprintf(err, errlen, "PID out of range: '%s'", arg);
		return -1;
	}
	if (v == 0) {
		snprintf(err, errlen, "PID 0 is not a process");
		return -1;
	}
	*pid = (int)v;
	return 0;
}

static int stdout_errno;

void output_failed(FILE *f)
{
	if (f == stdout && !stdout_errno)
		stdout_errno = errno ? errno : EIO;
}

int output_errno(void)
{
	return stdout_errno;
}

int parse_seconds(const char *arg, const char *what, double *out, char *err, size_t errlen)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (!*arg || *end || errno || isnan(v) || isinf(v)) {
		snprintf(err, errlen, "%s must be a number of seconds: '%s'", what, arg);
		return -1;
	}
	if (v <= 0) {
		snprintf(err, errlen, "%s must be positive: '%s'", what, arg);
		return -1;
	}
	if (v < 0.05 || v > 86400) {
		snprintf(err, errlen, "%s must be between 0.05 and 86400 seconds: '%s'", what, arg);
		return -1;
	}
	*out = v;
	return 0;
}

int parse_count(const char *arg, const char *what, long *out, char *err, size_t errlen)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (!*arg || *end || errno) {
		snprintf(err, errlen, "%s must be a whole number: '%s'", what, arg);
		return -1;
	}
	if (v <= 0) {
		snprintf(err, errlen, "%s must be positive: '%s'", what, arg);
		return -1;
	}
	*out = v;
	return 0;
}

int parse_rotate(const char *arg, uint64_t *bytes, double *seconds, char *err, size_t errlen)
{
	static const struct {
		char unit;
		double bytes, seconds;
	} units[] = {
		{ 'K', 1024.0, 0 }, { 'M', 1024.0 * 1024, 0 }, { 'G', 1024.0 * 1024 * 1024, 0 },
		{ 's', 0, 1 },	    { 'm', 0, 60 },	       { 'h', 0, 3600 },
		{ 'd', 0, 86400 },
	};
	char *end;
	double v;
	size_t i;

	*bytes = 0;
	*seconds = 0;
	errno = 0;
	v = strtod(arg, &end);
	for (i = 0; !errno && end != arg && v > 0 && end[0] && !end[1] &&
		    i < sizeof(units) / sizeof(units[0]); i++) {
		if (units[i].unit != end[0])
			continue;
		if (units[i].bytes && v * units[i].bytes >= 4096 && v * units[i].bytes < 1e15) {
			*bytes = (uint64_t)(v * units[i].bytes);
			return 0;
		}
		if (units[i].seconds && v * units[i].seconds >= 1 && v * units[i].seconds <= 366 * 86400.0) {
			*seconds = v * units[i].seconds;
			return 0;
		}
	}
	snprintf(err, errlen, "rotate: '%s' is not a size (64M, 1G: at least 4K) or a duration "
		 "(30m, 1h, 1d: at least 1s)", arg);
	return -1;
}
