/* SPDX-License-Identifier: GPL-2.0-only */
/* A protocol buffers writer: the few wire forms a profile needs, into one growable buffer. */
#ifndef MEMSLEUTH_PB_H
#define MEMSLEUTH_PB_H

#include <stddef.h>
#include <stdint.h>

/*
 * Messages are written field by field, as the wire format lays them out;
 * a nested message (or a packed repeated field) opens with pb_open, which
 * returns a mark, and closes with pb_close(mark), which writes its length in
 * front of it. Fields equal to their default (0, "") are left out, as proto3
 * writers do. A failed allocation is remembered: every later call does
 * nothing and pb_finish reports it, so callers check once.
 */
struct pb {
	uint8_t *buf;
	size_t len, cap;
	int err;		/* 0, or -ENOMEM once an allocation failed */
};

void pb_uint(struct pb *b, uint32_t field, uint64_t v);
void pb_int(struct pb *b, uint32_t field, int64_t v);	/* int64: two's complement varint */
void pb_bool(struct pb *b, uint32_t field, int v);
void pb_bytes(struct pb *b, uint32_t field, const void *data, size_t n);
void pb_str(struct pb *b, uint32_t field, const char *s);
/* A string written even when empty (a string table's first entry must be ""). */
void pb_str_always(struct pb *b, uint32_t field, const char *s);

/* Opens a length-delimited field (a message, a packed repeated field); returns the mark for pb_close. */
size_t pb_open(struct pb *b, uint32_t field);
/* One element of an open packed repeated field of varints. */
void pb_packed(struct pb *b, uint64_t v);
void pb_close(struct pb *b, size_t mark);

/*
 * Hands the encoded bytes to the caller (who frees them) and resets `b`.
 * Returns 0 with *out and *len, or -ENOMEM (nothing to free).
 */
int pb_finish(struct pb *b, uint8_t **out, size_t *len);

#endif
