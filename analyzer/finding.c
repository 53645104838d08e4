// SPDX-License-Identifier: GPL-2.0-only
/* A finding: what a detector concluded about a window, with its evidence. */
#include "analyzer/finding.h"
#include "lib/strmap.h"
#include "lib/vec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct evidence *add(struct finding *f, enum ev_key key, uint8_t type)
{
	struct evidence *e = VEC_PUSH(f->ev, f->nev, f->ev_cap);

	if (e) {
		e->key = (uint8_t)key;
		e->type = type;
	}
	return e;
}

int finding_add_int(struct finding *f, enum ev_key key, int64_t v)
{
	struct evidence *e = add(f, key, EV_INT);

	if (!e)
		return -ENOMEM;
	e->i = v;
	return 0;
}

int finding_add_real(struct finding *f, enum ev_key key, double v)
{
	struct evidence *e = add(f, key, EV_REAL);

	if (!e)
		return -ENOMEM;
	e->d = v;
	return 0;
}

int finding_add_str(struct finding *f, enum ev_key key, const char *v)
{
	struct evidence *e;
	char *copy = strdup(v);

	if (!copy)
		return -ENOMEM;
	e = add(f, key, EV_STR);
	if (!e) {
		free(copy);
		return -ENOMEM;
	}
	e->s = copy;
	return 0;
}

int finding_set_summary(struct finding *f, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	free(f->summary);
	f->summary = s;
	return 0;
}

int finding_set_frames(struct finding *f, char *const *frames, uint32_t n)
{
	char **copy = calloc(n ? n : 1, sizeof(*copy));
	uint32_t i;

	if (!copy)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		copy[i] = strdup(frames[i]);
		if (!copy[i]) {
			while (i--)
				free(copy[i]);
			free(copy);
			return -ENOMEM;
		}
	}
	for (i = 0; i < f->nframes; i++)
		free(f->frames[i]);
	free(f->frames);
	f->frames = copy;
	f->nframes = n;
	return 0;
}

int finding_set_stack(struct finding *f, const struct stack_stat *st)
{
	int ret = finding_set_frames(f, st->frames, st->nframes);

	if (!ret && st->def) {
		f->site = st->def->site < st->nframes ? st->def->site : 0;
		f->truncated = st->def->truncated;
	}
	return ret;
}

int finding_copy(struct finding *dst, const struct finding *src)
{
	size_t i;
	int ret = 0;

	memset(dst, 0, sizeof(*dst));
	dst->kind = src->kind;
	dst->severity = src->severity;
	if (src->summary)
		ret = finding_set_summary(dst, "%s", src->summary);
	for (i = 0; !ret && i < src->nev; i++) {
		const struct evidence *e = &src->ev[i];

		if (e->type == EV_INT)
			ret = finding_add_int(dst, e->key, e->i);
		else if (e->type == EV_REAL)
			ret = finding_add_real(dst, e->key, e->d);
		else
			ret = finding_add_str(dst, e->key, e->s ? e->s : "");
	}
	if (!ret && src->nframes)
		ret = finding_set_frames(dst, src->frames, src->nframes);
	dst->site = src->site;
	dst->truncated = src->truncated;
	if (ret)
		finding_clear(dst);
	return ret;
}

void finding_clear(struct finding *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->nev; i++)
		free(f->ev[i].s);
	free(f->ev);
	for (i = 0; i < f->nframes; i++)
		free(f->frames[i]);
	free(f->frames);
	free(f->summary);
	memset(f, 0, sizeof(*f));
}

uint64_t finding_subject(const struct finding *f)
{
	const char *what = f->nframes ? f->frames[0] : "";
	size_t i;

	for (i = 0; !f->nframes && i < f->nev; i++)
		if (f->ev[i].type == EV_STR && f->ev[i].s) {
			what = f->ev[i].s;
			break;
		}
	return strmap_hash(f->kind, what);
}

static const char *const severity_names[] = { "info", "warn", "critical" };

const char *severity_name(enum severity s)
{
	return (unsigned int)s < 3 ? severity_names[s] : "?";
}

static const char *const kind_names[FINDING_NKINDS] = {
	[FINDING_CHUNK_STEPS] = "chunk_steps",
	[FINDING_ARENA_FRAGMENTATION] = "arena_fragmentation",
	[FINDING_FD_GROWTH] = "fd_growth",
	[FINDING_LEAK] = "leak",
	[FINDING_MMAP_GROWTH] = "mmap_growth",
	[FINDING_RSS_GROWTH] = "rss_growth",
	[FINDING_VERDICT] = "verdict",
};

const char *finding_kind_name(enum finding_kind k)
{
	return (unsigned int)k < FINDING_NKINDS ? kind_names[k] : "?";
}

_Static_assert(EVK_NKEYS <= UINT8_MAX, "evidence keys are stored in a byte");

/* The fd type keys (EVK_FD_TYPE...) are spelt by fd_type_name() and left out here. */
static const struct {
	const char *name;
	uint8_t unit;		/* enum ev_unit */
} keys[EVK_NKEYS] = {
	[EVK_ARENA] = { "arena", UNIT_NONE },
	[EVK_MAIN] = { "main", UNIT_FLAG },
	[EVK_THREADS] = { "threads", UNIT_NONE },
	[EVK_SYSTEM] = { "system", UNIT_BYTES },
	[EVK_TOP] = { "top", UNIT_BYTES },
	[EVK_FREE] = { "free", UNIT_BYTES },
	[EVK_FREE_RESIDENT] = { "free_resident", UNIT_BYTES },
	[EVK_RECLAIMABLE] = { "reclaimable", UNIT_BYTES },
	[EVK_RSS] = { "rss", UNIT_BYTES },
	[EVK_FRAGMENTATION] = { "fragmentation", UNIT_SHARE },
	[EVK_ARENAS] = { "arenas", UNIT_NONE },
	[EVK_FREE_DELTA] = { "free_delta", UNIT_BYTES },
	[EVK_PARTIAL_READ] = { "partial_read", UNIT_NONE },
	[EVK_QUANTUM] = { "quantum", UNIT_BYTES },
	[EVK_STEPS] = { "steps", UNIT_NONE },
	[EVK_BURSTS] = { "bursts", UNIT_NONE },
	[EVK_TRIES] = { "tries", UNIT_NONE },
	[EVK_CHANCE] = { "chance", UNIT_SHARE },
	[EVK_BYTES] = { "bytes", UNIT_BYTES },
	[EVK_GROWTH] = { "growth", UNIT_BYTES },
	[EVK_QUANTUM_SOURCE] = { "quantum_source", UNIT_NONE },
	[EVK_REGION] = { "region", UNIT_NONE },
	[EVK_FDS] = { "fds", UNIT_NONE },
	[EVK_DELTA] = { "delta", UNIT_NONE },
	[EVK_RUN_RISE] = { "run_rise", UNIT_NONE },
	[EVK_WINDOWS] = { "windows", UNIT_NONE },
	[EVK_FDS_PER_S] = { "fds_per_s", UNIT_PER_S },
	[EVK_TOP_TYPE] = { "top_type", UNIT_NONE },
	[EVK_FD_LIMIT] = { "limit", UNIT_NONE },
	[EVK_SECONDS_TO_LIMIT] = { "seconds_to_limit", UNIT_SECONDS },
	[EVK_TOP_STACK_NEW_FDS] = { "top_stack_new_fds", UNIT_NONE },
	[EVK_TOP_STACK_OPEN_FDS] = { "top_stack_open_fds", UNIT_NONE },
	[EVK_SECOND_STACK] = { "second_stack", UNIT_NONE },
	[EVK_THIRD_STACK] = { "third_stack", UNIT_NONE },
	[EVK_STACK_KIND] = { "stack_kind", UNIT_NONE },
	[EVK_ALLOC] = { "alloc", UNIT_ID },
	[EVK_LOWER_BOUND] = { "lower_bound", UNIT_FLAG },
	[EVK_STACK_ID] = { "stack_id", UNIT_ID },
	[EVK_COUNT] = { "count", UNIT_NONE },
	[EVK_BYTES_DELTA] = { "bytes_delta", UNIT_BYTES },
	[EVK_PREATTACH_BYTES] = { "preattach_bytes", UNIT_BYTES },
	[EVK_RUN_BYTES] = { "run_bytes", UNIT_BYTES },
	[EVK_BYTES_PER_S] = { "bytes_per_s", UNIT_BYTES_PER_S },
	[EVK_SITE] = { "site", UNIT_NONE },
	[EVK_PATHS] = { "paths", UNIT_NONE },
	[EVK_CALL_PATHS] = { "call_paths", UNIT_NONE },
	[EVK_FREED_SHARE] = { "freed_share", UNIT_SHARE },
	[EVK_NOISE] = { "noise", UNIT_BYTES },
	[EVK_LOST_SHARE] = { "lost_share", UNIT_SHARE },
	[EVK_ANON_DELTA] = { "anon_delta", UNIT_BYTES },
	[EVK_SHMEM_DELTA] = { "shmem_delta", UNIT_BYTES },
	[EVK_STACK_DELTA] = { "stack_delta", UNIT_BYTES },
	[EVK_MALLOC_MMAPPED_DELTA] = { "malloc_mmapped_delta", UNIT_BYTES },
	[EVK_TOP_STACK_BYTES_DELTA] = { "top_stack_bytes_delta", UNIT_BYTES },
	[EVK_RSS_DELTA] = { "rss_delta", UNIT_BYTES },
	[EVK_LIMIT] = { "limit", UNIT_BYTES },
	[EVK_LIMIT_SOURCE] = { "limit_source", UNIT_NONE },
	[EVK_OWN_DELTA] = { "own_delta", UNIT_BYTES },
	[EVK_SHARED_TOUCHED] = { "shared_touched", UNIT_BYTES },
	[EVK_PACE] = { "pace", UNIT_NONE },
	[EVK_CAUSE] = { "cause", UNIT_NONE },
	[EVK_LIVE_DELTA] = { "live_delta", UNIT_BYTES },
	[EVK_CHUNK_STEPS] = { "chunk_steps", UNIT_FLAG },
	[EVK_ARENA_READ_PARTIAL] = { "arena_read_partial", UNIT_FLAG },
	[EVK_BYTES_ARENA_FRAGMENTATION] = { "bytes_arena_fragmentation", UNIT_BYTES },
	[EVK_BYTES_LEAK] = { "bytes_leak", UNIT_BYTES },
	[EVK_BYTES_LIVE_HEAP] = { "bytes_live_heap", UNIT_BYTES },
	[EVK_BYTES_MALLOC_HEAP] = { "bytes_malloc_heap", UNIT_BYTES },
	[EVK_BYTES_MMAP_GROWTH] = { "bytes_mmap_growth", UNIT_BYTES },
	[EVK_BYTES_TOP] = { "bytes_top", UNIT_BYTES },
	[EVK_BYTES_OTHER] = { "bytes_other", UNIT_BYTES },
	[EVK_SHARE_ARENA_FRAGMENTATION] = { "share_arena_fragmentation", UNIT_SHARE },
	[EVK_SHARE_LEAK] = { "share_leak", UNIT_SHARE },
	[EVK_SHARE_LIVE_HEAP] = { "share_live_heap", UNIT_SHARE },
	[EVK_SHARE_MALLOC_HEAP] = { "share_malloc_heap", UNIT_SHARE },
	[EVK_SHARE_MMAP_GROWTH] = { "share_mmap_growth", UNIT_SHARE },
	[EVK_SHARE_TOP] = { "share_top", UNIT_SHARE },
	[EVK_SHARE_OTHER] = { "share_other", UNIT_SHARE },
};

const char *ev_key_name(enum ev_key k)
{
	if (k >= EVK_FD_TYPE && k <= EVK_FD_TYPE_LAST)
		return fd_type_name((enum fd_type)(k - EVK_FD_TYPE));
	return (unsigned int)k < EVK_NKEYS && keys[k].name ? keys[k].name : "?";
}

enum ev_unit ev_key_unit(enum ev_key k)
{
	/* The fd type keys count descriptors: UNIT_NONE, as their zeroed entries say. */
	return (unsigned int)k < EVK_NKEYS ? (enum ev_unit)keys[k].unit : UNIT_NONE;
}
