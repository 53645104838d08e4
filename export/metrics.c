// SPDX-License-Identifier: GPL-2.0-only
/* What memsleuth measured, as Prometheus text exposition (0.0.4) or OpenMetrics 1.0. */
#include "export/metrics.h"
#include "lib/text_safe.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum family_type { GAUGE, COUNTER };

struct family {
	const char *name;	/* a counter's without its _total */
	uint8_t type;
	const char *help;
};

struct out {
	FILE *f;
	bool om;
};

static void family_head(const struct out *o, const struct family *fam)
{
	const char *type = fam->type == COUNTER ? "counter" : "gauge";

	/* The text format names a counter's family with its _total; OpenMetrics without. */
	if (fam->type == COUNTER && !o->om) {
		fprintf(o->f, "# HELP %s_total %s\n# TYPE %s_total %s\n", fam->name, fam->help,
			fam->name, type);
		return;
	}
	fprintf(o->f, "# HELP %s %s\n# TYPE %s %s\n", fam->name, fam->help, fam->name, type);
}

/* A label value from the target (comm, paths): valid UTF-8, escaped, no control bytes. */
static void label_value(FILE *f, const char *v)
{
	const unsigned char *p = (const unsigned char *)(v ? v : "");
	size_t n = strlen((const char *)p), k;

	while (*p) {
		k = utf8_seq_len(p, n);
		if (!k) {
			fputs("\xef\xbf\xbd", f);	/* U+FFFD */
			k = 1;
		} else if (*p == '\\' || *p == '"') {
			fputc('\\', f);
			fputc(*p, f);
		} else if (*p == '\n') {
			fputs("\\n", f);
		} else if (k == 1 && (*p < 0x20 || *p == 0x7f)) {
			fputc('?', f);
		} else {
			fwrite(p, 1, k, f);
		}
		p += k;
		n -= k;
	}
}

/*
 * One series: the family's name, the target's labels and extra (key, value)
 * pairs, NULL-terminated; then the value, an integer or a real.
 */
static void series_labels(const struct out *o, const struct family *fam,
			  const struct metrics_target *t, const char *const *extra)
{
	const char *sep = "{";

	fprintf(o->f, "%s%s", fam->name, fam->type == COUNTER ? "_total" : "");
	if (t) {
		fprintf(o->f, "{pid=\"%d\",comm=\"", t->pid);
		label_value(o->f, t->comm);
		fputc('"', o->f);
		if (t->cgroup) {
			fputs(",cgroup=\"", o->f);
			label_value(o->f, t->cgroup);
			fputc('"', o->f);
		}
		sep = ",";
	}
	for (; extra && extra[0]; extra += 2) {
		fprintf(o->f, "%s%s=\"", sep, extra[0]);
		label_value(o->f, extra[1]);
		fputc('"', o->f);
		sep = ",";
	}
	fputs(sep[0] == ',' ? "} " : " ", o->f);
}

static void series_int(const struct out *o, const struct family *fam,
		       const struct metrics_target *t, const char *const *extra, int64_t v)
{
	series_labels(o, fam, t, extra);
	fprintf(o->f, "%" PRId64 "\n", v);
}

static void series_real(const struct out *o, const struct family *fam,
			const struct metrics_target *t, const char *const *extra, double v)
{
	series_labels(o, fam, t, extra);
	fprintf(o->f, "%.9g\n", v);
}

/* The families of whole-process figures, one per field of struct totals. */
static void write_totals(const struct out *o, const struct metrics_target *t, size_t n)
{
	static const struct family fams[] = {
		{ "memsleuth_rss_bytes", GAUGE, "Resident memory of the process (smaps Rss)." },
		{ "memsleuth_pss_bytes", GAUGE, "Proportional set size of the process (smaps Pss)." },
		{ "memsleuth_anon_bytes", GAUGE, "Anonymous resident memory of the process." },
		{ "memsleuth_swap_bytes", GAUGE, "Swapped-out memory of the process." },
	};
	size_t i, k;

	for (k = 0; k < sizeof(fams) / sizeof(fams[0]); k++) {
		family_head(o, &fams[k]);
		for (i = 0; i < n; i++) {
			const struct totals *tot = t[i].latest ? &t[i].latest->totals : NULL;
			uint64_t v[] = { tot ? tot->rss : 0, tot ? tot->pss : 0, tot ? tot->anon : 0,
					 tot ? tot->swap : 0 };

			if (tot)
				series_int(o, &fams[k], &t[i], NULL, (int64_t)v[k]);
		}
	}
}

static int by_rss_desc(const void *a, const void *b)
{
	const struct region *x = *(const struct region *const *)a;
	const struct region *y = *(const struct region *const *)b;

	return x->rss < y->rss ? 1 : x->rss > y->rss ? -1 : strcmp(x->name, y->name);
}

/* The largest regions by name, the rest summed per kind under region="other". */
static int write_regions(const struct out *o, const struct metrics_target *t, size_t n)
{
	static const struct family fam = {
		"memsleuth_region_rss_bytes", GAUGE,
		"Resident memory of a region of the address space (the largest by name, the rest "
		"summed per kind as region=\"other\")."
	};
	size_t i, j;

	family_head(o, &fam);
	for (i = 0; i < n; i++) {
		const struct sample *s = t[i].latest;
		uint64_t other[REGION_NKINDS] = { 0 };
		bool has_other[REGION_NKINDS] = { false };
		const struct region **sorted;

		if (!s || !s->has_regions)
			continue;
		sorted = malloc((s->nregions ? s->nregions : 1) * sizeof(*sorted));
		if (!sorted)
			return -ENOMEM;
		for (j = 0; j < s->nregions; j++)
			sorted[j] = &s->regions[j];
		qsort(sorted, s->nregions, sizeof(*sorted), by_rss_desc);
		for (j = 0; j < s->nregions; j++) {
			const char *labels[] = { "kind", region_kind_name(sorted[j]->kind), "region",
						 sorted[j]->name, NULL };

			if (j < METRICS_TOP_REGIONS) {
				series_int(o, &fam, &t[i], labels, (int64_t)sorted[j]->rss);
			} else if (sorted[j]->kind < REGION_NKINDS) {
				other[sorted[j]->kind] += sorted[j]->rss;
				has_other[sorted[j]->kind] = true;
			}
		}
		free(sorted);
		for (j = 0; j < REGION_NKINDS; j++) {
			const char *labels[] = { "kind", region_kind_name((enum region_kind)j), "region",
						 "other", NULL };

			if (has_other[j])
				series_int(o, &fam, &t[i], labels, (int64_t)other[j]);
		}
	}
	return 0;
}

enum { ARENA_SYSTEM, ARENA_TOP, ARENA_FREE, ARENA_RECLAIMABLE, ARENA_THREADS, ARENA_NFIGS };

/* A figure of an arena; false when it was not measured (free lists need a frozen walk). */
static bool arena_figure(const struct arena_stat *a, int k, uint64_t *v)
{
	const uint64_t figs[ARENA_NFIGS] = { a->system, a->top, a->free, a->reclaimable, a->threads };

	*v = figs[k];
	return a->walked || (k != ARENA_FREE && k != ARENA_RECLAIMABLE);
}

static void write_arenas(const struct out *o, const struct metrics_target *t, size_t n)
{
	static const struct family fams[ARENA_NFIGS] = {
		{ "memsleuth_glibc_arena_system_bytes", GAUGE,
		  "Memory a glibc arena holds from the system (malloc_state.system_mem)." },
		{ "memsleuth_glibc_arena_top_bytes", GAUGE, "Size of a glibc arena's top chunk." },
		{ "memsleuth_glibc_arena_free_bytes", GAUGE,
		  "Free chunks of a glibc arena: bins, fastbins and tcache, top excluded." },
		{ "memsleuth_glibc_arena_reclaimable_bytes", GAUGE,
		  "Resident whole pages inside a glibc arena's free chunks (what malloc_trim "
		  "would return)." },
		{ "memsleuth_glibc_arena_threads", GAUGE, "Threads attached to a glibc arena." },
	};
	char addr[32];
	size_t i, j;
	int k;

	for (k = 0; k < ARENA_NFIGS; k++) {
		family_head(o, &fams[k]);
		for (i = 0; i < n; i++) {
			const struct sample *s = t[i].latest;
			uint64_t other = 0, v;
			bool any_other = false;

			for (j = 0; s && s->has_arenas && j < s->narenas; j++) {
				const char *labels[] = { "arena", addr, NULL };

				if (!arena_figure(&s->arenas[j], k, &v))
					continue;
				if (j >= METRICS_MAX_ARENAS) {
					other += v;
					any_other = true;
					continue;
				}
				if (s->arenas[j].main)
					snprintf(addr, sizeof(addr), "main");
				else
					snprintf(addr, sizeof(addr), "0x%" PRIx64, s->arenas[j].addr);
				series_int(o, &fams[k], &t[i], labels, (int64_t)v);
			}
			if (any_other) {
				const char *labels[] = { "arena", "other", NULL };

				series_int(o, &fams[k], &t[i], labels, (int64_t)other);
			}
		}
	}
}

static void write_fds(const struct out *o, const struct metrics_target *t, size_t n)
{
	static const struct family fds = { "memsleuth_fds", GAUGE,
					   "Open file descriptors of the process, by type." };
	static const struct family limit = { "memsleuth_fd_limit", GAUGE,
					     "The process's soft RLIMIT_NOFILE." };
	size_t i;
	int k;

	family_head(o, &fds);
	for (i = 0; i < n; i++)
		for (k = 0; t[i].latest && t[i].latest->has_fds && k < FD_NTYPES; k++) {
			const char *labels[] = { "type", fd_type_name((enum fd_type)k), NULL };

			series_int(o, &fds, &t[i], labels, (int64_t)t[i].latest->fds.by_type[k]);
		}
	family_head(o, &limit);
	for (i = 0; i < n; i++)
		if (t[i].latest && t[i].latest->has_fds && t[i].latest->fds.limit)
			series_int(o, &limit, &t[i], NULL, (int64_t)t[i].latest->fds.limit);
}

/* One series per kind of finding in the last closed window, at its highest severity. */
static void write_findings(const struct out *o, const struct metrics_target *t, size_t n)
{
	static const struct family fam = {
		"memsleuth_finding", GAUGE,
		"1 while a finding of this kind holds (in the last closed window), at its highest "
		"severity."
	};
	size_t i, j;
	int k;

	family_head(o, &fam);
	for (i = 0; i < n; i++) {
		const struct finding *f = t[i].findings;
		int sev[FINDING_NKINDS];

		for (k = 0; k < FINDING_NKINDS; k++)
			sev[k] = -1;
		for (j = 0; j < t[i].nfindings; j++)
			if (f[j].kind < FINDING_NKINDS && f[j].severity > sev[f[j].kind])
				sev[f[j].kind] = f[j].severity;
		for (k = 0; k < FINDING_NKINDS; k++) {
			const char *labels[] = { "kind", finding_kind_name((enum finding_kind)k),
						 "severity", severity_name((enum severity)sev[k]), NULL };

			if (sev[k] >= 0)
				series_int(o, &fam, &t[i], labels, 1);
		}
	}
}

/* What watching each target costs it and memsleuth. */
static void write_costs(const struct out *o, const struct metrics_target *t, size_t n)
{
	static const struct family fams[] = {
		{ "memsleuth_collect_seconds", COUNTER,
		  "Wall-clock seconds memsleuth spent taking samples of the process." },
		{ "memsleuth_freeze_seconds", COUNTER,
		  "Seconds the process was stopped so that its glibc arenas could be walked." },
		{ "memsleuth_lost_events", COUNTER,
		  "Probe events lost (ring buffer or map full): figures undercount by these." },
		{ "memsleuth_alloc_probes", GAUGE, "1 while the malloc probes are attached." },
	};
	size_t i;

	family_head(o, &fams[0]);
	for (i = 0; i < n; i++)
		series_real(o, &fams[0], &t[i], NULL, t[i].collect_s);
	family_head(o, &fams[1]);
	for (i = 0; i < n; i++)
		series_real(o, &fams[1], &t[i], NULL, t[i].freeze_s);
	family_head(o, &fams[2]);
	for (i = 0; i < n; i++)
		series_int(o, &fams[2], &t[i], NULL, (int64_t)t[i].lost_events);
	family_head(o, &fams[3]);
	for (i = 0; i < n; i++)
		series_int(o, &fams[3], &t[i], NULL, t[i].alloc);
}

static void write_self(const struct out *o, size_t n, const struct metrics_self *self)
{
	static const struct family fams[] = {
		{ "memsleuth_targets", GAUGE, "Processes memsleuth watches now." },
		{ "memsleuth_target_starts", COUNTER,
		  "Processes memsleuth started watching (a restarted target counts again)." },
		{ "memsleuth_self_cpu_seconds", COUNTER, "CPU seconds memsleuth itself used." },
		{ "memsleuth_self_resident_bytes", GAUGE, "memsleuth's own resident memory." },
	};

	family_head(o, &fams[0]);
	series_int(o, &fams[0], NULL, NULL, (int64_t)n);
	family_head(o, &fams[1]);
	series_int(o, &fams[1], NULL, NULL, (int64_t)self->target_starts);
	family_head(o, &fams[2]);
	series_real(o, &fams[2], NULL, NULL, self->cpu_s);
	family_head(o, &fams[3]);
	series_int(o, &fams[3], NULL, NULL, (int64_t)self->rss);
}

int metrics_write(FILE *f, const struct metrics_target *t, size_t n,
		  const struct metrics_self *self, bool openmetrics)
{
	struct out o = { .f = f, .om = openmetrics };

	write_totals(&o, t, n);
	if (write_regions(&o, t, n))
		return -ENOMEM;
	write_arenas(&o, t, n);
	write_fds(&o, t, n);
	write_findings(&o, t, n);
	write_costs(&o, t, n);
	if (self)
		write_self(&o, n, self);
	if (openmetrics)
		fputs("# EOF\n", f);
	return fflush(f) || ferror(f) ? -EIO : 0;
}

bool metrics_wants_openmetrics(const char *accept)
{
	return accept && strstr(accept, "application/openmetrics-text") != NULL;
}
