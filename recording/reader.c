// SPDX-License-Identifier: GPL-2.0-only
/* Recordings, the reader: a file's lines, its header, and each line handed to the decoder. */
#include "recording/recording.h"
#include "recording/zfile.h"
#include "recording/decode.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* A line longer than this is not something memsleuth wrote. */
#define MAX_LINE (256u << 20)

/*
 * Every byte of the file is read here: a later format that compresses or
 * splits recordings changes this file's line source and positions, not the
 * decoder.
 */
struct recording_reader {
	FILE *f;
	char *path;
	char *line;
	size_t line_cap;
	struct rec_decoder d;	/* d.lineno: the number of the line last read */
	char *end_reason;
	size_t unknown;		/* lines of other types skipped */
	size_t unknown_lineno;	/* the number of the last one */
};

/* Reads one line; returns its length, 0 at EOF, -1 on error. *complete is false without '\n'. */
static ssize_t read_line(struct recording_reader *r, bool *complete)
{
	ssize_t n = getline(&r->line, &r->line_cap, r->f);

	if (n <= 0)
		return n < 0 && !ferror(r->f) ? 0 : n;
	r->d.lineno++;
	*complete = r->line[n - 1] == '\n';
	if (*complete)
		r->line[--n] = '\0';
	return n;
}

int recording_open(const char *path, struct recording_reader **out, struct recording_header *h,
		   char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	int ret;

	*out = NULL;
	memset(h, 0, sizeof(*h));
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "cannot open recording %s: %s", path, strerror(-ret));
		return ret;
	}
	/* Compressed or plain, as it was written: the first bytes tell. */
	if (zfile_is_zstd(f)) {
		ret = zfile_inflate(f, path, &f, err, errlen);
		if (ret)
			return ret;
	}
	return recording_open_stream(f, path, out, h, err, errlen);
}

/* The header's figures; the format and version were checked. Returns 0 or -EINVAL. */
static int read_header(struct recording_reader *r, json_t *j, struct recording_header *h,
		       char *err, size_t errlen)
{
	const char *comm = json_string_value(json_object_get(j, REC_HDR_COMM));

	if (!rec_get_num(j, REC_HDR_WINDOW, &h->window_s) || h->window_s <= 0)
		return rec_fail(&r->d, err, errlen, "header lacks a positive '" REC_HDR_WINDOW "'");
	rec_get_num(j, REC_HDR_TICK, &h->tick_s);
	rec_get_num(j, REC_HDR_CREATED, &h->created);
	h->pid = (int)json_integer_value(json_object_get(j, REC_HDR_PID));
	h->comm = strdup(comm ? comm : "?");
	h->bpf = json_is_true(json_object_get(j, REC_HDR_BPF));
	h->alloc = json_is_true(json_object_get(j, REC_HDR_ALLOC));
	return rec_decode_columns(&r->d, j, err, errlen);
}

int recording_open_stream(FILE *f, const char *path, struct recording_reader **out,
			  struct recording_header *h, char *err, size_t errlen)
{
	struct recording_reader *r;
	json_error_t jerr;
	json_t *j = NULL, *version;
	const char *format;
	bool complete = false;
	ssize_t n;
	int ret = -EINVAL;

	*out = NULL;
	memset(h, 0, sizeof(*h));
	r = calloc(1, sizeof(*r));
	if (!r) {
		fclose(f);
		return -ENOMEM;
	}
	r->f = f;
	r->path = strdup(path);
	r->d.path = r->path;
	if (!r->path) {
		ret = -ENOMEM;
		snprintf(err, errlen, "cannot open recording %s: %s", path, strerror(-ret));
		goto fail;
	}
	n = read_line(r, &complete);
	if (n <= 0) {
		snprintf(err, errlen, "%s: empty file, not a memsleuth recording", path);
		goto fail;
	}
	if (memchr(r->line, '\0', (size_t)n)) {
		snprintf(err, errlen, "%s: binary data, not a memsleuth recording", path);
		goto fail;
	}
	j = json_loadb(r->line, (size_t)n, 0, &jerr);
	format = json_string_value(json_object_get(j, REC_HDR_FORMAT));
	if (!json_is_object(j) || !format || strcmp(format, RECORDING_FORMAT) != 0) {
		snprintf(err, errlen, "%s: not a memsleuth recording (no header line)", path);
		goto fail;
	}
	version = json_object_get(j, REC_HDR_VERSION);
	if (!json_is_integer(version)) {
		ret = rec_fail(&r->d, err, errlen, "header lacks '" REC_HDR_VERSION "'");
		goto fail;
	}
	h->version = (int)json_integer_value(version);
	if (h->version > RECORDING_VERSION || h->version < 1) {
		snprintf(err, errlen,
			 "%s: recording format version %d is not supported (this memsleuth reads "
			 "version %d)", path, h->version, RECORDING_VERSION);
		goto fail;
	}
	ret = read_header(r, j, h, err, errlen);
	if (ret)
		goto fail;
	json_decref(j);
	*out = r;
	return 0;
fail:
	json_decref(j);
	recording_header_clear(h);
	recording_close(r);
	return ret;
}

/* One line's JSON; -EINVAL with the reason when it is not a whole JSON value. */
static int parse_line(struct recording_reader *r, ssize_t n, bool complete, json_t **out,
		      char *err, size_t errlen)
{
	json_error_t jerr;
	int c;

	*out = json_loadb(r->line, (size_t)n, 0, &jerr);
	if (*out)
		return 0;
	c = fgetc(r->f);
	if (c == EOF && !complete)
		return rec_fail(&r->d, err, errlen,
				"truncated (the recording was cut short; delete the last line to "
				"analyse the rest)");
	if (c != EOF)
		ungetc(c, r->f);
	return rec_fail(&r->d, err, errlen, "malformed JSON: %s", jerr.text);
}

int recording_next(struct recording_reader *r, struct sample **s, char *err, size_t errlen)
{
	*s = NULL;
	for (;;) {
		bool complete = true;
		const char *type;
		ssize_t n;
		json_t *j;
		int ret;

		n = read_line(r, &complete);
		if (n < 0) {
			snprintf(err, errlen, "%s: read error: %s", r->path, strerror(errno));
			return -EIO;
		}
		if (n == 0 && feof(r->f))
			return 0;
		if ((size_t)n > MAX_LINE)
			return rec_fail(&r->d, err, errlen, "line longer than 256 MiB");
		if (n == 0)
			continue;
		ret = parse_line(r, n, complete, &j, err, errlen);
		if (ret)
			return ret;
		type = json_string_value(json_object_get(j, REC_TYPE));
		if (!json_is_object(j) || !type) {
			json_decref(j);
			return rec_fail(&r->d, err, errlen,
					"not a recording line (no \"" REC_TYPE "\")");
		}
		ret = 0;
		if (strcmp(type, REC_TYPE_SAMPLE) == 0) {
			ret = rec_decode_sample(&r->d, j, s, err, errlen);
		} else if (strcmp(type, REC_TYPE_STACK) == 0) {
			ret = rec_decode_stack(&r->d, j, err, errlen);
		} else if (strcmp(type, REC_TYPE_END) == 0) {
			const char *reason = json_string_value(json_object_get(j, REC_END_REASON));

			free(r->end_reason);
			r->end_reason = strdup(reason ? reason : "stopped");
		} else if (r->d.lineno > r->unknown_lineno) {
			/* Other types come from newer writers: skipping them keeps old readers
			 * useful. Counted once each, also when a replay steps back over them. */
			r->unknown++;
			r->unknown_lineno = r->d.lineno;
		}
		json_decref(j);
		if (ret)
			return ret;
	}
}

void recording_tell(const struct recording_reader *r, struct recording_pos *pos)
{
	pos->offset = (long long)ftello(r->f);
	pos->lineno = r->d.lineno;
}

int recording_seek(struct recording_reader *r, const struct recording_pos *pos)
{
	if (pos->offset < 0)
		return -EINVAL;
	if (fseeko(r->f, (off_t)pos->offset, SEEK_SET))
		return -errno;
	r->d.lineno = pos->lineno;
	return 0;
}

size_t recording_unknown_lines(const struct recording_reader *r)
{
	return r->unknown;
}

const char *recording_end_reason(const struct recording_reader *r)
{
	return r->end_reason;
}

void recording_close(struct recording_reader *r)
{
	if (!r)
		return;
	if (r->f)
		fclose(r->f);
	rec_decoder_clear(&r->d);
	free(r->line);
	free(r->path);
	free(r->end_reason);
	free(r);
}

void recording_set_site_rules(struct recording_reader *r, const struct site_rules *rules)
{
	r->d.sites = rules;
}
