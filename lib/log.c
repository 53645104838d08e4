// SPDX-License-Identifier: GPL-2.0-only
/* memsleuth's logger: one-line messages on stderr, libbpf's output routed through it. */
#include "lib/log.h"
#include "lib/text_safe.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Held messages beyond this many bytes are dropped, and the drop is reported. */
#define HOLD_MAX (64 * 1024)

static enum log_level current = LOG_INFO;
static bool holding;
static char *held;
static size_t held_len;
static size_t held_dropped;

void log_set_level(enum log_level level)
{
	current = level;
}

enum log_level log_get_level(void)
{
	return current;
}

void log_hold(void)
{
	holding = true;
}

void log_release(void)
{
	holding = false;
	if (held_len)
		fwrite(held, 1, held_len, stderr);
	if (held_dropped)
		fprintf(stderr, "memsleuth: %zu more messages were dropped\n", held_dropped);
	free(held);
	held = NULL;
	held_len = 0;
	held_dropped = 0;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	if (level > current)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	/* Messages quote comm, paths and libbpf output: one line, nothing a terminal acts on. */
	text_safe_copy(line, sizeof(line) - 1, line);
	n = (int)strlen(line);
	line[n++] = '\n';
	line[n] = '\0';
	if (!holding) {
		fprintf(stderr, "memsleuth: %s", line);
		return;
	}
	if (held_len + (size_t)n + 12 > HOLD_MAX) {
		held_dropped++;
		return;
	}
	if (!held && !(held = malloc(HOLD_MAX))) {
		held_dropped++;
		return;
	}
	held_len += (size_t)snprintf(held + held_len, HOLD_MAX - held_len, "memsleuth: %s", line);
}
