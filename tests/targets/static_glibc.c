// SPDX-License-Identifier: GPL-2.0-only
/* Test target: a statically linked glibc program (no libc.so mapped) that uses malloc. */
#include "target.h"

int main(void)
{
	void *keep = malloc(1 << 20);

	if (!keep)
		return 1;
	target_touch(keep, 1 << 20);
	target_ready();
	target_wait();
	target_done("bytes=%d", 1 << 20);
	target_wait();
	free(keep);
	return 0;
}
