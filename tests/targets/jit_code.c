// SPDX-License-Identifier: GPL-2.0-only
/* Test target: takes N page faults in generated code placed above every mapped file, as a JIT's. */
#include <inttypes.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "target.h"

/*
 * Usage: jit_code [N] (default 64). Before "go" it writes a loop of machine
 * code into an anonymous executable page placed between the highest mapped
 * file (the dynamic loader, usually) and the stack, where no module holds
 * it. After "go" that code touches N fresh pages, one fault each, all at the
 * code's first instruction; "done" gives its address and whether the page
 * went where it was meant to.
 */

/* x86_64: loop: movb $1,(%rdi); add $4096,%rdi; dec %rsi; jnz loop; ret */
static const unsigned char touch_loop[] = {
	0xc6, 0x07, 0x01,
	0x48, 0x81, 0xc7, 0x00, 0x10, 0x00, 0x00,
	0x48, 0xff, 0xce,
	0x75, 0xf1,
	0xc3,
};

/* The end of the highest file mapping and the start of the stack, from /proc/self/maps. */
static int layout(uintptr_t *files_end, uintptr_t *stack_start)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];

	if (!f)
		return -1;
	*files_end = *stack_start = 0;
	while (fgets(line, sizeof(line), f)) {
		uintptr_t lo, hi;
		char path[256] = "";

		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %*s %*s %*s %*s %255s", &lo, &hi,
			   path) < 2)
			continue;
		if (path[0] == '/' && hi > *files_end)
			*files_end = hi;
		if (strcmp(path, "[stack]") == 0)
			*stack_start = lo;
	}
	fclose(f);
	return *files_end && *stack_start > *files_end ? 0 : -1;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 64, page = sysconf(_SC_PAGESIZE);
	uintptr_t files_end, stack_start, want;
	void (*touch)(char *, long);
	struct rusage before, after;
	char *pages, *code;

	if (page != 4096 || layout(&files_end, &stack_start))
		return 1;
	want = (files_end + (stack_start - files_end) / 2) & ~(uintptr_t)(page - 1);
	code = mmap((void *)want, (size_t)page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	pages = mmap(NULL, (size_t)(n * page), PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (code == MAP_FAILED || pages == MAP_FAILED ||
	    madvise(pages, (size_t)(n * page), MADV_NOHUGEPAGE))
		return 1;
	memcpy(code, touch_loop, sizeof(touch_loop));
	if (mprotect(code, (size_t)page, PROT_READ | PROT_EXEC))
		return 1;
	touch = (void (*)(char *, long))(uintptr_t)code;
	target_ready();
	target_wait();
	getrusage(RUSAGE_SELF, &before);
	touch(pages, n);
	getrusage(RUSAGE_SELF, &after);
	target_done("pages=%ld minflt=%ld code=0x%" PRIxPTR " above_files=%d", n,
		    after.ru_minflt - before.ru_minflt, (uintptr_t)code,
		    (uintptr_t)code > files_end && (uintptr_t)code < stack_start);
	target_wait();
	return 0;
}
