// SPDX-License-Identifier: GPL-2.0-only
/* JSON printer for windows and diffs: the contract of DESIGN.md, one object per line. */
#include "cli/print.h"
#include "cli/util.h"
#include "analyzer/regions.h"
#include "analyzer/timeline.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

static json_t *frames_json(char *const *frames, uint32_t n)
{
	json_t *a = json_array();
	uint32_t i;

	for (i = 0; a && i < n; i++)
		json_array_append_new(a, json_str(frames[i]));
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
				     "name", json_str(d->name), "kind",
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

	for (i = 0; a && s->has_arenas && i < s->narenas; i++) {
		const struct arena_stat *ar = &s->arenas[i];
		char addr[24];

		snprintf(addr, sizeof(addr), "0x%" PRIx64, ar->addr);
		json_array_append_new(
			a, json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:I, s:f}",
				     "addr", addr, "main", ar->main, "threads", (json_int_t)ar->threads,
				     "heaps", (json_int_t)ar->nheaps, "system", (json_int_t)ar->system,
				     "max_system", (json_int_t)ar->max_system, "top",
				     (json_int_t)ar->top, "live",
				     ar->live >= 0 ? json_integer(ar->live) : json_null(), "free",
				     (json_int_t)ar->free, "rss", (json_int_t)ar->rss,
				     "reclaimable", (json_int_t)ar->reclaimable, "fragmentation",
				     ar->fragmentation));
	}
	return a;
}

static json_t *stacks_json(const struct window *w)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < w->nstacks; i++) {
		const struct stack_delta *d = &w->stacks[i];
		const struct stack_stat *s = d->cur ? d->cur : d->old;

		json_array_append_new(
			a, json_pack("{s:s, s:I, s:I, s:I, s:I, s:o}", "kind",
				     stack_kind_name((enum stack_kind)s->kind), "bytes",
				     (json_int_t)(d->cur ? d->cur->bytes : 0), "count",
				     (json_int_t)(d->cur ? d->cur->count : 0), "bytes_delta",
				     (json_int_t)d->bytes_delta, "count_delta",
				     (json_int_t)d->count_delta, "frames",
				     frames_json(s->frames, s->nframes)));
	}
	return a;
}

static json_t *findings_json(const struct window *w)
{
	json_t *a = json_array();
	size_t i, j;

	for (i = 0; a && i < w->nfindings; i++) {
		const struct finding *f = &w->findings[i];
		json_t *ev = json_object();

		for (j = 0; ev && j < f->nev; j++) {
			const struct evidence *e = &f->ev[j];

			json_object_set_new(ev, e->key,
					    e->type == EV_INT    ? json_integer(e->i)
					    : e->type == EV_REAL ? json_real(e->d)
								 : json_str(e->s));
		}
		json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:o, s:o}", "kind", f->kind,
						   "severity",
						   severity_name((enum severity)f->severity),
						   "summary", json_str(f->summary), "evidence", ev,
						   "frames", frames_json(f->frames, f->nframes)));
	}
	return a;
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
		      "t", s->t, "pid", s->pid, "comm", json_str(s->comm), "window_s",
		      w->window_s, "window", (int)w->index, "partial", w->partial, "allocator",
		      allocator_name((enum allocator_kind)s->allocator), "threads",
		      (int)s->threads, "totals", totals_json(s), "totals_delta",
		      totals_delta_json(w), "regions", regions_json(w), "arenas",
		      arenas_json(s), "fds", fds_json(w), "stacks", stacks_json(w),
		      "findings", findings_json(w), "lost_events", (json_int_t)w->lost_events,
		      "collectors",
		      json_pack("{s:b, s:b, s:b, s:b}", "smaps", s->has_regions, "fds",
				s->has_fds, "arenas", s->has_arenas, "bpf", s->has_bpf));
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
	if (json_dumpf(j, f, JSON_COMPACT) || fputc('\n', f) == EOF || fflush(f))
		ret = -EIO;
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
	json_t *j = json_pack("{s:o, s:o, s:o, s:o, s:o, s:s}", "old", json_str(old_path), "new",
			      json_str(new_path), "totals", totals_json(w->end), "totals_delta",
			      totals_delta_json(w), "regions", regions_json(w), "allocator",
			      allocator_name((enum allocator_kind)w->end->allocator));

	if (j && json_object_set_new(j, "overflow", overflow_json(w))) {
		json_decref(j);
		j = NULL;
	}

	return print_json_line(f, j);
}
