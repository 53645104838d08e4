/* SPDX-License-Identifier: GPL-2.0-only */
/* For arena test targets: their own malloc's figures, written where the test reads them. */
#ifndef MEMSLEUTH_TEST_MALLOC_REPORT_H
#define MEMSLEUTH_TEST_MALLOC_REPORT_H

#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/*
 * Opens INFO_PATH with a static buffer, so that writing malloc_info to it
 * later allocates nothing. Returns the file, or NULL.
 */
static inline FILE *malloc_report_open(const char *path)
{
	static char buf[1 << 20];
	FILE *f = fopen(path, "w");

	if (f && setvbuf(f, buf, _IOFBF, sizeof(buf))) {
		fclose(f);
		return NULL;
	}
	return f;
}

/*
 * Answers an "info" request: malloc_info() replaces the file's contents, and
 * stdout gets "info fordblks=N fsmblks=N arena=N" from mallinfo2, whose sums
 * over the arenas mask the flag bits that malloc_info's "rest" keeps.
 * Returns 0, or -1 when the file cannot be rewritten.
 */
static inline int malloc_report(FILE *info)
{
	struct mallinfo2 mi;

	rewind(info);
	if (ftruncate(fileno(info), 0))
		return -1;
	malloc_info(0, info);
	fflush(info);
	mi = mallinfo2();
	printf("info fordblks=%zu fsmblks=%zu arena=%zu\n", mi.fordblks, mi.fsmblks, mi.arena);
	fflush(stdout);
	return 0;
}

/*
 * Answers the test's lines after "done": "info" (malloc_report) or, when
 * `other` is given and takes it (returns 1), a line of the target's own;
 * anything else, or the end of input, ends the loop. Returns 0, or -1.
 */
static inline int malloc_report_serve(FILE *info, int (*other)(const char *line))
{
	char line[64];

	while (fgets(line, sizeof(line), stdin)) {
		if (other && other(line))
			continue;
		if (strncmp(line, "info", 4) != 0)
			break;
		if (malloc_report(info))
			return -1;
	}
	return 0;
}

#endif
