// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz harness: the recording reader, fed through the pipeline and printers as report does. */
#include "analyzer/pipeline.h"
#include "cli/print.h"
#include "recording/recording.h"
#include "fuzz_common.h"

#include <string.h>

/*
 * Growth events must survive the timeline's thinning: every event read (or its
 * count, past the caps) shows up in exactly one window, in a tick after the first.
 */
static uint64_t events_read, events_in_windows;

static uint64_t events_of(const struct sample *s)
{
	return s->nevents + s->events_dropped;
}

static void emit(struct window *w)
{
	static const struct print_opts popts = PRINT_OPTS_DEFAULT;
	struct fuzz_out text, json;
	size_t i;

	for (i = 1; i < w->nticks; i++)
		events_in_windows += events_of(w->ticks[i]);
	print_window_text(fuzz_out_open(&text), w, &popts);
	fuzz_out_check_text(&text);
	FUZZ_CHECK(print_window_json(fuzz_out_open(&json), w) == 0);
	fuzz_out_check_json(&json);
	window_free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct recording_reader *rd;
	struct recording_header h;
	struct pipeline *p;
	struct window *w;
	struct sample *s;
	bool started = false;
	int32_t last_pid = 0;
	char err[512];
	FILE *f;
	int ret;

	/* fmemopen refuses an empty buffer; an empty recording is /dev/null. */
	f = size ? fmemopen((void *)data, size, "r") : fopen("/dev/null", "r");
	if (!f)
		return 0;
	err[0] = '\0';
	if (recording_open_stream(f, "fuzz", &rd, &h, err, sizeof(err))) {
		FUZZ_CHECK(fuzz_is_clean_line(err));
		return 0;
	}
	FUZZ_CHECK(h.window_s > 0);
	p = pipeline_new(h.window_s, h.tick_s);
	FUZZ_CHECK(p != NULL);
	events_read = events_in_windows = 0;
	while ((ret = recording_next(rd, &s, err, sizeof(err))) == 1) {
		FUZZ_CHECK(s != NULL);
		/* The first sample of a target starts a window: its events belong to none. */
		if (started && s->pid == last_pid)
			events_read += events_of(s);
		started = true;
		last_pid = s->pid;
		FUZZ_CHECK(pipeline_push(p, s, &w) >= 0);
		if (w)
			emit(w);
	}
	FUZZ_CHECK(ret == 0 || fuzz_is_clean_line(err));
	if (pipeline_flush(p, &w) == 1)
		emit(w);
	FUZZ_CHECK(events_in_windows == events_read);
	pipeline_free(p);
	recording_close(rd);
	recording_header_clear(&h);
	return 0;
}
