/* SPDX-License-Identifier: GPL-2.0-only */
/* The read-only HTTP endpoint of a live run: /metrics and /debug/pprof/heap (libmicrohttpd). */
#ifndef MEMSLEUTH_SERVE_H
#define MEMSLEUTH_SERVE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The server answers from bodies the run publishes (serve_publish_*): the
 * run renders them in its own thread after a tick or a window, and the
 * server's one thread only copies bytes out under a lock, so a scrape never
 * waits on a sample and never sees one half-built.
 *
 *   GET /metrics             Prometheus text 0.0.4, or OpenMetrics 1.0 when the
 *                            Accept header asks for it
 *   GET /debug/pprof/heap    the last profile (gzipped profile.proto); with
 *                            several targets, ?pid=N chooses one
 *   GET /                    a short index of these
 *
 * Only GET and HEAD are answered (405 otherwise); an unknown path is 404, a
 * bad query 400, a profile not made yet 404 with the reason. Bounds: 32
 * connections (8 per client address), 10 s of idleness, 16 KiB of request
 * (headers and URL: more is refused by libmicrohttpd with 4xx).
 */
struct serve;

/*
 * Listens on `hostport` ("HOST:PORT", "[V6]:PORT", or ":PORT" and "PORT"
 * for 127.0.0.1: loopback unless told otherwise; port 0 picks a free one)
 * and starts serving. Returns 0 with *out, or a negative errno with a
 * one-line reason in `err` (-EINVAL: not HOST:PORT; -EADDRINUSE, ...).
 */
int serve_start(const char *hostport, struct serve **out, char *err, size_t errlen);

/* The address served, as "http://HOST:PORT" (borrowed). */
const char *serve_url(const struct serve *s);

/* Replaces the /metrics bodies (both formats); copies them. 0 or -ENOMEM. */
int serve_publish_metrics(struct serve *s, const char *text, size_t text_len, const char *om,
			  size_t om_len);

/* Replaces the profile of process `pid` (copied); len 0 removes it. 0 or -ENOMEM. */
int serve_publish_profile(struct serve *s, int pid, const uint8_t *gz, size_t len);

/* Stops serving (open connections are closed) and frees; NULL is accepted. */
void serve_stop(struct serve *s);

#endif
