// SPDX-License-Identifier: GPL-2.0-only
/* Text printer for a window's glibc arenas: one line per arena, most free bytes first. */
#include "analyzer/arenas.h"
#include "cli/print.h"
#include "lib/units.h"

#include <inttypes.h>
#include <stdlib.h>

#define MAX_ROWS 8

static int by_free(const void *pa, const void *pb)
{
	const struct arena_stat *a = *(const struct arena_stat *const *)pa;
	const struct arena_stat *b = *(const struct arena_stat *const *)pb;

	if (a->main != b->main)
		return a->main ? -1 : 1;
	if (a->free != b->free)
		return a->free > b->free ? -1 : 1;
	return a->system > b->system ? -1 : a->system < b->system;
}

void print_arenas_text(FILE *f, const struct window *w)
{
	const struct sample *s = arenas_latest(w);
	const struct arena_stat **rows;
	struct arena_sums sum;
	char a[16], b[16], c[16], d[16], e[16];
	size_t i;

	if (!s || !s->narenas)
		return;
	rows = calloc(s->narenas, sizeof(*rows));
	if (!rows)
		return;
	for (i = 0; i < s->narenas; i++)
		rows[i] = &s->arenas[i];
	qsort(rows, s->narenas, sizeof(*rows), by_free);
	fprintf(f, "\n  GLIBC ARENAS (2.%u, %s", (unsigned int)s->glibc_minor,
		s->arenas_frozen ? "frozen" : "not frozen: free lists not read");
	if (s->arenas_frozen)
		fprintf(f, " %.1f ms%s", s->freeze_us / 1000.0,
			s->arenas_complete ? "" : ", walk incomplete");
	fprintf(f, ")\n  %-18s %3s %9s %9s %9s %9s %9s %5s\n", "ARENA", "THR", "SYSTEM", "TOP",
		"FREE", "RECLAIM", "RSS", "FRAG");
	for (i = 0; i < s->narenas && i < MAX_ROWS; i++) {
		const struct arena_stat *r = rows[i];
		char addr[24], frag[8];

		snprintf(addr, sizeof(addr), "%s%" PRIx64, r->main ? "main " : "0x", r->addr);
		snprintf(frag, sizeof(frag), "%.0f%%", r->fragmentation * 100);
		fprintf(f, "  %-18s %3u %9s %9s %9s %9s %9s %5s\n", addr, r->threads,
			fmt_bytes(a, sizeof(a), r->system), fmt_bytes(b, sizeof(b), r->top),
			r->walked ? fmt_bytes(c, sizeof(c), r->free) : "-",
			r->walked ? fmt_bytes(d, sizeof(d), r->reclaimable) : "-",
			fmt_bytes(e, sizeof(e), r->rss), r->walked ? frag : "-");
	}
	arenas_sum(s, &sum);
	if (s->narenas > MAX_ROWS)
		fprintf(f, "  (%zu more arenas)\n", s->narenas - MAX_ROWS);
	if (s->narenas > 1)
		fprintf(f, "  %-18s %3s %9s %9s %9s %9s %9s\n", "all", "",
			fmt_bytes(a, sizeof(a), sum.system), fmt_bytes(b, sizeof(b), sum.top),
			sum.walked ? fmt_bytes(c, sizeof(c), sum.free) : "-",
			sum.walked ? fmt_bytes(d, sizeof(d), sum.reclaimable) : "-",
			fmt_bytes(e, sizeof(e), sum.rss));
	free(rows);
}
