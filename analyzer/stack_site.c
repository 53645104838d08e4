// SPDX-License-Identifier: GPL-2.0-only
/* Which frame of a stack names the program's code (its site), and whether a stack reached its root. */
#include "analyzer/stack_site.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct site_rules {
	char **skip;
	size_t n;
};

/* File names (up to their first '.', '-' or '_' that ends the prefix) of runtime modules. */
static const char *const runtime_modules[] = {
	"libc.so", "libc-", "ld-linux", "ld-2.", "ld64.so", "ld-musl", "libc.musl", "libm.so",
	"libm-", "libpthread", "libdl.so", "libdl-", "librt.so", "librt-", "libstdc++", "libc++",
	"libgcc_s", "libjemalloc", "libtcmalloc", "libmimalloc", "libasan", "liblsan", "libtsan",
	"libhwasan", "[vdso", NULL,
};

/* Public names of C library functions a growth stack starts in (statically linked programs). */
static const char *const libc_names[] = {
	"brk", "sbrk", "mmap", "mmap64", "mremap", "munmap", "sysmalloc", "sysmalloc_mmap",
	"free", "posix_memalign", "memalign", "aligned_alloc", "valloc", "pvalloc", "tcache_init",
	"malloc_consolidate", "alloc_new_heap", "new_heap", "memset", "memcpy", "memmove", "strdup",
	"strndup", "socket", "socketpair", "accept", "accept4", "open", "open64", "openat",
	"openat64", "creat", "fopen", "fopen64", "fdopen", "pipe", "pipe2", "dup", "dup2", "dup3",
	"fcntl", "fcntl64", "eventfd", "epoll_create", "epoll_create1", "timerfd_create",
	"signalfd", "inotify_init", "inotify_init1", "memfd_create", "syscall", NULL,
};

/* glibc's allocator and thread-start sources, whose internal functions carry plain names. */
static const char *const libc_files[] = {
	"malloc.c", "arena.c", "hooks.c", "morecore.c", "pthread_create.c", "clone.S", "clone3.S",
	"mmap64.c", "mremap.c", "brk.c", "sbrk.c", "syscall-template.S", "libc-start.c",
	"libc_start_call_main.h", NULL,
};

/* Namespaces of the language runtimes' own code, often instantiated inside the program. */
static const char *const runtime_prefixes[] = {
	"std::", "__gnu_cxx::", "__cxxabiv1::", "__cxa_", "operator new", "operator delete",
	"alloc::", "<alloc::", "<std::", "<core::", "<hashbrown::", "core::alloc::", "core::ptr::",
	"hashbrown::", "__rust_", "__rdl_", "__rg_", "heap.", "mem.Allocator", "array_list.",
	"hash_map.", "__", NULL,
};

/* Allocator wrappers by their own name (case ignored). */
static const char *const wrapper_globs[] = {
	"*malloc*", "*calloc*", "*realloc*", "*zalloc*", "*_alloc", "*strdup", "*strndup",
	"*memdup*", NULL,
};

/* Where a process or thread starts: a stack ending here is whole. */
static const char *const root_names[] = {
	"_start", "__libc_start_main", "__libc_start_main_impl", "__libc_start_call_main", "main",
	"start_thread", "clone", "clone3", "__clone", "__clone3", "__clone_internal",
	"thread_start", NULL,
};

struct site_rules *site_rules_new(void)
{
	return calloc(1, sizeof(struct site_rules));
}

int site_rules_skip(struct site_rules *r, const char *pattern)
{
	char **grown, *copy;

	if (!pattern || !*pattern)
		return -EINVAL;
	copy = strdup(pattern);
	grown = copy ? realloc(r->skip, (r->n + 1) * sizeof(*grown)) : NULL;
	if (!grown) {
		free(copy);
		return -ENOMEM;
	}
	r->skip = grown;
	r->skip[r->n++] = copy;
	return 0;
}

void site_rules_free(struct site_rules *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		free(r->skip[i]);
	free(r->skip);
	free(r);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static bool in_list(const char *name, const char *const *list)
{
	size_t i;

	for (i = 0; list[i]; i++)
		if (strcmp(name, list[i]) == 0)
			return true;
	return false;
}

static bool has_prefix(const char *name, const char *const *list)
{
	size_t i;

	for (i = 0; list[i]; i++)
		if (strncmp(name, list[i], strlen(list[i])) == 0)
			return true;
	return false;
}

/* The function's own name: the last part of "ns::Class::name" (or Zig's "ns.Type.name"). */
static const char *own_name(const char *name)
{
	const char *colons = NULL, *p;

	for (p = name; (p = strstr(p, "::")); p += 2)
		colons = p + 2;
	return colons ? colons : name;
}

/* GCC's clones ("sysmalloc_mmap.constprop.0") are the function they clone. */
static void strip_clone(char *name)
{
	char *dot = strchr(name, '.');

	if (dot && (strncmp(dot, ".constprop", 10) == 0 || strncmp(dot, ".isra", 5) == 0 ||
		    strncmp(dot, ".part", 5) == 0 || strncmp(dot, ".cold", 5) == 0))
		*dot = '\0';
}

/* Whether frame i's source file (its own, or the text's "(file.c:3)") is one of libc_files. */
static bool in_libc_file(const struct stack_frame *f)
{
	const char *open, *colon;
	size_t i, n;

	if (f->file)
		return in_list(base_name(f->file), libc_files);
	open = strstr(f->text, " (");
	if (!open || !(colon = strchr(open, ':')))
		return false;
	open += 2;
	n = (size_t)(colon - open);
	for (i = 0; libc_files[i]; i++)
		if (strlen(libc_files[i]) == n && strncmp(open, libc_files[i], n) == 0)
			return true;
	return false;
}

static bool user_skips(const char *name, const char *module, const struct site_rules *r)
{
	size_t i;

	for (i = 0; r && i < r->n; i++)
		if (fnmatch(r->skip[i], name, 0) == 0 || fnmatch(r->skip[i], own_name(name), 0) == 0 ||
		    (module && fnmatch(r->skip[i], base_name(module), 0) == 0))
			return true;
	return false;
}

bool stack_site_skips(const struct stack_frames *d, uint32_t i, const struct site_rules *r)
{
	const char *module = stack_frame_module(d, i);
	char name[512];
	size_t k;

	stack_frame_name(d, i, name, sizeof(name));
	strip_clone(name);
	if (module && has_prefix(base_name(module), runtime_modules))
		return true;
	/* A frame read from an old recording names its module only when it has no symbol. */
	if (!module && d->f[i].pc == 0 && (name[0] == '_' || strstr(d->f[i].text, "(libc.so")))
		return true;
	if (in_list(name, libc_names) || has_prefix(name, runtime_prefixes) ||
	    in_libc_file(&d->f[i]))
		return true;
	for (k = 0; wrapper_globs[k]; k++)
		if (fnmatch(wrapper_globs[k], own_name(name), FNM_CASEFOLD) == 0)
			return true;
	return user_skips(name, module, r);
}

void stack_site_find(struct stack_frames *d, const struct site_rules *r)
{
	uint32_t i;

	for (i = 0; i < d->n; i++) {
		if (!stack_site_skips(d, i, r)) {
			d->site = i;
			return;
		}
	}
	d->site = d->n ? d->n - 1 : 0;
}

const char *stack_site_name(const struct stack_frames *d, char *buf, size_t len)
{
	const struct stack_frame *f;

	if (!d || !d->n) {
		snprintf(buf, len, "an unknown stack");
		return buf;
	}
	f = &d->f[d->site < d->n ? d->site : 0];
	/*
	 * Without a symbol the text is a module and offset or an address: each is
	 * a site of its own, not one per module. With one, a location or module
	 * follows the name ("func+0x1a (f.c:3)"), also in a frame read as text.
	 */
	if (!f->name && !f->function && !strstr(f->text, " (") && !strstr(f->text, " [inlined]")) {
		snprintf(buf, len, "%s", f->text);
		return buf;
	}
	return stack_frame_name(d, d->site < d->n ? d->site : 0, buf, len);
}

bool stack_site_reaches_root(const struct stack_frames *d)
{
	char name[512];

	if (!d->n)
		return false;
	stack_frame_name(d, d->n - 1, name, sizeof(name));
	strip_clone(name);
	return in_list(name, root_names);
}
