// SPDX-License-Identifier: GPL-2.0-only
/* Which malloc a statically linked executable carries, judged from the strings in it. */
#include "collectors/exe_allocator.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_EXE ((size_t)256 << 20)

static bool has(const void *image, size_t len, const char *s)
{
	return memmem(image, len, s, strlen(s)) != NULL;
}

enum allocator_kind exe_allocator_judge(const void *image, size_t len)
{
	if (len < 4 || memcmp(image, "\177ELF", 4) != 0)
		return ALLOC_UNKNOWN;
	/* A replacement allocator linked in wins: glibc's malloc is then unused. */
	if (has(image, len, "<jemalloc>: "))
		return ALLOC_JEMALLOC;
	if (has(image, len, "TCMALLOC_"))
		return ALLOC_TCMALLOC;
	if (has(image, len, "mimalloc: "))
		return ALLOC_MIMALLOC;
	if (has(image, len, "malloc(): corrupted top size") && has(image, len, "GLIBC_TUNABLES"))
		return ALLOC_GLIBC;
	return ALLOC_UNKNOWN;
}

enum allocator_kind exe_allocator_detect(const struct proc_target *t)
{
	enum allocator_kind k = ALLOC_UNKNOWN;
	struct stat st;
	void *image;
	int fd;

	fd = openat(t->dirfd, "exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ALLOC_UNKNOWN;
	if (fstat(fd, &st) == 0 && st.st_size > 0 && (size_t)st.st_size <= MAX_EXE) {
		image = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (image != MAP_FAILED) {
			k = exe_allocator_judge(image, (size_t)st.st_size);
			munmap(image, (size_t)st.st_size);
		}
	}
	close(fd);
	return k;
}
