// SPDX-License-Identifier: GPL-2.0-only
/* zstd-compressed recordings: a stdio stream that compresses as it writes, and the way back. */
#include "recording/zfile.h"
#include "lib/clock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

/*
 * How often compressed data reaches the file. Every line a block of its own
 * would cost a third of the compression (each block restates its tables);
 * a run that is killed loses at most this much of its end.
 */
#define FLUSH_EVERY_S 10.0

struct zwriter {
	FILE *raw;
	ZSTD_CCtx *z;
	uint64_t *out_bytes;
	size_t cap;
	char *buf;
	double flushed;		/* monotonic time of the last flush */
};

/* Runs the compressor over `in` with directive `d` until it has taken (and, for flush and end, written) it all. */
static int pump(struct zwriter *w, ZSTD_inBuffer *in, ZSTD_EndDirective d)
{
	size_t left;

	do {
		ZSTD_outBuffer out = { w->buf, w->cap, 0 };

		left = ZSTD_compressStream2(w->z, &out, in, d);
		if (ZSTD_isError(left))
			return -EIO;
		if (out.pos && fwrite(w->buf, 1, out.pos, w->raw) != out.pos)
			return -EIO;
		if (w->out_bytes)
			*w->out_bytes += out.pos;
	} while (d == ZSTD_e_continue ? in->pos < in->size : left != 0);
	return 0;
}

/* Each stdio flush of the writer (a line) reaches here; the file gets a block every FLUSH_EVERY_S. */
static ssize_t zw_write(void *cookie, const char *data, size_t n)
{
	struct zwriter *w = cookie;
	ZSTD_inBuffer in = { data, n, 0 };
	bool flush = clock_mono() - w->flushed >= FLUSH_EVERY_S;

	if (pump(w, &in, flush ? ZSTD_e_flush : ZSTD_e_continue) || (flush && fflush(w->raw))) {
		errno = EIO;
		return -1;
	}
	if (flush)
		w->flushed = clock_mono();
	return (ssize_t)n;
}

static int zw_close(void *cookie)
{
	struct zwriter *w = cookie;
	ZSTD_inBuffer in = { NULL, 0, 0 };
	int ret = pump(w, &in, ZSTD_e_end);

	if (fclose(w->raw))
		ret = -EIO;
	ZSTD_freeCCtx(w->z);
	free(w->buf);
	free(w);
	return ret ? EOF : 0;
}

FILE *zfile_writer(FILE *raw, int level, uint64_t *out_bytes)
{
	cookie_io_functions_t io = { .write = zw_write, .close = zw_close };
	struct zwriter *w = calloc(1, sizeof(*w));
	FILE *f;

	if (!w)
		goto fail;
	w->raw = raw;
	w->out_bytes = out_bytes;
	/* The header reaches the file at once: a reader sees a recording from the start. */
	w->flushed = -FLUSH_EVERY_S;
	w->cap = ZSTD_CStreamOutSize();
	w->buf = malloc(w->cap);
	w->z = ZSTD_createCCtx();
	if (!w->buf || !w->z || ZSTD_isError(ZSTD_CCtx_setParameter(w->z, ZSTD_c_compressionLevel,
								     level)))
		goto fail;
	f = fopencookie(w, "w", io);
	if (!f)
		goto fail;
	/* A line is one write, and so one block, as long as it fits. */
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	return f;
fail:
	if (w) {
		ZSTD_freeCCtx(w->z);
		free(w->buf);
		free(w);
	}
	fclose(raw);
	errno = ENOMEM;
	return NULL;
}

bool zfile_is_zstd(FILE *f)
{
	static const unsigned char magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
	unsigned char head[4];
	size_t n = fread(head, 1, sizeof(head), f);

	rewind(f);
	return n == sizeof(head) && memcmp(head, magic, sizeof(magic)) == 0;
}

int zfile_inflate(FILE *raw, const char *name, FILE **out, char *err, size_t errlen)
{
	size_t incap = ZSTD_DStreamInSize(), outcap = ZSTD_DStreamOutSize(), n, hint = 0;
	char *inbuf = malloc(incap), *outbuf = malloc(outcap);
	ZSTD_DCtx *z = ZSTD_createDCtx();
	FILE *tmp = tmpfile();
	long long at = 0;
	int ret = 0;

	*out = NULL;
	if (!inbuf || !outbuf || !z || !tmp) {
		ret = tmp ? -ENOMEM : -errno;
		snprintf(err, errlen, "cannot inflate recording %s: %s", name, strerror(-ret));
		goto out;
	}
	while (!ret && (n = fread(inbuf, 1, incap, raw)) > 0) {
		ZSTD_inBuffer in = { inbuf, n, 0 };

		while (in.pos < in.size) {
			ZSTD_outBuffer o = { outbuf, outcap, 0 };

			hint = ZSTD_decompressStream(z, &o, &in);
			if (ZSTD_isError(hint)) {
				snprintf(err, errlen, "recording %s: not valid zstd data near byte %lld: %s",
					 name, at + (long long)in.pos, ZSTD_getErrorName(hint));
				ret = -EINVAL;
				break;
			}
			if (o.pos && fwrite(outbuf, 1, o.pos, tmp) != o.pos) {
				ret = -EIO;
				snprintf(err, errlen, "cannot inflate recording %s: %s", name,
					 strerror(EIO));
				break;
			}
		}
		at += (long long)n;
	}
	if (!ret && ferror(raw)) {
		ret = -EIO;
		snprintf(err, errlen, "cannot read recording %s: %s", name, strerror(EIO));
	}
	/* hint != 0 here: the last frame has no end (a killed writer); what it held is kept. */
	if (!ret && (fflush(tmp) || fseek(tmp, 0, SEEK_SET))) {
		ret = -EIO;
		snprintf(err, errlen, "cannot inflate recording %s: %s", name, strerror(EIO));
	}
out:
	fclose(raw);
	ZSTD_freeDCtx(z);
	free(inbuf);
	free(outbuf);
	if (ret && tmp)
		fclose(tmp);
	else
		*out = tmp;
	return ret;
}
