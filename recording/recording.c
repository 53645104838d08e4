// SPDX-License-Identifier: GPL-2.0-only
/* Recordings, the writer: samples as JSON Lines, for `report` to re-derive the same windows. */
#include "recording/recording.h"
#include "recording/recording_columns.h"
#include "lib/idmap.h"
#include "lib/clock.h"
#include "lib/json_text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <jansson.h>

const char *const recording_region_columns[RECORDING_NCOLS] = {
	"name", "kind", "vmas", "size", "rss", "pss", "anon", "private_dirty", "swap",
};

void recording_header_clear(struct recording_header *h)
{
	free(h->comm);
	memset(h, 0, sizeof(*h));
}

struct recorder {
	FILE *f;
	char *path;
	struct idmap written;	/* stack ids whose frames are in the file */
	int error;
};

static int write_line(struct recorder *r, json_t *j)
{
	if (!j)
		return -ENOMEM;
	if (json_dumpf(j, r->f, JSON_COMPACT) || fputc('\n', r->f) == EOF || fflush(r->f))
		r->error = -EIO;
	json_decref(j);
	return r->error;
}

int recorder_open(const char *path, const struct recording_header *h, struct recorder **out,
		  char *err, size_t errlen)
{
	struct recorder *r;
	struct utsname uts;
	json_t *cols, *j;
	size_t i;
	int ret;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->f = fopen(path, "we");
	if (!r->f) {
		ret = -errno;
		snprintf(err, errlen, "cannot create recording %s: %s", path, strerror(errno));
		free(r);
		return ret;
	}
	if (uname(&uts))
		memset(&uts, 0, sizeof(uts));
	cols = json_array();
	for (i = 0; i < RECORDING_NCOLS; i++)
		json_array_append_new(cols, json_string(recording_region_columns[i]));
	j = json_pack("{s:s, s:i, s:f, s:i, s:o, s:f, s:f, s:b, s:b, s:o, s:o, s:o}", "format",
		      RECORDING_FORMAT, "version", RECORDING_VERSION, "created", h->created, "pid",
		      h->pid, "comm", json_text(h->comm), "window_s", h->window_s, "tick_s",
		      h->tick_s, "bpf", h->bpf, "alloc", h->alloc, "host", json_text(uts.nodename),
		      "kernel", json_text(uts.release), "region_columns", cols);
	ret = write_line(r, j);
	if (ret) {
		snprintf(err, errlen, "cannot write recording %s: %s", path, strerror(-ret));
		fclose(r->f);
		free(r);
		return ret;
	}
	*out = r;
	return 0;
}

static json_t *regions_rows(const struct sample *s)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < s->nregions; i++) {
		const struct region *r = &s->regions[i];

		json_array_append_new(
			a, json_pack("[o, s, I, I, I, I, I, I, I]", json_text(r->name),
				     region_kind_name((enum region_kind)r->kind), (json_int_t)r->nvmas,
				     (json_int_t)r->size, (json_int_t)r->rss, (json_int_t)r->pss,
				     (json_int_t)r->anon, (json_int_t)r->private_dirty,
				     (json_int_t)r->swap));
	}
	return a;
}

static json_t *fds_object(const struct sample *s)
{
	json_t *by_type = json_object();
	int i;

	for (i = 0; by_type && i < FD_NTYPES; i++)
		if (s->fds.by_type[i])
			json_object_set_new(by_type, fd_type_name((enum fd_type)i),
					    json_integer((json_int_t)s->fds.by_type[i]));
	return json_pack("{s:I, s:o, s:o}", "total", (json_int_t)s->fds.total, "limit",
			 s->fds.limit == UINT64_MAX ? json_null()
						    : json_integer((json_int_t)s->fds.limit),
			 "by_type", by_type);
}

static json_t *arenas_array(const struct sample *s)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < s->narenas; i++) {
		const struct arena_stat *ar = &s->arenas[i];
		json_t *o = json_pack("{s:I, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "addr",
				      (json_int_t)ar->addr, "main", ar->main, "threads",
				      (json_int_t)ar->threads, "heaps", (json_int_t)ar->nheaps,
				      "system", (json_int_t)ar->system, "max_system",
				      (json_int_t)ar->max_system, "top", (json_int_t)ar->top, "live",
				      (json_int_t)ar->live, "rss", (json_int_t)ar->rss);

		if (o && ar->live >= 0)
			json_object_set_new(o, "live_source", json_integer(ar->live_source));
		/* Free-list figures exist only after a frozen walk; absent means not measured. */
		if (o && ar->walked) {
			json_object_set_new(o, "free", json_integer((json_int_t)ar->free));
			json_object_set_new(o, "tcache", json_integer((json_int_t)ar->tcache));
			json_object_set_new(o, "reclaimable",
					    json_integer((json_int_t)ar->reclaimable));
			json_object_set_new(o, "fragmentation", json_real(ar->fragmentation));
		}
		json_array_append_new(a, o);
	}
	return a;
}

/* How the arenas were read, and the memory limit: optional keys of a sample line. */
static void sample_extras(json_t *j, const struct sample *s)
{
	if (s->has_arenas)
		json_object_set_new(j, "arena_read",
				    json_pack("{s:b, s:b, s:I, s:b, s:i, s:I}", "frozen",
					      s->arenas_frozen, "complete", s->arenas_complete,
					      "freeze_us", (json_int_t)s->freeze_us, "debuginfo",
					      s->arenas_debuginfo, "glibc_minor", (int)s->glibc_minor,
					      "malloc_mmapped", (json_int_t)s->malloc_mmapped));
	if (s->mem_limit)
		json_object_set_new(j, "mem_limit",
				    json_pack("{s:I, s:b}", "bytes", (json_int_t)s->mem_limit,
					      "cgroup", s->mem_limit_cgroup));
}

static int write_stack_defs(struct recorder *r, const struct sample *s)
{
	size_t i;
	uint32_t k;
	int ret;

	for (i = 0; i < s->nstacks; i++) {
		const struct stack_stat *st = &s->stacks[i];
		json_t *frames;

		if (idmap_get(&r->written, st->id) != SIZE_MAX)
			continue;
		frames = json_array();
		for (k = 0; frames && k < st->nframes; k++)
			json_array_append_new(frames, json_text(st->frames[k]));
		ret = write_line(r, json_pack("{s:s, s:I, s:o}", "type", "stack", "id",
					      (json_int_t)st->id, "frames", frames));
		if (ret)
			return ret;
		if (idmap_put(&r->written, st->id, 1))
			return -ENOMEM;
	}
	return 0;
}

/* Frees of no record by size class: [class, unmatched, bytes, expected256, expected bytes]. */
static json_t *free_classes_array(const struct alloc_summary *a)
{
	json_t *rows = json_array();
	size_t i;

	for (i = 0; rows && i < a->nfree_classes; i++) {
		const struct alloc_free_stat *c = &a->free_classes[i];

		json_array_append_new(rows, json_pack("[i, I, I, I, I]", (int)c->cls,
						      (json_int_t)c->unmatched,
						      (json_int_t)c->unmatched_bytes,
						      (json_int_t)c->expected256,
						      (json_int_t)c->expected_bytes));
	}
	return rows;
}

/* Stacks' turnover: [id, bytes, records, held bytes, held records, kept bytes, kept records, churn_sq]. */
static json_t *ages_array(const struct alloc_summary *a)
{
	json_t *rows = json_array();
	size_t i;

	for (i = 0; rows && i < a->nages; i++) {
		const struct alloc_age *g = &a->ages[i];

		json_array_append_new(rows, json_pack("[I, I, I, I, I, I, I, f]", (json_int_t)g->id,
						      (json_int_t)g->bytes, (json_int_t)g->records,
						      (json_int_t)g->held_bytes,
						      (json_int_t)g->held_records,
						      (json_int_t)g->kept_bytes,
						      (json_int_t)g->kept_records, g->churn_sq));
	}
	return rows;
}

static json_t *alloc_object(const struct sample *s)
{
	const struct alloc_summary *a = &s->alloc;
	json_t *arenas = json_null(), *j;
	size_t i;

	if (a->has_arenas) {
		arenas = json_array();
		for (i = 0; arenas && i < a->narenas; i++)
			json_array_append_new(arenas, json_pack("[I, I, I]", (json_int_t)a->arenas[i].addr,
								(json_int_t)a->arenas[i].bytes,
								(json_int_t)a->arenas[i].count));
	}
	/* The recording's own keys: the --json printer's may change without changing recordings. */
	j = json_pack("{s:b, s:I, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
		      "estimated", a->estimated, "sample_bytes", (json_int_t)a->sample_bytes,
		      "duty", a->duty, "share", a->share, "since", a->since,
		      "calls", (json_int_t)a->calls, "frees", (json_int_t)a->frees,
		      "recorded", (json_int_t)a->recorded, "missed_frees", (json_int_t)a->missed_frees,
		      "lost", (json_int_t)a->lost, "lost_live", (json_int_t)a->lost_live,
		      "live_cap", (json_int_t)a->live_cap, "arenas", arenas);
	if (j)
		json_object_update_new(j, json_pack("{s:I, s:I, s:b, s:o}", "unmatched_frees",
						    (json_int_t)a->unmatched_frees,
						    "unmatched_free_bytes",
						    (json_int_t)a->unmatched_free_bytes,
						    "unmatched_sized", a->unmatched_sized,
						    "free_classes", free_classes_array(a)));
	if (j && a->has_ages)
		json_object_update_new(j, json_pack("{s:f, s:o}", "ages_since", a->ages_since,
						    "ages", ages_array(a)));
	return j;
}

int recorder_write(struct recorder *r, const struct sample *s)
{
	json_t *j, *a;
	size_t i;
	int ret;

	if (r->error)
		return r->error;
	if (s->has_stacks) {
		ret = write_stack_defs(r, s);
		if (ret)
			return ret;
	}
	j = json_pack("{s:s, s:f, s:i, s:o, s:s, s:I, s:{s:I, s:I, s:I, s:I, s:I}, s:b, s:I}",
		      "type", "sample", "t", s->t, "pid", s->pid, "comm", json_text(s->comm),
		      "allocator", allocator_name((enum allocator_kind)s->allocator), "threads",
		      (json_int_t)s->threads, "totals", "rss", (json_int_t)s->totals.rss, "pss",
		      (json_int_t)s->totals.pss, "anon", (json_int_t)s->totals.anon, "swap",
		      (json_int_t)s->totals.swap, "size", (json_int_t)s->totals.size, "bpf",
		      s->has_bpf, "lost_events", (json_int_t)s->lost_events);
	if (!j)
		return -ENOMEM;
	if (s->has_regions)
		json_object_set_new(j, "regions", regions_rows(s));
	if (s->regions_folded)
		json_object_set_new(j, "regions_folded", json_integer((json_int_t)s->regions_folded));
	if (s->has_fds)
		json_object_set_new(j, "fds", fds_object(s));
	if (s->has_arenas)
		json_object_set_new(j, "arenas", arenas_array(s));
	sample_extras(j, s);
	if (s->has_alloc)
		json_object_set_new(j, "alloc", alloc_object(s));
	if (s->has_stacks) {
		a = json_array();
		for (i = 0; a && i < s->nstacks; i++)
			json_array_append_new(
				a, json_pack("[I, s, I, I]", (json_int_t)s->stacks[i].id,
					     stack_kind_name((enum stack_kind)s->stacks[i].kind),
					     (json_int_t)s->stacks[i].bytes,
					     (json_int_t)s->stacks[i].count));
		json_object_set_new(j, "stacks", a);
	}
	if (s->nevents || s->events_dropped) {
		a = json_array();
		for (i = 0; a && i < s->nevents; i++) {
			const struct growth_event *e = &s->events[i];

			json_array_append_new(
				a, json_pack("[f, s, I, I, I]", e->t,
					     growth_event_kind_name((enum growth_event_kind)e->kind),
					     (json_int_t)e->bytes, (json_int_t)e->addr,
					     (json_int_t)e->stack_id));
		}
		json_object_set_new(j, "events", a);
		json_object_set_new(j, "events_dropped", json_integer((json_int_t)s->events_dropped));
	}
	return write_line(r, j);
}

int recorder_close(struct recorder *r, const char *reason)
{
	int ret;

	if (!r)
		return 0;
	if (!r->error)
		write_line(r, json_pack("{s:s, s:f, s:s}", "type", "end", "t", clock_unix(), "reason",
					reason ? reason : "stopped"));
	ret = r->error;
	if (fclose(r->f) && !ret)
		ret = -EIO;
	idmap_free(&r->written);
	free(r);
	return ret;
}
