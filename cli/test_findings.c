// SPDX-License-Identifier: GPL-2.0-only
/* Test-only: findings described in MEMSLEUTH_TEST_FINDINGS, added to the live view's windows. */
#include "cli/test_findings.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SPECS 16
#define MAX_ITEMS 32

struct spec {
	int severity;
	const char *kind, *summary;
	const char *keys[MAX_ITEMS];
	int64_t values[MAX_ITEMS];
	size_t nev;
	char *frames[MAX_ITEMS];
	uint32_t nframes;
};

/* Parsed once; kinds and evidence keys point into `text`, which lives as long as the process. */
static struct spec specs[MAX_SPECS];
static size_t nspecs;
static char *text;

static void parse_evidence(struct spec *s, char *list)
{
	char *save = NULL, *kv;

	for (kv = strtok_r(list, ",", &save); kv && s->nev < MAX_ITEMS;
	     kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');

		if (!eq)
			continue;
		*eq = '\0';
		s->keys[s->nev] = kv;
		s->values[s->nev++] = strtoll(eq + 1, NULL, 10);
	}
}

static void parse_frames(struct spec *s, char *list)
{
	char *save = NULL, *fr;

	for (fr = strtok_r(list, ";", &save); fr && s->nframes < MAX_ITEMS;
	     fr = strtok_r(NULL, ";", &save))
		s->frames[s->nframes++] = fr;
}

static void parse_line(char *line)
{
	struct spec *s = &specs[nspecs];
	char *field[5] = { 0 }, *p;
	int i;

	for (i = 0, p = line; i < 5 && p; i++) {
		field[i] = p;
		p = strchr(p, '|');
		if (p)
			*p++ = '\0';
	}
	s->severity = severity_parse(field[0]);
	if (s->severity < 0 || !field[1] || !field[2])
		return;
	s->kind = field[1];
	s->summary = field[2];
	if (field[3])
		parse_evidence(s, field[3]);
	if (field[4])
		parse_frames(s, field[4]);
	nspecs++;
}

static int parse_once(void)
{
	const char *env = getenv("MEMSLEUTH_TEST_FINDINGS");
	char *save = NULL, *line;

	if (text || !env || !*env)
		return 0;
	text = strdup(env);
	if (!text)
		return -ENOMEM;
	for (line = strtok_r(text, "\n", &save); line && nspecs < MAX_SPECS;
	     line = strtok_r(NULL, "\n", &save))
		parse_line(line);
	return 0;
}

int test_findings_add(struct window *w)
{
	size_t i, k;

	if (parse_once())
		return -ENOMEM;
	for (i = 0; i < nspecs; i++) {
		const struct spec *s = &specs[i];
		struct finding *f = window_add_finding(w);

		if (!f)
			return -ENOMEM;
		f->kind = s->kind;
		f->severity = (uint8_t)s->severity;
		if (finding_set_summary(f, "%s", s->summary))
			return -ENOMEM;
		for (k = 0; k < s->nev; k++)
			if (finding_add_int(f, s->keys[k], s->values[k]))
				return -ENOMEM;
		if (s->nframes && finding_set_frames(f, s->frames, s->nframes))
			return -ENOMEM;
	}
	if (nspecs)
		window_sort_findings(w);
	return 0;
}
