/* SPDX-License-Identifier: GPL-2.0-only */
/* Outstanding allocations by stack as a pprof heap profile (profile.proto, gzipped). */
#ifndef MEMSLEUTH_PPROF_H
#define MEMSLEUTH_PPROF_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer/sample.h"

/*
 * The profile that `go tool pprof`, Grafana Pyroscope, Parca and Polar
 * Signals read: sample types inuse_objects (count) and inuse_space (bytes),
 * the default inuse_space; period type space/bytes, the period the
 * allocation sampling interval (--alloc-sample) or 1. One Sample per stack
 * of kind alloc with outstanding bytes, its values the figures of the
 * sample, scaled estimates when the probes recorded part of the calls (a
 * comment says so). One Location per address of the stack (analyzer/stack.h:
 * each frame's pc, module, names and line), with its Mapping (file,
 * build-id, address range) and its symbolized Lines, inlined functions
 * first; frames whose address is not known (recordings made before
 * addresses were kept) get one Location each in a Mapping named
 * "[unknown]". Labels: pid (number), comm (string).
 *
 * Pure: encodes what it is given; no I/O.
 */

struct pprof_meta {
	int pid;
	const char *comm;	/* may be NULL */
	double duration_s;	/* the window the profile closes; 0 unknown */
};

/*
 * Encodes the alloc stacks of sample `s` (the end of a window) as a gzipped
 * profile.proto. Returns 0 with *out (the caller frees) and *len, -ENOMEM,
 * or -EIO when zlib fails.
 */
int pprof_heap_encode(const struct sample *s, const struct pprof_meta *m, uint8_t **out,
		      size_t *len);

#endif
