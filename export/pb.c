// SPDX-License-Identifier: GPL-2.0-only
/* A protocol buffers writer: the few wire forms a profile needs, into one growable buffer. */
#include "export/pb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

/* A length is written after its body: room for the longest varint of a length is kept. */
#define LEN_ROOM 5

static int reserve(struct pb *b, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (b->err)
		return b->err;
	if (b->len + n <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n)
		cap *= 2;
	p = realloc(b->buf, cap);
	if (!p)
		return b->err = -ENOMEM;
	b->buf = p;
	b->cap = cap;
	return 0;
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static void put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p = (uint8_t)v;
}

static void varint(struct pb *b, uint64_t v)
{
	if (reserve(b, 10))
		return;
	put_varint(b->buf + b->len, v);
	b->len += varint_len(v);
}

static void tag(struct pb *b, uint32_t field, unsigned wire)
{
	varint(b, (uint64_t)field << 3 | wire);
}

void pb_uint(struct pb *b, uint32_t field, uint64_t v)
{
	if (!v)
		return;
	tag(b, field, WIRE_VARINT);
	varint(b, v);
}

void pb_int(struct pb *b, uint32_t field, int64_t v)
{
	pb_uint(b, field, (uint64_t)v);
}

void pb_bool(struct pb *b, uint32_t field, int v)
{
	pb_uint(b, field, v ? 1 : 0);
}

static void bytes_always(struct pb *b, uint32_t field, const void *data, size_t n)
{
	tag(b, field, WIRE_LEN);
	varint(b, n);
	if (reserve(b, n))
		return;
	if (n)
		memcpy(b->buf + b->len, data, n);
	b->len += n;
}

void pb_bytes(struct pb *b, uint32_t field, const void *data, size_t n)
{
	if (n)
		bytes_always(b, field, data, n);
}

void pb_str(struct pb *b, uint32_t field, const char *s)
{
	if (s && *s)
		bytes_always(b, field, s, strlen(s));
}

void pb_str_always(struct pb *b, uint32_t field, const char *s)
{
	bytes_always(b, field, s ? s : "", s ? strlen(s) : 0);
}

size_t pb_open(struct pb *b, uint32_t field)
{
	tag(b, field, WIRE_LEN);
	if (reserve(b, LEN_ROOM))
		return 0;
	b->len += LEN_ROOM;
	return b->len;
}

void pb_packed(struct pb *b, uint64_t v)
{
	varint(b, v);
}

void pb_close(struct pb *b, size_t mark)
{
	size_t body, n;

	if (b->err)
		return;
	body = b->len - mark;
	n = varint_len(body);
	/* The shortest encoding of the length: the body moves up to meet it. */
	put_varint(b->buf + mark - LEN_ROOM, body);
	memmove(b->buf + mark - LEN_ROOM + n, b->buf + mark, body);
	b->len -= LEN_ROOM - n;
}

int pb_finish(struct pb *b, uint8_t **out, size_t *len)
{
	int err = b->err;

	*out = NULL;
	*len = 0;
	if (err) {
		free(b->buf);
	} else {
		*out = b->buf;
		*len = b->len;
	}
	memset(b, 0, sizeof(*b));
	return err;
}
