/* SPDX-License-Identifier: GPL-2.0-only */
/* The allocator a target uses: which file defines its malloc, and where to probe each function. */
#ifndef MEMSLEUTH_ALLOC_LIB_H
#define MEMSLEUTH_ALLOC_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collectors/proc.h"

#define ALLOC_LIB_MAX_SYMS 12

/* One function to probe: an ELF file offset, as the uprobe attach call takes it. */
struct alloc_lib_sym {
	const char *name;	/* static string */
	uint32_t fn;		/* ALLOC_FN_* of bpf/alloc.h; unused for free */
	uint64_t offset;
};

/* One mapped file and the allocating functions to probe in it, one per address. */
struct alloc_file {
	char *path;		/* through the target's /proc fd (proc_path): what the probes attach to */
	char *name;		/* the path as the target sees it */
	struct alloc_lib_sym syms[ALLOC_LIB_MAX_SYMS];
	size_t nsyms;
};

struct alloc_lib {
	uint8_t allocator;	/* enum allocator_kind */
	/*
	 * files[0] defines malloc and free; files[1], when present, is
	 * libstdc++, whose operator new is probed too: it keeps no frame
	 * pointer, so a stack taken when malloc returns into it skips the
	 * function that called new; taken when new returns, it does not.
	 */
	struct alloc_file files[2];
	size_t nfiles;
	uint64_t free_entry;	/* free's first instruction, in files[0] */
	uint64_t free_probe;	/* where free is probed (see alloc_lib_find) */
};

/*
 * Finds the file that provides the target's malloc: a preloaded jemalloc,
 * tcmalloc or mimalloc, an executable that links an allocator statically,
 * else libc; and libstdc++ when it is mapped. Functions sharing an address (memalign and aligned_alloc) are
 * listed once. free is probed after a leading `test %rdi,%rdi` when a
 * conditional jump follows it: the kernel emulates the jump but must
 * single-step the test, which costs about three times as much.
 *
 * Returns 0, or a negative errno with a one-line reason in `err` (-ESRCH:
 * the process has gone; -ENOENT: no mapped file defines malloc and free).
 * Free with alloc_lib_clear().
 */
int alloc_lib_find(const struct proc_target *t, struct alloc_lib *out, char *err, size_t errlen);
void alloc_lib_clear(struct alloc_lib *l);

#endif
