// SPDX-License-Identifier: GPL-2.0-only
/* A finding's evidence written for people: each figure in its unit, the exact value beside it. */
#include "tui/evidence.h"
#include "lib/units.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

bool evidence_shown(const struct evidence *e)
{
	enum ev_unit u = ev_key_unit((enum ev_key)e->key);

	if (u == UNIT_ID)
		return false;
	return u != UNIT_FLAG || (e->type == EV_INT ? e->i != 0 : e->d != 0);
}

size_t evidence_count_shown(const struct finding *f)
{
	size_t i, n = 0;

	for (i = 0; i < f->nev; i++)
		n += evidence_shown(&f->ev[i]);
	return n;
}

const struct evidence *evidence_nth_shown(const struct finding *f, size_t k)
{
	size_t i;

	for (i = 0; i < f->nev; i++)
		if (evidence_shown(&f->ev[i]) && k-- == 0)
			return &f->ev[i];
	return NULL;
}

/* A real written whole when large (no exponent), to four figures otherwise. */
static void real(char *buf, size_t len, double v)
{
	snprintf(buf, len, fabs(v) >= 1e4 && fabs(v) < 1e18 ? "%.0f" : "%.4g", v);
}

void evidence_format(const struct evidence *e, char *buf, size_t len)
{
	const char *key = ev_key_name((enum ev_key)e->key);
	enum ev_unit u = ev_key_unit((enum ev_key)e->key);
	double v = e->type == EV_INT ? (double)e->i : e->d;
	char raw[32], human[UNITS_BUF + 4];
	bool finite = isfinite(v) && fabs(v) < 1e18;

	if (e->type == EV_STR) {
		snprintf(buf, len, "%s: %s", key, e->s ? e->s : "");
		return;
	}
	if (e->type == EV_INT)
		snprintf(raw, sizeof(raw), "%" PRId64, e->i);
	else
		real(raw, sizeof(raw), v);
	if (u == UNIT_BYTES && finite && fabs(v) >= 1024) {
		/* A change keeps its sign; the exact count stays beside the rounded one. */
		if (v < 0)
			fmt_delta(human, sizeof(human), (int64_t)v);
		else
			fmt_bytes(human, sizeof(human), (uint64_t)v);
		snprintf(buf, len, "%s: %s (%s B)", key, human, raw);
	} else if (u == UNIT_BYTES) {
		snprintf(buf, len, "%s: %s B", key, raw);
	} else if (u == UNIT_BYTES_PER_S && finite) {
		snprintf(buf, len, "%s: %s/s", key, units_bytes(human, sizeof(human), v));
	} else if (u == UNIT_PER_S) {
		snprintf(buf, len, "%s: %s/s", key, raw);
	} else if (u == UNIT_SHARE && isfinite(v)) {
		/* A chance of one in a million is not 0%: small shares keep their figures. */
		if (v != 0 && fabs(v) < 0.01)
			snprintf(buf, len, "%s: %.2g%%", key, v * 100);
		else
			snprintf(buf, len, "%s: %.0f%%", key, v * 100);
	} else if (u == UNIT_SECONDS && isfinite(v) && v >= 0) {
		snprintf(buf, len, "%s: %s (%s s)", key, units_duration(human, sizeof(human), v), raw);
	} else if (u == UNIT_SECONDS && !isfinite(v)) {
		snprintf(buf, len, "%s: never", key);
	} else if (u == UNIT_FLAG) {
		snprintf(buf, len, "%s: %s", key, v != 0 ? "yes" : "no");
	} else {
		snprintf(buf, len, "%s: %s", key, raw);
	}
}
