// SPDX-License-Identifier: GPL-2.0-only
/* How a subcommand says it failed: one clean line on stderr, and the contract's exit status. */
#include "cli/commands.h"
#include "cli/print.h"
#include "cli/util.h"
#include "lib/json_text.h"
#include "lib/text_safe.h"

#include <stdarg.h>
#include <stdio.h>

/*
 * Every error line goes through here. Messages quote arguments, paths and
 * what files hold, which can be any byte: one line, nothing a terminal acts on.
 */
static void say(const char *cmd, const char *msg, const char *hint)
{
	char line[1024];

	text_safe_copy(line, sizeof(line), msg);
	if (cmd)
		fprintf(stderr, "memsleuth %s: %s%s\n", cmd, line, hint);
	else
		fprintf(stderr, "memsleuth: %s%s\n", line, hint);
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	char msg[512], hint[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(hint, sizeof(hint), " (see 'memsleuth %s%s--help')", cmd ? cmd : "",
		 cmd ? " " : "");
	say(cmd, msg, hint);
	return EXIT_USAGE;
}

int runtime_error(const char *cmd, bool json, const char *msg)
{
	say(cmd, msg, "");
	/* The message as it is, JSON-escaped: a program reading stdout gets the exact bytes. */
	if (json)
		print_json_line(stdout, json_pack("{s:o}", "error", json_text(msg)));
	return EXIT_RUNTIME;
}
