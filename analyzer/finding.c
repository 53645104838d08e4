// SPDX-License-Identifier: GPL-2.0-only
/* A finding: what a detector concluded about a window, with its evidence. */
#include "analyzer/finding.h"
#include "lib/vec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct evidence *add(struct finding *f, const char *key, uint8_t type)
{
	struct evidence *e = VEC_PUSH(f->ev, f->nev, f->ev_cap);

	if (e) {
		e->key = key;
		e->type = type;
	}
	return e;
}

int finding_add_int(struct finding *f, const char *key, int64_t v)
{
	struct evidence *e = add(f, key, EV_INT);

	if (!e)
		return -ENOMEM;
	e->i = v;
	return 0;
}

int finding_add_real(struct finding *f, const char *key, double v)
{
	struct evidence *e = add(f, key, EV_REAL);

	if (!e)
		return -ENOMEM;
	e->d = v;
	return 0;
}

int finding_add_str(struct finding *f, const char *key, const char *v)
{
	struct evidence *e;
	char *copy = strdup(v);

	if (!copy)
		return -ENOMEM;
	e = add(f, key, EV_STR);
	if (!e) {
		free(copy);
		return -ENOMEM;
	}
	e->s = copy;
	return 0;
}

int finding_set_summary(struct finding *f, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	free(f->summary);
	f->summary = s;
	return 0;
}

int finding_set_frames(struct finding *f, char *const *frames, uint32_t n)
{
	char **copy = calloc(n ? n : 1, sizeof(*copy));
	uint32_t i;

	if (!copy)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		copy[i] = strdup(frames[i]);
		if (!copy[i]) {
			while (i--)
				free(copy[i]);
			free(copy);
			return -ENOMEM;
		}
	}
	for (i = 0; i < f->nframes; i++)
		free(f->frames[i]);
	free(f->frames);
	f->frames = copy;
	f->nframes = n;
	return 0;
}

void finding_clear(struct finding *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->nev; i++)
		free(f->ev[i].s);
	free(f->ev);
	for (i = 0; i < f->nframes; i++)
		free(f->frames[i]);
	free(f->frames);
	free(f->summary);
	memset(f, 0, sizeof(*f));
}

static const char *const severity_names[] = { "info", "warn", "critical" };

const char *severity_name(enum severity s)
{
	return (unsigned int)s < 3 ? severity_names[s] : "?";
}
