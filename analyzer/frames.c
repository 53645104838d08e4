// SPDX-License-Identifier: GPL-2.0-only
/* Which frame of a stack names the program's code: past the C library's allocator and syscall wrappers. */
#include "analyzer/frames.h"

#include <stdlib.h>
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

/* Whether the frame "name+0x1a (file.c:3)" or "name [inlined] (...)" is in the C library. */
static int in_libc(const char *frame)
{
	size_t i;

	if (frame[0] == '_')
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

/* The last " (" of the frame when the frame ends with ")": what follows it is a location. */
static const char *location_paren(const char *frame, size_t n)
{
	const char *p, *last = NULL;

	if (n < 3 || frame[n - 1] != ')')
		return NULL;
	for (p = frame; (p = strstr(p, " (")); p++)
		last = p;
	return last;
}

/* "+0x1a" at the end of [s, s + n): its length, else 0. */
static size_t offset_suffix(const char *s, size_t n)
{
	size_t i = n;

	while (i > 0 && strchr("0123456789abcdef", s[i - 1]))
		i--;
	if (i < n && i >= 3 && strncmp(s + i - 3, "+0x", 3) == 0 && i > 3)
		return n - (i - 3);
	return 0;
}

void frame_parse(const char *frame, struct frame_parts *out)
{
	static const char inl[] = " [inlined]";
	size_t n = strlen(frame), k = sizeof(inl) - 1;
	const char *paren = location_paren(frame, n), *colon;

	memset(out, 0, sizeof(*out));
	out->func = frame;
	out->func_len = paren ? (size_t)(paren - frame) : n;
	if (paren) {
		const char *loc = paren + 2, *end = frame + n - 1;

		colon = memrchr(loc, ':', (size_t)(end - loc));
		if (colon && colon + 1 < end && strspn(colon + 1, "0123456789") == (size_t)(end - colon - 1)) {
			out->file = loc;
			out->file_len = (size_t)(colon - loc);
			out->line = (uint32_t)strtoul(colon + 1, NULL, 10);
		}
	}
	if (out->func_len > k && strncmp(out->func + out->func_len - k, inl, k) == 0) {
		out->inlined = true;
		out->func_len -= k;
	} else if (paren) {
		/* Only a symbol has a location in parentheses: "libfoo.so+0x1234" stays whole. */
		out->func_len -= offset_suffix(out->func, out->func_len);
	}
}
