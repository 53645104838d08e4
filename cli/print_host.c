// SPDX-License-Identifier: GPL-2.0-only
/* Printers for `ps`: the host's processes and cgroups ranked by growth, as text and as JSON. */
#include "cli/print_host.h"
#include "cli/print.h"
#include "lib/json_text.h"
#include "lib/units.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *hierarchy_name(int h)
{
	return h == HOST_CG_V2 ? "v2" : h == HOST_CG_V1 ? "v1" : NULL;
}

static json_t *bytes_or_null(uint64_t v)
{
	return v == HOST_UNKNOWN ? json_null() : json_integer((json_int_t)v);
}

static json_t *seconds_or_null(double s)
{
	return isfinite(s) ? json_real(s) : json_null();
}

static const char *group_path(const struct host_snapshot *s, const struct host_proc *p)
{
	return p->group != HOST_NO_GROUP ? s->groups[p->group].path : NULL;
}

static json_t *proc_json(const struct host_window *w, const struct host_row *r)
{
	const struct host_proc *p = r->cur;
	const char *cg = group_path(w->end, p);
	json_t *o = json_pack(
		"{s:i, s:i, s:o, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:I, "
		"s:b, s:b}",
		"pid", (int)p->pid, "ppid", (int)p->ppid, "comm", json_text(p->comm), "cgroup",
		cg ? json_text(cg) : json_null(), "rss", (json_int_t)p->rss, "rss_delta",
		r->is_new ? json_null() : json_integer(r->rss_delta), "pss", bytes_or_null(p->pss),
		"pss_delta", r->has_pss_delta ? json_integer(r->pss_delta) : json_null(), "pss_anon",
		bytes_or_null(p->pss_anon), "pss_file", bytes_or_null(p->pss_file), "pss_shmem",
		bytes_or_null(p->pss_shmem), "swap", bytes_or_null(p->swap), "fds",
		bytes_or_null(p->fds), "fds_delta",
		r->has_fds_delta ? json_integer(r->fds_delta) : json_null(), "growing", r->growing,
		"growing_windows", (json_int_t)r->growing_windows, "new", r->is_new, "readable",
		p->pss != HOST_UNKNOWN);

	if (o) {
		json_object_set_new(o, "rate", r->is_new ? json_null() : json_real(r->rate));
		json_object_set_new(o, "limit", r->limit ? json_integer((json_int_t)r->limit)
							 : json_null());
		json_object_set_new(o, "limit_source",
				    !r->limit ? json_null() : json_string(r->limit_cgroup ? "cgroup"
											   : "ram"));
		json_object_set_new(o, "seconds_to_limit", seconds_or_null(r->seconds_to_limit));
	}
	return o;
}

static json_t *group_json(const struct host_group_row *r)
{
	const struct host_group *g = r->cur;
	json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:b, s:b}", "path",
			      json_text(g->path), "current",
			      g->has_memory ? json_integer((json_int_t)g->current) : json_null(),
			      "current_delta",
			      r->is_new || !g->has_memory ? json_null()
							  : json_integer(r->current_delta),
			      "anon", g->has_memory ? json_integer((json_int_t)g->anon) : json_null(),
			      "file", g->has_memory ? json_integer((json_int_t)g->file) : json_null(),
			      "shmem", g->has_memory ? json_integer((json_int_t)g->shmem) : json_null(),
			      "max", bytes_or_null(g->max), "limit", bytes_or_null(g->limit), "procs",
			      (json_int_t)g->nprocs, "growing", r->growing, "new", r->is_new);

	if (o) {
		json_object_set_new(o, "rate", r->is_new || !g->has_memory ? json_null()
									   : json_real(r->rate));
		json_object_set_new(o, "seconds_to_limit", seconds_or_null(r->seconds_to_limit));
	}
	return o;
}

json_t *host_window_to_json(const struct host_window *w)
{
	const struct host_snapshot *s = w->end;
	const struct host_counts *c = &s->counts;
	const char *h = hierarchy_name(s->hierarchy);
	json_t *procs = json_array(), *groups = json_array(), *o;
	size_t i;

	for (i = 0; procs && i < w->nrows; i++)
		json_array_append_new(procs, proc_json(w, &w->rows[i]));
	for (i = 0; groups && i < w->ngroups; i++)
		json_array_append_new(groups, group_json(&w->groups[i]));
	o = json_pack("{s:f, s:f, s:I, s:f, s:{s:o, s:o}, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, "
		      "s:I, s:I, s:I, s:I}, s:o, s:o}",
		      "t", w->t, "window_s", w->window_s, "window", (json_int_t)w->index, "scan_s",
		      s->scan_s, "mem", "total",
		      s->mem_total ? json_integer((json_int_t)s->mem_total) : json_null(),
		      "available",
		      s->mem_available ? json_integer((json_int_t)s->mem_available) : json_null(),
		      "cgroup_hierarchy", h ? json_string(h) : json_null(), "counts", "processes",
		      (json_int_t)w->nrows, "growing", (json_int_t)w->growing, "started",
		      (json_int_t)w->started, "exited", (json_int_t)w->exited, "kernel_threads",
		      (json_int_t)c->kernel_threads, "zombies", (json_int_t)c->zombies,
		      "unreadable", (json_int_t)c->unreadable, "fds_unreadable",
		      (json_int_t)c->fds_unreadable, "vanished", (json_int_t)c->vanished,
		      "groups_skipped", (json_int_t)c->groups_skipped, "processes", procs, "cgroups",
		      groups);
	return o;
}

int print_host_json(FILE *f, const struct host_window *w)
{
	return print_json_line(f, host_window_to_json(w));
}

/* "in 3h02m" for a time to the limit, blank when there is none in sight. */
static const char *limit_in(char *buf, size_t len, double s)
{
	if (!isfinite(s))
		return "";
	return units_duration(buf, len, s);
}

static void print_proc_text(FILE *f, const struct host_window *w, const struct host_row *r)
{
	const struct host_proc *p = r->cur;
	char a[UNITS_BUF], b[UNITS_BUF], c[UNITS_BUF], d[UNITS_BUF], e[UNITS_BUF], fd[24], fdd[24];
	char line[128];
	int n;

	if (p->fds == HOST_UNKNOWN)
		snprintf(fd, sizeof(fd), "-");
	else
		snprintf(fd, sizeof(fd), "%" PRIu64, p->fds);
	if (r->has_fds_delta)
		snprintf(fdd, sizeof(fdd), "%+" PRId64, r->fds_delta);
	else
		snprintf(fdd, sizeof(fdd), r->is_new ? "new" : "-");
	fprintf(f, "%c%7d ", r->growing ? '+' : ' ', (int)p->pid);
	print_tail(f, p->comm, 15, true);
	n = snprintf(line, sizeof(line), " %9s %10s %9s %6s %5s %8s", fmt_bytes(a, sizeof(a), p->rss),
		     r->is_new ? "new" : fmt_delta(b, sizeof(b), r->rss_delta),
		     p->pss == HOST_UNKNOWN ? "-" : fmt_bytes(c, sizeof(c), p->pss), fd, fdd,
		     limit_in(e, sizeof(e), r->seconds_to_limit));
	/* No limit in sight leaves the last column blank: no blanks at the end of the line. */
	while (n > 0 && line[n - 1] == ' ')
		line[--n] = '\0';
	fprintf(f, "%s\n", line);
	if (!r->growing)
		return;
	/* How fast a growing process grows, what it is made of, and where it runs. */
	fprintf(f, "          %s/min", units_bytes(e, sizeof(e), r->rate * 60));
	if (p->pss != HOST_UNKNOWN)
		fprintf(f, "  PSS %s: anon %s, file %s, shmem %s\n",
			fmt_delta(a, sizeof(a), r->pss_delta), fmt_bytes(b, sizeof(b), p->pss_anon),
			fmt_bytes(c, sizeof(c), p->pss_file), fmt_bytes(d, sizeof(d), p->pss_shmem));
	else
		fputs("  PSS not readable\n", f);
	if (group_path(w->end, p) && strcmp(group_path(w->end, p), "/") != 0) {
		fputs("          cgroup ", f);
		print_tail(f, group_path(w->end, p), 80 - 17, false);
		fputc('\n', f);
	}
}

static void print_groups_text(FILE *f, const struct host_window *w, int max_rows)
{
	char a[UNITS_BUF], b[UNITS_BUF], c[UNITS_BUF], e[UNITS_BUF];
	size_t i;

	fprintf(f, "\n  %-38s %9s %10s %9s %8s\n", "CGROUP", "USAGE", "DELTA", "LIMIT",
		"LIMIT IN");
	for (i = 0; i < w->ngroups && (int)i < max_rows; i++) {
		const struct host_group_row *r = &w->groups[i];
		const struct host_group *g = r->cur;

		fprintf(f, "%c ", r->growing ? '+' : ' ');
		print_tail(f, g->path, 38, true);
		fprintf(f, " %9s %10s %9s", g->has_memory ? fmt_bytes(a, sizeof(a), g->current) : "-",
			!g->has_memory ? "-" : r->is_new ? "new" : fmt_delta(b, sizeof(b), r->current_delta),
			g->limit == HOST_UNKNOWN ? "none" : fmt_bytes(c, sizeof(c), g->limit));
		if (isfinite(r->seconds_to_limit))
			fprintf(f, " %8s", limit_in(e, sizeof(e), r->seconds_to_limit));
		fputc('\n', f);
	}
	if (w->ngroups > (size_t)max_rows)
		fprintf(f, "  (%zu more groups)\n", w->ngroups - (size_t)max_rows);
}

void print_host_text(FILE *f, const struct host_window *w, const struct print_host_opts *o)
{
	const struct host_snapshot *s = w->end;
	const struct host_counts *c = &s->counts;
	char when[16], a[UNITS_BUF], b[UNITS_BUF];
	time_t t = (time_t)w->t;
	struct tm tm;
	size_t i, shown = 0, quiet;

	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	fprintf(f, "== %s  window %u: %.1f s  %zu processes, %u growing, %u started, %u exited\n",
		when, w->index, w->window_s, w->nrows, w->growing, w->started, w->exited);
	if (s->mem_total)
		fprintf(f, "  RAM %s, %s available; ", fmt_bytes(a, sizeof(a), s->mem_total),
			fmt_bytes(b, sizeof(b), s->mem_available));
	else
		fputs("  ", f);
	fprintf(f, "scan %.0f ms\n  not listed: %u kernel threads, %u zombies\n", s->scan_s * 1000,
		c->kernel_threads, c->zombies);
	if (c->unreadable || c->fds_unreadable)
		fprintf(f, "  not readable: %u without PSS (RSS from statm), %u without fds%s\n",
			c->unreadable, c->fds_unreadable, o->root ? "" : "; run as root");
	if (c->vanished)
		fprintf(f, "  %u processes exited while they were read\n", c->vanished);
	fprintf(f, "\n %7s %-15s %9s %10s %9s %6s %5s %8s\n", "PID", "COMM", "RSS", "DELTA", "PSS",
		"FDS", "DELTA", "LIMIT IN");
	for (i = 0; i < w->nrows; i++) {
		if (!w->rows[i].growing && (int)shown >= o->max_rows)
			continue;
		print_proc_text(f, w, &w->rows[i]);
		shown++;
	}
	quiet = w->nrows - shown;
	if (quiet)
		fprintf(f, "  (%zu more processes, none growing)\n", quiet);
	if (o->groups)
		print_groups_text(f, w, o->max_rows);
}
