/* SPDX-License-Identifier: GPL-2.0-only */
/* The sampler: reads every source for one target and hands out one sample per tick. */
#ifndef MEMSLEUTH_SAMPLER_H
#define MEMSLEUTH_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>

#include "analyzer/sample.h"
#include "collectors/bpf_growth.h"
#include "collectors/bpf_alloc.h"

struct sampler_opts {
	bool bpf;		/* attach the eBPF growth probes */
	bool arenas;		/* read glibc's arenas from outside (collectors/arena.c) */
	bool freeze;		/* freeze the target briefly to walk free lists */
	bool debuginfo;		/* use libc's debug info when installed */
	/*
	 * What costs more is read once a window, at its boundary: the arenas
	 * (a freeze) and the ages of the malloc probes' records (a pass over
	 * their live map). 0: every tick.
	 */
	double window_s;
	double tick_s;		/* how often the caller takes a sample (timeline_span_full) */
	double freeze_max_s;	/* bound on one freeze; 0 the default */
	struct bpf_growth_opts growth;
	bool alloc;		/* attach the malloc probes (failing to is fatal) */
	struct bpf_alloc_opts alloc_opts;
	const struct site_rules *sites;	/* how stacks find their site (borrowed); NULL: built-in */
};

struct sampler;

/*
 * Opens target `pid` and attaches the requested collectors. Returns 0 with *out
 * set, or a negative errno with a one-line reason in `err` (see proc_open;
 * -EPERM from the malloc probes: see bpf_alloc_check_privileges). Probes that
 * cannot start stay off when they may (the growth probes; the malloc probes
 * with alloc_opts.optional): sampler_growth_off and sampler_alloc_off say why,
 * for the caller to tell the user.
 */
int sampler_open(int pid, const struct sampler_opts *opts, struct sampler **out, char *err,
		 size_t errlen);

/*
 * Takes a sample at unix time `now`. Returns 0 with *out (the caller owns it),
 * -ESRCH when the target has exited or its PID was reused, -ENOEXEC when it
 * executed a new program (the reason in `err`), or another negative errno
 * with a reason in `err`.
 */
int sampler_tick(struct sampler *s, double now, struct sample **out, char *err, size_t errlen);

/* The target's command name as first read. */
const char *sampler_comm(const struct sampler *s);
/* Whether the eBPF probes are attached. */
bool sampler_has_bpf(const struct sampler *s);
/*
 * Why probes asked for stayed off: the negative errno they failed with
 * (-EPERM: capabilities missing, named in *why) and a one-line reason in
 * *why (borrowed); 0 when they are on or were not asked for.
 */
int sampler_growth_off(const struct sampler *s, const char **why);
int sampler_alloc_off(const struct sampler *s, const char **why);
/* When the target started, as unix time (see proc_started). 0 or a negative errno. */
int sampler_started(const struct sampler *s, double *unix_start);
/* The file whose malloc is probed (--alloc), or NULL. */
const char *sampler_alloc_library(const struct sampler *s);

/* Detaches every probe and frees; NULL is accepted. */
void sampler_close(struct sampler *s);

#endif
