// SPDX-License-Identifier: GPL-2.0-only
/* Function names the way a reader wants them: C++, Rust and Zig names without their template and parameter noise. */
#include "analyzer/names.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libiberty/demangle.h>

/* Characters an operator's symbol is made of ("operator<<=", "operator->*"). */
#define OPERATOR_SYMBOLS "<>=!+-*/%^&|~,"

/* Index past the group opened at s[i] (balanced), or the end of s. */
static size_t skip_group(const char *s, size_t i, char open, char close)
{
	int depth = 0;

	for (; s[i]; i++) {
		if (s[i] == open)
			depth++;
		else if (s[i] == close && --depth == 0)
			return i + 1;
	}
	return i;
}

static bool ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '$';
}

/* Whether a '<' written now would open a path (Rust's "<T as Trait>::f"), not template arguments. */
static bool at_segment_start(const char *out, size_t n)
{
	return n == 0 || out[n - 1] == '<' || (n >= 2 && out[n - 1] == ':' && out[n - 2] == ':');
}

/* "<core::fmt::Formatter>::pad" -> "core::fmt::Formatter::pad": brackets with no trait say nothing. */
static void unwrap_path(char *out, size_t *n)
{
	size_t close = 1;
	int depth = 1;

	if (*n < 2 || out[0] != '<')
		return;
	for (; close < *n && depth; close++)
		depth += out[close] == '<' ? 1 : out[close] == '>' ? -1 : 0;
	if (depth || strncmp(out + close, "::", 2) != 0 || memmem(out, close, " as ", 4))
		return;
	memmove(out + close - 1, out + close, *n - close + 1);
	memmove(out, out + 1, *n - 1);
	*n -= 2;
}

/* The length of the operator token at s ("operator()" -> 10, "operator<<" -> 10); 0 if none. */
static size_t operator_token(const char *s, const char *start)
{
	size_t n = strlen("operator");

	if (strncmp(s, "operator", n) != 0 || ident_char(s[n]) ||
	    (s > start && ident_char(s[-1])))
		return 0;
	if (strncmp(s + n, "()", 2) == 0 || strncmp(s + n, "[]", 2) == 0)
		return n + 2;
	while (s[n] && strchr(OPERATOR_SYMBOLS, s[n]))
		n++;
	/* "operator new[]", "operator delete", "operator int": the word follows normally. */
	return n;
}

/* Drops qualifiers that follow a dropped parameter list: " const", " &&", ... */
static void trim_qualifiers(char *out, size_t *n)
{
	static const char *const quals[] = { " const", " volatile", " &&", " &", " noexcept",
					     " ", NULL };
	bool again = true;
	size_t i;

	while (again) {
		again = false;
		for (i = 0; quals[i]; i++) {
			size_t k = strlen(quals[i]);

			if (*n >= k && memcmp(out + *n - k, quals[i], k) == 0) {
				*n -= k;
				again = true;
			}
		}
	}
	out[*n] = '\0';
}

/* Rust's legacy mangling ends a path with "::h" and 16 hex digits, a hash of the crate. */
static void trim_rust_hash(char *out, size_t *n)
{
	size_t i;

	if (*n < 19 || memcmp(out + *n - 19, "::h", 3) != 0)
		return;
	for (i = *n - 16; i < *n; i++)
		if (!isxdigit((unsigned char)out[i]))
			return;
	*n -= 19;
	out[*n] = '\0';
}

static size_t shorten(const char *in, char *out)
{
	size_t i = 0, n = 0, k;
	int kept = 0;

	while (in[i]) {
		char c = in[i];

		if ((k = operator_token(in + i, in))) {
			memcpy(out + n, in + i, k);
			n += k;
			i += k;
		} else if (c == '<' && at_segment_start(out, n)) {
			out[n++] = c;
			kept++;
			i++;
		} else if (c == '<') {
			i = skip_group(in, i, '<', '>');
		} else if (c == '>' && kept > 0) {
			out[n++] = c;
			kept--;
			i++;
		} else if (c == '(' && strncmp(in + i, "(anonymous namespace)", 21) == 0) {
			memcpy(out + n, in + i, 21);
			n += 21;
			i += 21;
		} else if (c == '(') {
			i = skip_group(in, i, '(', ')');
		} else if (c == '{') {
			/* A lambda's or closure's name: its parameters are part of it. */
			k = skip_group(in, i, '{', '}');
			memcpy(out + n, in + i, k - i);
			n += k - i;
			i = k;
		} else if (c == ' ' && strncmp(in + i, " [clone ", 8) == 0) {
			break;
		} else {
			out[n++] = c;
			i++;
		}
	}
	out[n] = '\0';
	trim_qualifiers(out, &n);
	trim_rust_hash(out, &n);
	unwrap_path(out, &n);
	return n;
}

int names_of_symbol(const char *raw, char **full, char **brief)
{
	char *dem = cplus_demangle(raw, DMGL_PARAMS | DMGL_ANSI);
	char *bare = cplus_demangle(raw, DMGL_ANSI | DMGL_RET_DROP);
	char shortened[1024];

	*full = dem ? dem : strdup(raw);
	*brief = strdup(names_shorten(bare ? bare : *full ? *full : raw, shortened,
				      sizeof(shortened)));
	free(bare);
	if (!*full || !*brief) {
		free(*full);
		free(*brief);
		*full = *brief = NULL;
		return -ENOMEM;
	}
	return 0;
}

char *names_shorten(const char *in, char *out, size_t len)
{
	size_t n;
	char *buf;

	if (!len)
		return out;
	buf = malloc(strlen(in) + 1);
	if (!buf) {
		snprintf(out, len, "%s", in);
		return out;
	}
	n = shorten(in, buf);
	if (n < len) {
		memcpy(out, buf, n + 1);
	} else if (len > 4) {
		/* Too long still: the function's own name is at the end, so the start goes. */
		memcpy(out, "...", 3);
		memcpy(out + 3, buf + n - (len - 4), len - 4);
		out[len - 1] = '\0';
	} else {
		out[0] = '\0';
	}
	free(buf);
	return out;
}
