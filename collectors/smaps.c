// SPDX-License-Identifier: GPL-2.0-only
/* Parser for /proc/PID/smaps and smaps_rollup text, live or saved to a file. */
#include "collectors/smaps.h"
#include "lib/vec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * The parser runs on every tick against processes with tens of thousands of
 * mappings, so it walks the text once with memchr and hand-rolled number
 * parsing; strtoull and sscanf cost several times more here.
 */

static void set_error(struct parse_error *err, size_t line, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parses hex digits at *p up to `end`; advances *p. False when there are none or too many. */
static bool parse_hex(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int d, n = 0;

	while (s < end && (d = hexval(*s)) >= 0) {
		if (++n > 16)
			return false;
		v = (v << 4) | (uint64_t)d;
		s++;
	}
	if (n == 0)
		return false;
	*p = s;
	*out = v;
	return true;
}

static bool parse_dec(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int n = 0;

	while (s < end && *s >= '0' && *s <= '9') {
		if (++n > 19)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		s++;
	}
	if (n == 0)
		return false;
	*p = s;
	*out = v;
	return true;
}

static const char *skip_spaces(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* "start-end perms offset major:minor inode [path]" */
static int parse_header(const char *p, const char *end, struct vma *v)
{
	const char *path;
	uint64_t major, minor;
	int i;

	if (!parse_hex(&p, end, &v->start) || p >= end || *p++ != '-' ||
	    !parse_hex(&p, end, &v->end) || v->end < v->start)
		return -1;
	p = skip_spaces(p, end);
	for (i = 0; i < 4; i++) {
		if (p >= end || *p == '\0' || !strchr("rwxsp-", *p))
			return -1;
		v->perms[i] = *p++;
	}
	v->perms[4] = '\0';
	p = skip_spaces(p, end);
	if (!parse_hex(&p, end, &v->offset))
		return -1;
	p = skip_spaces(p, end);
	if (!parse_hex(&p, end, &major) || p >= end || *p++ != ':' ||
	    !parse_hex(&p, end, &minor) || major > UINT32_MAX || minor > UINT32_MAX)
		return -1;
	v->dev_major = (uint32_t)major;
	v->dev_minor = (uint32_t)minor;
	p = skip_spaces(p, end);
	if (!parse_dec(&p, end, &v->inode))
		return -1;
	if (p < end && *p != ' ' && *p != '\t')
		return -1;
	path = skip_spaces(p, end);
	v->path = NULL;
	if (path < end) {
		v->path = strndup(path, (size_t)(end - path));
		if (!v->path)
			return -ENOMEM;
	}
	return 0;
}

/* True for a line that starts a mapping: a lowercase-hex address and a dash. */
static bool is_header_line(const char *p, const char *end)
{
	const char *s = p;

	while (s < end && hexval(*s) >= 0 && !(*s >= 'A' && *s <= 'F'))
		s++;
	return s > p && s < end && *s == '-';
}

/* A table, not four comparisons: names are a third of every line's bytes. */
static const bool name_chars[256] = {
	['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true, ['_'] = true,
};

static bool is_name_char(char c)
{
	return name_chars[(unsigned char)c];
}

/*
 * A field line: "Name:   123 kB" or "VmFlags: rd wr". Returns the field's
 * byte value through *bytes when it has a kB figure. -1 when malformed.
 */
static int parse_field(const char *p, const char *end, const char **name, size_t *namelen,
		       uint64_t *bytes, bool *has_kb)
{
	const char *colon = memchr(p, ':', (size_t)(end - p));
	const char *s;
	uint64_t v;

	if (!colon || colon == p)
		return -1;
	for (s = p; s < colon; s++)
		if (!is_name_char(*s))
			return -1;
	*name = p;
	*namelen = (size_t)(colon - p);
	*has_kb = false;
	s = skip_spaces(colon + 1, end);
	/* Fields are "Name: <n> kB" or free-form text (VmFlags, THPeligible). */
	if (s < end && *s >= '0' && *s <= '9' && parse_dec(&s, end, &v)) {
		s = skip_spaces(s, end);
		if (end - s == 2 && s[0] == 'k' && s[1] == 'B') {
			if (v > UINT64_MAX / 1024)
				return -1;
			*bytes = v * 1024;
			*has_kb = true;
		}
	}
	return 0;
}

#define FIELD_IS(n, len, lit) ((len) == sizeof(lit) - 1 && memcmp((n), (lit), (len)) == 0)

/*
 * A figure line exactly as the kernel prints it, "Name:<spaces><digits> kB\n",
 * read in one pass that finds its newline on the way: nine lines of ten in
 * smaps are such, and looking for the newline and the colon with memchr first
 * cost as much as the parse itself. Returns the line's newline, with the
 * field's name and value; NULL for any other line (or one cut short), which
 * the general path then reads.
 */
static const char *figure_line(const char *p, const char *end, const char **name,
			       size_t *namelen, uint64_t *bytes)
{
	const char *s = p;
	uint64_t v = 0;
	int digits = 0;

	while (s < end && is_name_char(*s))
		s++;
	if (s == p || s >= end || *s != ':')
		return NULL;
	*name = p;
	*namelen = (size_t)(s - p);
	/* The kernel pads names to a column with a dozen spaces or more: skip them 8 at a time. */
	for (s++; end - s >= 8; s += 8) {
		uint64_t w;

		memcpy(&w, s, sizeof(w));
		if (w != 0x2020202020202020ull)
			break;
	}
	for (; s < end && *s == ' '; s++)
		;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (++digits > 19)
			return NULL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (!digits || end - s < 4 || memcmp(s, " kB\n", 4) != 0 || v > UINT64_MAX / 1024)
		return NULL;
	*bytes = v * 1024;
	return s + 3;
}

/* Fields memsleuth uses must carry a figure; the others may be free text. */
static bool is_figure_field(const char *name, size_t len)
{
	return FIELD_IS(name, len, "Size") || FIELD_IS(name, len, "Rss") ||
	       FIELD_IS(name, len, "Pss") || FIELD_IS(name, len, "Private_Dirty") ||
	       FIELD_IS(name, len, "Private_Clean") || FIELD_IS(name, len, "Shared_Dirty") ||
	       FIELD_IS(name, len, "Shared_Clean") || FIELD_IS(name, len, "Anonymous") ||
	       FIELD_IS(name, len, "Swap");
}

static void store_field(struct vma *v, const char *name, size_t len, uint64_t bytes)
{
	switch (name[0]) {
	case 'R':
		if (FIELD_IS(name, len, "Rss"))
			v->rss = bytes;
		break;
	case 'P':
		if (FIELD_IS(name, len, "Pss"))
			v->pss = bytes;
		else if (FIELD_IS(name, len, "Private_Dirty"))
			v->private_dirty = bytes;
		else if (FIELD_IS(name, len, "Private_Clean"))
			v->private_clean = bytes;
		break;
	case 'S':
		if (FIELD_IS(name, len, "Swap"))
			v->swap = bytes;
		else if (FIELD_IS(name, len, "Shared_Dirty"))
			v->shared_dirty = bytes;
		else if (FIELD_IS(name, len, "Shared_Clean"))
			v->shared_clean = bytes;
		break;
	case 'A':
		if (FIELD_IS(name, len, "Anonymous"))
			v->anon = bytes;
		break;
	}
}

/*
 * Mapping paths may hold any byte but NUL and newline (the kernel escapes
 * only those), so only NUL marks binary input; the line parser rejects the rest.
 */
static int check_text(const char *buf, size_t len, struct parse_error *err)
{
	if (len == 0) {
		set_error(err, 0, "empty input: not a smaps file");
		return -EINVAL;
	}
	if (memchr(buf, '\0', len)) {
		set_error(err, 0, "binary data: not a smaps file");
		return -EINVAL;
	}
	return 0;
}

/* Parser state carried from line to line, so that text can arrive in pieces. */
struct smaps_state {
	struct vma_list *out;
	size_t lineno, nfields;
	bool any_rss;
	size_t cur_line;	/* the current mapping's header line */
	bool cur_rss;		/* it has its Rss: line */
	size_t bad_line;	/* the first mapping without one (a file cut short); 0 none */
};

/* One line, without its newline. Returns 0, -EINVAL with `err`, or -ENOMEM. */
static int smaps_line(struct smaps_state *st, const char *p, const char *eol,
		      struct parse_error *err)
{
	struct vma_list *out = st->out;
	const char *name;
	size_t namelen;
	uint64_t bytes = 0;
	bool has_kb;
	struct vma *cur;
	int ret;

	st->lineno++;
	if (eol == p)
		return 0;
	if (is_header_line(p, eol)) {
		if (out->n && !st->cur_rss && !st->bad_line)
			st->bad_line = st->cur_line;
		st->cur_line = st->lineno;
		st->cur_rss = false;
		cur = VEC_PUSH(out->v, out->n, out->cap);
		if (!cur)
			return -ENOMEM;
		ret = parse_header(p, eol, cur);
		if (ret == -ENOMEM)
			return ret;
		if (ret) {
			out->n--;
			set_error(err, st->lineno, "malformed mapping line");
			return -EINVAL;
		}
		if (cur->path && strcmp(cur->path, "[rollup]") == 0) {
			set_error(err, st->lineno,
				  "this is smaps_rollup, which has no per-mapping data; "
				  "save /proc/PID/smaps instead");
			return -EINVAL;
		}
		return 0;
	}
	if (out->n == 0) {
		set_error(err, st->lineno,
			  "expected a mapping line (\"start-end perms offset dev inode path\")");
		return -EINVAL;
	}
	if (parse_field(p, eol, &name, &namelen, &bytes, &has_kb)) {
		set_error(err, st->lineno, "malformed field line");
		return -EINVAL;
	}
	if (!has_kb && is_figure_field(name, namelen)) {
		set_error(err, st->lineno, "field %.*s has no \"<number> kB\" figure", (int)namelen,
			  name);
		return -EINVAL;
	}
	st->nfields++;
	if (has_kb) {
		if (FIELD_IS(name, namelen, "Rss"))
			st->any_rss = st->cur_rss = true;
		store_field(&out->v[out->n - 1], name, namelen, bytes);
	}
	return 0;
}

/* Parses every complete line in [p, end); returns where the unfinished last line starts. */
static int smaps_lines(struct smaps_state *st, const char *p, const char *end, bool last,
		       const char **rest, struct parse_error *err)
{
	int ret;

	while (p < end) {
		const char *nl, *name;
		size_t namelen;
		uint64_t bytes;

		if (st->out->n && (nl = figure_line(p, end, &name, &namelen, &bytes))) {
			st->lineno++;
			st->nfields++;
			if (FIELD_IS(name, namelen, "Rss"))
				st->any_rss = st->cur_rss = true;
			store_field(&st->out->v[st->out->n - 1], name, namelen, bytes);
			p = nl + 1;
			continue;
		}
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl && !last)
			break;
		ret = smaps_line(st, p, nl ? nl : end, err);
		if (ret)
			return ret;
		p = nl ? nl + 1 : end;
	}
	*rest = p;
	return 0;
}

static int smaps_finish(const struct smaps_state *st, struct parse_error *err)
{
	if (st->out->n == 0) {
		set_error(err, 0, "no mappings found: not a smaps file");
		return -EINVAL;
	}
	if (st->nfields == 0 || !st->any_rss) {
		set_error(err, 0,
			  "no Rss: fields: this looks like /proc/PID/maps; save /proc/PID/smaps instead");
		return -EINVAL;
	}
	/* The kernel gives every mapping its Rss: one without was cut off (the last) or edited. */
	if (st->bad_line || !st->cur_rss) {
		set_error(err, st->bad_line ? st->bad_line : st->cur_line,
			  "this mapping has no Rss: line: the file is cut short or was edited");
		return -EINVAL;
	}
	return 0;
}

int smaps_parse(const char *buf, size_t len, struct vma_list *out, struct parse_error *err)
{
	struct smaps_state st = { .out = out };
	const char *rest;
	int ret;

	ret = check_text(buf, len, err);
	if (ret)
		return ret;
	ret = smaps_lines(&st, buf, buf + len, true, &rest, err);
	if (!ret)
		ret = smaps_finish(&st, err);
	if (ret)
		vma_list_free(out);
	return ret;
}

/* A chunk of text per read: ~100 mappings. Lines are far shorter (a path is < 4 KiB). */
#define READ_CHUNK (64 * 1024)
/* A line longer than this is not smaps. */
#define MAX_LINE (1024 * 1024)

int smaps_read_fd(int fd, struct vma_list *out, struct parse_error *err)
{
	struct smaps_state st = { .out = out };
	size_t cap = 0, have = 0, total = 0;
	char *buf = NULL;
	const char *rest;
	ssize_t n;
	int ret = 0;

	for (;;) {
		/* The buffer grows only when one line fills it: mappings are read into
		 * the same 64 KiB, tick after tick, without copying. */
		if (have == cap && vec_reserve((void **)&buf, &cap, cap ? cap * 2 : READ_CHUNK, 1)) {
			ret = -ENOMEM;
			break;
		}
		n = read(fd, buf + have, cap - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		if (n > 0 && memchr(buf + have, '\0', (size_t)n)) {
			set_error(err, 0, "binary data: not a smaps file");
			ret = -EINVAL;
			break;
		}
		have += (size_t)n;
		total += (size_t)n;
		ret = smaps_lines(&st, buf, buf + have, n == 0, &rest, err);
		if (ret || n == 0)
			break;
		/* Keep the unfinished line for the next read. */
		have -= (size_t)(rest - buf);
		memmove(buf, rest, have);
		if (have > MAX_LINE) {
			set_error(err, st.lineno + 1, "line longer than 1 MiB: not a smaps file");
			ret = -EINVAL;
			break;
		}
	}
	free(buf);
	if (!ret && total == 0)
		ret = -ENODATA;
	else if (!ret)
		ret = smaps_finish(&st, err);
	if (ret)
		vma_list_free(out);
	return ret;
}

int smaps_rollup_parse(const char *buf, size_t len, struct totals *out, struct parse_error *err)
{
	const char *p = buf, *end = buf + len;
	size_t lineno = 0;
	bool seen_rss = false;
	int ret;

	ret = check_text(buf, len, err);
	if (ret)
		return ret;
	memset(out, 0, sizeof(*out));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		const char *name;
		size_t namelen;
		uint64_t bytes = 0;
		bool has_kb;

		lineno++;
		if (eol > p && !is_header_line(p, eol)) {
			if (parse_field(p, eol, &name, &namelen, &bytes, &has_kb)) {
				set_error(err, lineno, "malformed smaps_rollup line");
				return -EINVAL;
			}
			if (has_kb) {
				if (FIELD_IS(name, namelen, "Rss")) {
					out->rss = bytes;
					seen_rss = true;
				} else if (FIELD_IS(name, namelen, "Pss")) {
					out->pss = bytes;
				} else if (FIELD_IS(name, namelen, "Anonymous")) {
					out->anon = bytes;
				} else if (FIELD_IS(name, namelen, "Swap")) {
					out->swap = bytes;
				}
			}
		}
		p = nl ? nl + 1 : end;
	}
	if (!seen_rss) {
		set_error(err, 0, "no Rss: field in smaps_rollup");
		return -EINVAL;
	}
	return 0;
}
