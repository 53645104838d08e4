// SPDX-License-Identifier: GPL-2.0-only
/* Reads a target's memory (process_vm_readv, never a write) and page residency (pagemap). */
#include "collectors/procmem.h"
#include "lib/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 65536u
#define PAGE 4096u
#define BLOCK_PAGES (BLOCK / PAGE)
#define NBLOCKS 64u	/* 4 MiB of cache */
#define PM_PRESENT ((uint64_t)1 << 63)
/* pagemap entries read per system call. */
#define PM_BATCH 4096u

/*
 * A block holds only the pages that were in the target's RAM when it was
 * read: reading a page that is not (never touched, or given back by
 * malloc_trim) makes the kernel allocate it, in the target, for good. So a
 * block is read page by page as pagemap allows, and a read that needs a page
 * the block lacks reads just the bytes asked for.
 */
struct block {
	uint64_t base;
	uint32_t have;		/* bit i: page i of the block is in data */
	uint8_t data[BLOCK];
};

struct procmem {
	int pid;
	int dirfd;		/* /proc/PID, borrowed */
	int pagemap_fd;
	double deadline;
	struct block *blocks;
	uint8_t *view;		/* PROCMEM_VIEW bytes, allocated at the first procmem_view */
};


struct procmem *procmem_new(int pid, int dirfd)
{
	struct procmem *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return NULL;
	pm->blocks = calloc(NBLOCKS, sizeof(*pm->blocks));
	if (!pm->blocks) {
		free(pm);
		return NULL;
	}
	pm->pid = pid;
	pm->dirfd = dirfd;
	pm->pagemap_fd = -1;
	return pm;
}

void procmem_free(struct procmem *pm)
{
	if (!pm)
		return;
	if (pm->pagemap_fd >= 0)
		close(pm->pagemap_fd);
	free(pm->blocks);
	free(pm->view);
	free(pm);
}

void procmem_forget(struct procmem *pm)
{
	unsigned int i;

	for (i = 0; i < NBLOCKS; i++)
		pm->blocks[i].have = 0;
}

void procmem_set_deadline(struct procmem *pm, double deadline)
{
	pm->deadline = deadline;
}

static bool past_deadline(const struct procmem *pm)
{
	return pm->deadline > 0 && clock_mono() > pm->deadline;
}

static int vm_read(int pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

	if (n == (ssize_t)len)
		return 0;
	if (n < 0 && errno == ESRCH)
		return -ESRCH;
	return -EFAULT;
}

static int open_pagemap(struct procmem *pm)
{
	if (pm->pagemap_fd >= 0)
		return 0;
	pm->pagemap_fd = openat(pm->dirfd, "pagemap", O_RDONLY | O_CLOEXEC);
	return pm->pagemap_fd < 0 ? -errno : 0;
}

/*
 * Reads into `b` the pages of the block at `base` that are present in the
 * target, in one system call. Without pagemap nothing is read: every read
 * then asks for just its own bytes.
 */
static void block_fill(struct procmem *pm, struct block *b, uint64_t base)
{
	uint64_t entries[BLOCK_PAGES];
	struct iovec local[BLOCK_PAGES], remote[BLOCK_PAGES];
	unsigned int i, n = 0;
	ssize_t got;

	b->base = base;
	b->have = 0;
	if (open_pagemap(pm) ||
	    pread(pm->pagemap_fd, entries, sizeof(entries), (off_t)(base / PAGE * 8)) !=
		    (ssize_t)sizeof(entries))
		return;
	for (i = 0; i < BLOCK_PAGES; i++) {
		if (!(entries[i] & PM_PRESENT))
			continue;
		/* Runs of present pages make one iovec each. */
		if (n && (uint8_t *)local[n - 1].iov_base + local[n - 1].iov_len ==
				 b->data + (size_t)i * PAGE) {
			local[n - 1].iov_len += PAGE;
			remote[n - 1].iov_len += PAGE;
		} else {
			local[n].iov_base = b->data + (size_t)i * PAGE;
			remote[n].iov_base = (void *)(uintptr_t)(base + (uint64_t)i * PAGE);
			local[n].iov_len = remote[n].iov_len = PAGE;
			n++;
		}
	}
	if (!n)
		return;
	got = process_vm_readv(pm->pid, local, n, remote, n, 0);
	/* A short read stops at the first page that failed: keep the pages before it. */
	for (i = 0; i < n && got > 0; i++) {
		size_t first = (size_t)((uint8_t *)local[i].iov_base - b->data) / PAGE, k;

		for (k = 0; k < local[i].iov_len / PAGE && got >= (ssize_t)PAGE; k++) {
			b->have |= (uint32_t)1 << (first + k);
			got -= PAGE;
		}
	}
}

/* Whether `b` holds bytes [off, off + n) of its block. */
static bool block_has(const struct block *b, size_t off, size_t n)
{
	size_t p;

	for (p = off / PAGE; p <= (off + n - 1) / PAGE; p++)
		if (!(b->have & ((uint32_t)1 << p)))
			return false;
	return true;
}

int procmem_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct procmem *pm = ctx;
	uint8_t *out = buf;

	if (past_deadline(pm))
		return -ETIMEDOUT;
	if (len > BLOCK)
		return vm_read(pm->pid, addr, buf, len);
	while (len) {
		uint64_t base = addr & ~(uint64_t)(BLOCK - 1);
		struct block *b = &pm->blocks[(base / BLOCK) % NBLOCKS];
		size_t off = (size_t)(addr - base), n = BLOCK - off < len ? BLOCK - off : len;

		if (!b->have || b->base != base)
			block_fill(pm, b, base);
		if (block_has(b, off, n)) {
			memcpy(out, b->data + off, n);
		} else {
			int ret = vm_read(pm->pid, addr, out, n);

			if (ret)
				return ret;
		}
		out += n;
		addr += n;
		len -= n;
	}
	return 0;
}

long procmem_readv(void *ctx, const struct mem_piece *p, size_t n)
{
	struct procmem *pm = ctx;
	struct iovec local[IOV_MAX], remote[IOV_MAX];
	size_t done = 0;

	if (past_deadline(pm))
		return -ETIMEDOUT;
	while (done < n) {
		size_t k = n - done < IOV_MAX ? n - done : IOV_MAX, i;
		ssize_t got;

		for (i = 0; i < k; i++) {
			local[i] = (struct iovec){ p[done + i].buf, p[done + i].len };
			remote[i] = (struct iovec){ (void *)(uintptr_t)p[done + i].addr,
						    p[done + i].len };
		}
		got = process_vm_readv(pm->pid, local, k, remote, k, 0);
		if (got < 0 && errno == ESRCH)
			return -ESRCH;
		/* It stops at the first piece it cannot read whole. */
		for (i = 0; i < k && got >= (ssize_t)p[done + i].len; i++)
			got -= (ssize_t)p[done + i].len;
		done += i;
		if (i < k)
			break;
	}
	return (long)done;
}

int procmem_view(void *ctx, uint64_t addr, size_t want, uint64_t limit, struct mem_view *v)
{
	struct procmem *pm = ctx;
	uint64_t entries[PROCMEM_VIEW / PAGE];
	uint64_t base = addr & ~(uint64_t)(PAGE - 1);
	struct iovec local, remote;
	size_t pages, run;
	ssize_t got;

	(void)want;
	if (past_deadline(pm))
		return -ETIMEDOUT;
	if (limit <= addr || open_pagemap(pm))
		return -EFAULT;
	if (!pm->view && !(pm->view = malloc(PROCMEM_VIEW)))
		return -ENOMEM;
	pages = limit - base < PROCMEM_VIEW ? (size_t)((limit - base + PAGE - 1) / PAGE)
					    : PROCMEM_VIEW / PAGE;
	got = pread(pm->pagemap_fd, entries, pages * sizeof(entries[0]),
		    (off_t)(base / PAGE * sizeof(entries[0])));
	if (got < (ssize_t)sizeof(entries[0]))
		return -EFAULT;
	pages = (size_t)got / sizeof(entries[0]);
	/* Only what is in RAM: reading any other page would make the kernel allocate it. */
	for (run = 0; run < pages && (entries[run] & PM_PRESENT); run++)
		;
	if (!run)
		return -EFAULT;
	local = (struct iovec){ pm->view, run * PAGE };
	remote = (struct iovec){ (void *)(uintptr_t)base, run * PAGE };
	got = process_vm_readv(pm->pid, &local, 1, &remote, 1, 0);
	if (got < 0)
		return errno == ESRCH ? -ESRCH : -EFAULT;
	v->base = base;
	v->len = (size_t)got;
	v->bytes = pm->view;
	return 0;
}

long procmem_resident(struct procmem *pm, uint64_t lo, uint64_t hi, uint64_t *bits)
{
	uint64_t pages = (hi - lo) / PAGE, done = 0, *batch;
	long resident = 0;
	int ret;

	if (lo % PAGE || hi % PAGE || hi < lo)
		return -EINVAL;
	ret = open_pagemap(pm);
	if (ret)
		return ret;
	batch = malloc(PM_BATCH * sizeof(*batch));
	if (!batch)
		return -ENOMEM;
	memset(bits, 0, (size_t)((pages + 63) / 64) * sizeof(*bits));
	while (done < pages) {
		uint64_t want = pages - done < PM_BATCH ? pages - done : PM_BATCH, i;
		ssize_t n = pread(pm->pagemap_fd, batch, want * sizeof(*batch),
				  (off_t)((lo / PAGE + done) * sizeof(*batch)));

		if (n <= 0) {
			free(batch);
			return n < 0 ? -errno : -EIO;
		}
		want = (uint64_t)n / sizeof(*batch);
		for (i = 0; i < want; i++) {
			if (batch[i] & PM_PRESENT) {
				bits[(done + i) / 64] |= (uint64_t)1 << ((done + i) % 64);
				resident++;
			}
		}
		done += want;
	}
	free(batch);
	return resident;
}
