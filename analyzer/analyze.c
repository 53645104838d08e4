// SPDX-License-Identifier: GPL-2.0-only
/* The analyzer: runs every detector over each window and keeps the history they need. */
#include "analyzer/analyze.h"
#include "analyzer/detect.h"

#include <stdlib.h>

/* One entry per detector (analyzer/detect_*.c), run in order on every window. */
typedef int (*detector_fn)(struct analyzer *a, struct window *w);

/* The verdict comes last: it weighs what the others found. */
static const detector_fn detectors[] = {
	detect_chunk_steps,
	detect_arena_fragmentation,
	detect_fd_growth,
	detect_leak,
	detect_mmap_growth,
	detect_rss_growth,
	detect_verdict,
};

struct analyzer *analyzer_new(void)
{
	return calloc(1, sizeof(struct analyzer));
}

int analyzer_window(struct analyzer *a, struct window *w)
{
	size_t i;
	int ret;

	detect_begin(a, w);
	for (i = 0; i < sizeof(detectors) / sizeof(detectors[0]); i++) {
		if (!detectors[i])
			continue;
		ret = detectors[i](a, w);
		if (ret)
			return ret;
	}
	detect_commit(a);
	window_sort_findings(w);
	return 0;
}

void analyzer_free(struct analyzer *a)
{
	if (a)
		detect_free(a);
	free(a);
}
