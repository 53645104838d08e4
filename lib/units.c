// SPDX-License-Identifier: GPL-2.0-only
/* Figures written for people: bytes, signed byte changes, durations. One spelling everywhere. */
#include "lib/units.h"

#include <math.h>
#include <stdio.h>

const char *units_bytes(char *buf, size_t len, double bytes)
{
	static const char *const names[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double mag = fabs(bytes);
	unsigned int u = 0;

	while (mag >= 1024 && u + 1 < sizeof(names) / sizeof(names[0])) {
		mag /= 1024;
		u++;
	}
	if (bytes < 0)
		mag = -mag;
	if (u == 0)
		snprintf(buf, len, "%.0f B", mag);
	else
		snprintf(buf, len, fabs(mag) >= 100 ? "%.0f %s" : "%.1f %s", mag, names[u]);
	return buf;
}

const char *fmt_bytes(char *buf, size_t len, uint64_t v)
{
	return units_bytes(buf, len, (double)v);
}

const char *fmt_delta(char *buf, size_t len, int64_t v)
{
	if (v <= 0 || len < 2)
		return units_bytes(buf, len, (double)v);
	buf[0] = '+';
	units_bytes(buf + 1, len - 1, (double)v);
	return buf;
}

const char *units_duration(char *buf, size_t len, double seconds)
{
	long s;

	if (!isfinite(seconds)) {
		snprintf(buf, len, "never");
		return buf;
	}
	s = seconds > 0 ? (long)(seconds + 0.5) : 0;
	if (s < 60)
		snprintf(buf, len, "%lds", s);
	else if (s < 3600 && s % 60 == 0)
		snprintf(buf, len, "%ldm", s / 60);
	else if (s < 3600)
		snprintf(buf, len, "%ldm%02lds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%ldh%02ldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%ldd%02ldh", s / 86400, s % 86400 / 3600);
	return buf;
}
