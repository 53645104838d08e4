// SPDX-License-Identifier: GPL-2.0-only
/* Test target: keeps mmap'd memory from known functions, and maps and unmaps elsewhere. */
#include <sys/mman.h>

#include "target.h"

#define MIB (1UL << 20)

/*
 * After "go":
 *   map_and_unmap_elsewhere()  maps and unmaps 8 x 1 MiB: nothing outstanding;
 *   map_here()                 keeps 8 mappings of 1 MiB (mmap called directly);
 *   big_alloc_here()           keeps 3 malloc'd blocks of 4 MiB (mmap inside malloc);
 *   service::Mapper::map(unsigned long), a C++ name given by an asm label,
 *                              keeps 2 mappings of 1 MiB;
 *   map_then_trim_here()       maps 4 MiB and unmaps its second MiB: 3 MiB kept,
 *                              in two ranges;
 *   remap_origin_here()        maps 1 MiB that remap_grow_here() then grows
 *                              to 3 MiB with mremap (allowed to move).
 * "done" reports the exact bytes and mappings each keeps.
 */
static void *keep[16];

static void *map_one(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		exit(1);
	return p;
}

__attribute__((noinline)) static void map_and_unmap_elsewhere(void)
{
	int i;

	for (i = 0; i < 8; i++) {
		void *p = map_one(MIB);

		target_touch(p, MIB);
		munmap(p, MIB);
	}
}

__attribute__((noinline)) static void map_here(void)
{
	int i;

	for (i = 0; i < 8; i++) {
		keep[i] = map_one(MIB);
		target_touch(keep[i], MIB);
	}
}

__attribute__((noinline)) static void big_alloc_here(void)
{
	int i;

	for (i = 0; i < 3; i++) {
		keep[8 + i] = malloc(4 * MIB);
		target_touch(keep[8 + i], 4 * MIB);
	}
}

void cxx_map(unsigned long n) __asm__("_ZN7service6Mapper3mapEm");

__attribute__((noinline)) void cxx_map(unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		keep[11 + i] = map_one(MIB);
}

__attribute__((noinline)) static void map_then_trim_here(void)
{
	char *p = map_one(4 * MIB);

	target_touch(p, 4 * MIB);
	if (munmap(p + MIB, MIB))
		exit(1);
}

__attribute__((noinline)) static void *remap_origin_here(void)
{
	return map_one(MIB);
}

__attribute__((noinline)) static void *remap_grow_here(void *p)
{
	void *q = mremap(p, MIB, 3 * MIB, MREMAP_MAYMOVE);

	if (q == MAP_FAILED)
		exit(1);
	target_touch(q, 3 * MIB);
	return q;
}

int main(void)
{
	target_ready();
	target_wait();
	map_and_unmap_elsewhere();
	map_here();
	big_alloc_here();
	cxx_map(2);
	map_then_trim_here();
	keep[13] = remap_grow_here(remap_origin_here());
	target_done("map_here=%lu map_here_count=8 cxx=%lu cxx_count=2 big_blocks=3 trimmed=%lu "
		    "trimmed_ranges=2 remapped=%lu",
		    8 * MIB, 2 * MIB, 3 * MIB, 3 * MIB);
	target_wait();
	return 0;
}
