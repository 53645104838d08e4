// SPDX-License-Identifier: GPL-2.0-only
/* Figures written for people inside finding summaries: bytes, rates, durations. */
#include "analyzer/units.h"

#include <math.h>
#include <stdio.h>

const char *units_bytes(char *buf, size_t len, double bytes)
{
	static const char *const names[] = { "B", "KiB", "MiB", "GiB", "TiB" };
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

const char *units_duration(char *buf, size_t len, double s)
{
	if (!isfinite(s) || s < 0)
		snprintf(buf, len, "never");
	else if (s < 120)
		snprintf(buf, len, "%.0f s", s);
	else if (s < 7200)
		snprintf(buf, len, "%.0f min", s / 60);
	else if (s < 4 * 86400)
		snprintf(buf, len, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
	else
		snprintf(buf, len, "%.0f days", s / 86400);
	return buf;
}
