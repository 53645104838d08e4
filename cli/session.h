/* SPDX-License-Identifier: GPL-2.0-only */
/* A live session: sampler, pipeline and recorder run together on a tick schedule. */
#ifndef MEMSLEUTH_SESSION_H
#define MEMSLEUTH_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/stack_site.h"
#include "analyzer/window.h"
#include "collectors/bpf_growth.h"
#include "collectors/bpf_alloc.h"

#define SESSION_MAX_SKIP 32

struct session_opts {
	int pid;
	double window_s;
	double tick_s;
	bool bpf;
	bool no_bpf;		/* --no-bpf given (bpf may also be off for want of root) */
	bool alloc;
	bool arenas;		/* read glibc arenas */
	bool freeze;		/* stop the target briefly to walk the arenas' free lists */
	double freeze_max_s;	/* bound on one freeze; 0 the default */
	struct bpf_growth_opts growth;
	struct bpf_alloc_opts alloc_opts;
	const char *record_path;	/* NULL: no recording */
	uint64_t rotate_bytes;		/* --rotate SIZE; 0 never */
	double rotate_s;		/* --rotate DURATION; 0 never */
	/* --skip PATTERN: frames to skip when naming a stack's site (stack_site.h). */
	const char *skip[SESSION_MAX_SKIP];
	size_t nskip;
};

struct session;

/*
 * Attaches to the target and takes the baseline sample. Returns 0 with *out,
 * or a negative errno with a one-line reason in `err`.
 */
int session_open(const struct session_opts *o, struct session **out, char *err, size_t errlen);

/*
 * Takes one sample. Returns 1 with *w when it closed a window (the caller frees
 * it), 0 when not, -ESRCH when the target has gone, -ENOEXEC when it executed
 * a new program (the reason in `err`), another negative errno with a reason in
 * `err` on failure.
 */
int session_tick(struct session *s, struct window **w, char *err, size_t errlen);

/*
 * Closes the partial window (when it holds at least two samples) into *w and
 * ends the recording with `reason`. Returns 1 with *w (the caller frees it), 0
 * without, -ENOMEM when the window could not be made (the recording is ended
 * all the same).
 */
int session_finish(struct session *s, const char *reason, struct window **w);

/* Monotonic time at which the next tick is due. */
double session_next_tick(const struct session *s);
/* The newest sample (borrowed), for live views between windows. */
const struct sample *session_latest(const struct session *s);
/* The newest sample with a reference for the caller (freed with sample_unref), or NULL. */
struct sample *session_latest_ref(struct session *s);

/*
 * Starts windows of `window_s` from the newest sample on, with a fresh
 * analyzer (the live view's +/- keys). Returns 0 or -ENOMEM (nothing changed).
 */
int session_set_window(struct session *s, double window_s);
const char *session_comm(const struct session *s);
bool session_has_bpf(const struct session *s);
/* The file whose malloc is probed (--alloc), or NULL. */
const char *session_alloc_library(const struct session *s);
/* When the target started, as unix time. 0 or a negative errno. */
int session_target_started(const struct session *s, double *unix_start);

/* Detaches from the target and frees; NULL is accepted. */
void session_close(struct session *s);

/*
 * The site rules of the --skip patterns skip[0..n) into *out (NULL when n is
 * 0: the built-in rules); freed with site_rules_free. Returns 0 or -ENOMEM.
 */
int session_site_rules(const char *const *skip, size_t n, struct site_rules **out);

#endif
