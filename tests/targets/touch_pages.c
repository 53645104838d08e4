// SPDX-License-Identifier: GPL-2.0-only
/* Test target: takes exactly N page faults in touch_pages_here(), on one fresh mapping. */
#include <sys/mman.h>
#include <sys/resource.h>

#include "target.h"

/*
 * Usage: touch_pages [N] (default 512). The mapping is made before "go" and
 * kept from huge pages, so that after "go" each of the N pages written costs
 * exactly one fault, in touch_pages_here().
 */
__attribute__((noinline)) static void touch_pages_here(volatile char *p, long n, long page)
{
	long i;

	for (i = 0; i < n; i++)
		p[i * page] = 1;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 512, page = sysconf(_SC_PAGESIZE);
	struct rusage before, after;
	char *p = mmap(NULL, (size_t)(n * page), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || madvise(p, (size_t)(n * page), MADV_NOHUGEPAGE))
		return 1;
	target_ready();
	target_wait();
	getrusage(RUSAGE_SELF, &before);
	touch_pages_here(p, n, page);
	getrusage(RUSAGE_SELF, &after);
	target_done("pages=%ld minflt=%ld", n, after.ru_minflt - before.ru_minflt);
	target_wait();
	return 0;
}
