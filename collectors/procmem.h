/* SPDX-License-Identifier: GPL-2.0-only */
/* Reads a target's memory (process_vm_readv, never a write) and page residency (pagemap). */
#ifndef MEMSLEUTH_PROCMEM_H
#define MEMSLEUTH_PROCMEM_H

#include <stddef.h>
#include <stdint.h>

#include "collectors/arena_chain.h"

/*
 * Small reads go through a cache of 64 KiB blocks, so walking free lists costs
 * a system call per block rather than per chunk. A block holds only the pages
 * present in the target's RAM (pagemap): reading any other page would make the
 * kernel allocate it in the target. The cache is only valid while the target
 * cannot run: call procmem_forget() whenever it may have.
 */
struct procmem;

/*
 * Creates a reader for process `pid`, whose /proc/PID directory is open as
 * `dirfd` (borrowed: it must stay open while the reader lives); NULL on ENOMEM.
 */
struct procmem *procmem_new(int pid, int dirfd);
void procmem_free(struct procmem *pm);

/*
 * A mem_read_fn (collectors/arena_decode.h): `ctx` is the procmem. Returns 0,
 * -EFAULT for memory that is not mapped or not readable, -ESRCH when the
 * target has gone, -ETIMEDOUT past the deadline.
 */
int procmem_read(void *ctx, uint64_t addr, void *buf, size_t len);

/*
 * A mem_readv_fn: the pieces in one process_vm_readv per 1024 (no cache, no
 * pagemap: for list nodes, which the target wrote when it freed them, so
 * they are in its RAM). Returns the number of leading pieces read whole, or
 * -ESRCH, -ETIMEDOUT.
 */
long procmem_readv(void *ctx, const struct mem_piece *p, size_t n);

/*
 * A mem_view_fn for parsing heaps: reads up to PROCMEM_VIEW bytes from the
 * page holding `addr`, as far as the pages stay present in the target's RAM
 * (pagemap is read just before, so that no page is allocated by the read),
 * into a buffer reused by the next call. Returns 0, -EFAULT when the page at
 * `addr` is not present or not readable, -ESRCH, -ETIMEDOUT.
 */
#define PROCMEM_VIEW (256u << 10)
int procmem_view(void *ctx, uint64_t addr, size_t want, uint64_t limit, struct mem_view *v);

/* Drops cached bytes. */
void procmem_forget(struct procmem *pm);

/* Makes reads fail with -ETIMEDOUT once CLOCK_MONOTONIC passes `deadline` (0: never). */
void procmem_set_deadline(struct procmem *pm, double deadline);

/*
 * Residency of the pages of [lo, hi) (page-aligned): fills `bits` (one bit per
 * page, set when present in RAM; the caller provides (pages + 63) / 64 words).
 * Returns the number of resident pages, or a negative errno.
 */
long procmem_resident(struct procmem *pm, uint64_t lo, uint64_t hi, uint64_t *bits);

#endif
