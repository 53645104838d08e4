/* SPDX-License-Identifier: GPL-2.0-only */
/* Where a live run's figures go besides the terminal: HTTP, a node_exporter textfile, a pprof file. */
#ifndef MEMSLEUTH_EXPORTER_H
#define MEMSLEUTH_EXPORTER_H

#include <stdbool.h>
#include <stddef.h>

#include "analyzer/window.h"

/*
 * One exporter per run (watch, top, agent), one slot per watched process.
 * After each tick the run hands the slot its newest sample; after each
 * window, the window (its findings become the active ones; its end's alloc
 * stacks become the heap profile). exporter_publish() then renders the
 * metrics once for every slot and hands them to the HTTP server.
 *
 * Files are replaced atomically (written beside, then renamed), so that a
 * reader (node_exporter, a profile viewer) never sees half a file:
 *   --textfile DIR: DIR/memsleuth.prom, at each window;
 *   --pprof FILE:   FILE, the gzipped profile of the latest window with
 *                   outstanding allocations (one target: watch, top).
 *
 * One thread uses an exporter (the HTTP server has its own and only reads
 * what was published).
 */
struct exporter_opts {
	const char *listen;		/* HOST:PORT, or NULL */
	const char *textfile_dir;	/* or NULL */
	const char *pprof_path;		/* or NULL */
};

/* getopt codes, clear of the subcommands' own and of the live options (400s). */
enum {
	EXPORT_OPT_LISTEN = 500,
	EXPORT_OPT_TEXTFILE,
	EXPORT_OPT_PPROF,
};

#define EXPORT_LONGOPTS                                                        \
	{ "listen", required_argument, NULL, EXPORT_OPT_LISTEN },              \
	{ "textfile", required_argument, NULL, EXPORT_OPT_TEXTFILE }

#define EXPORT_OPTS_HELP                                                                   \
	"      --listen HOST:PORT  serve /metrics (Prometheus) and /debug/pprof/heap on\n"  \
	"                          HOST:PORT (\":PORT\": 127.0.0.1)\n"                      \
	"      --textfile DIR      write DIR/memsleuth.prom at each window, for\n"          \
	"                          node_exporter's textfile collector\n"

/* --pprof FILE, where a run has one target and can profile it (--alloc). */
#define EXPORT_PPROF_LONGOPT { "pprof", required_argument, NULL, EXPORT_OPT_PPROF }
#define EXPORT_PPROF_HELP                                                                  \
	"      --pprof FILE        write each window's outstanding allocations by stack\n"  \
	"                          to FILE as a gzipped pprof profile (needs --alloc)\n"

/* Handles option `c` into `o`. Returns 1 when it was one of these, 0 when not. */
int exporter_opt_parse(int c, const char *arg, struct exporter_opts *o);

struct exporter;
struct export_slot;

/*
 * Starts what `o` asks for (the server listens now; the textfile directory
 * must exist). Returns 0 with *out, or a negative errno with a one-line
 * reason in `err`. With nothing asked, *out is a working exporter that
 * does nothing.
 */
int exporter_open(const struct exporter_opts *o, struct exporter **out, char *err, size_t errlen);

/* Whether anything is exported (a run without any of the options skips the work). */
bool exporter_active(const struct exporter *e);

/*
 * A slot for process `pid`; `comm` and `cgroup` (may be NULL) are copied.
 * NULL on ENOMEM. The slot belongs to the exporter (freed with it, or
 * earlier with exporter_remove).
 */
struct export_slot *exporter_add(struct exporter *e, int pid, const char *comm, const char *cgroup);

/* The process has gone: its series and its profile go too. NULL is accepted. */
void exporter_remove(struct exporter *e, struct export_slot *slot);

/*
 * After a tick: the newest sample (the slot takes over the caller's
 * reference; NULL is accepted), the wall-clock seconds the tick took, and
 * whether the malloc probes run.
 */
void exporter_tick(struct export_slot *slot, struct sample *latest, double collect_s, bool alloc);

/*
 * After a window: its findings become the slot's active ones, and when its
 * end holds outstanding allocation stacks, the heap profile is remade
 * (served, and written to --pprof). Returns 0, or a negative errno with a
 * one-line reason in `err` (the --pprof file could not be written).
 */
int exporter_window(struct exporter *e, struct export_slot *slot, const struct window *w,
		    char *err, size_t errlen);

/*
 * Renders the metrics of every slot and publishes them (HTTP); with
 * `textfile`, also writes the textfile. Returns 0, or a negative errno with
 * a one-line reason in `err`.
 */
int exporter_publish(struct exporter *e, bool textfile, char *err, size_t errlen);

struct session;

/*
 * What a run does after each session_tick of a slot's target: the tick,
 * the window when one closed (`w`, may be NULL), and a publish (the
 * textfile too when a window closed). Returns 0, or a negative errno with a
 * one-line reason in `err`.
 */
int exporter_after_tick(struct exporter *e, struct export_slot *slot, struct session *s,
			double collect_s, const struct window *w, char *err, size_t errlen);

/*
 * For a run with one target (watch, top): opens the exporter and its slot
 * for session `s`'s process `pid`, and says where metrics are served.
 * Returns 0 with *e and *slot, or a negative errno with a reason in `err`.
 */
int exporter_open_session(const struct exporter_opts *o, struct session *s, int pid,
			  struct exporter **e, struct export_slot **slot, char *err, size_t errlen);

/* The served address ("http://127.0.0.1:9464"), or NULL without --listen. */
const char *exporter_url(const struct exporter *e);

/* Stops the server and frees every slot; NULL is accepted. */
void exporter_close(struct exporter *e);

#endif
