/* SPDX-License-Identifier: GPL-2.0-only */
/* The subcommands' common ground: exit statuses, argument parsing, the stdout failure memo. */
#ifndef MEMSLEUTH_UTIL_H
#define MEMSLEUTH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

/*
 * Parses --rotate's value: a size with a unit (K, M, G: powers of 1024) into
 * *bytes, or a duration with one (s, m, h, d) into *seconds; the other is set
 * to 0. A bare number is refused (which would it be?). 0 or -1 with `err`.
 */
int parse_rotate(const char *arg, uint64_t *bytes, double *seconds, char *err, size_t errlen);

/* Parses a positive count. */
int parse_count(const char *arg, const char *what, long *out, char *err, size_t errlen);

#endif
