// SPDX-License-Identifier: GPL-2.0-only
/* Which frame of a stack names the program's code: past the C library's allocator and syscall wrappers. */
#include "analyzer/frames.h"

#include <stdio.h>
#include <string.h>

/*
 * Public names of C library functions a growth stack starts in. Internal ones
 * start with '_' (__mmap64, _int_malloc, __libc_malloc, __memset_avx2_...).
 */
static const char *const libc_names[] = {
	"brk", "sbrk", "mmap", "mmap64", "mremap", "munmap", "sysmalloc", "sysmalloc_mmap",
	"malloc", "calloc", "realloc", "reallocarray", "free", "posix_memalign", "memalign",
	"aligned_alloc", "valloc", "pvalloc", "tcache_init", "malloc_consolidate", "memset",
	"memcpy", "memmove", "strdup", "strndup", "socket", "socketpair", "accept", "accept4",
	"open", "open64", "openat", "openat64", "creat", "fopen", "fopen64", "pipe", "pipe2",
	"dup", "dup2", "dup3", "fcntl", "fcntl64", "eventfd", "epoll_create", "epoll_create1",
	"timerfd_create", "signalfd", "inotify_init", "inotify_init1", "memfd_create",
	"operator new", "operator new[]", NULL,
};

/*
 * glibc's sources a frame of its allocator or thread start names as its line
 * ("mremap_chunk [inlined] (malloc.c:3091)", "start_thread+0x305
 * (pthread_create.c:442)"): internal functions whose names carry no '_'.
 */
static const char *const libc_files[] = {
	"malloc.c", "arena.c", "hooks.c", "morecore.c", "obmalloc.c", "pthread_create.c",
	"clone.S", "clone3.S", "mmap64.c", "mremap.c", "brk.c", "sbrk.c", "syscall-template.S",
	"libc-start.c", "libc_start_call_main.h", NULL,
};

static int from_libc_file(const char *frame)
{
	const char *open = strstr(frame, " ("), *colon;
	size_t i, n;

	if (!open || !(colon = strchr(open, ':')))
		return 0;
	open += 2;
	n = (size_t)(colon - open);
	for (i = 0; libc_files[i]; i++)
		if (strlen(libc_files[i]) == n && strncmp(open, libc_files[i], n) == 0)
			return 1;
	return 0;
}

/* Whether the frame "name+0x1a (file.c:3)" or "name [inlined] (...)" is in the C library. */
static int in_libc(const char *frame)
{
	size_t i;

	if (frame[0] == '_' || from_libc_file(frame))
		return 1;
	for (i = 0; libc_names[i]; i++) {
		size_t n = strlen(libc_names[i]);

		/* GCC's clones ("sysmalloc_mmap.constprop.0") are the function they clone. */
		if (strncmp(frame, libc_names[i], n) == 0 && strchr("+ (.", frame[n]))
			return 1;
	}
	return 0;
}

/* Whether the frame carries a source location: "func+0x1a (file.c:42)". */
static int has_line(const char *frame)
{
	const char *open = strstr(frame, " (");

	return open && strchr(open, ':') != NULL;
}

uint32_t frames_first_caller(char *const *frames, uint32_t n)
{
	uint32_t i, first = n;

	for (i = 0; i < n; i++) {
		if (!frames[i] || in_libc(frames[i]))
			continue;
		/* An address no symbol covers may be a misread frame: prefer code with a source line. */
		if (has_line(frames[i]))
			return i;
		if (first == n)
			first = i;
	}
	return first < n ? first : 0;
}

const char *frames_site(char *const *frames, uint32_t n, char *buf, size_t len)
{
	const char *f = n ? frames[frames_first_caller(frames, n)] : NULL;
	size_t end;

	if (!f) {
		snprintf(buf, len, "an unknown stack");
		return buf;
	}
	/* "name+0x1a (file.c:3)", "name [inlined] (...)", "name+0x8c7 (module)": the name. */
	end = strstr(f, " (") || strstr(f, " [inlined]") ? strcspn(f, "+ ") : strlen(f);
	snprintf(buf, len, "%.*s", (int)end, f);
	return buf;
}
