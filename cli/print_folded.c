// SPDX-License-Identifier: GPL-2.0-only
/* Folded stacks ("root;caller;leaf BYTES"), the input of flame graph tools. */
#include "cli/print_folded.h"
#include "analyzer/frames.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

/* One frame: its function's name (analyzer/frames.h), inlined functions too. */
static void put_frame(FILE *f, const char *frame)
{
	struct frame_parts p;
	size_t i;

	frame_parse(frame, &p);
	/* ';' separates frames and a newline ends the line: neither may come from the target. */
	for (i = 0; i < p.func_len; i++) {
		unsigned char c = (unsigned char)p.func[i];

		fputc(c == ';' ? ':' : c < 0x20 || c == 0x7f ? '?' : c, f);
	}
}

int print_window_folded(FILE *f, const struct window *w)
{
	size_t i;
	uint32_t k;

	for (i = 0; i < w->nstacks; i++) {
		const struct stack_stat *s = w->stacks[i].cur;

		if (!s || s->kind != STACK_ALLOC || s->bytes <= 0)
			continue;
		if (!s->nframes)
			fputs("[unknown]", f);
		for (k = s->nframes; k-- > 0;) {
			put_frame(f, s->frames[k]);
			if (k)
				fputc(';', f);
		}
		fprintf(f, " %" PRId64 "\n", s->bytes);
	}
	return fflush(f) || ferror(f) ? -EIO : 0;
}
