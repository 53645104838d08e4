/* SPDX-License-Identifier: GPL-2.0-only */
/* A sparse memory image for the arena harness: segments served as a target's memory would be. */
#ifndef MEMSLEUTH_FUZZ_IMAGE_H
#define MEMSLEUTH_FUZZ_IMAGE_H

#include "collectors/arena_chain.h"
#include "fuzz_common.h"

#include <errno.h>

/*
 * Segments are (address, bytes) pairs taken from the input. Reads outside
 * every segment fail with -EFAULT, as process_vm_readv fails on unmapped
 * memory; where segments overlap, the one starting lower (or listed first)
 * serves the bytes. After `fail_after` successful reads (0: never) every read
 * fails with INJECTED, as reads fail past a freeze's deadline.
 */

#define SEG_HEADER 12
#define MAX_SEGMENTS 4096
#define INJECTED (-ETIMEDOUT)

struct segment {
	uint64_t addr;
	const uint8_t *bytes;
	size_t len;
	size_t order;		/* place in the input */
};

struct image {
	uint32_t fail_after, reads;
	uint32_t failed, injected;	/* reads that failed: in all, and by the deadline */
	bool tiny_views;	/* views hold just what was asked: every byte used is traced */
	struct segment segs[MAX_SEGMENTS];
	size_t nsegs;
	FILE *trace;		/* with FUZZ_ARENA_TRACE: every read, and what the harness found */
};

static struct image im;

static int segment_cmp(const void *a, const void *b)
{
	const struct segment *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->order < y->order ? -1 : 1;
}

/* Reads segments from `data + off` to the end, sorts them and cuts each where the one before ends. */
static void image_segments(const uint8_t *data, size_t size, size_t off)
{
	uint64_t end = 0;
	size_t i, n = 0;

	im.nsegs = 0;
	while (off + SEG_HEADER <= size && im.nsegs < MAX_SEGMENTS) {
		struct segment *s = &im.segs[im.nsegs];
		uint32_t len;

		memcpy(&len, data + off + 8, sizeof(len));
		s->addr = arena_u64(data + off);
		s->bytes = data + off + SEG_HEADER;
		off += SEG_HEADER;
		s->len = len < size - off ? len : size - off;
		off += s->len;
		s->order = im.nsegs;
		/* A segment running past the top of the address space is no mapping. */
		if (s->addr + s->len >= s->addr)
			im.nsegs++;
	}
	qsort(im.segs, im.nsegs, sizeof(im.segs[0]), segment_cmp);
	for (i = 0; i < im.nsegs; i++) {
		struct segment s = im.segs[i];

		if (n && s.addr < end) {
			if (s.addr + s.len <= end)
				continue;
			s.bytes += end - s.addr;
			s.len -= end - s.addr;
			s.addr = end;
		}
		if (s.len) {
			im.segs[n++] = s;
			end = s.addr + s.len;
		}
	}
	im.nsegs = n;
	im.reads = im.failed = im.injected = 0;
}

/* Finds the segment holding `addr` by bisection: the segments are sorted and disjoint. */
static const struct segment *segment_at(uint64_t addr)
{
	size_t lo = 0, hi = im.nsegs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < im.segs[mid].addr)
			hi = mid;
		else if (addr - im.segs[mid].addr >= im.segs[mid].len)
			lo = mid + 1;
		else
			return &im.segs[mid];
	}
	return NULL;
}

/* Counts a read against the deadline; true when it is past it. */
static bool image_deadline(void)
{
	if (im.fail_after && im.reads >= im.fail_after) {
		im.failed++;
		im.injected++;
		return true;
	}
	im.reads++;
	return false;
}

static void image_trace(const char *what, uint64_t addr, size_t len)
{
	if (im.trace)
		fprintf(im.trace, "%s %llx %zu\n", what, (unsigned long long)addr, len);
}

/* A mem_read_fn over the image. */
static int image_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	uint64_t at = addr;
	uint8_t *out = buf;
	size_t left = len;

	(void)ctx;
	if (image_deadline())
		return INJECTED;
	while (left) {
		const struct segment *s = segment_at(at);
		size_t n;

		if (!s) {
			im.failed++;
			return -EFAULT;
		}
		n = s->len - (size_t)(at - s->addr);
		n = n < left ? n : left;
		memcpy(out, s->bytes + (at - s->addr), n);
		out += n;
		at += n;
		left -= n;
	}
	image_trace("read", addr, len);
	return 0;
}

/* A mem_readv_fn over the image: stops at the first piece it cannot read, or at the deadline. */
static long image_readv(void *ctx, const struct mem_piece *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int ret = p[i].addr + p[i].len < p[i].addr ? -EFAULT
			  : image_read(ctx, p[i].addr, p[i].buf, p[i].len);

		/* As a deadline is: it ends the whole read. */
		if (ret == INJECTED)
			return ret;
		if (ret)
			break;
	}
	return (long)i;
}

/* A mem_view_fn over the image: the rest of the segment holding `addr`, up to `limit`. */
static int image_view(void *ctx, uint64_t addr, size_t want, uint64_t limit, struct mem_view *v)
{
	const struct segment *s;
	size_t len;

	(void)ctx;
	if (image_deadline())
		return INJECTED;
	s = segment_at(addr);
	if (!s || addr >= limit) {
		im.failed++;
		return -EFAULT;
	}
	len = s->len - (size_t)(addr - s->addr);
	if (len > limit - addr)
		len = (size_t)(limit - addr);
	if (im.tiny_views && len > want)
		len = want;
	v->base = addr;
	v->len = len;
	v->bytes = s->bytes + (addr - s->addr);
	image_trace("read", addr, len < want ? len : want);
	return 0;
}

/*
 * Around each decoder call: a call that succeeded had no read fail, and one
 * whose reads hit the deadline returns the reader's error unchanged (a
 * deadline is not a torn list to be read again).
 */
struct call {
	uint32_t failed, injected;
};

static struct call call_begin(void)
{
	return (struct call){ .failed = im.failed, .injected = im.injected };
}

static void call_end(struct call c, bool ok, int ret)
{
	if (ok)
		FUZZ_CHECK(im.failed == c.failed);
	if (im.injected != c.injected)
		FUZZ_CHECK(ret == INJECTED);
}

/* Failures any reader call may pass on: unmapped memory, or the injected deadline. */
static bool read_error(int ret)
{
	return ret == -EFAULT || ret == INJECTED;
}

#endif
