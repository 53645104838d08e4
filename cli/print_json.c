// SPDX-License-Identifier: GPL-2.0-only
/* JSON printer for windows and diffs: the contract of README.md ("JSON output"), one object per line. */
#include "analyzer/arenas.h"
#include "cli/print.h"
#include "cli/util.h"
#include "analyzer/regions.h"
#include "analyzer/timeline.h"
#include "lib/json_text.h"
#include "recording/stack_json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

static json_t *frames_json(char *const *frames, uint32_t n)
{
	json_t *a = json_array();
	uint32_t i;

	for (i = 0; a && i < n; i++)
		json_array_append_new(a, json_text(frames[i]));
	return a;
}

static json_t *totals_json(const struct sample *s)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:o}", "rss", (json_int_t)s->totals.rss,
			 "pss", (json_int_t)s->totals.pss, "anon", (json_int_t)s->totals.anon,
			 "swap", (json_int_t)s->totals.swap, "size", (json_int_t)s->totals.size,
			 "fds", s->has_fds ? json_integer((json_int_t)s->fds.total) : json_null());
}

static json_t *totals_delta_json(const struct window *w)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:o}", "rss", (json_int_t)w->delta.rss,
			 "pss", (json_int_t)w->delta.pss, "anon", (json_int_t)w->delta.anon,
			 "swap", (json_int_t)w->delta.swap, "size", (json_int_t)w->delta.size,
			 "fds", w->start->has_fds && w->end->has_fds
					? json_integer(w->fds_delta) : json_null());
}

static json_t *regions_json(const struct window *w)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < w->nregions; i++) {
		const struct region_delta *d = &w->regions[i];
		static const struct region none;
		const struct region *r = d->cur ? d->cur : &none;

		json_array_append_new(
			a, json_pack("{s:o, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
				     "name", json_text(d->name), "kind",
				     region_kind_name((enum region_kind)d->kind),
				     "rss", (json_int_t)r->rss, "rss_delta", (json_int_t)d->rss_delta,
				     "private_dirty", (json_int_t)r->private_dirty,
				     "swap", (json_int_t)r->swap, "pss", (json_int_t)r->pss,
				     "size", (json_int_t)r->size, "size_delta",
				     (json_int_t)d->size_delta, "vmas", (json_int_t)r->nvmas));
	}
	return a;
}

static json_t *fds_json(const struct window *w)
{
	const struct sample *s = w->end;
	json_t *by_type, *by_type_delta;
	int i;

	if (!s->has_fds)
		return json_null();
	by_type = json_object();
	by_type_delta = json_object();
	for (i = 0; i < FD_NTYPES; i++) {
		json_object_set_new(by_type, fd_type_name((enum fd_type)i),
				    json_integer((json_int_t)s->fds.by_type[i]));
		json_object_set_new(by_type_delta, fd_type_name((enum fd_type)i),
				    json_integer(w->fds_type_delta[i]));
	}
	return json_pack("{s:I, s:o, s:o, s:I, s:o}", "total", (json_int_t)s->fds.total, "limit",
			 s->fds.limit == UINT64_MAX ? json_null()
						    : json_integer((json_int_t)s->fds.limit),
			 "by_type", by_type, "delta", (json_int_t)w->fds_delta, "by_type_delta",
			 by_type_delta);
}

static json_t *arenas_json(const struct sample *s)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && s && s->has_arenas && i < s->narenas; i++) {
		const struct arena_stat *ar = &s->arenas[i];
		char addr[24];
		json_t *o;

		snprintf(addr, sizeof(addr), "0x%" PRIx64, ar->addr);
		o = json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:b}", "addr", addr,
			      "main", ar->main, "threads", (json_int_t)ar->threads, "heaps",
			      (json_int_t)ar->nheaps, "system", (json_int_t)ar->system,
			      "max_system", (json_int_t)ar->max_system, "top", (json_int_t)ar->top,
			      "live", ar->live >= 0 ? json_integer(ar->live) : json_null(), "rss",
			      (json_int_t)ar->rss, "walked", ar->walked);
		/* Free lists are only known from a frozen walk: null says "not measured". */
		if (o) {
			static const char *const sources[] = { NULL, "walk", "alloc" };

			json_object_set_new(o, "live_source",
					    ar->live >= 0 && ar->live_source < 3 && sources[ar->live_source]
						    ? json_string(sources[ar->live_source])
						    : json_null());
			json_object_set_new(o, "free", ar->walked ? json_integer((json_int_t)ar->free)
								  : json_null());
			json_object_set_new(o, "tcache",
					    ar->walked ? json_integer((json_int_t)ar->tcache)
						       : json_null());
			json_object_set_new(o, "reclaimable",
					    ar->walked ? json_integer((json_int_t)ar->reclaimable)
						       : json_null());
			json_object_set_new(o, "fragmentation",
					    ar->walked ? json_real(ar->fragmentation) : json_null());
		}
		json_array_append_new(a, o);
	}
	return a;
}

/* How the arenas were read: frozen or not, for how long, whole or not, located how. */
static json_t *arena_read_json(const struct sample *s)
{
	char glibc[16];

	if (!s || !s->has_arenas)
		return json_null();
	snprintf(glibc, sizeof(glibc), "2.%u", (unsigned int)s->glibc_minor);
	return json_pack("{s:b, s:b, s:f, s:f, s:I, s:I, s:s, s:s, s:o}", "frozen",
			 s->arenas_frozen, "complete", s->arenas_complete, "freeze_ms",
			 s->freeze_us / 1000.0, "cpu_ms", s->arenas_cpu_us / 1000.0, "rereads",
			 (json_int_t)s->arenas_rereads, "unread", (json_int_t)s->arenas_unread,
			 "located_by", s->arenas_debuginfo ? "debuginfo" : "scan", "glibc",
			 s->glibc_minor ? glibc : "?", "malloc_mmapped",
			 s->malloc_mmapped >= 0 ? json_integer(s->malloc_mmapped) : json_null());
}

static json_t *mem_limit_json(const struct sample *s)
{
	if (!s->mem_limit)
		return json_null();
	return json_pack("{s:I, s:s}", "bytes", (json_int_t)s->mem_limit, "source",
			 s->mem_limit_cgroup ? "cgroup" : "ram");
}

/* The --json output's spelling of a stack's identity (README "JSON output"). */
static const struct stack_json_keys json_stack_keys = {
	.frames = "frames", .site = "site", .site_index = "site_index", .truncated = "truncated",
	.modules = "modules", .frame_info = "frame_info", .path = "path", .build_id = "build_id",
	.start = "start", .end = "end", .addr = "addr", .module = "module", .function = "function",
	.symbol = "symbol", .file = "file", .line = "line", .inlined = "inlined",
};
static json_t *stacks_json(const struct window *w)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < w->nstacks; i++) {
		const struct stack_delta *d = &w->stacks[i];
		const struct stack_stat *s = d->cur ? d->cur : d->old;
		/* Alloc figures scaled up from part of the calls say so on every entry. */
		bool estimated = s->kind == STACK_ALLOC && w->end->has_alloc &&
				 w->end->alloc.estimated;
		/* And so do figures that miss allocations a full map could not record. */
		bool lower = s->kind == STACK_ALLOC && alloc_lower_bound(w->end);
		json_t *o = json_pack("{s:s, s:b, s:b, s:I, s:I, s:I, s:I, s:o}", "kind",
				      stack_kind_name((enum stack_kind)s->kind), "estimated",
				      estimated, "lower_bound", lower, "bytes",
				      (json_int_t)(d->cur ? d->cur->bytes : 0), "count",
				      (json_int_t)(d->cur ? d->cur->count : 0), "bytes_delta",
				      (json_int_t)d->bytes_delta, "count_delta",
				      (json_int_t)d->count_delta, "frames",
				      frames_json(s->frames, s->nframes));

		/* The site, whether the stack was cut, and each frame's address, module and names. */
		if (o && s->def && stack_json_add(o, s->def, &json_stack_keys)) {
			json_decref(o);
			o = NULL;
		}
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *finding_json(const struct finding *f)
{
	json_t *ev = json_object();
	size_t j;

	for (j = 0; ev && j < f->nev; j++) {
		const struct evidence *e = &f->ev[j];

		json_object_set_new(ev, ev_key_name((enum ev_key)e->key),
				    e->type == EV_INT    ? json_integer(e->i)
				    : e->type == EV_REAL ? json_real(e->d)
							 : json_text(e->s));
	}
	return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:b}", "kind",
			 finding_kind_name((enum finding_kind)f->kind), "severity",
			 severity_name((enum severity)f->severity), "summary", json_text(f->summary),
			 "evidence", ev, "frames", frames_json(f->frames, f->nframes), "site",
			 f->nframes ? json_text(f->frames[f->site]) : json_null(), "truncated",
			 f->truncated);
}

static json_t *findings_json(const struct window *w)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < w->nfindings; i++)
		json_array_append_new(a, finding_json(&w->findings[i]));
	return a;
}

/* Net chunk bytes per arena since attach, with the change over the window. */
static json_t *alloc_arenas_json(const struct window *w)
{
	const struct alloc_summary *e = &w->end->alloc, *b = &w->start->alloc;
	json_t *a = json_array();
	size_t i, k;

	for (i = 0; a && i < e->narenas; i++) {
		const struct alloc_arena *ar = &e->arenas[i];
		int64_t before = 0;
		char addr[24];

		for (k = 0; w->start->has_alloc && k < b->narenas; k++)
			if (b->arenas[k].addr == ar->addr)
				before = b->arenas[k].bytes;
		if (ar->addr == ALLOC_ARENA_MAIN_KEY)
			snprintf(addr, sizeof(addr), "main");
		else if (ar->addr == ALLOC_ARENA_MMAPPED_KEY)
			snprintf(addr, sizeof(addr), "mmapped");
		else
			snprintf(addr, sizeof(addr), "0x%" PRIx64, ar->addr);
		json_array_append_new(a, json_pack("{s:s, s:b, s:I, s:I, s:I}", "addr", addr, "main",
						   ar->addr == ALLOC_ARENA_MAIN_KEY, "net_bytes",
						   (json_int_t)ar->bytes, "net_bytes_delta",
						   (json_int_t)(ar->bytes - before), "net_chunks",
						   (json_int_t)ar->count));
	}
	return a;
}

static json_t *alloc_counts_json(const struct alloc_summary *a, json_t *arenas)
{
	return json_pack("{s:b, s:I, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
			 "estimated", a->estimated, "sample_bytes", (json_int_t)a->sample_bytes,
			 "duty", a->duty, "share", a->share,
			 "since", a->since, "calls", (json_int_t)a->calls, "frees",
			 (json_int_t)a->frees, "recorded", (json_int_t)a->recorded, "missed_frees",
			 (json_int_t)a->missed_frees, "lost", (json_int_t)a->lost, "lost_live",
			 (json_int_t)a->lost_live, "live_cap", (json_int_t)a->live_cap, "arenas",
			 arenas);
}

/* What the malloc probes saw, and how far their stack figures are estimates. */
static json_t *alloc_json(const struct window *w)
{
	const struct alloc_summary *a = &w->end->alloc;
	json_t *j;

	j = alloc_counts_json(a, a->has_arenas ? alloc_arenas_json(w) : json_null());
	if (!j)
		return NULL;
	/* Frees of no record, and the memory from before attach they are estimated to free. */
	json_object_update_new(
		j, json_pack("{s:I, s:o, s:I, s:I, s:I}", "unmatched_frees",
			     (json_int_t)a->unmatched_frees, "unmatched_free_bytes",
			     a->unmatched_sized ? json_integer((json_int_t)a->unmatched_free_bytes)
						: json_null(),
			     "preattach_frees", (json_int_t)llround(w->preattach.frees),
			     "preattach_free_bytes", (json_int_t)llround(w->preattach.free_bytes),
			     "preattach_free_bytes_delta",
			     (json_int_t)llround(w->preattach.free_bytes_delta)));
	return j;
}

/* What the caps left out of this window: counted, so that nothing goes missing silently. */
static json_t *overflow_json(const struct window *w)
{
	return json_pack("{s:I, s:i, s:i, s:i}", "regions_folded",
			 (json_int_t)w->end->regions_folded, "region_cap", REGIONS_MAX,
			 "samples_thinned", (int)w->samples_thinned, "sample_cap",
			 TIMELINE_MAX_SAMPLES);
}

json_t *window_to_json(const struct window *w)
{
	const struct sample *s = w->end;
	json_t *j;

	j = json_pack("{s:f, s:i, s:o, s:f, s:i, s:b, s:s, s:i, s:o, s:o, s:o, s:o, s:o, s:o,"
		      " s:o, s:I, s:o}",
		      "t", s->t, "pid", s->pid, "comm", json_text(s->comm), "window_s",
		      w->window_s, "window", (int)w->index, "partial", w->partial, "allocator",
		      allocator_name((enum allocator_kind)s->allocator), "threads",
		      (int)s->threads, "totals", totals_json(s), "totals_delta",
		      totals_delta_json(w), "regions", regions_json(w), "arenas",
		      arenas_json(arenas_latest(w)), "fds", fds_json(w), "stacks", stacks_json(w),
		      "findings", findings_json(w), "lost_events", (json_int_t)w->lost_events,
		      "collectors",
		      json_pack("{s:b, s:b, s:b, s:b}", "smaps", s->has_regions, "fds",
				 s->has_fds, "arenas", arenas_latest(w) != NULL, "bpf", s->has_bpf));
	if (j) {
		json_object_set_new(j, "arena_read", arena_read_json(arenas_latest(w)));
		json_object_set_new(j, "mem_limit", mem_limit_json(s));
	}
	if (j && s->has_alloc)
		json_object_set_new(j, "alloc", alloc_json(w));
	if (j && json_object_set_new(j, "overflow", overflow_json(w))) {
		json_decref(j);
		return NULL;
	}
	return j;
}

int print_json_line(FILE *f, json_t *j)
{
	int ret = 0;

	if (!j)
		return -ENOMEM;
	if (json_dumpf(j, f, JSON_COMPACT) || fputc('\n', f) == EOF || fflush(f)) {
		output_failed(f);
		ret = -EIO;
	}
	json_decref(j);
	return ret;
}

int print_window_json(FILE *f, const struct window *w)
{
	return print_json_line(f, window_to_json(w));
}

int print_diff_json(FILE *f, const struct window *w, const char *old_path,
		    const char *new_path)
{
	json_t *j = json_pack("{s:o, s:o, s:o, s:o, s:o, s:s}", "old", json_text(old_path), "new",
			      json_text(new_path), "totals", totals_json(w->end), "totals_delta",
			      totals_delta_json(w), "regions", regions_json(w), "allocator",
			      allocator_name((enum allocator_kind)w->end->allocator));

	if (j && json_object_set_new(j, "overflow", overflow_json(w))) {
		json_decref(j);
		j = NULL;
	}

	return print_json_line(f, j);
}

/* Each finding of the run with its history: windows that reported it, and whether it held. */
static json_t *run_findings_json(const struct run_summary *r)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < r->nfindings; i++) {
		const struct run_finding *rf = &r->findings[i];
		json_t *o = finding_json(&rf->latest);

		if (o)
			json_object_update_new(
				o, json_pack("{s:b, s:I, s:I, s:I, s:s}", "held",
					     run_finding_held(r, rf), "windows", (json_int_t)rf->windows,
					     "first_window", (json_int_t)rf->first_window,
					     "last_window", (json_int_t)rf->last_window, "worst",
					     severity_name((enum severity)rf->worst)));
		json_array_append_new(a, o);
	}
	return a;
}

int print_run_summary_json(FILE *f, const struct run_summary *r, const struct window *run,
			   const char *how)
{
	const struct sample *s = run->end;
	json_t *o = json_pack("{s:i, s:o, s:f, s:f, s:f, s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:o, "
			      "s:I}",
			      "pid", s->pid, "comm", json_text(s->comm), "t_start", run->start->t,
			      "t_end", s->t, "duration_s", run->window_s, "windows",
			      (json_int_t)r->windows, "end", how, "totals", totals_json(s),
			      "totals_delta", totals_delta_json(run), "regions", regions_json(run),
			      "fds", fds_json(run), "stacks", stacks_json(run), "findings",
			      run_findings_json(r), "findings_dropped", (json_int_t)r->dropped);

	return print_json_line(f, o ? json_pack("{s:o}", "run_summary", o) : NULL);
}
