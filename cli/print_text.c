// SPDX-License-Identifier: GPL-2.0-only
/* Text printer for windows and diffs: what a person reads at 3 a.m., in 80 columns. */
#include "cli/print.h"
#include "analyzer/regions.h"
#include "lib/text_safe.h"
#include "analyzer/timeline.h"
#include "lib/units.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NAME_COLS 29
#define PATH_COLS 52
/* Regions whose RSS moved less than a page did not change. */
#define PAGE_BYTES 4096

void print_tail(FILE *f, const char *name, int cols, bool pad)
{
	char buf[8192];
	size_t chars = text_safe_copy(buf, sizeof(buf), name);
	const char *p = buf, *slash;

	if (cols < 4)
		cols = 4;
	if (chars > (size_t)cols) {
		size_t skip = chars - (size_t)(cols - 3);

		/* Step over whole characters: continuation bytes are 10xxxxxx. */
		while (skip) {
			p++;
			if (((unsigned char)*p & 0xc0) != 0x80)
				skip--;
		}
		chars = (size_t)(cols - 3);
		slash = strchr(p, '/');
		if (slash && slash[1]) {
			for (; p < slash; p++)
				if (((unsigned char)*p & 0xc0) != 0x80)
					chars--;
		}
		fputs("...", f);
		chars += 3;
	}
	fputs(p, f);
	for (; pad && chars < (size_t)cols; chars++)
		fputc(' ', f);
}

static void put_name(FILE *f, const char *name, int cols)
{
	print_tail(f, name, cols, true);
}

void print_safe(FILE *f, const char *s)
{
	char buf[8192];

	text_safe_copy(buf, sizeof(buf), s);
	fputs(buf, f);
}

static int64_t abs_i64(int64_t v)
{
	return v < 0 ? -v : v;
}

static void print_totals(FILE *f, const struct window *w)
{
	const struct sample *s = w->end;
	char a[16], b[16], c[16], d[16], e[16], g[16];

	fprintf(f, "  RSS %s (%s)   anon %s (%s)   PSS %s (%s)\n",
		fmt_bytes(a, sizeof(a), s->totals.rss), fmt_delta(b, sizeof(b), w->delta.rss),
		fmt_bytes(c, sizeof(c), s->totals.anon), fmt_delta(d, sizeof(d), w->delta.anon),
		fmt_bytes(e, sizeof(e), s->totals.pss), fmt_delta(g, sizeof(g), w->delta.pss));
	fprintf(f, "  swap %s (%s)", fmt_bytes(a, sizeof(a), s->totals.swap),
		fmt_delta(b, sizeof(b), w->delta.swap));
	if (s->has_fds) {
		fprintf(f, "   fds %" PRIu64 " (%+" PRId64 ")", s->fds.total, w->fds_delta);
		if (s->fds.limit && s->fds.limit != UINT64_MAX)
			fprintf(f, " of %" PRIu64 " allowed", s->fds.limit);
	}
	fputc('\n', f);
}

static void print_regions(FILE *f, const struct window *w, const struct print_opts *o)
{
	size_t i, shown = 0, changed = 0;
	uint64_t rest_rss = 0;
	int64_t rest_delta = 0;
	char a[16], b[16], c[16], d[16];

	if (!w->end->has_regions) {
		fprintf(f, "\n  (regions were not read in this window)\n");
		return;
	}
	for (i = 0; i < w->nregions; i++)
		if (abs_i64(w->regions[i].rss_delta) >= PAGE_BYTES)
			changed++;
	fprintf(f, "\n  %-*s %-5s %10s %11s %10s %9s\n", NAME_COLS - 2, "REGION", "KIND", "RSS",
		"DELTA", "DIRTY", "SWAP");
	for (i = 0; i < w->nregions; i++) {
		const struct region_delta *rd = &w->regions[i];
		static const struct region none;
		const struct region *r = rd->cur ? rd->cur : &none;
		bool show = (int)shown < o->max_regions &&
			    (abs_i64(rd->rss_delta) >= PAGE_BYTES || (changed < 5 && shown < 5));

		if (!show) {
			rest_rss += r->rss;
			rest_delta += rd->rss_delta;
			continue;
		}
		shown++;
		fputs("  ", f);
		put_name(f, rd->name, NAME_COLS - 2);
		fprintf(f, " %-5s %10s %11s %10s %9s\n", region_kind_name((enum region_kind)rd->kind),
			fmt_bytes(a, sizeof(a), r->rss), fmt_delta(b, sizeof(b), rd->rss_delta),
			fmt_bytes(c, sizeof(c), r->private_dirty), fmt_bytes(d, sizeof(d), r->swap));
	}
	if (shown < w->nregions)
		fprintf(f, "  (%zu more regions: %s, %s)\n", w->nregions - shown,
			fmt_bytes(a, sizeof(a), rest_rss), fmt_delta(b, sizeof(b), rest_delta));
}

/* The caps at work: the figures above are complete, but some rows were merged or thinned. */
static void print_overflow(FILE *f, const struct window *w)
{
	if (w->end->regions_folded)
		fprintf(f, "  CAPPED: %" PRIu64 " small regions are summed in the \"[other ...]\" rows"
			   " (over %d)\n", w->end->regions_folded, REGIONS_MAX);
	if (w->samples_thinned)
		fprintf(f, "  CAPPED: %u samples of this window were thinned out (over %d kept)\n",
			w->samples_thinned, TIMELINE_MAX_SAMPLES);
}

static void print_fds(FILE *f, const struct window *w)
{
	const struct sample *s = w->end;
	int col = 6, i;

	if (!s->has_fds)
		return;
	fprintf(f, "\n  FDS");
	for (i = 0; i < FD_NTYPES; i++) {
		char item[64];
		int n;

		if (!s->fds.by_type[i] && !w->fds_type_delta[i])
			continue;
		if (w->fds_type_delta[i])
			n = snprintf(item, sizeof(item), " %s %" PRIu64 " (%+" PRId64 ")",
				     fd_type_name((enum fd_type)i), s->fds.by_type[i],
				     w->fds_type_delta[i]);
		else
			n = snprintf(item, sizeof(item), " %s %" PRIu64,
				     fd_type_name((enum fd_type)i), s->fds.by_type[i]);
		if (col + n > 78) {
			fprintf(f, "\n     ");
			col = 5;
		}
		fputs(item, f);
		col += n;
	}
	if (s->fds.total == 0)
		fputs(" none open", f);
	fputc('\n', f);
}

static const char *stack_unit(uint8_t kind)
{
	return kind == STACK_FAULT ? "faults" : kind == STACK_MMAP ? "mappings" : "calls";
}

/* brk and fault figures are running totals; alloc and mmap ones are live bytes. */
static bool stack_is_total(uint8_t kind)
{
	return kind == STACK_BRK || kind == STACK_FAULT;
}

/* Frames a text report shows per stack, from its site on (--json has them all). */
#define STACK_TEXT_FRAMES 6

/*
 * Prints up to `max` frames from the site on, each after `lead`: the
 * allocator's and runtime's frames before the site are counted, not shown,
 * and a cut stack ends with a line saying so.
 */
static void put_stack(FILE *f, char *const *frames, uint32_t n, uint32_t site, bool truncated,
		      uint32_t max, const char *lead, int cols)
{
	uint32_t j;

	if (site >= n)
		site = 0;
	for (j = site; j < n && j < site + max; j++) {
		fputs(lead, f);
		print_tail(f, frames[j], cols, false);
		if (j == site && site > 0)
			fprintf(f, "  [site; %u allocator frame%s above]", site, site == 1 ? "" : "s");
		fputc('\n', f);
	}
	/* Under the frames, not as one of them. */
	if (j < n)
		fprintf(f, "%*s(%u more frame%s)\n", (int)strlen(lead), "", n - j, n - j == 1 ? "" : "s");
	else if (truncated)
		fprintf(f, "%*s[stack cut here: its callers could not be unwound]\n", (int)strlen(lead),
			"");
}

/* The stacks whose figures changed, largest change first per kind, under `title`. */
static void print_stacks(FILE *f, const struct window *w, const struct print_opts *o,
			 const char *title)
{
	int shown[STACK_NKINDS] = { 0 };
	bool header = false;
	size_t i;
	char a[16], b[16];

	for (i = 0; i < w->nstacks; i++) {
		const struct stack_delta *d = &w->stacks[i];
		const struct stack_stat *s = d->cur ? d->cur : d->old;

		if (!d->bytes_delta && !d->count_delta)
			continue;
		if (shown[s->kind]++ >= o->max_stacks)
			continue;
		if (!header) {
			fprintf(f, "\n  %s\n", title);
			header = true;
		}
		if (s->kind == STACK_FD)
			fprintf(f, "  %-5s %+" PRId64 " fds (%" PRId64 " open)\n",
				stack_kind_name((enum stack_kind)s->kind), d->count_delta,
				d->cur ? d->cur->count : 0);
		else
			fprintf(f, "  %-5s %s in %+" PRId64 " %s (%s %s%s%s)\n",
				stack_kind_name((enum stack_kind)s->kind),
				fmt_delta(a, sizeof(a), d->bytes_delta), d->count_delta,
				stack_unit(s->kind),
				fmt_bytes(b, sizeof(b), d->cur ? (uint64_t)(d->cur->bytes > 0 ? d->cur->bytes : 0) : 0),
				stack_is_total(s->kind) ? "since attach" : "outstanding",
				s->kind == STACK_ALLOC && w->end->has_alloc && w->end->alloc.estimated
					? ", estimated" : "",
				s->kind == STACK_ALLOC && alloc_lower_bound(w->end) ? ", lower bound"
										     : "");
		put_stack(f, s->frames, s->nframes, s->def ? s->def->site : 0,
			  s->def && s->def->truncated, STACK_TEXT_FRAMES, "        ", 70);
	}
}

/*
 * Prints `text` from column `col` on, breaking at spaces before column 79 (not
 * between a figure and its unit) and indenting continuation lines by `indent`.
 * The text is made safe first (text_safe_copy); words longer than a line are
 * cut at a character's start.
 */
static void put_wrapped(FILE *f, const char *text, int col, int indent)
{
	const int width = 79;
	char buf[8192];

	text_safe_copy(buf, sizeof(buf), text);
	text = buf;
	while (*text) {
		int room = width - col, n = 0, brk = -1;

		while (text[n] && n < room) {
			/* "10.6 MiB" stays on one line. */
			if (text[n] == ' ' && n > 0 && !(text[n - 1] >= '0' && text[n - 1] <= '9'))
				brk = n;
			n++;
		}
		if (text[n] && brk > 0)
			n = brk;
		/* Continuation bytes are 10xxxxxx: step back to the character's start. */
		while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
			n--;
		if (n == 0)	/* no room for even one character: print it whole */
			for (n = 1; ((unsigned char)text[n] & 0xc0) == 0x80; n++)
				;
		fwrite(text, 1, (size_t)n, f);
		fputc('\n', f);
		text += n;
		while (*text == ' ')
			text++;
		if (*text)
			fprintf(f, "%*s", indent, "");
		col = indent;
	}
}

/* Frees of memory allocated before attach: why a stack's rise need not be a leak. */
static void print_preattach(FILE *f, const struct window *w)
{
	const struct alloc_summary *a = &w->end->alloc;
	char b[24];

	if (!a->unmatched_frees)
		return;
	fprintf(f, "         %" PRIu64 " frees matched no record; %s", a->unmatched_frees,
		a->estimated ? "about " : "");
	if (a->unmatched_sized)
		fprintf(f, "%s allocated before attach\n         was freed in this window",
			fmt_bytes(b, sizeof(b), (uint64_t)llround(w->preattach.free_bytes_delta)));
	else
		fprintf(f, "%.0f blocks allocated before attach\n         were freed in this window",
			w->preattach.frees_delta);
	fprintf(f, " (what replaces it is no leak)\n");
}

/* How the alloc figures above were obtained: exact, or estimates and from what share. */
static void print_alloc(FILE *f, const struct window *w)
{
	const struct alloc_summary *a = &w->end->alloc;
	size_t i;
	char b[16];

	if (!w->end->has_alloc)
		return;
	if (a->estimated)
		fprintf(f, "\n  ALLOC  estimates: allocating calls probed %.0f%% of the time (%.1f%% of\n"
			   "         the calls), figures scaled up by that share",
			a->duty * 100, a->share * 100);
	else
		fprintf(f, "\n  ALLOC  exact: every allocating call probed");
	if (a->sample_bytes)
		fprintf(f, ", one allocation recorded per %" PRIu64 " bytes", a->sample_bytes);
	fprintf(f, "; free() always\n         %" PRIu64 " calls, %" PRIu64 " frees seen", a->calls,
		a->frees);
	if (a->lost)
		fprintf(f, ", %" PRIu64 " allocations not recorded (maps full)", a->lost);
	fputc('\n', f);
	if (a->lost_live)
		fprintf(f, "         LIVE MAP FULL: %" PRIu64 " allocations not recorded while %" PRIu64
			   " were tracked;\n         outstanding figures are lower bounds "
			   "(--alloc-sample BYTES tracks fewer)\n",
			a->lost_live, a->live_cap);
	print_preattach(f, w);
	for (i = 0; a->has_arenas && i < a->narenas; i++) {
		const struct alloc_arena *ar = &a->arenas[i];

		if (ar->addr == ALLOC_ARENA_MAIN_KEY)
			fprintf(f, "         arena main");
		else if (ar->addr == ALLOC_ARENA_MMAPPED_KEY)
			fprintf(f, "         mmapped chunks");
		else
			fprintf(f, "         arena 0x%" PRIx64, ar->addr);
		fprintf(f, ": %s in %+" PRId64 " chunks since attach\n",
			fmt_delta(b, sizeof(b), ar->bytes), ar->count);
	}
}

/* One finding: severity, kind and `lead` (its history in a run summary), the summary, frames. */
static void print_finding(FILE *f, const struct finding *fd, const char *lead)
{
	char text[8192];
	int col;

	col = fprintf(f, "  %-8s %s: ", severity_name((enum severity)fd->severity),
		      finding_kind_name((enum finding_kind)fd->kind));
	snprintf(text, sizeof(text), "%s%s", lead, fd->summary ? fd->summary : "");
	put_wrapped(f, text, col, 11);
	put_stack(f, fd->frames, fd->nframes, fd->site, fd->truncated, 3, "           at ", 65);
}

static void print_findings(FILE *f, const struct window *w)
{
	size_t i;

	/* Growth is a finding only in two windows in a row: the first cannot have one. */
	if (!w->nfindings) {
		fprintf(f, "\n  FINDINGS  none in this window%s\n",
			w->index == 1 ? " (growth needs two windows in a row)" : "");
		return;
	}
	fprintf(f, "\n  FINDINGS\n");
	for (i = 0; i < w->nfindings; i++)
		print_finding(f, &w->findings[i], "");
}

/* A time read from a recording can be any number: only a plausible one becomes a clock time. */
static const char *fmt_clock(char *buf, size_t len, double t)
{
	struct tm tm;
	time_t tt;

	/* Up to the year 9999; the test also rejects NaN. */
	if (!(t >= 0 && t < 253402300800.0))
		return "--:--:--";
	tt = (time_t)t;
	if (!localtime_r(&tt, &tm) || !strftime(buf, len, "%H:%M:%S", &tm))
		return "--:--:--";
	return buf;
}

void print_window_text(FILE *f, const struct window *w, const struct print_opts *o)
{
	const struct sample *s = w->end;
	char when[32];

	fprintf(f, "== %s  pid %d (", fmt_clock(when, sizeof(when), s->t), s->pid);
	print_safe(f, s->comm ? s->comm : "?");
	fprintf(f, ")  %s  window %u: %.1f s%s\n",
		allocator_name((enum allocator_kind)s->allocator), w->index, w->window_s,
		w->partial ? " (partial)" : "");
	print_totals(f, w);
	print_regions(f, w, o);
	print_overflow(f, w);
	print_arenas_text(f, w);
	print_fds(f, w);
	print_stacks(f, w, o, "GROWTH STACKS");
	print_alloc(f, w);
	print_findings(f, w);
	if (w->lost_events)
		fprintf(f, "\n  LOST EVENTS: %" PRIu64
			   " in this window (probe buffers full); figures above undercount\n",
			w->lost_events);
	fputc('\n', f);
	fflush(f);
}

void print_diff_text(FILE *f, const struct window *w, const char *old_path,
		     const char *new_path, const struct print_opts *o)
{
	char when[2][32];
	int i;

	for (i = 0; i < 2; i++) {
		const struct sample *s = i ? w->end : w->start;
		time_t t = (time_t)s->t;
		struct tm tm;

		/* Standard input as OLD has no time: it could have been saved any day. */
		snprintf(when[i], sizeof(when[i]), "%-19s", "(time unknown)");
		if (s->t > 0 && localtime_r(&t, &tm))
			strftime(when[i], sizeof(when[i]), "%Y-%m-%d %H:%M:%S", &tm);
	}
	if (w->start->t > 0 && w->end->t > 0)
		fprintf(f, "== diff over %.0f s (file times)\n", w->window_s);
	else
		fprintf(f, "== diff (the time between the two is unknown)\n");
	fprintf(f, "  old  %s  ", when[0]);
	print_tail(f, old_path, PATH_COLS, false);
	fprintf(f, "\n  new  %s  ", when[1]);
	print_tail(f, new_path, PATH_COLS, false);
	fputc('\n', f);
	print_totals(f, w);
	print_regions(f, w, o);
	print_overflow(f, w);
	fputc('\n', f);
}

/* The findings of the run that held to its end (held) or came and went (!held). */
static void print_run_findings(FILE *f, const struct run_summary *r, bool held)
{
	char lead[128];
	size_t i;
	bool header = false;

	for (i = 0; i < r->nfindings; i++) {
		const struct run_finding *rf = &r->findings[i];

		if (run_finding_held(r, rf) != held)
			continue;
		if (!header)
			fprintf(f, "\n  %s\n", held ? "FINDINGS THAT HELD (to the last window)"
						     : "FINDINGS THAT CAME AND WENT");
		header = true;
		if (rf->first_window == rf->last_window)
			snprintf(lead, sizeof(lead), "[in window %u of %u] ", rf->last_window,
				 r->windows);
		else
			snprintf(lead, sizeof(lead), "[in %u of %u windows, %u to %u] ", rf->windows,
				 r->windows, rf->first_window, rf->last_window);
		print_finding(f, &rf->latest, lead);
	}
}

void print_run_summary_text(FILE *f, const struct run_summary *r, const struct window *run,
			    const char *how)
{
	static const struct print_opts o = { .max_regions = 5, .max_stacks = 2 };
	const struct sample *s = run->end;
	char a[16], b[16];

	fprintf(f, "== run summary  pid %d (", s->pid);
	print_safe(f, s->comm ? s->comm : "?");
	fprintf(f, ")  %s, %u window%s, %s\n", units_duration(a, sizeof(a), run->window_s),
		r->windows, r->windows == 1 ? "" : "s", how);
	print_totals(f, run);
	if (run->window_s > 0 && run->delta.rss)
		fprintf(f, "  RSS over the run: %s/min, from %s\n",
			units_bytes(a, sizeof(a), (double)run->delta.rss * 60 / run->window_s),
			fmt_bytes(b, sizeof(b), run->start->totals.rss));
	print_regions(f, run, &o);
	print_run_findings(f, r, true);
	print_run_findings(f, r, false);
	if (!r->nfindings)
		fprintf(f, "\n  FINDINGS  none in any window\n");
	if (r->dropped)
		fprintf(f, "  (%u more findings not followed: over %d)\n", r->dropped,
			RUN_FINDINGS_MAX);
	print_stacks(f, run, &o, "STACKS THAT EXPLAIN IT (change over the run)");
	fputc('\n', f);
	fflush(f);
}
