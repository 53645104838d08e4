/* SPDX-License-Identifier: GPL-2.0-only */
/* What the fuzz harnesses share: a sink for printer output and invariant checks. */
#ifndef MEMSLEUTH_FUZZ_COMMON_H
#define MEMSLEUTH_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/text_safe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A broken invariant is a bug just like a crash: report it the way libFuzzer
 * reports a crash (abort), so the input is saved as a crasher.
 */
#define FUZZ_CHECK(cond)                                                              \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__,    \
				__LINE__, #cond);                                     \
			abort();                                                      \
		}                                                                     \
	} while (0)

/* Printer output captured in memory, to be checked and freed by one of the checks below. */
struct fuzz_out {
	char *buf;
	size_t len;
	FILE *f;
};

static inline FILE *fuzz_out_open(struct fuzz_out *o)
{
	o->buf = NULL;
	o->len = 0;
	o->f = open_memstream(&o->buf, &o->len);
	if (!o->f)
		abort();
	return o->f;
}

/* Text for a terminal: valid UTF-8, and no control byte but the newline. */
static inline void fuzz_out_check_text(struct fuzz_out *o)
{
	const unsigned char *p;
	size_t i = 0;

	fclose(o->f);
	p = (const unsigned char *)o->buf;
	while (i < o->len) {
		size_t l = utf8_seq_len(p + i, o->len - i);

		FUZZ_CHECK(l > 0);
		FUZZ_CHECK(p[i] >= 0x20 || p[i] == '\n');
		FUZZ_CHECK(p[i] != 0x7f && !(p[i] == 0xc2 && p[i + 1] < 0xa0));
		i += l;
	}
	free(o->buf);
}

/* An error message: one non-empty line of clean text. */
static inline int fuzz_is_clean_line(const char *s)
{
	struct fuzz_out o;

	if (!s[0] || strchr(s, '\n'))
		return 0;
	fputs(s, fuzz_out_open(&o));
	fuzz_out_check_text(&o);
	return 1;
}

/* JSON Lines: every line parses as a JSON object. */
static inline void fuzz_out_check_json(struct fuzz_out *o)
{
	const char *p, *end;

	fclose(o->f);
	for (p = o->buf, end = o->buf + o->len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		json_error_t jerr;
		json_t *j;

		FUZZ_CHECK(nl != NULL);
		j = json_loadb(p, (size_t)(nl - p), 0, &jerr);
		FUZZ_CHECK(json_is_object(j));
		json_decref(j);
		p = nl + 1;
	}
	free(o->buf);
}

#endif
