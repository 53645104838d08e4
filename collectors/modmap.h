/* SPDX-License-Identifier: GPL-2.0-only */
/* The modules (executable, shared libraries, vDSO) mapped by one process, as one libdwfl session. */
#ifndef MEMSLEUTH_MODMAP_H
#define MEMSLEUTH_MODMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <elfutils/libdwfl.h>

#include "collectors/proc.h"

/*
 * A modmap is the one Dwfl of a target process, shared by the unwinder
 * (unwind.h) and the symbolizer (symbols.h). Files are opened through the
 * target's /proc directory fd: under root/, so that targets in other mount
 * namespaces work, and deleted files through map_files/. Every module's ELF, symbol table and
 * debug info are opened as soon as the module is seen, so that stacks copied
 * before the target exited can still be resolved afterwards.
 *
 * Debug info is looked up by build-id under /proc/PID/root/usr/lib/debug,
 * then /usr/lib/debug. DEBUGINFOD_URLS is cleared on first use: memsleuth
 * never reaches the network on its own.
 *
 * Not thread-safe: one thread uses a modmap and what is built on it.
 */
struct modmap;

/*
 * Reads the module list of target `t` (borrowed: it must outlive the modmap)
 * and opens every module. Returns 0 with *out set, or a negative errno with a
 * one-line reason in `err` (-ESRCH: the process has gone).
 */
int modmap_open(const struct proc_target *t, struct modmap **out, char *err, size_t errlen);

/*
 * Notes that the module list may have changed (a file was mapped, or a range
 * holding a module was unmapped); the next modmap_find() reads it again.
 */
void modmap_invalidate(struct modmap *m);

/* Whether [start, end) overlaps a known module (so that unmapping it matters). */
bool modmap_overlaps(struct modmap *m, uint64_t start, uint64_t end);

/*
 * The module holding `pc`. The list is read again first when it was
 * invalidated, or when no module holds `pc` (a library loaded since), at most
 * once per MODMAP_REFRESH_MS so that code outside any file (JIT) does not
 * cost a re-read per lookup. Returns NULL when no module holds `pc`: never
 * a module whose extent `pc` lies outside.
 */
Dwfl_Module *modmap_find(struct modmap *m, uint64_t pc);

#define MODMAP_REFRESH_MS 100

/* The module holding `pc` in the list as last read, without reading it again; NULL if none. */
Dwfl_Module *modmap_known(const struct modmap *m, uint64_t pc);

/*
 * Whether `pc` lies in an executable mapping of the target (a file's code,
 * the vDSO, or anonymous code such as a JIT's): a return address must. As
 * modmap_find, the list is read again (at most once per MODMAP_REFRESH_MS)
 * when it is stale or `pc` is in none.
 */
bool modmap_executable(struct modmap *m, uint64_t pc);

/* An executable mapping of the target. */
struct modmap_range {
	uint64_t start, end;
};

/* The executable mappings as last read, in address order (borrowed until the next read). */
size_t modmap_exec_ranges(const struct modmap *m, const struct modmap_range **out);

/* What identifies a module to a reader of its frames (pprof's mapping). */
struct modmap_module {
	const char *path;	/* as the maps file names it; borrowed until the list is read again */
	char build_id[130];	/* lowercase hex; empty when none */
	uint64_t start, end;	/* its range in the target, first mapping to last */
};

/* Describes `mod`. Returns 0, or -ENOENT when libdwfl knows nothing of it. */
int modmap_describe(const struct modmap *m, Dwfl_Module *mod, struct modmap_module *out);

/* The session, for dwfl calls (borrowed: valid until modmap_free). */
Dwfl *modmap_dwfl(const struct modmap *m);
int modmap_pid(const struct modmap *m);
/* The target (borrowed: as given to modmap_open). */
const struct proc_target *modmap_target(const struct modmap *m);
/* How many times the module list was read (for tests and -v): it changes whenever the list may have. */
unsigned modmap_reads(const struct modmap *m);

/* Frees; NULL is accepted. */
void modmap_free(struct modmap *m);

#endif
