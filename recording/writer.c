// SPDX-License-Identifier: GPL-2.0-only
/* Recordings, the writer: samples as JSON Lines in the format of recording/format.h. */
#include "recording/recording.h"
#include "recording/format.h"
#include "recording/stack_json.h"
#include "recording/zfile.h"
#include "lib/idmap.h"
#include "lib/clock.h"
#include "lib/json_text.h"
#include "lib/vec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <jansson.h>

void recording_header_clear(struct recording_header *h)
{
	free(h->comm);
	memset(h, 0, sizeof(*h));
}

struct recorder {
	FILE *f;
	struct idmap written;	/* stack ids whose frames are in the file */
	int error;
	char *path;
	struct recording_header h;	/* comm owned: each piece repeats the header */
	struct recorder_opts opts;
	uint64_t zbytes;		/* compressed bytes of the piece, when compressed */
	double piece_start;		/* unix time the piece was opened */
	unsigned pieces;		/* pieces completed (renamed to PATH.1, PATH.2, ...) */
};

/* The level of zstd (1 to 19) whose speed a run at one tick a second never notices. */
#define ZSTD_LEVEL 3

/*
 * A line is built from many small values; one that could not be made (out of
 * memory) must fail the line, never leave a key out of it silently.
 */
struct line {
	json_t *j;
	bool oom;
};

static void put(struct line *l, json_t *o, const char *key, json_t *v)
{
	if (!o || json_object_set_new(o, key, v))
		l->oom = true;
}

static json_t *count(uint64_t v)
{
	return json_integer((json_int_t)v);
}

/* A row from its columns, each set by its column's index; consumes v[0..n). */
static json_t *row_of(json_t *const *v, size_t n)
{
	json_t *row = json_array();
	bool ok = row != NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		if (ok)
			ok = json_array_append_new(row, v[i]) == 0;
		else
			json_decref(v[i]);
	}
	if (!ok) {
		json_decref(row);
		return NULL;
	}
	return row;
}

/* Adds `v` to array `a`; false when either is missing (out of memory). */
static bool append(json_t *a, json_t *v)
{
	if (!a) {
		json_decref(v);
		return false;
	}
	return json_array_append_new(a, v) == 0;
}

static int write_line(struct recorder *r, struct line *l)
{
	if (!l->j || l->oom) {
		json_decref(l->j);
		return -ENOMEM;
	}
	if (json_dumpf(l->j, r->f, JSON_COMPACT) || fputc('\n', r->f) == EOF || fflush(r->f))
		r->error = -EIO;
	json_decref(l->j);
	return r->error;
}

static json_t *header_object(const struct recording_header *h)
{
	struct utsname uts;
	json_t *cols = json_array();
	size_t i;

	for (i = 0; cols && i < REC_NCOLS; i++)
		if (json_array_append_new(cols, json_string(rec_region_columns[i]))) {
			json_decref(cols);
			cols = NULL;
		}
	if (uname(&uts))
		memset(&uts, 0, sizeof(uts));
	return json_pack("{s:s, s:i, s:f, s:i, s:o, s:f, s:f, s:b, s:b, s:o, s:o, s:o}",
			 REC_HDR_FORMAT, RECORDING_FORMAT, REC_HDR_VERSION, RECORDING_VERSION,
			 REC_HDR_CREATED, h->created, REC_HDR_PID, h->pid, REC_HDR_COMM,
			 json_text(h->comm), REC_HDR_WINDOW, h->window_s, REC_HDR_TICK, h->tick_s,
			 REC_HDR_BPF, h->bpf, REC_HDR_ALLOC, h->alloc, REC_HDR_HOST,
			 json_text(uts.nodename), REC_HDR_KERNEL, json_text(uts.release),
			 REC_HDR_REGION_COLUMNS, cols);
}

bool recording_path_plain(const char *path)
{
	size_t n = strlen(path);

	return n >= 6 && strcmp(path + n - 6, ".jsonl") == 0;
}

/* Creates the file of a new piece and writes its header. 0 or a negative errno with `err`. */
static int open_piece(struct recorder *r, char *err, size_t errlen)
{
	struct line l = { 0 };
	FILE *raw;
	int ret;

	r->zbytes = 0;
	r->piece_start = r->h.created = clock_unix();
	raw = fopen(r->path, "we");
	r->f = raw && r->opts.compress ? zfile_writer(raw, ZSTD_LEVEL, &r->zbytes) : raw;
	if (!r->f) {
		ret = -errno;
		snprintf(err, errlen, "cannot create recording %s: %s", r->path, strerror(errno));
		return ret;
	}
	l.j = header_object(&r->h);
	ret = write_line(r, &l);
	if (ret) {
		snprintf(err, errlen, "cannot write recording %s: %s", r->path, strerror(-ret));
		fclose(r->f);
		r->f = NULL;
	}
	return ret;
}

static void recorder_free(struct recorder *r)
{
	idmap_free(&r->written);
	free(r->h.comm);
	free(r->path);
	free(r);
}

int recorder_open(const char *path, const struct recording_header *h,
		  const struct recorder_opts *o, struct recorder **out, char *err, size_t errlen)
{
	struct recorder *r;
	int ret;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->h = *h;
	r->opts = *o;
	r->h.comm = strdup(h->comm ? h->comm : "");
	r->path = strdup(path);
	if (!r->h.comm || !r->path) {
		recorder_free(r);
		return -ENOMEM;
	}
	ret = open_piece(r, err, errlen);
	if (ret) {
		recorder_free(r);
		return ret;
	}
	*out = r;
	return 0;
}

/* The end line with `reason`, then the file closed. Returns 0 or -EIO. */
static int close_piece(struct recorder *r, const char *reason)
{
	struct line l = { 0 };
	int ret;

	if (!r->error) {
		l.j = json_pack("{s:s, s:f, s:s}", REC_TYPE, REC_TYPE_END, REC_END_T, clock_unix(),
				REC_END_REASON, reason ? reason : "stopped");
		write_line(r, &l);
	}
	ret = r->error;
	if (fclose(r->f) && !ret)
		ret = -EIO;
	r->f = NULL;
	return ret;
}

/*
 * --rotate: the piece is done when it holds rotate_bytes (compressed, as on
 * disk) or has run rotate_s. It is renamed PATH.N (N counting from 1, the
 * oldest first) and a new PATH begins, with its own header and the stack
 * definitions again, so that every piece reads on its own.
 */
static int rotate_if_due(struct recorder *r)
{
	uint64_t size = r->opts.compress ? r->zbytes : (uint64_t)ftell(r->f);
	char *done = NULL, err[256];
	int ret;

	if (!(r->opts.rotate_bytes && size >= r->opts.rotate_bytes) &&
	    !(r->opts.rotate_s > 0 && clock_unix() - r->piece_start >= r->opts.rotate_s))
		return 0;
	if (asprintf(&done, "%s.%u", r->path, r->pieces + 1) < 0)
		return -ENOMEM;
	ret = close_piece(r, "rotated");
	if (!ret && rename(r->path, done))
		ret = -errno;
	free(done);
	if (!ret) {
		r->pieces++;
		idmap_free(&r->written);
		ret = open_piece(r, err, sizeof(err));
	}
	if (ret)
		r->error = -EIO;
	return ret ? -EIO : 0;
}

/* The cells of one kind of row, by column index: v[0..len) for row i of sample s. */
typedef void row_cells_fn(const struct sample *s, size_t i, json_t **v);

#define ROW_MAX ((int)REC_NCOLS)	/* the longest row */
_Static_assert((int)REC_STACK_ROW_LEN <= ROW_MAX && (int)REC_EVENT_ROW_LEN <= ROW_MAX &&
		       (int)REC_AAR_ROW_LEN <= ROW_MAX && (int)REC_FCLASS_ROW_LEN <= ROW_MAX &&
		       (int)REC_AGE_ROW_LEN <= ROW_MAX,
	       "every row fits ROW_MAX cells");

/* The n rows of one kind; NULL when one could not be made. */
static json_t *rows_of(const struct sample *s, size_t n, size_t len, row_cells_fn *cells)
{
	json_t *rows = json_array();
	size_t i;

	for (i = 0; rows && i < n; i++) {
		json_t *v[ROW_MAX];

		cells(s, i, v);
		if (!append(rows, row_of(v, len))) {
			json_decref(rows);
			return NULL;
		}
	}
	return rows;
}

static void region_cells(const struct sample *s, size_t i, json_t **v)
{
	const struct region *r = &s->regions[i];

	v[REC_COL_NAME] = json_text(r->name);
	v[REC_COL_KIND] = json_string(rec_region_kind_name((enum region_kind)r->kind));
	v[REC_COL_VMAS] = count(r->nvmas);
	v[REC_COL_SIZE] = count(r->size);
	v[REC_COL_RSS] = count(r->rss);
	v[REC_COL_PSS] = count(r->pss);
	v[REC_COL_ANON] = count(r->anon);
	v[REC_COL_DIRTY] = count(r->private_dirty);
	v[REC_COL_SWAP] = count(r->swap);
}

static json_t *fds_object(const struct sample *s)
{
	json_t *by_type = json_object();
	int i;

	for (i = 0; by_type && i < FD_NTYPES; i++)
		if (s->fds.by_type[i] &&
		    json_object_set_new(by_type, rec_fd_type_name((enum fd_type)i),
					count(s->fds.by_type[i]))) {
			json_decref(by_type);
			return NULL;
		}
	return json_pack("{s:I, s:o, s:o}", REC_FDS_TOTAL, (json_int_t)s->fds.total, REC_FDS_LIMIT,
			 s->fds.limit == UINT64_MAX ? json_null() : count(s->fds.limit),
			 REC_FDS_BY_TYPE, by_type);
}

static json_t *arena_object(const struct arena_stat *ar, struct line *l)
{
	json_t *o = json_pack("{s:I, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", REC_AR_ADDR,
			      (json_int_t)ar->addr, REC_AR_MAIN, ar->main, REC_AR_THREADS,
			      (json_int_t)ar->threads, REC_AR_HEAPS, (json_int_t)ar->nheaps,
			      REC_AR_SYSTEM, (json_int_t)ar->system, REC_AR_MAX_SYSTEM,
			      (json_int_t)ar->max_system, REC_AR_TOP, (json_int_t)ar->top,
			      REC_AR_LIVE, (json_int_t)ar->live, REC_AR_RSS, (json_int_t)ar->rss);

	if (ar->live >= 0)
		put(l, o, REC_AR_LIVE_SOURCE, json_integer(ar->live_source));
	if (ar->walked) {
		put(l, o, REC_AR_FREE, count(ar->free));
		put(l, o, REC_AR_TCACHE, count(ar->tcache));
		put(l, o, REC_AR_RECLAIMABLE, count(ar->reclaimable));
		put(l, o, REC_AR_FRAGMENTATION, json_real(ar->fragmentation));
	}
	return o;
}

static json_t *arenas_array(const struct sample *s, struct line *l)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < s->narenas; i++)
		if (!append(a, arena_object(&s->arenas[i], l)))
			l->oom = true;
	return a;
}

/* How the arenas were read, and the memory limit: optional keys of a sample line. */
static void sample_extras(struct line *l, const struct sample *s)
{
	if (s->has_arenas)
		put(l, l->j, REC_S_ARENA_READ,
		    json_pack("{s:b, s:b, s:I, s:I, s:I, s:I, s:b, s:i, s:I}", REC_AREAD_FROZEN,
			      s->arenas_frozen, REC_AREAD_COMPLETE, s->arenas_complete,
			      REC_AREAD_FREEZE_US, (json_int_t)s->freeze_us, REC_AREAD_CPU_US,
			      (json_int_t)s->arenas_cpu_us, REC_AREAD_REREADS,
			      (json_int_t)s->arenas_rereads, REC_AREAD_UNREAD,
			      (json_int_t)s->arenas_unread, REC_AREAD_DEBUGINFO, s->arenas_debuginfo,
			      REC_AREAD_GLIBC_MINOR, (int)s->glibc_minor, REC_AREAD_MALLOC_MMAPPED,
			      (json_int_t)s->malloc_mmapped));
	if (s->mem_limit)
		put(l, l->j, REC_S_MEM_LIMIT,
		    json_pack("{s:I, s:b}", REC_MLIM_BYTES, (json_int_t)s->mem_limit,
			      REC_MLIM_CGROUP, s->mem_limit_cgroup));
}

static int write_stack_defs(struct recorder *r, const struct sample *s)
{
	size_t i;
	uint32_t k;
	int ret;

	for (i = 0; i < s->nstacks; i++) {
		const struct stack_stat *st = &s->stacks[i];
		struct line l = { 0 };
		json_t *frames;

		if (idmap_get(&r->written, st->id) != SIZE_MAX)
			continue;
		frames = json_array();
		for (k = 0; k < st->nframes; k++)
			if (!append(frames, json_text(st->frames[k])))
				l.oom = true;
		l.j = json_pack("{s:s, s:I, s:o}", REC_TYPE, REC_TYPE_STACK, REC_STACK_ID,
				(json_int_t)st->id, REC_STACK_FRAMES, frames);
		/* Where each frame came from, for report --pprof and the site rules of report --skip. */
		if (l.j && st->def && stack_json_add(l.j, st->def, &rec_stack_keys))
			l.oom = true;
		ret = write_line(r, &l);
		if (ret)
			return ret;
		if (idmap_put(&r->written, st->id, 1))
			return -ENOMEM;
	}
	return 0;
}

static void free_class_cells(const struct sample *s, size_t i, json_t **v)
{
	const struct alloc_free_stat *c = &s->alloc.free_classes[i];

	v[REC_FCLASS_CLASS] = json_integer((json_int_t)c->cls);
	v[REC_FCLASS_UNMATCHED] = count(c->unmatched);
	v[REC_FCLASS_BYTES] = count(c->unmatched_bytes);
	v[REC_FCLASS_EXPECTED256] = count(c->expected256);
	v[REC_FCLASS_EXPECTED_BYTES] = count(c->expected_bytes);
}

static void alloc_arena_cells(const struct sample *s, size_t i, json_t **v)
{
	const struct alloc_arena *ar = &s->alloc.arenas[i];

	v[REC_AAR_ADDR] = count(ar->addr);
	v[REC_AAR_BYTES] = json_integer((json_int_t)ar->bytes);
	v[REC_AAR_COUNT] = json_integer((json_int_t)ar->count);
}

static void age_cells(const struct sample *s, size_t i, json_t **v)
{
	const struct alloc_age *g = &s->alloc.ages[i];

	v[REC_AGE_ID] = count(g->id);
	v[REC_AGE_BYTES] = json_integer((json_int_t)g->bytes);
	v[REC_AGE_RECORDS] = json_integer((json_int_t)g->records);
	v[REC_AGE_HELD_BYTES] = json_integer((json_int_t)g->held_bytes);
	v[REC_AGE_HELD_RECORDS] = json_integer((json_int_t)g->held_records);
	v[REC_AGE_KEPT_BYTES] = json_integer((json_int_t)g->kept_bytes);
	v[REC_AGE_KEPT_RECORDS] = json_integer((json_int_t)g->kept_records);
	v[REC_AGE_CHURN_SQ] = json_real(g->churn_sq);
}

static json_t *alloc_object(const struct sample *s, struct line *l)
{
	const struct alloc_summary *a = &s->alloc;
	json_t *j;

	j = json_pack("{s:b, s:I, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
		      REC_AL_ESTIMATED, a->estimated, REC_AL_SAMPLE_BYTES,
		      (json_int_t)a->sample_bytes, REC_AL_DUTY, a->duty, REC_AL_SHARE, a->share,
		      REC_AL_SINCE, a->since, REC_AL_CALLS, (json_int_t)a->calls, REC_AL_FREES,
		      (json_int_t)a->frees, REC_AL_RECORDED, (json_int_t)a->recorded,
		      REC_AL_MISSED_FREES, (json_int_t)a->missed_frees, REC_AL_LOST,
		      (json_int_t)a->lost, REC_AL_LOST_LIVE, (json_int_t)a->lost_live,
		      REC_AL_LIVE_CAP, (json_int_t)a->live_cap, REC_AL_ARENAS,
		      a->has_arenas ? rows_of(s, a->narenas, REC_AAR_ROW_LEN, alloc_arena_cells)
				      : json_null());
	put(l, j, REC_AL_UNMATCHED_FREES, count(a->unmatched_frees));
	put(l, j, REC_AL_UNMATCHED_FREE_BYTES, count(a->unmatched_free_bytes));
	put(l, j, REC_AL_UNMATCHED_SIZED, json_boolean(a->unmatched_sized));
	put(l, j, REC_AL_FREE_CLASSES,
	    rows_of(s, a->nfree_classes, REC_FCLASS_ROW_LEN, free_class_cells));
	if (a->has_ages) {
		put(l, j, REC_AL_AGES_SINCE, json_real(a->ages_since));
		put(l, j, REC_AL_AGES, rows_of(s, a->nages, REC_AGE_ROW_LEN, age_cells));
	}
	return j;
}

static void stack_cells(const struct sample *s, size_t i, json_t **v)
{
	const struct stack_stat *st = &s->stacks[i];

	v[REC_STACK_ROW_ID] = count(st->id);
	v[REC_STACK_ROW_KIND] = json_string(rec_stack_kind_name((enum stack_kind)st->kind));
	v[REC_STACK_ROW_BYTES] = json_integer((json_int_t)st->bytes);
	v[REC_STACK_ROW_COUNT] = json_integer((json_int_t)st->count);
}

static void event_cells(const struct sample *s, size_t i, json_t **v)
{
	const struct growth_event *e = &s->events[i];

	v[REC_EVENT_T] = json_real(e->t);
	v[REC_EVENT_KIND] = json_string(rec_growth_event_name((enum growth_event_kind)e->kind));
	v[REC_EVENT_BYTES] = json_integer((json_int_t)e->bytes);
	v[REC_EVENT_ADDR] = count(e->addr);
	v[REC_EVENT_STACK] = count(e->stack_id);
}

int recorder_write(struct recorder *r, const struct sample *s)
{
	struct line l = { 0 };
	int ret;

	if (r->error)
		return r->error;
	ret = rotate_if_due(r);
	if (ret)
		return ret;
	if (s->has_stacks) {
		ret = write_stack_defs(r, s);
		if (ret)
			return ret;
	}
	l.j = json_pack("{s:s, s:f, s:i, s:o, s:s, s:I, s:{s:I, s:I, s:I, s:I, s:I}, s:b, s:I}",
			REC_TYPE, REC_TYPE_SAMPLE, REC_S_T, s->t, REC_S_PID, s->pid, REC_S_COMM,
			json_text(s->comm), REC_S_ALLOCATOR,
			rec_allocator_name((enum allocator_kind)s->allocator), REC_S_THREADS,
			(json_int_t)s->threads, REC_S_TOTALS, REC_TOT_RSS,
			(json_int_t)s->totals.rss, REC_TOT_PSS, (json_int_t)s->totals.pss,
			REC_TOT_ANON, (json_int_t)s->totals.anon, REC_TOT_SWAP,
			(json_int_t)s->totals.swap, REC_TOT_SIZE, (json_int_t)s->totals.size,
			REC_S_BPF, s->has_bpf, REC_S_LOST_EVENTS, (json_int_t)s->lost_events);
	if (!l.j)
		return -ENOMEM;
	if (s->has_regions)
		put(&l, l.j, REC_S_REGIONS, rows_of(s, s->nregions, REC_NCOLS, region_cells));
	if (s->regions_folded)
		put(&l, l.j, REC_S_REGIONS_FOLDED, count(s->regions_folded));
	if (s->has_fds)
		put(&l, l.j, REC_S_FDS, fds_object(s));
	if (s->has_arenas)
		put(&l, l.j, REC_S_ARENAS, arenas_array(s, &l));
	sample_extras(&l, s);
	if (s->has_alloc)
		put(&l, l.j, REC_S_ALLOC, alloc_object(s, &l));
	if (s->has_stacks)
		put(&l, l.j, REC_S_STACKS,
		    rows_of(s, s->nstacks, REC_STACK_ROW_LEN, stack_cells));
	if (s->nevents || s->events_dropped) {
		put(&l, l.j, REC_S_EVENTS,
		    rows_of(s, s->nevents, REC_EVENT_ROW_LEN, event_cells));
		put(&l, l.j, REC_S_EVENTS_DROPPED, count(s->events_dropped));
	}
	return write_line(r, &l);
}

int recorder_close(struct recorder *r, const char *reason)
{
	int ret;

	if (!r)
		return 0;
	ret = r->f ? close_piece(r, reason) : r->error;
	recorder_free(r);
	return ret;
}
