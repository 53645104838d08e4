// SPDX-License-Identifier: GPL-2.0-only
/* Recordings, the reader: JSON Lines back into samples, each line checked before use. */
#include "recording/recording.h"
#include "recording/recording_columns.h"
#include "lib/idmap.h"
#include "analyzer/regions.h"
#include "lib/text_safe.h"
#include "lib/vec.h"
#include "lib/json_text.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* A line longer than this is not something memsleuth wrote. */
#define MAX_LINE (256u << 20)

struct stack_def {
	char **frames;
	uint32_t nframes;
};

struct recording_reader {
	FILE *f;
	char *path;
	char *line;
	size_t line_cap;
	size_t lineno;
	int col[RECORDING_NCOLS];		/* column positions from the header; -1 absent */
	struct idmap stack_index;
	struct stack_def *stacks;
	size_t nstacks, stacks_cap;
	char *end_reason;
	size_t unknown, unknown_lineno;	/* lines of other types skipped; the last one's number */
};

/* Reads one line; returns its length, 0 at EOF, -1 on error. *complete is false without '\n'. */
static ssize_t read_line(struct recording_reader *r, bool *complete)
{
	ssize_t n = getline(&r->line, &r->line_cap, r->f);

	if (n <= 0)
		return n < 0 && !ferror(r->f) ? 0 : n;
	r->lineno++;
	*complete = r->line[n - 1] == '\n';
	if (*complete)
		r->line[--n] = '\0';
	return n;
}

static int fail(char *err, size_t errlen, const struct recording_reader *r, const char *fmt,
		...) __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, const struct recording_reader *r, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The message may quote the file, which can hold any byte: keep it one clean line. */
	text_safe_copy(msg, sizeof(msg), msg);
	snprintf(err, errlen, "%s: line %zu: %s", r->path, r->lineno, msg);
	return -EINVAL;
}

static bool get_u64(json_t *o, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

static bool get_num(json_t *o, const char *key, double *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_number(v))
		return false;
	*out = json_number_value(v);
	return true;
}

int recording_open(const char *path, struct recording_reader **out, struct recording_header *h,
		   char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	int ret;

	if (!f) {
		ret = -errno;
		*out = NULL;
		memset(h, 0, sizeof(*h));
		snprintf(err, errlen, "cannot open recording %s: %s", path, strerror(-ret));
		return ret;
	}
	return recording_open_stream(f, path, out, h, err, errlen);
}

int recording_open_stream(FILE *f, const char *path, struct recording_reader **out,
			  struct recording_header *h, char *err, size_t errlen)
{
	struct recording_reader *r;
	json_error_t jerr;
	json_t *j = NULL, *cols;
	const char *format;
	bool complete = false;
	ssize_t n;
	size_t i;
	int ret = -EINVAL;

	*out = NULL;
	memset(h, 0, sizeof(*h));
	r = calloc(1, sizeof(*r));
	if (!r) {
		fclose(f);
		return -ENOMEM;
	}
	r->f = f;
	r->path = strdup(path);
	if (!r->path) {
		ret = -ENOMEM;
		snprintf(err, errlen, "cannot open recording %s: %s", path, strerror(-ret));
		goto fail;
	}
	n = read_line(r, &complete);
	if (n <= 0) {
		snprintf(err, errlen, "%s: empty file, not a memsleuth recording", path);
		goto fail;
	}
	if (memchr(r->line, '\0', (size_t)n)) {
		snprintf(err, errlen, "%s: binary data, not a memsleuth recording", path);
		goto fail;
	}
	j = json_loadb(r->line, (size_t)n, 0, &jerr);
	format = json_string_value(json_object_get(j, "format"));
	if (!json_is_object(j) || !format || strcmp(format, RECORDING_FORMAT) != 0) {
		snprintf(err, errlen, "%s: not a memsleuth recording (no header line)", path);
		goto fail;
	}
	if (!json_is_integer(json_object_get(j, "version"))) {
		ret = fail(err, errlen, r, "header lacks 'version'");
		goto fail;
	}
	h->version = (int)json_integer_value(json_object_get(j, "version"));
	if (h->version > RECORDING_VERSION || h->version < 1) {
		snprintf(err, errlen,
			 "%s: recording format version %d is not supported (this memsleuth reads "
			 "version %d)", path, h->version, RECORDING_VERSION);
		goto fail;
	}
	if (!get_num(j, "window_s", &h->window_s) || h->window_s <= 0) {
		ret = fail(err, errlen, r, "header lacks a positive 'window_s'");
		goto fail;
	}
	get_num(j, "tick_s", &h->tick_s);
	get_num(j, "created", &h->created);
	h->pid = (int)json_integer_value(json_object_get(j, "pid"));
	h->comm = strdup(json_is_string(json_object_get(j, "comm"))
				 ? json_string_value(json_object_get(j, "comm"))
				 : "?");
	h->bpf = json_is_true(json_object_get(j, "bpf"));
	h->alloc = json_is_true(json_object_get(j, "alloc"));
	cols = json_object_get(j, "region_columns");
	for (i = 0; i < RECORDING_NCOLS; i++) {
		size_t k;
		json_t *c;

		r->col[i] = -1;
		json_array_foreach(cols, k, c)
			if (json_is_string(c) && strcmp(json_string_value(c), recording_region_columns[i]) == 0)
				r->col[i] = (int)k;
	}
	if (r->col[COL_NAME] < 0 || r->col[COL_KIND] < 0 || r->col[COL_RSS] < 0) {
		ret = fail(err, errlen, r, "header's region_columns lack name, kind or rss");
		goto fail;
	}
	json_decref(j);
	*out = r;
	return 0;
fail:
	json_decref(j);
	recording_header_clear(h);
	recording_close(r);
	return ret;
}

static int read_stack_def(struct recording_reader *r, json_t *j, char *err, size_t errlen)
{
	json_t *frames = json_object_get(j, "frames"), *fr;
	struct stack_def *d;
	uint64_t id;
	size_t i;

	if (!json_is_integer(json_object_get(j, "id")) || !json_is_array(frames))
		return fail(err, errlen, r, "stack line lacks id or frames");
	id = (uint64_t)json_integer_value(json_object_get(j, "id"));
	if (idmap_get(&r->stack_index, id) != SIZE_MAX)
		return 0;
	d = VEC_PUSH(r->stacks, r->nstacks, r->stacks_cap);
	if (!d || idmap_put(&r->stack_index, id, r->nstacks - 1))
		return -ENOMEM;
	d->frames = calloc(json_array_size(frames) + 1, sizeof(char *));
	if (!d->frames)
		return -ENOMEM;
	json_array_foreach(frames, i, fr) {
		d->frames[d->nframes] = strdup(json_is_string(fr) ? json_string_value(fr) : "?");
		if (!d->frames[d->nframes])
			return -ENOMEM;
		d->nframes++;
	}
	return 0;
}

static int row_u64(json_t *row, int col, uint64_t *out)
{
	json_t *v;

	if (col < 0)
		return 0;
	v = json_array_get(row, (size_t)col);
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int read_regions(struct recording_reader *r, json_t *rows, struct sample *s, char *err,
			size_t errlen)
{
	json_t *row;
	size_t i;

	if (!json_is_array(rows))
		return fail(err, errlen, r, "'regions' is not an array");
	json_array_foreach(rows, i, row) {
		const char *name = json_string_value(json_array_get(row, (size_t)r->col[COL_NAME]));
		int kind = region_kind_parse(
			json_string_value(json_array_get(row, (size_t)r->col[COL_KIND])));
		struct region *reg;
		uint64_t vmas = 0;

		if (!json_is_array(row) || !name || kind < 0)
			return fail(err, errlen, r, "region row %zu lacks a name or a known kind", i);
		reg = sample_add_region(s);
		if (!reg || !(reg->name = strdup(name)))
			return -ENOMEM;
		reg->kind = (uint8_t)kind;
		if (row_u64(row, r->col[COL_VMAS], &vmas) ||
		    row_u64(row, r->col[COL_SIZE], &reg->size) ||
		    row_u64(row, r->col[COL_RSS], &reg->rss) ||
		    row_u64(row, r->col[COL_PSS], &reg->pss) ||
		    row_u64(row, r->col[COL_ANON], &reg->anon) ||
		    row_u64(row, r->col[COL_DIRTY], &reg->private_dirty) ||
		    row_u64(row, r->col[COL_SWAP], &reg->swap))
			return fail(err, errlen, r, "region row %zu has a figure that is not a count", i);
		reg->nvmas = (uint32_t)vmas;
	}
	s->has_regions = true;
	/* A file from another writer may hold any number of rows: the same cap as live. */
	return regions_fold(s);
}

static int read_fds(struct recording_reader *r, json_t *o, struct sample *s, char *err,
		    size_t errlen)
{
	json_t *by_type = json_object_get(o, "by_type"), *v;
	const char *key;

	if (!json_is_object(o) || !get_u64(o, "total", &s->fds.total))
		return fail(err, errlen, r, "'fds' lacks a total");
	if (!get_u64(o, "limit", &s->fds.limit))
		s->fds.limit = json_is_null(json_object_get(o, "limit")) ? UINT64_MAX : 0;
	json_object_foreach(by_type, key, v) {
		int t = fd_type_parse(key);

		if (t < 0)
			t = FD_OTHER;
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return fail(err, errlen, r, "fd count for '%s' is not a count", key);
		s->fds.by_type[t] += (uint64_t)json_integer_value(v);
	}
	s->has_fds = true;
	return 0;
}

static int read_arenas(struct recording_reader *r, json_t *a, struct sample *s, char *err,
		       size_t errlen)
{
	json_t *o;
	size_t i;

	if (!json_is_array(a))
		return fail(err, errlen, r, "'arenas' is not an array");
	json_array_foreach(a, i, o) {
		struct arena_stat *ar = sample_add_arena(s);
		uint64_t threads = 0, heaps = 0, v;

		if (!ar)
			return -ENOMEM;
		if (!json_is_object(o) || !get_u64(o, "addr", &ar->addr) ||
		    !get_u64(o, "system", &ar->system) || !get_u64(o, "top", &ar->top))
			return fail(err, errlen, r, "an arena lacks addr, system or top");
		get_u64(o, "threads", &threads);
		get_u64(o, "heaps", &heaps);
		get_u64(o, "max_system", &ar->max_system);
		get_u64(o, "rss", &ar->rss);
		/* No free figure: the arena was read without freezing. */
		ar->walked = get_u64(o, "free", &ar->free);
		if (ar->walked) {
			get_u64(o, "tcache", &ar->tcache);
			get_u64(o, "reclaimable", &ar->reclaimable);
			if (!get_num(o, "fragmentation", &ar->fragmentation))
				ar->fragmentation = ar->system ? (double)ar->free / (double)ar->system : 0;
		}
		ar->threads = (uint32_t)threads;
		ar->nheaps = (uint32_t)heaps;
		ar->main = json_is_true(json_object_get(o, "main"));
		ar->live = json_is_integer(json_object_get(o, "live"))
				   ? json_integer_value(json_object_get(o, "live"))
				   : -1;
		if (ar->live < 0)
			ar->live = -1;
		if (ar->live >= 0 && get_u64(o, "live_source", &v) && v <= ARENA_LIVE_ALLOC) {
			int64_t held = (int64_t)ar->system - ar->live - (int64_t)ar->top;

			ar->live_source = (uint8_t)v;
			ar->fragmentation = ar->system && held > 0
						    ? (double)held / (double)ar->system : 0;
		}
	}
	s->has_arenas = true;
	return 0;
}

static void read_extras(json_t *j, struct sample *s)
{
	json_t *ar = json_object_get(j, "arena_read"), *ml = json_object_get(j, "mem_limit");
	uint64_t v;

	/* Arenas without a word on their read: their free figures are taken as whole. */
	s->arenas_complete = true;
	if (json_is_object(ar)) {
		s->arenas_frozen = json_is_true(json_object_get(ar, "frozen"));
		s->arenas_complete = !json_is_false(json_object_get(ar, "complete"));
		s->arenas_debuginfo = json_is_true(json_object_get(ar, "debuginfo"));
		if (get_u64(ar, "freeze_us", &v))
			s->freeze_us = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
		if (get_u64(ar, "glibc_minor", &v) && v < 1000)
			s->glibc_minor = (uint16_t)v;
		if (get_u64(ar, "malloc_mmapped", &v) && v <= INT64_MAX)
			s->malloc_mmapped = (int64_t)v;
	}
	if (json_is_object(ml) && get_u64(ml, "bytes", &s->mem_limit))
		s->mem_limit_cgroup = json_is_true(json_object_get(ml, "cgroup"));
}

static int read_stacks(struct recording_reader *r, json_t *a, struct sample *s, char *err,
		       size_t errlen)
{
	json_t *row;
	size_t i;

	if (!json_is_array(a))
		return fail(err, errlen, r, "'stacks' is not an array");
	json_array_foreach(a, i, row) {
		struct stack_stat *st;
		int kind = stack_kind_parse(json_string_value(json_array_get(row, 1)));
		size_t def;

		if (!json_is_integer(json_array_get(row, 0)) || kind < 0 ||
		    !json_is_integer(json_array_get(row, 2)) ||
		    !json_is_integer(json_array_get(row, 3)))
			return fail(err, errlen, r, "a stack row is not [id, kind, bytes, count]");
		st = sample_add_stack(s);
		if (!st)
			return -ENOMEM;
		st->id = (uint64_t)json_integer_value(json_array_get(row, 0));
		st->kind = (uint8_t)kind;
		st->bytes = json_integer_value(json_array_get(row, 2));
		st->count = json_integer_value(json_array_get(row, 3));
		def = idmap_get(&r->stack_index, st->id);
		if (def == SIZE_MAX)
			return fail(err, errlen, r, "stack id used before its \"stack\" line");
		if (stack_stat_copy_frames(st, r->stacks[def].frames, r->stacks[def].nframes))
			return -ENOMEM;
	}
	s->has_stacks = true;
	return 0;
}

static int read_events(struct recording_reader *r, json_t *a, struct sample *s, char *err,
		       size_t errlen)
{
	json_t *row;
	size_t i;

	if (!json_is_array(a))
		return fail(err, errlen, r, "'events' is not an array");
	json_array_foreach(a, i, row) {
		int kind = growth_event_kind_parse(json_string_value(json_array_get(row, 1)));
		struct growth_event *e;

		if (!json_is_number(json_array_get(row, 0)) || kind < 0 ||
		    !json_is_integer(json_array_get(row, 2)))
			return fail(err, errlen, r, "an event row is not [t, kind, bytes, addr, stack]");
		if (s->nevents >= SAMPLE_MAX_EVENTS) {
			s->events_dropped++;
			continue;
		}
		e = sample_add_event(s);
		if (!e)
			return -ENOMEM;
		e->t = json_number_value(json_array_get(row, 0));
		e->kind = (uint8_t)kind;
		e->bytes = json_integer_value(json_array_get(row, 2));
		e->addr = (uint64_t)json_integer_value(json_array_get(row, 3));
		e->stack_id = (uint64_t)json_integer_value(json_array_get(row, 4));
	}
	return 0;
}

/* The first `n` figures of a row as int64: false when one is not an integer. */
static bool int_row(json_t *row, int64_t *v, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++) {
		json_t *x = json_array_get(row, k);

		if (!json_is_integer(x))
			return false;
		v[k] = json_integer_value(x);
	}
	return true;
}

/* The stacks' turnover (recordings older than it have none: the leak rule then goes without). */
static int read_ages(struct recording_reader *r, json_t *o, struct sample *s, char *err,
		     size_t errlen)
{
	json_t *ages = json_object_get(o, "ages"), *row;
	size_t i;

	if (!ages)
		return 0;
	json_array_foreach(ages, i, row) {
		struct alloc_age *g;
		int64_t v[7];

		if (json_array_size(row) != 8 || !int_row(row, v, 7) ||
		    !json_is_number(json_array_get(row, 7)))
			return fail(err, errlen, r, "an alloc age row is not [id, bytes, records, held "
						    "bytes, held records, kept bytes, kept records, "
						    "churn_sq]");
		g = sample_add_alloc_age(s);
		if (!g)
			return -ENOMEM;
		*g = (struct alloc_age){ .id = (uint64_t)v[0], .bytes = v[1], .records = v[2],
					 .held_bytes = v[3], .held_records = v[4],
					 .kept_bytes = v[5], .kept_records = v[6],
					 .churn_sq = json_number_value(json_array_get(row, 7)) };
	}
	s->alloc.has_ages = json_is_array(ages);
	get_num(o, "ages_since", &s->alloc.ages_since);
	return 0;
}

static int read_alloc(struct recording_reader *r, json_t *o, struct sample *s, char *err,
		      size_t errlen)
{
	struct alloc_summary *a = &s->alloc;
	json_t *arenas = json_object_get(o, "arenas"), *row;
	size_t i;

	if (!json_is_object(o) || !get_num(o, "duty", &a->duty))
		return fail(err, errlen, r, "'alloc' lacks its duty");
	a->estimated = json_is_true(json_object_get(o, "estimated"));
	get_u64(o, "sample_bytes", &a->sample_bytes);
	get_num(o, "since", &a->since);
	if (!get_num(o, "share", &a->share))
		a->share = a->duty;
	get_u64(o, "calls", &a->calls);
	get_u64(o, "frees", &a->frees);
	get_u64(o, "recorded", &a->recorded);
	get_u64(o, "missed_frees", &a->missed_frees);
	get_u64(o, "lost", &a->lost);
	get_u64(o, "lost_live", &a->lost_live);
	get_u64(o, "live_cap", &a->live_cap);
	/* Recordings older than the unmatched-free counts have none: nothing is discounted. */
	get_u64(o, "unmatched_frees", &a->unmatched_frees);
	get_u64(o, "unmatched_free_bytes", &a->unmatched_free_bytes);
	a->unmatched_sized = json_is_true(json_object_get(o, "unmatched_sized"));
	json_array_foreach(json_object_get(o, "free_classes"), i, row) {
		struct alloc_free_stat c;
		uint64_t v[5];
		size_t k;

		for (k = 0; k < 5; k++) {
			json_t *x = json_array_get(row, k);

			if (!json_is_integer(x) || json_integer_value(x) < 0)
				break;
			v[k] = (uint64_t)json_integer_value(x);
		}
		if (k < 5 || v[0] >= SAMPLE_FREE_CLASSES)
			return fail(err, errlen, r, "an alloc free class row is not [class, unmatched, "
						    "bytes, expected256, expected bytes]");
		c = (struct alloc_free_stat){ .cls = (uint32_t)v[0], .unmatched = v[1],
					      .unmatched_bytes = v[2], .expected256 = v[3],
					      .expected_bytes = v[4] };
		if (!sample_add_free_class(s))
			return -ENOMEM;
		a->free_classes[a->nfree_classes - 1] = c;
	}
	json_array_foreach(arenas, i, row) {
		struct alloc_arena *ar;

		if (!json_is_integer(json_array_get(row, 0)) || !json_is_integer(json_array_get(row, 1)) ||
		    !json_is_integer(json_array_get(row, 2)))
			return fail(err, errlen, r, "an alloc arena row is not [addr, bytes, count]");
		ar = sample_add_alloc_arena(s);
		if (!ar)
			return -ENOMEM;
		ar->addr = (uint64_t)json_integer_value(json_array_get(row, 0));
		ar->bytes = json_integer_value(json_array_get(row, 1));
		ar->count = json_integer_value(json_array_get(row, 2));
	}
	a->has_arenas = json_is_array(arenas);
	s->has_alloc = true;
	return read_ages(r, o, s, err, errlen);
}

static int read_sample(struct recording_reader *r, json_t *j, struct sample **out, char *err,
		       size_t errlen)
{
	struct sample *s = sample_new();
	json_t *totals = json_object_get(j, "totals"), *v;
	const char *comm;
	uint64_t threads;
	int ret, alloc;

	if (!s)
		return -ENOMEM;
	comm = json_string_value(json_object_get(j, "comm"));
	if (!get_num(j, "t", &s->t) || !json_is_integer(json_object_get(j, "pid")) ||
	    !json_is_object(totals) || !get_u64(totals, "rss", &s->totals.rss)) {
		ret = fail(err, errlen, r, "sample lacks t, pid or totals.rss");
		goto fail;
	}
	s->pid = (int32_t)json_integer_value(json_object_get(j, "pid"));
	s->comm = strdup(comm ? comm : "?");
	alloc = allocator_parse(json_string_value(json_object_get(j, "allocator")));
	s->allocator = (uint8_t)(alloc < 0 ? ALLOC_UNKNOWN : alloc);
	if (get_u64(j, "threads", &threads))
		s->threads = (uint32_t)threads;
	get_u64(totals, "pss", &s->totals.pss);
	get_u64(totals, "anon", &s->totals.anon);
	get_u64(totals, "swap", &s->totals.swap);
	get_u64(totals, "size", &s->totals.size);
	s->has_bpf = json_is_true(json_object_get(j, "bpf"));
	get_u64(j, "lost_events", &s->lost_events);
	get_u64(j, "events_dropped", &s->events_dropped);
	get_u64(j, "regions_folded", &s->regions_folded);

	ret = 0;
	if ((v = json_object_get(j, "regions")))
		ret = read_regions(r, v, s, err, errlen);
	if (!ret && (v = json_object_get(j, "fds")) && !json_is_null(v))
		ret = read_fds(r, v, s, err, errlen);
	if (!ret && (v = json_object_get(j, "arenas")))
		ret = read_arenas(r, v, s, err, errlen);
	if (!ret)
		read_extras(j, s);
	if (!ret && (v = json_object_get(j, "stacks")))
		ret = read_stacks(r, v, s, err, errlen);
	if (!ret && (v = json_object_get(j, "events")))
		ret = read_events(r, v, s, err, errlen);
	if (!ret && (v = json_object_get(j, "alloc")))
		ret = read_alloc(r, v, s, err, errlen);
	if (ret)
		goto fail;
	*out = s;
	return 1;
fail:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", r->path);
	sample_unref(s);
	return ret;
}

int recording_next(struct recording_reader *r, struct sample **s, char *err, size_t errlen)
{
	*s = NULL;
	for (;;) {
		json_error_t jerr;
		bool complete = true;
		const char *type;
		ssize_t n;
		json_t *j;
		int ret;

		n = read_line(r, &complete);
		if (n < 0) {
			snprintf(err, errlen, "%s: read error: %s", r->path, strerror(errno));
			return -EIO;
		}
		if (n == 0 && feof(r->f))
			return 0;
		if ((size_t)n > MAX_LINE)
			return fail(err, errlen, r, "line longer than 256 MiB");
		if (n == 0)
			continue;
		j = json_loadb(r->line, (size_t)n, 0, &jerr);
		if (!j) {
			int c = fgetc(r->f);

			if (c == EOF && !complete)
				return fail(err, errlen, r,
					    "truncated (the recording was cut short; delete the "
					    "last line to analyse the rest)");
			if (c != EOF)
				ungetc(c, r->f);
			return fail(err, errlen, r, "malformed JSON: %s", jerr.text);
		}
		type = json_string_value(json_object_get(j, "type"));
		if (!json_is_object(j) || !type) {
			json_decref(j);
			return fail(err, errlen, r, "not a recording line (no \"type\")");
		}
		ret = 0;
		if (strcmp(type, "sample") == 0) {
			ret = read_sample(r, j, s, err, errlen);
		} else if (strcmp(type, "stack") == 0) {
			ret = read_stack_def(r, j, err, errlen);
			if (ret == -ENOMEM)
				snprintf(err, errlen, "%s: out of memory", r->path);
		} else if (strcmp(type, "end") == 0) {
			const char *reason = json_string_value(json_object_get(j, "reason"));

			free(r->end_reason);
			r->end_reason = strdup(reason ? reason : "stopped");
		} else if (r->lineno > r->unknown_lineno) {
			/* Other types come from newer writers: skipping them keeps old readers
			 * useful. Counted once each, also when a replay steps back over them. */
			r->unknown++;
			r->unknown_lineno = r->lineno;
		}
		json_decref(j);
		if (ret)
			return ret;
	}
}

void recording_tell(const struct recording_reader *r, struct recording_pos *pos)
{
	pos->offset = (long long)ftello(r->f);
	pos->lineno = r->lineno;
}

int recording_seek(struct recording_reader *r, const struct recording_pos *pos)
{
	if (pos->offset < 0)
		return -EINVAL;
	if (fseeko(r->f, (off_t)pos->offset, SEEK_SET))
		return -errno;
	r->lineno = pos->lineno;
	return 0;
}

size_t recording_unknown_lines(const struct recording_reader *r)
{
	return r->unknown;
}

const char *recording_end_reason(const struct recording_reader *r)
{
	return r->end_reason;
}

void recording_close(struct recording_reader *r)
{
	size_t i;
	uint32_t k;

	if (!r)
		return;
	if (r->f)
		fclose(r->f);
	for (i = 0; i < r->nstacks; i++) {
		for (k = 0; k < r->stacks[i].nframes; k++)
			free(r->stacks[i].frames[k]);
		free(r->stacks[i].frames);
	}
	free(r->stacks);
	idmap_free(&r->stack_index);
	free(r->line);
	free(r->path);
	free(r->end_reason);
	free(r);
}
