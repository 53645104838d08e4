// SPDX-License-Identifier: GPL-2.0-only
/* Replay of a recording for the live view: an index of its samples and its findings, and seeking. */
#include "cli/replay.h"
#include "analyzer/pipeline.h"
#include "lib/vec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct replay_entry {
	struct recording_pos at;	/* where reading this sample starts */
	struct model_point point;
	int pid;
};

/* The findings of a window that closed at sample `end`. */
struct replay_findings {
	size_t end;
	struct findings_set fs;
};

struct replay {
	char *path;
	struct recording_reader *rd;
	struct recording_header h;
	double window_s;

	struct replay_entry *idx;
	size_t n, idx_cap;
	bool truncated;		/* more samples than REPLAY_MAX_SAMPLES */
	bool cut_off;		/* no end line: the run that wrote it was killed */

	struct replay_findings *found;
	size_t nfound, found_cap;

	size_t pos;
	size_t next_read;	/* the sample the reader would return next */
	bool shown;
};

static void clear_found(struct replay *r)
{
	size_t i;

	for (i = 0; i < r->nfound; i++)
		findings_set_clear(&r->found[i].fs);
	r->nfound = 0;
}

static int keep_findings(struct replay *r, const struct window *w, size_t end)
{
	struct replay_findings *f = VEC_PUSH(r->found, r->nfound, r->found_cap);

	if (!f)
		return -ENOMEM;
	f->end = end;
	return findings_set_from_window(&f->fs, w);
}

/*
 * One pass over the whole recording: indexes it (first pass only) and keeps
 * the findings of every window, as `report` would print them.
 */
static int analyse(struct replay *r, bool index, char *err, size_t errlen)
{
	struct recording_pos start = { 0 };
	struct pipeline *p = pipeline_new(r->window_s, r->h.tick_s);
	struct window *w = NULL;
	size_t i = 0;
	int ret = -ENOMEM;

	clear_found(r);
	if (!p)
		goto out;
	if (!index && (ret = recording_seek(r->rd, &r->idx[0].at))) {
		snprintf(err, errlen, "%s: cannot re-read: %s", r->path, strerror(-ret));
		goto out;
	}
	for (;;) {
		struct sample *s;

		recording_tell(r->rd, &start);
		if (!index && i >= r->n)
			break;
		ret = recording_next(r->rd, &s, err, errlen);
		if (ret <= 0)
			break;
		if (index) {
			struct replay_entry *e;

			if (r->n == REPLAY_MAX_SAMPLES) {
				r->truncated = true;
				sample_unref(s);
				ret = 0;
				break;
			}
			e = VEC_PUSH(r->idx, r->n, r->idx_cap);
			if (!e) {
				sample_unref(s);
				ret = -ENOMEM;
				break;
			}
			e->at = start;
			e->pid = s->pid;
			model_point_of(s, r->n > 1 ? &r->idx[r->n - 2].point : NULL, &e->point);
		}
		sample_ref(s);
		ret = pipeline_push(p, s, &w);
		if (ret == 1)
			/* A restarted target closes the window at the sample before this one. */
			ret = keep_findings(r, w, w->end == s ? i : i - 1);
		sample_unref(s);
		window_free(w);
		w = NULL;
		i++;
		if (ret < 0)
			break;
	}
	if (index && ret == 0)
		r->cut_off = !r->truncated && !recording_end_reason(r->rd);
	if (ret == 0 && (ret = pipeline_flush(p, &w)) == 1)
		ret = keep_findings(r, w, i - 1);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", r->path);
out:
	window_free(w);
	pipeline_free(p);
	r->next_read = SIZE_MAX;
	return ret < 0 ? ret : 0;
}

int replay_open(const char *path, double window_s, struct replay **out, char *err,
		size_t errlen)
{
	struct replay *r;
	int ret;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(path))) {
		free(r);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = recording_open(path, &r->rd, &r->h, err, errlen);
	if (ret)
		goto fail;
	r->window_s = window_s > 0 ? window_s : r->h.window_s;
	ret = analyse(r, true, err, errlen);
	if (ret)
		goto fail;
	if (r->n < 2) {
		snprintf(err, errlen, "%s: the recording holds %zu sample%s; a window needs two", path,
			 r->n, r->n == 1 ? "" : "s");
		ret = -EINVAL;
		goto fail;
	}
	*out = r;
	return 0;
fail:
	replay_close(r);
	return ret;
}

size_t replay_count(const struct replay *r)
{
	return r->n;
}

size_t replay_pos(const struct replay *r)
{
	return r->pos;
}

double replay_window(const struct replay *r)
{
	return r->window_s;
}

double replay_tick(const struct replay *r)
{
	return r->h.tick_s;
}

size_t replay_first_window_end(const struct replay *r)
{
	return r->nfound ? r->found[0].end : r->n - 1;
}

static void index_at(const void *ctx, size_t i, double *t, int32_t *pid)
{
	const struct replay *r = ctx;

	*t = r->idx[i].point.t;
	*pid = r->idx[i].pid;
}

static int read_into(struct replay *r, size_t i, struct model *m, char *err, size_t errlen)
{
	struct sample *s;
	int ret;

	if (r->next_read != i) {
		ret = recording_seek(r->rd, &r->idx[i].at);
		if (ret) {
			snprintf(err, errlen, "%s: cannot re-read: %s", r->path, strerror(-ret));
			return ret;
		}
	}
	ret = recording_next(r->rd, &s, err, errlen);
	if (ret == 0) {
		snprintf(err, errlen, "%s: the recording changed while it was replayed", r->path);
		return -EIO;
	}
	if (ret < 0)
		return ret;
	r->next_read = i + 1;
	ret = model_push(m, s);
	if (ret)
		snprintf(err, errlen, "out of memory");
	return ret;
}

/* The findings of the last window that closed at or before `pos`, or NULL. */
static const struct replay_findings *findings_at(const struct replay *r, size_t pos, size_t *next)
{
	size_t lo = 0, hi = r->nfound;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->found[mid].end <= pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	*next = lo;
	return lo ? &r->found[lo - 1] : NULL;
}

size_t replay_nearest(const struct replay *r, double t)
{
	size_t lo = 0, hi = r->n - 1;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->idx[mid].point.t < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && t - r->idx[lo - 1].point.t < r->idx[lo].point.t - t)
		lo--;
	return lo;
}

double replay_time(const struct replay *r, size_t pos)
{
	return r->idx[pos < r->n ? pos : r->n - 1].point.t;
}

int replay_show(struct replay *r, size_t pos, struct model *m, char *err, size_t errlen)
{
	const struct replay_findings *f;
	struct model_meta meta = *model_meta(m);
	size_t i, first, next;
	int ret = 0;

	if (pos >= r->n)
		pos = r->n - 1;
	if (r->shown && pos == r->pos + 1) {
		ret = read_into(r, pos, m, err, errlen);
	} else {
		model_reset(m);
		first = model_window_first(pos, r->window_s, r->h.tick_s, index_at, r);
		/* The sparklines' history before the window comes from the index. */
		for (i = first > MODEL_HISTORY_MAX ? first - MODEL_HISTORY_MAX : 0; i < first; i++)
			model_push_point(m, &r->idx[i].point);
		for (i = first; !ret && i <= pos; i++)
			ret = read_into(r, i, m, err, errlen);
	}
	if (ret) {
		r->shown = false;
		return ret;
	}
	r->pos = pos;
	r->shown = true;
	f = findings_at(r, pos, &next);
	ret = model_set_findings_set(m, f ? &f->fs : NULL);
	if (ret) {
		snprintf(err, errlen, "out of memory");
		return ret;
	}
	meta.replay = true;
	meta.alloc = r->h.alloc;
	meta.pos = pos;
	meta.count = r->n;
	meta.truncated = r->truncated;
	meta.cut_off = r->cut_off;
	meta.first_t = r->idx[0].point.t;
	meta.last_t = r->idx[r->n - 1].point.t;
	meta.analysis_due = next < r->nfound ? r->idx[r->found[next].end].point.t : 0;
	meta.ended = pos == r->n - 1;
	model_set_meta(m, &meta);
	return 0;
}

int replay_set_window(struct replay *r, double window_s, struct model *m, char *err,
		      size_t errlen)
{
	int ret;

	r->window_s = window_s;
	ret = analyse(r, false, err, errlen);
	if (ret)
		return ret;
	r->shown = false;
	ret = model_set_window(m, window_s);
	if (ret) {
		snprintf(err, errlen, "out of memory");
		return ret;
	}
	return replay_show(r, r->pos, m, err, errlen);
}

void replay_close(struct replay *r)
{
	if (!r)
		return;
	clear_found(r);
	free(r->found);
	free(r->idx);
	recording_close(r->rd);
	recording_header_clear(&r->h);
	free(r->path);
	free(r);
}
