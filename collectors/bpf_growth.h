/* SPDX-License-Identifier: GPL-2.0-only */
/* User side of the growth probes: load, attach to one process, drain events. */
#ifndef MEMSLEUTH_BPF_GROWTH_COLLECTOR_H
#define MEMSLEUTH_BPF_GROWTH_COLLECTOR_H

#include <stddef.h>

#include "analyzer/sample.h"

struct bpf_growth;

/*
 * Loads and attaches the probes for process `pid`. Returns 0 with *out set, or
 * a negative errno with a one-line reason in `err` (-EPERM: the missing
 * capability is named).
 */
int bpf_growth_open(int pid, struct bpf_growth **out, char *err, size_t errlen);

/*
 * Moves the events gathered since the last call into `s` (growth events, the
 * cumulative lost count). Returns 0 or a negative errno.
 */
int bpf_growth_drain(struct bpf_growth *g, struct sample *s);

/* Detaches and frees; NULL is accepted. */
void bpf_growth_close(struct bpf_growth *g);

#endif
