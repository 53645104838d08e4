// SPDX-License-Identifier: GPL-2.0-only
/* Reads a target's memory (process_vm_readv, never a write) and page residency (pagemap). */
#include "collectors/procmem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 65536u
#define PAGE 4096u
#define NBLOCKS 64u	/* 4 MiB of cache */
#define PM_PRESENT ((uint64_t)1 << 63)
/* pagemap entries read per system call. */
#define PM_BATCH 4096u

struct block {
	uint64_t base;
	bool valid;
	uint8_t data[BLOCK];
};

struct procmem {
	int pid;
	int pagemap_fd;
	double deadline;
	struct block *blocks;
};

double procmem_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct procmem *procmem_new(int pid)
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
	free(pm);
}

void procmem_forget(struct procmem *pm)
{
	unsigned int i;

	for (i = 0; i < NBLOCKS; i++)
		pm->blocks[i].valid = false;
}

void procmem_set_deadline(struct procmem *pm, double deadline)
{
	pm->deadline = deadline;
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

int procmem_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct procmem *pm = ctx;
	uint8_t *out = buf;

	if (pm->deadline > 0 && procmem_now() > pm->deadline)
		return -ETIMEDOUT;
	if (len > BLOCK)
		return vm_read(pm->pid, addr, buf, len);
	while (len) {
		uint64_t base = addr & ~(uint64_t)(BLOCK - 1);
		struct block *b = &pm->blocks[(base / BLOCK) % NBLOCKS];
		size_t off = (size_t)(addr - base), n = BLOCK - off < len ? BLOCK - off : len;

		if (!b->valid || b->base != base) {
			int ret = vm_read(pm->pid, base, b->data, BLOCK);

			/* A block can straddle the end of a mapping: read just what was asked. */
			if (ret) {
				b->valid = false;
				return ret == -ESRCH ? ret : vm_read(pm->pid, addr, out, len);
			}
			b->base = base;
			b->valid = true;
		}
		memcpy(out, b->data + off, n);
		out += n;
		addr += n;
		len -= n;
	}
	return 0;
}

long procmem_resident(struct procmem *pm, uint64_t lo, uint64_t hi, uint64_t *bits)
{
	uint64_t pages = (hi - lo) / PAGE, done = 0, *batch;
	long resident = 0;

	if (lo % PAGE || hi % PAGE || hi < lo)
		return -EINVAL;
	if (pm->pagemap_fd < 0) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/pagemap", pm->pid);
		pm->pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (pm->pagemap_fd < 0)
			return -errno;
	}
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
