// SPDX-License-Identifier: GPL-2.0-only
/* Folded stacks ("root;caller;site BYTES"), the input of flame graph tools. */
#include "cli/print_folded.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct folded {
	char *path;
	int64_t bytes;
};

/* One frame: the function name of "func+0x1a (file.c:42)"; other forms as they are. */
static void put_frame(FILE *f, const char *frame)
{
	const char *paren = strstr(frame, " (");
	const char *plus = strchr(frame, '+');
	size_t n = strlen(frame), i;

	if (paren && plus && plus < paren && plus > frame)
		n = (size_t)(plus - frame);
	else if (paren)
		n = (size_t)(paren - frame);
	/* ';' separates frames and a newline ends the line: neither may come from the target. */
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)frame[i];

		fputc(c == ';' ? ':' : c < 0x20 || c == 0x7f ? '?' : c, f);
	}
}

/* The path from the root to the site, as one line's text; NULL on ENOMEM. */
static char *path_of(const struct stack_stat *s)
{
	uint32_t site = s->def && s->def->site < s->nframes ? s->def->site : 0, k;
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	if (!m)
		return NULL;
	if (s->def && s->def->truncated)
		fputs("[truncated];", m);
	if (!s->nframes)
		fputs("[unknown]", m);
	for (k = s->nframes; k-- > site;) {
		put_frame(m, s->frames[k]);
		if (k > site)
			fputc(';', m);
	}
	if (fclose(m)) {
		free(text);
		return NULL;
	}
	return text;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct folded *)a)->path, ((const struct folded *)b)->path);
}

int print_window_folded(FILE *f, const struct window *w)
{
	struct folded *lines = calloc(w->nstacks + 1, sizeof(*lines));
	size_t i, n = 0;
	int ret = 0;

	if (!lines)
		return -ENOMEM;
	for (i = 0; i < w->nstacks; i++) {
		const struct stack_stat *s = w->stacks[i].cur;

		if (!s || s->kind != STACK_ALLOC || s->bytes <= 0)
			continue;
		lines[n].path = path_of(s);
		if (!lines[n].path) {
			ret = -ENOMEM;
			goto out;
		}
		lines[n++].bytes = s->bytes;
	}
	qsort(lines, n, sizeof(*lines), by_path);
	for (i = 0; i < n; i++) {
		int64_t bytes = lines[i].bytes;

		while (i + 1 < n && strcmp(lines[i].path, lines[i + 1].path) == 0)
			bytes += lines[++i].bytes;
		fprintf(f, "%s %" PRId64 "\n", lines[i].path, bytes);
	}
	ret = fflush(f) || ferror(f) ? -EIO : 0;
out:
	for (i = 0; i < n; i++)
		free(lines[i].path);
	free(lines);
	return ret;
}
