// SPDX-License-Identifier: GPL-2.0-only
/* A finding's evidence written for people: each figure as measured, and in units where it has them. */
#include "tui/evidence.h"
#include "lib/units.h"
#include "tui/draw.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

enum unit { U_NONE, U_BYTES, U_RATE, U_SHARE, U_SECONDS };

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), k = strlen(tail);

	return n >= k && strcmp(s + n - k, tail) == 0;
}

/* What a key measures; the detectors name their byte figures after what they hold. */
static enum unit unit_of(const char *kind, const char *key)
{
	static const char *const byte_keys[] = { "system", "top", "free", "free_resident", "live",
						  "rss", "quantum", "reclaimable", "growth", NULL };
	size_t i;

	if (ends_with(key, "_per_s"))
		return strstr(key, "bytes") ? U_RATE : U_NONE;
	if (strstr(key, "bytes"))
		return U_BYTES;
	if (strcmp(key, "fragmentation") == 0 || strncmp(key, "share_", 6) == 0)
		return U_SHARE;
	if (strncmp(key, "seconds", 7) == 0)
		return U_SECONDS;
	/* fd_growth counts descriptors: its limit and deltas are not bytes. */
	if (strcmp(kind, "fd_growth") == 0)
		return U_NONE;
	if (strcmp(key, "limit") == 0 || ends_with(key, "_delta"))
		return U_BYTES;
	for (i = 0; byte_keys[i]; i++)
		if (strcmp(key, byte_keys[i]) == 0)
			return U_BYTES;
	return U_NONE;
}

void evidence_format(const char *kind, const struct evidence *e, char *buf, size_t len)
{
	enum unit u = unit_of(kind ? kind : "", e->key);
	double v = e->type == EV_INT ? (double)e->i : e->d;
	char raw[32], human[24];

	if (e->type == EV_STR) {
		snprintf(buf, len, "%s: %s", e->key, e->s ? e->s : "");
		return;
	}
	if (e->type == EV_INT)
		snprintf(raw, sizeof(raw), "%" PRId64, e->i);
	else
		/* Large reals read better whole than in exponent notation. */
		snprintf(raw, sizeof(raw), fabs(v) >= 1e4 && fabs(v) < 1e18 ? "%.0f" : "%.4g", v);
	human[0] = '\0';
	if (u == U_BYTES && v <= -1024 && v > -1e18)
		fmt_delta(human, sizeof(human), (int64_t)v);
	else if (u == U_BYTES && v >= 1024 && v < 1e18)
		fmt_bytes(human, sizeof(human), (uint64_t)v);
	else if (u == U_RATE && v >= 1 && v < 1e18)
		snprintf(human + strlen(fmt_bytes(human, sizeof(human) - 2, (uint64_t)v)), 3, "/s");
	else if (u == U_SHARE && isfinite(v))
		snprintf(human, sizeof(human), "%.0f%%", v * 100);
	else if (u == U_SECONDS && isfinite(v) && v >= 0)
		units_duration(human, sizeof(human), v);
	if (human[0])
		snprintf(buf, len, "%s: %s (%s)", e->key, raw, human);
	else
		snprintf(buf, len, "%s: %s", e->key, raw);
}
