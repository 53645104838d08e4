/* SPDX-License-Identifier: GPL-2.0-only */
/* Which file or package would name the frames of a module that has no symbols beyond its exports. */
#ifndef MEMSLEUTH_DEBUG_HINT_H
#define MEMSLEUTH_DEBUG_HINT_H

#include <stddef.h>

#include <elfutils/libdwfl.h>

#include "collectors/proc.h"

/*
 * A module stripped of its symbol table (Debian strips every packaged
 * binary) names its frames by its exported symbols at best: static functions
 * and whole executables read as "file+0x1234". Its debug info is found, when
 * installed, by build-id under /usr/lib/debug/.build-id/ or by the
 * .gnu_debuglink name beside the file or under /usr/lib/debug (modmap.h).
 *
 * Returns 1 with a one-line hint in `out` when `mod` (of target `t`) has
 * neither a symbol table nor debug info: the build-id path and debuglink
 * name that would be read, and the Debian package that ships them (the
 * owner of the file in the target's dpkg database, "<package>-dbgsym", or
 * libc6-dbg for glibc). Returns 0 when there is nothing to say (symbols or
 * debug info present, the vDSO). Reads the dpkg database (under
 * /proc/PID/root) once per call: call it once per module.
 */
int debug_hint(const struct proc_target *t, Dwfl_Module *mod, char *out, size_t len);

#endif
