// SPDX-License-Identifier: GPL-2.0-only
/* A stack's frames as resolved once: text, per-frame identity, the site that names the program, truncation. */
#include "analyzer/stack.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct stack_frames *stack_frames_new(uint32_t n, uint32_t nmodules)
{
	struct stack_frames *d = calloc(1, sizeof(*d));
	uint32_t i;

	if (!d)
		return NULL;
	d->refs = 1;
	d->f = calloc(n ? n : 1, sizeof(*d->f));
	d->text = calloc((size_t)n + 1, sizeof(*d->text));
	d->modules = calloc(nmodules ? nmodules : 1, sizeof(*d->modules));
	if (!d->f || !d->text || !d->modules) {
		stack_frames_unref(d);
		errno = ENOMEM;
		return NULL;
	}
	d->n = n;
	d->nmodules = nmodules;
	for (i = 0; i < n; i++)
		d->f[i].module = -1;
	return d;
}

struct stack_frames *stack_frames_ref(struct stack_frames *d)
{
	__atomic_add_fetch(&d->refs, 1, __ATOMIC_RELAXED);
	return d;
}

void stack_frames_unref(struct stack_frames *d)
{
	uint32_t i;

	if (!d || __atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (i = 0; d->f && i < d->n; i++)
		stack_frame_clear(&d->f[i]);
	for (i = 0; d->modules && i < d->nmodules; i++) {
		free(d->modules[i].path);
		free(d->modules[i].build_id);
	}
	free(d->f);
	free(d->text);
	free(d->modules);
	free(d);
}

void stack_frame_clear(struct stack_frame *f)
{
	free(f->text);
	free(f->name);
	free(f->function);
	free(f->symbol);
	free(f->file);
	f->text = f->name = f->function = f->symbol = f->file = NULL;
}

int stack_frames_seal(struct stack_frames *d)
{
	uint32_t i;

	for (i = 0; i < d->n; i++) {
		if (!d->f[i].text)
			return -EINVAL;
		d->text[i] = d->f[i].text;
	}
	d->text[d->n] = NULL;
	return 0;
}

struct stack_frames *stack_frames_from_text(char *const *text, uint32_t n, bool truncated)
{
	struct stack_frames *d = stack_frames_new(n, 0);
	uint32_t i;

	if (!d)
		return NULL;
	for (i = 0; i < n; i++) {
		d->f[i].text = strdup(text[i] ? text[i] : "?");
		if (!d->f[i].text) {
			stack_frames_unref(d);
			errno = ENOMEM;
			return NULL;
		}
	}
	d->truncated = truncated;
	stack_frames_seal(d);
	return d;
}

const char *stack_frame_module(const struct stack_frames *d, uint32_t i)
{
	int32_t m = i < d->n ? d->f[i].module : -1;

	return m >= 0 && (uint32_t)m < d->nmodules ? d->modules[m].path : NULL;
}

const char *stack_frame_name(const struct stack_frames *d, uint32_t i, char *buf, size_t len)
{
	const char *t, *end;

	if (i >= d->n) {
		snprintf(buf, len, "?");
		return buf;
	}
	if (d->f[i].name) {
		snprintf(buf, len, "%s", d->f[i].name);
		return buf;
	}
	/* "func+0x1a (f.c:3)", "func [inlined] (f.c:3)", "lib.so+0x12", "0x7f12": up to the offset. */
	t = d->f[i].text;
	end = strstr(t, "+0x");
	if (!end)
		end = strstr(t, " [inlined]");
	if (!end)
		end = strstr(t, " (");
	if (!end)
		end = t + strlen(t);
	snprintf(buf, len, "%.*s", (int)(end - t), t);
	return buf;
}
