// SPDX-License-Identifier: GPL-2.0-only
/* Prints, for each symbol given, the full and the short name memsleuth shows: the test compares them. */
#include "analyzer/names.h"

#include <stdio.h>
#include <stdlib.h>

/* usage: names_check SYMBOL...; prints "full<TAB>short" per symbol. */
int main(int argc, char **argv)
{
	char *full, *brief;
	int i;

	for (i = 1; i < argc; i++) {
		if (names_of_symbol(argv[i], &full, &brief))
			return 1;
		printf("%s\t%s\n", full, brief);
		free(full);
		free(brief);
	}
	return 0;
}
