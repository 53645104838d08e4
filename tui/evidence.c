// SPDX-License-Identifier: GPL-2.0-only
/* A finding's evidence written for people: each figure as measured, and in units where it has them. */
#include "tui/evidence.h"
#include "lib/units.h"
#include "tui/draw.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

void evidence_format(const struct evidence *e, char *buf, size_t len)
{
	const char *key = ev_key_name((enum ev_key)e->key);
	enum ev_unit u = ev_key_unit((enum ev_key)e->key);
	double v = e->type == EV_INT ? (double)e->i : e->d;
	char raw[32], human[24];

	if (e->type == EV_STR) {
		snprintf(buf, len, "%s: %s", key, e->s ? e->s : "");
		return;
	}
	if (e->type == EV_INT)
		snprintf(raw, sizeof(raw), "%" PRId64, e->i);
	else
		/* Large reals read better whole than in exponent notation. */
		snprintf(raw, sizeof(raw), fabs(v) >= 1e4 && fabs(v) < 1e18 ? "%.0f" : "%.4g", v);
	human[0] = '\0';
	if (u == UNIT_BYTES && v <= -1024 && v > -1e18)
		fmt_delta(human, sizeof(human), (int64_t)v);
	else if (u == UNIT_BYTES && v >= 1024 && v < 1e18)
		fmt_bytes(human, sizeof(human), (uint64_t)v);
	else if (u == UNIT_BYTES_PER_S && v >= 1 && v < 1e18)
		snprintf(human + strlen(fmt_bytes(human, sizeof(human) - 2, (uint64_t)v)), 3, "/s");
	else if (u == UNIT_SHARE && isfinite(v))
		snprintf(human, sizeof(human), "%.0f%%", v * 100);
	else if (u == UNIT_SECONDS && isfinite(v) && v >= 0)
		units_duration(human, sizeof(human), v);
	if (human[0])
		snprintf(buf, len, "%s: %s (%s)", key, raw, human);
	else
		snprintf(buf, len, "%s: %s", key, raw);
}
