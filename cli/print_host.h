/* SPDX-License-Identifier: GPL-2.0-only */
/* Printers for `ps`: the host's processes and cgroups ranked by growth, as text and as JSON. */
#ifndef MEMSLEUTH_PRINT_HOST_H
#define MEMSLEUTH_PRINT_HOST_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "analyzer/host.h"

struct print_host_opts {
	int max_rows;		/* rows of the text tables besides the growing processes */
	bool groups;		/* print the cgroups table */
	bool root;		/* memsleuth runs as root: what it cannot read, root cannot either */
};

/* One window for people, in 80 columns: the first max_rows rows and every growing process. */
void print_host_text(FILE *f, const struct host_window *w, const struct print_host_opts *o);
/* One window as one JSON object on one line (README, "ps --json"). Returns 0 or -EIO. */
int print_host_json(FILE *f, const struct host_window *w);
/* The window's JSON object; NULL on ENOMEM. */
json_t *host_window_to_json(const struct host_window *w);

#endif
