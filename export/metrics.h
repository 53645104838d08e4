/* SPDX-License-Identifier: GPL-2.0-only */
/* What memsleuth measured, as Prometheus text exposition (0.0.4) or OpenMetrics 1.0. */
#ifndef MEMSLEUTH_METRICS_H
#define MEMSLEUTH_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "analyzer/finding.h"
#include "analyzer/sample.h"

/*
 * Every series carries the target's `pid` and `comm` labels, and `cgroup`
 * when it is known; figures are in base units (bytes, seconds). Cardinality
 * is bounded whatever the target does: per target at most
 * METRICS_TOP_REGIONS regions by name plus one "other" series per region
 * kind, at most METRICS_MAX_ARENAS arenas plus one "other", one series per
 * fd type, one per active finding kind. The families and their meaning are
 * listed in README.md ("Fleet").
 *
 * Pure: formats what it is given into `f`; no clock, no /proc.
 */
#define METRICS_TOP_REGIONS 10
#define METRICS_MAX_ARENAS 64

/* One watched process. Everything is borrowed. */
struct metrics_target {
	int pid;
	const char *comm;
	const char *cgroup;		/* NULL: not known */
	const struct sample *latest;	/* the newest sample; NULL before the first */
	const struct finding *findings;	/* of the last closed window: they are active */
	size_t nfindings;
	bool alloc;			/* the malloc probes run now */
	double collect_s;		/* seconds memsleuth spent sampling it */
	double freeze_s;		/* seconds it was stopped for arena reads */
	uint64_t lost_events;		/* probe events lost since memsleuth attached */
};

/* memsleuth's own cost. */
struct metrics_self {
	double cpu_s;			/* CPU seconds used, user and system */
	uint64_t rss;			/* resident bytes */
	uint64_t target_starts;		/* processes it started watching (restarts included) */
};

/* The Content-Type of each format. */
#define METRICS_CONTENT_TYPE_TEXT "text/plain; version=0.0.4; charset=utf-8"
#define METRICS_CONTENT_TYPE_OPENMETRICS "application/openmetrics-text; version=1.0.0; charset=utf-8"

/*
 * Writes every family for targets t[0..n) and memsleuth's own figures
 * (self may be NULL: left out), in the text format, or in OpenMetrics when
 * `openmetrics`. Returns 0, or -EIO when `f` failed.
 */
int metrics_write(FILE *f, const struct metrics_target *t, size_t n,
		  const struct metrics_self *self, bool openmetrics);

/*
 * Whether an HTTP Accept header asks for OpenMetrics (as Prometheus does
 * when it can read it). NULL reads as no.
 */
bool metrics_wants_openmetrics(const char *accept);

#endif
