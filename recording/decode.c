// SPDX-License-Identifier: GPL-2.0-only
/* Recordings, the decoder: each line checked before use, then turned into a sample. */
#include "recording/decode.h"
#include "recording/stack_json.h"
#include "analyzer/regions.h"
#include "lib/text_safe.h"
#include "lib/vec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rec_fail(const struct rec_decoder *d, char *err, size_t errlen, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The message may quote the file, which can hold any byte: keep it one clean line. */
	text_safe_copy(msg, sizeof(msg), msg);
	snprintf(err, errlen, "%s: line %zu: %s", d->path, d->lineno, msg);
	return -EINVAL;
}

static int out_of_memory(const struct rec_decoder *d, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: out of memory", d->path);
	return -ENOMEM;
}

bool rec_get_u64(json_t *o, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

bool rec_get_num(json_t *o, const char *key, double *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_number(v))
		return false;
	*out = json_number_value(v);
	return true;
}

int rec_decode_columns(struct rec_decoder *d, json_t *header, char *err, size_t errlen)
{
	json_t *cols = json_object_get(header, REC_HDR_REGION_COLUMNS), *c;
	size_t i, k;

	for (i = 0; i < REC_NCOLS; i++) {
		d->col[i] = -1;
		json_array_foreach(cols, k, c)
			if (json_is_string(c) &&
			    strcmp(json_string_value(c), rec_region_columns[i]) == 0)
				d->col[i] = (int)k;
	}
	if (d->col[REC_COL_NAME] < 0 || d->col[REC_COL_KIND] < 0 || d->col[REC_COL_RSS] < 0)
		return rec_fail(d, err, errlen, "header's " REC_HDR_REGION_COLUMNS
				" lack %s, %s or %s", rec_region_columns[REC_COL_NAME],
				rec_region_columns[REC_COL_KIND], rec_region_columns[REC_COL_RSS]);
	return 0;
}

int rec_decode_stack(struct rec_decoder *d, json_t *j, char *err, size_t errlen)
{
	json_t *idv = json_object_get(j, REC_STACK_ID);
	struct stack_frames **def, *f;
	const char *why;
	uint64_t id;

	if (!json_is_integer(idv) || !json_is_array(json_object_get(j, REC_STACK_FRAMES)))
		return rec_fail(d, err, errlen,
				"stack line lacks " REC_STACK_ID " or " REC_STACK_FRAMES);
	id = (uint64_t)json_integer_value(idv);
	if (idmap_get(&d->stack_index, id) != SIZE_MAX)
		return 0;
	f = stack_json_read(j, d->sites, &why);
	if (!f)
		return errno == ENOMEM ? out_of_memory(d, err, errlen)
				       : rec_fail(d, err, errlen, "%s", why);
	def = VEC_PUSH(d->stacks, d->nstacks, d->stacks_cap);
	if (!def || idmap_put(&d->stack_index, id, d->nstacks - 1)) {
		if (def)
			d->nstacks--;
		stack_frames_unref(f);
		return out_of_memory(d, err, errlen);
	}
	*def = f;
	return 0;
}

/* Cell `col` of a row as a count; a column the header does not have leaves *out alone. */
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

static int read_regions(const struct rec_decoder *d, json_t *rows, struct sample *s, char *err,
			size_t errlen)
{
	const int *col = d->col;
	json_t *row;
	size_t i;

	if (!json_is_array(rows))
		return rec_fail(d, err, errlen, "'" REC_S_REGIONS "' is not an array");
	json_array_foreach(rows, i, row) {
		json_t *namev = json_array_get(row, (size_t)col[REC_COL_NAME]);
		json_t *kindv = json_array_get(row, (size_t)col[REC_COL_KIND]);
		const char *name = json_string_value(namev);
		int kind = rec_region_kind_parse(json_string_value(kindv));
		struct region *reg;
		uint64_t vmas = 0;

		if (!json_is_array(row) || !name || kind < 0)
			return rec_fail(d, err, errlen,
					"region row %zu lacks a name or a known kind", i);
		reg = sample_add_region(s);
		if (!reg || !(reg->name = strdup(name)))
			return -ENOMEM;
		reg->kind = (uint8_t)kind;
		if (row_u64(row, col[REC_COL_VMAS], &vmas) ||
		    row_u64(row, col[REC_COL_SIZE], &reg->size) ||
		    row_u64(row, col[REC_COL_RSS], &reg->rss) ||
		    row_u64(row, col[REC_COL_PSS], &reg->pss) ||
		    row_u64(row, col[REC_COL_ANON], &reg->anon) ||
		    row_u64(row, col[REC_COL_DIRTY], &reg->private_dirty) ||
		    row_u64(row, col[REC_COL_SWAP], &reg->swap))
			return rec_fail(d, err, errlen,
					"region row %zu has a figure that is not a count", i);
		reg->nvmas = (uint32_t)vmas;
	}
	s->has_regions = true;
	/* A file from another writer may hold any number of rows: the same cap as live. */
	return regions_fold(s);
}

static int read_fds(const struct rec_decoder *d, json_t *o, struct sample *s, char *err,
		    size_t errlen)
{
	json_t *by_type = json_object_get(o, REC_FDS_BY_TYPE), *v;
	const char *key;

	if (!json_is_object(o) || !rec_get_u64(o, REC_FDS_TOTAL, &s->fds.total))
		return rec_fail(d, err, errlen, "'" REC_S_FDS "' lacks a " REC_FDS_TOTAL);
	if (!rec_get_u64(o, REC_FDS_LIMIT, &s->fds.limit))
		s->fds.limit = json_is_null(json_object_get(o, REC_FDS_LIMIT)) ? UINT64_MAX : 0;
	json_object_foreach(by_type, key, v) {
		int t = rec_fd_type_parse(key);

		/* A type a newer writer knows: counted, as one this reader has no word for. */
		if (t < 0)
			t = FD_OTHER;
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return rec_fail(d, err, errlen, "fd count for '%s' is not a count", key);
		s->fds.by_type[t] += (uint64_t)json_integer_value(v);
	}
	s->has_fds = true;
	return 0;
}

static void read_arena_live(json_t *o, struct arena_stat *ar)
{
	json_t *live = json_object_get(o, REC_AR_LIVE);
	uint64_t v;

	ar->live = json_is_integer(live) ? json_integer_value(live) : -1;
	if (ar->live < 0)
		ar->live = -1;
	if (ar->live >= 0 && rec_get_u64(o, REC_AR_LIVE_SOURCE, &v) && v <= REC_LIVE_ALLOC) {
		int64_t held = (int64_t)ar->system - ar->live - (int64_t)ar->top;

		ar->live_source = (uint8_t)v;
		ar->fragmentation = ar->system && held > 0 ? (double)held / (double)ar->system : 0;
	}
}

static int read_arenas(const struct rec_decoder *d, json_t *a, struct sample *s, char *err,
		       size_t errlen)
{
	json_t *o;
	size_t i;

	if (!json_is_array(a))
		return rec_fail(d, err, errlen, "'" REC_S_ARENAS "' is not an array");
	json_array_foreach(a, i, o) {
		struct arena_stat *ar = sample_add_arena(s);
		uint64_t threads = 0, heaps = 0;

		if (!ar)
			return -ENOMEM;
		if (!json_is_object(o) || !rec_get_u64(o, REC_AR_ADDR, &ar->addr) ||
		    !rec_get_u64(o, REC_AR_SYSTEM, &ar->system) ||
		    !rec_get_u64(o, REC_AR_TOP, &ar->top))
			return rec_fail(d, err, errlen, "an arena lacks " REC_AR_ADDR ", "
					REC_AR_SYSTEM " or " REC_AR_TOP);
		rec_get_u64(o, REC_AR_THREADS, &threads);
		rec_get_u64(o, REC_AR_HEAPS, &heaps);
		rec_get_u64(o, REC_AR_MAX_SYSTEM, &ar->max_system);
		rec_get_u64(o, REC_AR_RSS, &ar->rss);
		/* No free figure: the arena was read without freezing. */
		ar->walked = rec_get_u64(o, REC_AR_FREE, &ar->free);
		if (ar->walked) {
			rec_get_u64(o, REC_AR_TCACHE, &ar->tcache);
			rec_get_u64(o, REC_AR_RECLAIMABLE, &ar->reclaimable);
			if (!rec_get_num(o, REC_AR_FRAGMENTATION, &ar->fragmentation))
				ar->fragmentation =
					ar->system ? (double)ar->free / (double)ar->system : 0;
		}
		ar->threads = (uint32_t)threads;
		ar->nheaps = (uint32_t)heaps;
		ar->main = json_is_true(json_object_get(o, REC_AR_MAIN));
		read_arena_live(o, ar);
	}
	s->has_arenas = true;
	return 0;
}

static void read_extras(json_t *j, struct sample *s)
{
	json_t *ar = json_object_get(j, REC_S_ARENA_READ);
	json_t *ml = json_object_get(j, REC_S_MEM_LIMIT);
	uint64_t v;

	/* Arenas without a word on their read: their free figures are taken as whole. */
	s->arenas_complete = true;
	if (json_is_object(ar)) {
		s->arenas_frozen = json_is_true(json_object_get(ar, REC_AREAD_FROZEN));
		s->arenas_complete = !json_is_false(json_object_get(ar, REC_AREAD_COMPLETE));
		s->arenas_debuginfo = json_is_true(json_object_get(ar, REC_AREAD_DEBUGINFO));
		if (rec_get_u64(ar, REC_AREAD_FREEZE_US, &v))
			s->freeze_us = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
		if (rec_get_u64(ar, REC_AREAD_CPU_US, &v))
			s->arenas_cpu_us = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
		if (rec_get_u64(ar, REC_AREAD_REREADS, &v))
			s->arenas_rereads = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
		rec_get_u64(ar, REC_AREAD_UNREAD, &s->arenas_unread);
		if (rec_get_u64(ar, REC_AREAD_GLIBC_MINOR, &v) && v < 1000)
			s->glibc_minor = (uint16_t)v;
		if (rec_get_u64(ar, REC_AREAD_MALLOC_MMAPPED, &v) && v <= INT64_MAX)
			s->malloc_mmapped = (int64_t)v;
	}
	if (json_is_object(ml) && rec_get_u64(ml, REC_MLIM_BYTES, &s->mem_limit))
		s->mem_limit_cgroup = json_is_true(json_object_get(ml, REC_MLIM_CGROUP));
}

static int read_stacks(const struct rec_decoder *d, json_t *a, struct sample *s, char *err,
		       size_t errlen)
{
	json_t *row;
	size_t i;

	if (!json_is_array(a))
		return rec_fail(d, err, errlen, "'" REC_S_STACKS "' is not an array");
	json_array_foreach(a, i, row) {
		json_t *id = json_array_get(row, REC_STACK_ROW_ID);
		json_t *bytes = json_array_get(row, REC_STACK_ROW_BYTES);
		json_t *cnt = json_array_get(row, REC_STACK_ROW_COUNT);
		json_t *kindv = json_array_get(row, REC_STACK_ROW_KIND);
		int kind = rec_stack_kind_parse(json_string_value(kindv));
		struct stack_stat *st;
		size_t at;

		if (!json_is_integer(id) || kind < 0 || !json_is_integer(bytes) ||
		    !json_is_integer(cnt))
			return rec_fail(d, err, errlen,
					"a stack row is not [id, kind, bytes, count]");
		st = sample_add_stack(s);
		if (!st)
			return -ENOMEM;
		st->id = (uint64_t)json_integer_value(id);
		st->kind = (uint8_t)kind;
		st->bytes = json_integer_value(bytes);
		st->count = json_integer_value(cnt);
		at = idmap_get(&d->stack_index, st->id);
		if (at == SIZE_MAX)
			return rec_fail(d, err, errlen,
					"stack id used before its \"" REC_TYPE_STACK "\" line");
		stack_stat_set_frames(st, d->stacks[at]);
	}
	s->has_stacks = true;
	return 0;
}

static int read_events(const struct rec_decoder *d, json_t *a, struct sample *s, char *err,
		       size_t errlen)
{
	json_t *row;
	size_t i;

	if (!json_is_array(a))
		return rec_fail(d, err, errlen, "'" REC_S_EVENTS "' is not an array");
	json_array_foreach(a, i, row) {
		json_t *t = json_array_get(row, REC_EVENT_T);
		json_t *kindv = json_array_get(row, REC_EVENT_KIND);
		json_t *bytes = json_array_get(row, REC_EVENT_BYTES);
		int kind = rec_growth_event_parse(json_string_value(kindv));
		struct growth_event *e;

		if (!json_is_number(t) || kind < 0 || !json_is_integer(bytes))
			return rec_fail(d, err, errlen,
					"an event row is not [t, kind, bytes, addr, stack]");
		if (s->nevents >= SAMPLE_MAX_EVENTS) {
			s->events_dropped++;
			continue;
		}
		e = sample_add_event(s);
		if (!e)
			return -ENOMEM;
		e->t = json_number_value(t);
		e->kind = (uint8_t)kind;
		e->bytes = json_integer_value(bytes);
		e->addr = (uint64_t)json_integer_value(json_array_get(row, REC_EVENT_ADDR));
		e->stack_id = (uint64_t)json_integer_value(json_array_get(row, REC_EVENT_STACK));
	}
	return 0;
}

/* Rows of non-negative integers, `len` cells each: false when `row` is not one. */
static bool counts_row(json_t *row, uint64_t *v, size_t len)
{
	size_t k;

	for (k = 0; k < len; k++) {
		json_t *x = json_array_get(row, k);

		if (!json_is_integer(x) || json_integer_value(x) < 0)
			return false;
		v[k] = (uint64_t)json_integer_value(x);
	}
	return true;
}

static int read_free_classes(const struct rec_decoder *d, json_t *rows, struct sample *s,
			     char *err, size_t errlen)
{
	struct alloc_summary *a = &s->alloc;
	json_t *row;
	size_t i;

	json_array_foreach(rows, i, row) {
		uint64_t v[REC_FCLASS_ROW_LEN];

		if (!counts_row(row, v, REC_FCLASS_ROW_LEN) || v[REC_FCLASS_CLASS] >= REC_FCLASSES)
			return rec_fail(d, err, errlen, "an alloc free class row is not [class, "
					"unmatched, bytes, expected256, expected bytes]");
		if (!sample_add_free_class(s))
			return -ENOMEM;
		a->free_classes[a->nfree_classes - 1] = (struct alloc_free_stat){
			.cls = (uint32_t)v[REC_FCLASS_CLASS],
			.unmatched = v[REC_FCLASS_UNMATCHED],
			.unmatched_bytes = v[REC_FCLASS_BYTES],
			.expected256 = v[REC_FCLASS_EXPECTED256],
			.expected_bytes = v[REC_FCLASS_EXPECTED_BYTES],
		};
	}
	return 0;
}

static int read_alloc_arenas(const struct rec_decoder *d, json_t *rows, struct sample *s,
			     char *err, size_t errlen)
{
	json_t *row;
	size_t i;

	json_array_foreach(rows, i, row) {
		json_t *addr = json_array_get(row, REC_AAR_ADDR);
		json_t *bytes = json_array_get(row, REC_AAR_BYTES);
		json_t *cnt = json_array_get(row, REC_AAR_COUNT);
		struct alloc_arena *ar;

		if (!json_is_integer(addr) || !json_is_integer(bytes) || !json_is_integer(cnt))
			return rec_fail(d, err, errlen,
					"an alloc arena row is not [addr, bytes, count]");
		ar = sample_add_alloc_arena(s);
		if (!ar)
			return -ENOMEM;
		ar->addr = (uint64_t)json_integer_value(addr);
		ar->bytes = json_integer_value(bytes);
		ar->count = json_integer_value(cnt);
	}
	s->alloc.has_arenas = json_is_array(rows);
	return 0;
}

/* The stacks' turnover (older files have none: the leak rule then goes without). */
static int read_ages(const struct rec_decoder *d, json_t *rows, struct sample *s, char *err,
		     size_t errlen)
{
	json_t *row;
	size_t i, k;

	json_array_foreach(rows, i, row) {
		int64_t v[REC_AGE_CHURN_SQ];
		struct alloc_age *g;

		for (k = 0; k < REC_AGE_CHURN_SQ; k++) {
			json_t *x = json_array_get(row, k);

			if (!json_is_integer(x))
				break;
			v[k] = json_integer_value(x);
		}
		if (k < REC_AGE_CHURN_SQ || !json_is_number(json_array_get(row, REC_AGE_CHURN_SQ)))
			return rec_fail(d, err, errlen, "an alloc age row is not [id, bytes, "
					"records, held bytes, held records, kept bytes, kept "
					"records, churn_sq]");
		g = sample_add_alloc_age(s);
		if (!g)
			return -ENOMEM;
		*g = (struct alloc_age){
			.id = (uint64_t)v[REC_AGE_ID],
			.bytes = v[REC_AGE_BYTES],
			.records = v[REC_AGE_RECORDS],
			.held_bytes = v[REC_AGE_HELD_BYTES],
			.held_records = v[REC_AGE_HELD_RECORDS],
			.kept_bytes = v[REC_AGE_KEPT_BYTES],
			.kept_records = v[REC_AGE_KEPT_RECORDS],
			.churn_sq = json_number_value(json_array_get(row, REC_AGE_CHURN_SQ)),
		};
	}
	s->alloc.has_ages = json_is_array(rows);
	return 0;
}

static int read_alloc(const struct rec_decoder *d, json_t *o, struct sample *s, char *err,
		      size_t errlen)
{
	struct alloc_summary *a = &s->alloc;
	int ret;

	if (!json_is_object(o) || !rec_get_num(o, REC_AL_DUTY, &a->duty))
		return rec_fail(d, err, errlen, "'" REC_S_ALLOC "' lacks its " REC_AL_DUTY);
	a->estimated = json_is_true(json_object_get(o, REC_AL_ESTIMATED));
	rec_get_u64(o, REC_AL_SAMPLE_BYTES, &a->sample_bytes);
	rec_get_num(o, REC_AL_SINCE, &a->since);
	if (!rec_get_num(o, REC_AL_SHARE, &a->share))
		a->share = a->duty;
	rec_get_u64(o, REC_AL_CALLS, &a->calls);
	rec_get_u64(o, REC_AL_FREES, &a->frees);
	rec_get_u64(o, REC_AL_RECORDED, &a->recorded);
	rec_get_u64(o, REC_AL_MISSED_FREES, &a->missed_frees);
	rec_get_u64(o, REC_AL_LOST, &a->lost);
	rec_get_u64(o, REC_AL_LOST_LIVE, &a->lost_live);
	rec_get_u64(o, REC_AL_LIVE_CAP, &a->live_cap);
	rec_get_u64(o, REC_AL_UNMATCHED_FREES, &a->unmatched_frees);
	rec_get_u64(o, REC_AL_UNMATCHED_FREE_BYTES, &a->unmatched_free_bytes);
	a->unmatched_sized = json_is_true(json_object_get(o, REC_AL_UNMATCHED_SIZED));
	ret = read_free_classes(d, json_object_get(o, REC_AL_FREE_CLASSES), s, err, errlen);
	if (!ret)
		ret = read_alloc_arenas(d, json_object_get(o, REC_AL_ARENAS), s, err, errlen);
	if (!ret)
		ret = read_ages(d, json_object_get(o, REC_AL_AGES), s, err, errlen);
	rec_get_num(o, REC_AL_AGES_SINCE, &a->ages_since);
	if (!ret)
		s->has_alloc = true;
	return ret;
}

/* The figures every sample has; false when t, pid or totals.rss is missing. */
static bool read_core(json_t *j, struct sample *s)
{
	json_t *totals = json_object_get(j, REC_S_TOTALS), *pid = json_object_get(j, REC_S_PID);
	const char *comm = json_string_value(json_object_get(j, REC_S_COMM));
	uint64_t threads;
	int alloc;

	if (!rec_get_num(j, REC_S_T, &s->t) || !json_is_integer(pid) || !json_is_object(totals) ||
	    !rec_get_u64(totals, REC_TOT_RSS, &s->totals.rss))
		return false;
	s->pid = (int32_t)json_integer_value(pid);
	s->comm = strdup(comm ? comm : "?");
	alloc = rec_allocator_parse(json_string_value(json_object_get(j, REC_S_ALLOCATOR)));
	s->allocator = (uint8_t)(alloc < 0 ? ALLOC_UNKNOWN : alloc);
	if (rec_get_u64(j, REC_S_THREADS, &threads))
		s->threads = (uint32_t)threads;
	rec_get_u64(totals, REC_TOT_PSS, &s->totals.pss);
	rec_get_u64(totals, REC_TOT_ANON, &s->totals.anon);
	rec_get_u64(totals, REC_TOT_SWAP, &s->totals.swap);
	rec_get_u64(totals, REC_TOT_SIZE, &s->totals.size);
	s->has_bpf = json_is_true(json_object_get(j, REC_S_BPF));
	rec_get_u64(j, REC_S_LOST_EVENTS, &s->lost_events);
	rec_get_u64(j, REC_S_EVENTS_DROPPED, &s->events_dropped);
	rec_get_u64(j, REC_S_REGIONS_FOLDED, &s->regions_folded);
	return true;
}

int rec_decode_sample(const struct rec_decoder *d, json_t *j, struct sample **out, char *err,
		      size_t errlen)
{
	struct sample *s = sample_new();
	json_t *v;
	int ret = 0;

	*out = NULL;
	if (!s)
		return out_of_memory(d, err, errlen);
	if (!read_core(j, s)) {
		sample_unref(s);
		return rec_fail(d, err, errlen, "sample lacks " REC_S_T ", " REC_S_PID " or "
				REC_S_TOTALS "." REC_TOT_RSS);
	}
	if ((v = json_object_get(j, REC_S_REGIONS)))
		ret = read_regions(d, v, s, err, errlen);
	if (!ret && (v = json_object_get(j, REC_S_FDS)) && !json_is_null(v))
		ret = read_fds(d, v, s, err, errlen);
	if (!ret && (v = json_object_get(j, REC_S_ARENAS)))
		ret = read_arenas(d, v, s, err, errlen);
	if (!ret)
		read_extras(j, s);
	if (!ret && (v = json_object_get(j, REC_S_STACKS)))
		ret = read_stacks(d, v, s, err, errlen);
	if (!ret && (v = json_object_get(j, REC_S_EVENTS)))
		ret = read_events(d, v, s, err, errlen);
	if (!ret && (v = json_object_get(j, REC_S_ALLOC)))
		ret = read_alloc(d, v, s, err, errlen);
	if (ret) {
		sample_unref(s);
		return ret == -ENOMEM ? out_of_memory(d, err, errlen) : ret;
	}
	*out = s;
	return 1;
}

void rec_decoder_clear(struct rec_decoder *d)
{
	size_t i;

	for (i = 0; i < d->nstacks; i++)
		stack_frames_unref(d->stacks[i]);
	free(d->stacks);
	idmap_free(&d->stack_index);
	memset(d, 0, sizeof(*d));
}
