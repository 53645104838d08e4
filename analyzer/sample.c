// SPDX-License-Identifier: GPL-2.0-only
/* The sample: allocation, release, and the names of its enumerations. */
#include "analyzer/sample.h"
#include "analyzer/stack_site.h"
#include "lib/vec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct sample *sample_new(void)
{
	struct sample *s = calloc(1, sizeof(struct sample));

	if (s) {
		s->refs = 1;
		s->malloc_mmapped = -1;
	}
	return s;
}

struct sample *sample_ref(struct sample *s)
{
	s->refs++;
	return s;
}

void sample_unref(struct sample *s)
{
	size_t i;

	if (!s || --s->refs > 0)
		return;
	for (i = 0; i < s->nregions; i++)
		free(s->regions[i].name);
	free(s->regions);
	for (i = 0; i < s->nstacks; i++)
		stack_frames_unref(s->stacks[i].def);
	free(s->stacks);
	free(s->arenas);
	free(s->events);
	free(s->alloc.arenas);
	free(s->alloc.free_classes);
	free(s->alloc.ages);
	free(s->comm);
	free(s);
}

struct region *sample_add_region(struct sample *s)
{
	return VEC_PUSH(s->regions, s->nregions, s->regions_cap);
}

struct stack_stat *sample_add_stack(struct sample *s)
{
	return VEC_PUSH(s->stacks, s->nstacks, s->stacks_cap);
}

struct arena_stat *sample_add_arena(struct sample *s)
{
	struct arena_stat *a = VEC_PUSH(s->arenas, s->narenas, s->arenas_cap);

	if (a) {
		a->live = -1;
		a->fragmentation = -1;
	}
	return a;
}

struct growth_event *sample_add_event(struct sample *s)
{
	return VEC_PUSH(s->events, s->nevents, s->events_cap);
}

void stack_stat_set_frames(struct stack_stat *st, struct stack_frames *d)
{
	st->def = stack_frames_ref(d);
	st->frames = d->text;
	st->nframes = d->n;
}

int stack_stat_copy_frames(struct stack_stat *st, char *const *frames, uint32_t n)
{
	struct stack_frames *d = stack_frames_from_text(frames, n, false);

	if (!d)
		return -ENOMEM;
	stack_site_find(d, NULL);
	stack_stat_set_frames(st, d);
	stack_frames_unref(d);
	return 0;
}

const char *stack_stat_site(const struct stack_stat *st)
{
	if (!st->def || !st->def->n)
		return "an unknown stack";
	return st->def->text[st->def->site];
}

struct alloc_arena *sample_add_alloc_arena(struct sample *s)
{
	return VEC_PUSH(s->alloc.arenas, s->alloc.narenas, s->alloc.arenas_cap);
}

struct alloc_free_stat *sample_add_free_class(struct sample *s)
{
	return VEC_PUSH(s->alloc.free_classes, s->alloc.nfree_classes, s->alloc.free_classes_cap);
}

struct alloc_age *sample_add_alloc_age(struct sample *s)
{
	return VEC_PUSH(s->alloc.ages, s->alloc.nages, s->alloc.ages_cap);
}

double alloc_lost_share(const struct sample *s)
{
	double lost = s->has_alloc ? (double)s->alloc.lost : 0;

	return lost > 0 ? lost / (lost + (double)s->alloc.recorded) : 0;
}

bool alloc_lower_bound(const struct sample *s)
{
	return alloc_lost_share(s) >= ALLOC_LOST_MATERIAL;
}

const struct alloc_age *sample_alloc_age(const struct sample *s, uint64_t id)
{
	size_t i;

	/* A few hundred stacks at most, read once a window: a linear search does. */
	for (i = 0; s->has_alloc && s->alloc.has_ages && i < s->alloc.nages; i++)
		if (s->alloc.ages[i].id == id)
			return &s->alloc.ages[i];
	return NULL;
}

bool region_kind_is_heap(uint8_t kind)
{
	return kind == REGION_HEAP || kind == REGION_ARENA;
}

uint64_t sample_heap_rss(const struct sample *s)
{
	uint64_t heap = 0;
	size_t i;

	for (i = 0; i < s->nregions; i++)
		if (region_kind_is_heap(s->regions[i].kind))
			heap += s->regions[i].rss;
	return heap;
}

static const char *const region_kind_names[REGION_NKINDS] = {
	[REGION_HEAP] = "heap",   [REGION_ARENA] = "arena", [REGION_STACK] = "stack",
	[REGION_ANON] = "anon",   [REGION_FILE] = "file",   [REGION_SHMEM] = "shmem",
	[REGION_OTHER] = "other",
};

static const char *const fd_type_names[FD_NTYPES] = {
	[FD_FILE] = "file",	  [FD_SOCKET] = "socket",     [FD_PIPE] = "pipe",
	[FD_DEVICE] = "device",	  [FD_EVENTFD] = "eventfd",   [FD_EPOLL] = "epoll",
	[FD_TIMERFD] = "timerfd", [FD_SIGNALFD] = "signalfd", [FD_INOTIFY] = "inotify",
	[FD_MEMFD] = "memfd",	  [FD_ANON_INODE] = "anon_inode", [FD_OTHER] = "other",
};

static const char *const stack_kind_names[STACK_NKINDS] = {
	[STACK_ALLOC] = "alloc", [STACK_MMAP] = "mmap", [STACK_BRK] = "brk",
	[STACK_FAULT] = "fault", [STACK_FD] = "fd",
};

static const char *const allocator_names[] = {
	[ALLOC_UNKNOWN] = "unknown",   [ALLOC_GLIBC] = "glibc",
	[ALLOC_JEMALLOC] = "jemalloc", [ALLOC_TCMALLOC] = "tcmalloc",
	[ALLOC_MIMALLOC] = "mimalloc", [ALLOC_MUSL] = "musl",
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const char *const *names, size_t n, unsigned int v)
{
	return v < n && names[v] ? names[v] : "?";
}

#define NAME_FUNC(fn, type, table)                                   \
	const char *fn##_name(type v)                                \
	{                                                            \
		return name_of(table, ARRAY_LEN(table), v);          \
	}

NAME_FUNC(region_kind, enum region_kind, region_kind_names)
NAME_FUNC(fd_type, enum fd_type, fd_type_names)
NAME_FUNC(stack_kind, enum stack_kind, stack_kind_names)
NAME_FUNC(allocator, enum allocator_kind, allocator_names)
