// SPDX-License-Identifier: GPL-2.0-only
/* The recording format's spellings of region columns and of the analyzer's enumerations. */
#include "recording/format.h"

#include <string.h>

/* Codes written as numbers are the analyzer's values: a change there must not reach the files. */
_Static_assert(ARENA_LIVE_NONE == REC_LIVE_NONE && ARENA_LIVE_WALK == REC_LIVE_WALK &&
		       ARENA_LIVE_ALLOC == REC_LIVE_ALLOC,
	       "live_source codes are part of the recording format");
_Static_assert(ALLOC_ARENA_MAIN_KEY == REC_AAR_MAIN && ALLOC_ARENA_MMAPPED_KEY == REC_AAR_MMAPPED,
	       "alloc arena codes are part of the recording format");
_Static_assert(SAMPLE_FREE_CLASSES == REC_FCLASSES && SAMPLE_FREE_UNSIZED == REC_FCLASS_UNSIZED,
	       "free classes are part of the recording format");

const char *const rec_region_columns[REC_NCOLS] = {
	[REC_COL_NAME] = "name", [REC_COL_KIND] = "kind", [REC_COL_VMAS] = "vmas",
	[REC_COL_SIZE] = "size", [REC_COL_RSS] = "rss",	  [REC_COL_PSS] = "pss",
	[REC_COL_ANON] = "anon", [REC_COL_DIRTY] = "private_dirty", [REC_COL_SWAP] = "swap",
};

static const char *const region_kinds[REGION_NKINDS] = {
	[REGION_HEAP] = "heap",	[REGION_ARENA] = "arena", [REGION_STACK] = "stack",
	[REGION_ANON] = "anon",	[REGION_FILE] = "file",	  [REGION_SHMEM] = "shmem",
	[REGION_OTHER] = "other",
};

static const char *const fd_types[FD_NTYPES] = {
	[FD_FILE] = "file",	  [FD_SOCKET] = "socket",     [FD_PIPE] = "pipe",
	[FD_DEVICE] = "device",	  [FD_EVENTFD] = "eventfd",   [FD_EPOLL] = "epoll",
	[FD_TIMERFD] = "timerfd", [FD_SIGNALFD] = "signalfd", [FD_INOTIFY] = "inotify",
	[FD_MEMFD] = "memfd",	  [FD_ANON_INODE] = "anon_inode", [FD_OTHER] = "other",
};

static const char *const stack_kinds[STACK_NKINDS] = {
	[STACK_ALLOC] = "alloc", [STACK_MMAP] = "mmap", [STACK_BRK] = "brk",
	[STACK_FAULT] = "fault", [STACK_FD] = "fd",
};

static const char *const allocators[] = {
	[ALLOC_UNKNOWN] = "unknown",   [ALLOC_GLIBC] = "glibc",
	[ALLOC_JEMALLOC] = "jemalloc", [ALLOC_TCMALLOC] = "tcmalloc",
	[ALLOC_MIMALLOC] = "mimalloc", [ALLOC_MUSL] = "musl",
};

static const char *const growth_events[] = {
	[GROWTH_BRK] = "brk",	    [GROWTH_MMAP] = "mmap", [GROWTH_MUNMAP] = "munmap",
	[GROWTH_MREMAP] = "mremap",
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const char *const *names, size_t n, unsigned int v)
{
	return v < n && names[v] ? names[v] : "?";
}

static int value_of(const char *const *names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; name && i < n; i++)
		if (names[i] && strcmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

#define SPELLING(fn, type, table)                                   \
	const char *fn##_name(type v)                               \
	{                                                           \
		return name_of(table, ARRAY_LEN(table), v);         \
	}                                                           \
	int fn##_parse(const char *name)                            \
	{                                                           \
		return value_of(table, ARRAY_LEN(table), name);     \
	}

SPELLING(rec_region_kind, enum region_kind, region_kinds)
SPELLING(rec_fd_type, enum fd_type, fd_types)
SPELLING(rec_stack_kind, enum stack_kind, stack_kinds)
SPELLING(rec_allocator, enum allocator_kind, allocators)
SPELLING(rec_growth_event, enum growth_event_kind, growth_events)
