/* SPDX-License-Identifier: GPL-2.0-only */
/* A finding: what a detector concluded about a window, with its evidence. */
#ifndef MEMSLEUTH_FINDING_H
#define MEMSLEUTH_FINDING_H

#include <stddef.h>
#include <stdint.h>

enum severity { SEV_INFO, SEV_WARN, SEV_CRITICAL };

enum evidence_type { EV_INT, EV_REAL, EV_STR };

/* One named figure of evidence; `key` is static, `s` owned. */
struct evidence {
	const char *key;
	uint8_t type;		/* enum evidence_type */
	int64_t i;
	double d;
	char *s;
};

struct finding {
	const char *kind;	/* static: "leak", "chunk_steps", ... */
	uint8_t severity;	/* enum severity */
	char *summary;		/* one line with numbers and a hint */
	struct evidence *ev;
	size_t nev, ev_cap;
	char **frames;		/* the stack that explains it, when there is one */
	uint32_t nframes;
};

/* Appends evidence; returns 0 or -ENOMEM. */
int finding_add_int(struct finding *f, const char *key, int64_t v);
int finding_add_real(struct finding *f, const char *key, double v);
int finding_add_str(struct finding *f, const char *key, const char *v);
/* Sets the summary printf-style; returns 0 or -ENOMEM. */
int finding_set_summary(struct finding *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Copies `n` frames into the finding; returns 0 or -ENOMEM. */
int finding_set_frames(struct finding *f, char *const *frames, uint32_t n);
/* Frees what the finding owns (not the struct itself). */
void finding_clear(struct finding *f);

const char *severity_name(enum severity s);

#endif
