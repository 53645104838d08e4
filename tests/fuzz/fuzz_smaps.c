// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz harness: the smaps parsers (whole text and streamed from an fd) and smaps_rollup. */
#include "collectors/smaps.h"
#include "fuzz_common.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void check_vmas(const struct vma_list *l)
{
	size_t i;

	FUZZ_CHECK(l->n > 0 && l->n <= l->cap);
	for (i = 0; i < l->n; i++) {
		const struct vma *v = &l->v[i];

		FUZZ_CHECK(v->end >= v->start);
		FUZZ_CHECK(strlen(v->perms) == 4);
		FUZZ_CHECK(!v->path || strlen(v->path) > 0);
	}
}

static void check_same(const struct vma_list *a, const struct vma_list *b)
{
	size_t i;

	FUZZ_CHECK(a->n == b->n);
	for (i = 0; i < a->n; i++) {
		const struct vma *x = &a->v[i], *y = &b->v[i];

		FUZZ_CHECK(x->start == y->start && x->end == y->end && x->inode == y->inode);
		FUZZ_CHECK(strcmp(x->perms, y->perms) == 0);
		FUZZ_CHECK((!x->path && !y->path) || (x->path && y->path && !strcmp(x->path, y->path)));
		FUZZ_CHECK(x->rss == y->rss && x->pss == y->pss && x->swap == y->swap);
		FUZZ_CHECK(x->anon == y->anon && x->private_dirty == y->private_dirty);
	}
}

/*
 * The streaming reader must agree with the whole-text parser wherever the text
 * is cut. A SOCK_SEQPACKET socket returns one message per read(), so sending the
 * input in pieces puts the chunk boundaries where the input says.
 */
static void check_streamed(const uint8_t *data, size_t size, int whole_ret,
			   const struct vma_list *whole)
{
	struct vma_list vmas = { 0 };
	struct parse_error err = { 0 };
	size_t pieces, piece, off;
	int sv[2], ret;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv))
		return;
	pieces = 1 + (size ? data[size / 2] % 32 : 0);
	piece = size / pieces + 1;
	for (off = 0; off < size; off += piece) {
		size_t n = size - off < piece ? size - off : piece;

		/* A full socket buffer only means this input is not split here. */
		if (send(sv[0], data + off, n, 0) != (ssize_t)n) {
			close(sv[0]);
			close(sv[1]);
			return;
		}
	}
	close(sv[0]);
	ret = smaps_read_fd(sv[1], &vmas, &err);
	close(sv[1]);
	if (size == 0) {
		FUZZ_CHECK(ret == -ENODATA);
		return;
	}
	FUZZ_CHECK(ret == whole_ret);
	if (ret == 0)
		check_same(whole, &vmas);
	else
		FUZZ_CHECK(vmas.n == 0 && vmas.v == NULL && err.msg[0]);
	vma_list_free(&vmas);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vma_list vmas = { 0 };
	struct parse_error err = { 0 };
	struct totals totals;
	struct pss_split split;
	int ret;

	ret = smaps_parse((const char *)data, size, &vmas, &err);
	if (ret == 0)
		check_vmas(&vmas);
	else
		FUZZ_CHECK(ret == -EINVAL && vmas.n == 0 && vmas.v == NULL && err.msg[0]);
	check_streamed(data, size, ret, &vmas);
	vma_list_free(&vmas);

	memset(&err, 0, sizeof(err));
	ret = smaps_rollup_parse((const char *)data, size, &totals, &split, &err);
	FUZZ_CHECK(ret == 0 || (ret == -EINVAL && err.msg[0]));
	return 0;
}
