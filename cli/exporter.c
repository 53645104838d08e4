// SPDX-License-Identifier: GPL-2.0-only
/* Where a live run's figures go besides the terminal: HTTP, a node_exporter textfile, a pprof file. */
#include "cli/exporter.h"
#include "analyzer/model.h"
#include "cli/serve.h"
#include "cli/session.h"
#include "collectors/targets.h"
#include "export/metrics.h"
#include "export/pprof.h"
#include "lib/file_replace.h"
#include "lib/log.h"
#include "lib/vec.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

struct export_slot {
	struct metrics_target m;	/* comm, cgroup owned; latest held */
	struct findings_set active;
};

struct exporter {
	struct exporter_opts opts;
	struct serve *server;
	char textfile[PATH_MAX];
	struct export_slot **slots;
	size_t nslots, slots_cap;
	uint64_t target_starts;
};

int exporter_open(const struct exporter_opts *o, struct exporter **out, char *err, size_t errlen)
{
	struct exporter *e;
	struct stat st;
	int ret;

	*out = NULL;
	if (o->textfile_dir && (stat(o->textfile_dir, &st) || !S_ISDIR(st.st_mode))) {
		snprintf(err, errlen, "--textfile %s: not a directory", o->textfile_dir);
		return -ENOTDIR;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->opts = *o;
	if (o->textfile_dir &&
	    snprintf(e->textfile, sizeof(e->textfile), "%s/memsleuth.prom", o->textfile_dir) >=
		    (int)sizeof(e->textfile)) {
		snprintf(err, errlen, "--textfile: the path is too long");
		free(e);
		return -ENAMETOOLONG;
	}
	if (o->listen) {
		ret = serve_start(o->listen, &e->server, err, errlen);
		if (ret) {
			free(e);
			return ret;
		}
	}
	*out = e;
	return 0;
}

bool exporter_active(const struct exporter *e)
{
	return e->server || e->opts.textfile_dir || e->opts.pprof_path;
}

struct export_slot *exporter_add(struct exporter *e, int pid, const char *comm, const char *cgroup)
{
	struct export_slot *s = calloc(1, sizeof(*s)), **at;

	if (!s)
		return NULL;
	s->m.pid = pid;
	s->m.comm = strdup(comm ? comm : "");
	s->m.cgroup = cgroup ? strdup(cgroup) : NULL;
	at = VEC_PUSH(e->slots, e->nslots, e->slots_cap);
	if (!s->m.comm || (cgroup && !s->m.cgroup) || !at) {
		if (at)
			e->nslots--;
		free((char *)s->m.comm);
		free((char *)s->m.cgroup);
		free(s);
		return NULL;
	}
	*at = s;
	e->target_starts++;
	return s;
}

static void slot_free(struct export_slot *s)
{
	sample_unref((struct sample *)s->m.latest);
	findings_set_clear(&s->active);
	free((char *)s->m.comm);
	free((char *)s->m.cgroup);
	free(s);
}

void exporter_remove(struct exporter *e, struct export_slot *slot)
{
	size_t i;

	if (!slot)
		return;
	for (i = 0; i < e->nslots; i++) {
		if (e->slots[i] != slot)
			continue;
		if (e->server)
			serve_publish_profile(e->server, slot->m.pid, NULL, 0);
		memmove(&e->slots[i], &e->slots[i + 1], (e->nslots - i - 1) * sizeof(*e->slots));
		e->nslots--;
		slot_free(slot);
		return;
	}
}

void exporter_tick(struct export_slot *slot, struct sample *latest, double collect_s, bool alloc)
{
	sample_unref((struct sample *)slot->m.latest);
	slot->m.latest = latest;
	slot->m.collect_s += collect_s;
	slot->m.alloc = alloc;
	if (latest) {
		slot->m.freeze_s += (double)latest->freeze_us / 1e6;
		slot->m.lost_events = latest->lost_events;
	}
}

/* Whether the window's end holds outstanding allocations to profile. */
static bool has_alloc_stacks(const struct sample *s)
{
	size_t i;

	for (i = 0; s && i < s->nstacks; i++)
		if (s->stacks[i].kind == STACK_ALLOC && s->stacks[i].bytes > 0)
			return true;
	return false;
}

int exporter_window(struct exporter *e, struct export_slot *slot, const struct window *w,
		    char *err, size_t errlen)
{
	struct pprof_meta meta = { .pid = slot->m.pid, .comm = slot->m.comm,
				   .duration_s = w->window_s };
	uint8_t *gz = NULL;
	size_t len = 0;
	int ret;

	ret = findings_set_from_window(&slot->active, w);
	slot->m.findings = slot->active.items;
	slot->m.nfindings = slot->active.n;
	if (ret) {
		snprintf(err, errlen, "out of memory");
		return ret;
	}
	if ((!e->server && !e->opts.pprof_path) || !has_alloc_stacks(w->end))
		return 0;
	ret = pprof_heap_encode(w->end, &meta, &gz, &len);
	if (ret) {
		snprintf(err, errlen, "cannot encode the heap profile: %s", strerror(-ret));
		return ret;
	}
	if (e->server)
		ret = serve_publish_profile(e->server, slot->m.pid, gz, len);
	if (!ret && e->opts.pprof_path) {
		ret = file_replace(e->opts.pprof_path, gz, len);
		if (ret)
			snprintf(err, errlen, "cannot write %s: %s", e->opts.pprof_path, strerror(-ret));
	} else if (ret) {
		snprintf(err, errlen, "out of memory");
	}
	free(gz);
	return ret;
}

/* memsleuth's own resident bytes, from /proc/self/statm; 0 when unreadable. */
static uint64_t self_rss(void)
{
	unsigned long long size, resident = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f) {
		if (fscanf(f, "%llu %llu", &size, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static double self_cpu(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Renders every slot in one format into a new buffer (the caller frees). 0 or a negative errno. */
static int render(struct exporter *e, const struct metrics_self *self, bool om, char **buf,
		  size_t *len)
{
	struct metrics_target *t = calloc(e->nslots ? e->nslots : 1, sizeof(*t));
	FILE *f;
	size_t i;
	int ret;

	*buf = NULL;
	if (!t)
		return -ENOMEM;
	for (i = 0; i < e->nslots; i++)
		t[i] = e->slots[i]->m;
	f = open_memstream(buf, len);
	if (!f) {
		free(t);
		return -ENOMEM;
	}
	ret = metrics_write(f, t, e->nslots, self, om);
	if (fclose(f) && !ret)
		ret = -ENOMEM;
	free(t);
	if (ret) {
		free(*buf);
		*buf = NULL;
	}
	return ret;
}

int exporter_publish(struct exporter *e, bool textfile, char *err, size_t errlen)
{
	struct metrics_self self = { .cpu_s = self_cpu(), .rss = self_rss(),
				     .target_starts = e->target_starts };
	char *text = NULL, *om = NULL;
	size_t text_len = 0, om_len = 0;
	int ret = 0;

	textfile = textfile && e->opts.textfile_dir;
	if (!e->server && !textfile)
		return 0;
	ret = render(e, &self, false, &text, &text_len);
	if (!ret && e->server)
		ret = render(e, &self, true, &om, &om_len);
	if (!ret && e->server)
		ret = serve_publish_metrics(e->server, text, text_len, om, om_len);
	if (ret) {
		snprintf(err, errlen, "cannot render the metrics: %s", strerror(-ret));
	} else if (textfile) {
		ret = file_replace(e->textfile, text, text_len);
		if (ret)
			snprintf(err, errlen, "cannot write %s: %s", e->textfile, strerror(-ret));
	}
	free(text);
	free(om);
	return ret;
}

int exporter_after_tick(struct exporter *e, struct export_slot *slot, struct session *s,
			double collect_s, const struct window *w, char *err, size_t errlen)
{
	int ret = 0;

	if (!exporter_active(e))
		return 0;
	exporter_tick(slot, session_latest_ref(s), collect_s, session_alloc_library(s) != NULL);
	if (w)
		ret = exporter_window(e, slot, w, err, errlen);
	return ret ? ret : exporter_publish(e, w != NULL, err, errlen);
}

int exporter_open_session(const struct exporter_opts *o, struct session *s, int pid,
			  struct exporter **e, struct export_slot **slot, char *err, size_t errlen)
{
	char *cgroup;
	int ret;

	*slot = NULL;
	ret = exporter_open(o, e, err, errlen);
	if (ret)
		return ret;
	cgroup = targets_cgroup_of(pid);
	*slot = exporter_add(*e, pid, session_comm(s), cgroup);
	free(cgroup);
	if (!*slot) {
		exporter_close(*e);
		*e = NULL;
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (exporter_url(*e))
		log_info("serving %s/metrics and %s/debug/pprof/heap", exporter_url(*e),
			 exporter_url(*e));
	/* The baseline sample is there already: served from the start. */
	exporter_tick(*slot, session_latest_ref(s), 0, session_alloc_library(s) != NULL);
	return exporter_publish(*e, false, err, errlen);
}

int exporter_opt_parse(int c, const char *arg, struct exporter_opts *o)
{
	switch (c) {
	case EXPORT_OPT_LISTEN:
		o->listen = arg;
		return 1;
	case EXPORT_OPT_TEXTFILE:
		o->textfile_dir = arg;
		return 1;
	case EXPORT_OPT_PPROF:
		o->pprof_path = arg;
		return 1;
	}
	return 0;
}

const char *exporter_url(const struct exporter *e)
{
	return e->server ? serve_url(e->server) : NULL;
}

void exporter_close(struct exporter *e)
{
	size_t i;

	if (!e)
		return;
	serve_stop(e->server);
	for (i = 0; i < e->nslots; i++)
		slot_free(e->slots[i]);
	free(e->slots);
	free(e);
}
