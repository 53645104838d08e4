// SPDX-License-Identifier: GPL-2.0-only
/* Test target: holds N separate one-page mappings (default 20,000), each touched. */
#include <sys/mman.h>

#include "target.h"

/*
 * Usage: many_maps [N]. Neighbouring pages alternate between read-write and
 * read-only so the kernel cannot merge them into fewer VMAs.
 */
int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000, i;
	char *base;

	base = mmap(NULL, (size_t)n * 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return 1;
	for (i = 0; i < n; i++) {
		base[i * 4096] = 1;
		if (i % 2 && mprotect(base + i * 4096, 4096, PROT_READ))
			return 1;
	}
	target_ready();
	target_wait();
	target_done("maps=%ld", n);
	target_wait();
	return 0;
}
