// SPDX-License-Identifier: GPL-2.0-only
/* The analyzer: runs every detector over each window and keeps the history they need. */
#include "analyzer/analyze.h"

#include <stdlib.h>

struct analyzer {
	unsigned long windows;
};

/* One entry per detector (analyzer/detect_*.c), run in order on every window. */
typedef int (*detector_fn)(struct analyzer *a, struct window *w);

static const detector_fn detectors[] = {
	NULL,
};

struct analyzer *analyzer_new(void)
{
	return calloc(1, sizeof(struct analyzer));
}

int analyzer_window(struct analyzer *a, struct window *w)
{
	size_t i;
	int ret;

	for (i = 0; i < sizeof(detectors) / sizeof(detectors[0]); i++) {
		if (!detectors[i])
			continue;
		ret = detectors[i](a, w);
		if (ret)
			return ret;
	}
	a->windows++;
	window_sort_findings(w);
	return 0;
}

void analyzer_free(struct analyzer *a)
{
	free(a);
}
