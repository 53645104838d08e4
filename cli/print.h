/* SPDX-License-Identifier: GPL-2.0-only */
/* Printers for windows and diffs: text for people, JSON for programs, fed the same data. */
#ifndef MEMSLEUTH_PRINT_H
#define MEMSLEUTH_PRINT_H

#include <stdio.h>

#include <jansson.h>

#include "analyzer/window.h"

struct print_opts {
	int max_regions;	/* rows in the text region table */
	int max_stacks;		/* stacks per kind in text */
};

#define PRINT_OPTS_DEFAULT { .max_regions = 12, .max_stacks = 3 }

/* One window for people, fitting 80 columns. */
void print_window_text(FILE *f, const struct window *w, const struct print_opts *o);
/* One window as one JSON object on one line. */
int print_window_json(FILE *f, const struct window *w);
/* The window's JSON object (the contract in README.md, "JSON output"); NULL on ENOMEM. */
json_t *window_to_json(const struct window *w);

/* The window's glibc arenas, when read (cli/print_arenas.c). */
void print_arenas_text(FILE *f, const struct window *w);

/* A diff of two saved smaps files: the window between them, with their names. */
void print_diff_text(FILE *f, const struct window *w, const char *old_path,
		     const char *new_path, const struct print_opts *o);
int print_diff_json(FILE *f, const struct window *w, const char *old_path,
		    const char *new_path);

/* Writes one JSON value on a line; returns 0 or -EIO. */
int print_json_line(FILE *f, json_t *j);

#endif
