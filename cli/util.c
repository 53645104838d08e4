// SPDX-License-Identifier: GPL-2.0-only
/* Small helpers shared by the subcommands: argument parsing, byte formatting, JSON strings. */
#include "cli/util.h"
#include "analyzer/text_safe.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

const char *fmt_bytes(char *buf, size_t len, uint64_t v)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double d = (double)v;
	int u = -1;

	if (v < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", v);
		return buf;
	}
	while (d >= 1024 && u < 5) {
		d /= 1024;
		u++;
	}
	snprintf(buf, len, d >= 100 ? "%.0f %s" : "%.1f %s", d, units[u]);
	return buf;
}

const char *fmt_delta(char *buf, size_t len, int64_t v)
{
	uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	if (v == 0) {
		snprintf(buf, len, "0 B");
		return buf;
	}
	buf[0] = v < 0 ? '-' : '+';
	fmt_bytes(buf + 1, len - 1, mag);
	return buf;
}

json_t *json_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), i = 0, o = 0;
	json_t *j;
	char *out;

	out = malloc(n * 3 + 1);
	if (!out)
		return NULL;
	while (i < n) {
		size_t l = utf8_seq_len(p + i, n - i);

		if (l == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, p + i, l);
		o += l;
		i += l;
	}
	j = json_stringn_nocheck(out, o);
	free(out);
	return j;
}

double now_unix(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
