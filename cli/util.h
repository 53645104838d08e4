/* SPDX-License-Identifier: GPL-2.0-only */
/* Small helpers shared by the subcommands: argument parsing, byte formatting, JSON strings. */
#ifndef MEMSLEUTH_UTIL_H
#define MEMSLEUTH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* Exit statuses of the command-line contract. */
#define EXIT_OK 0
#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

/*
 * Parses a PID argument. Returns 0, or -1 with a one-line reason in `err`
 * ("not a number", "PID 0 is not a process", ...).
 */
int parse_pid(const char *arg, int *pid, char *err, size_t errlen);

/*
 * Remembers why a write to `f` failed (errno, at the failure) when `f` is
 * stdout: by the time the command returns, stdio may have dropped the data
 * and the errno with it. output_errno() is 0 until a write failed.
 */
void output_failed(FILE *f);
int output_errno(void);

/* Parses a positive number of seconds (fractions allowed, at most a day). */
int parse_seconds(const char *arg, const char *what, double *out, char *err, size_t errlen);

/* Parses a positive count. */
int parse_count(const char *arg, const char *what, long *out, char *err, size_t errlen);

/* Formats bytes for people: "512 B", "48.0 MiB". `buf` needs 16 bytes. */
const char *fmt_bytes(char *buf, size_t len, uint64_t v);
/* Same with a sign: "+48.0 MiB", "-4.0 KiB", "0 B". */
const char *fmt_delta(char *buf, size_t len, int64_t v);

/*
 * A JSON string from bytes that came from the target (comm, paths, symbols):
 * invalid UTF-8 becomes U+FFFD so the output stays valid JSON. Never NULL
 * unless out of memory.
 */
json_t *json_str(const char *s);

/* Unix time now, and monotonic seconds. */
double now_unix(void);
double now_mono(void);

#endif
