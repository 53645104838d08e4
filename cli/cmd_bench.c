// SPDX-License-Identifier: GPL-2.0-only
/* Hidden `__bench-smaps PID ROUNDS`: times a raw smaps read against read + parse + grouping. */
#include "analyzer/regions.h"
#include "cli/commands.h"
#include "cli/util.h"
#include "collectors/proc.h"
#include "collectors/smaps.h"
#include "lib/clock.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/*
 * Used by tests/bench/bench_smaps.py. The raw side reads the whole text into a
 * reused buffer; the full side streams and parses it as the sampler does
 * (smaps_read_fd), then groups it into regions. Rounds alternate between the
 * two measurements so that both see the same machine load.
 */
int cmd_bench_smaps(int argc, char **argv)
{
	struct readbuf rawbuf = { 0 };
	struct proc_target t;
	double raw = 0, full = 0;
	size_t bytes = 0, vmas = 0, nregions = 0;
	long rounds, i;
	char err[256];
	int pid;

	if (argc != 3 || parse_pid(argv[1], &pid, err, sizeof(err)) ||
	    parse_count(argv[2], "rounds", &rounds, err, sizeof(err)))
		return usage_error("__bench-smaps", "usage: __bench-smaps PID ROUNDS");
	if (proc_open(pid, &t, err, sizeof(err)))
		return runtime_error("__bench-smaps", false, err);
	/* Both sides reuse their buffer across rounds, as the sampler does across ticks. */
	for (i = 0; i < rounds; i++) {
		struct vma_list l = { 0 };
		struct parse_error perr;
		struct sample *s;
		double t0;
		int fd, ret;

		t0 = clock_mono();
		if (proc_read_buf(&t, "smaps", &rawbuf))
			goto fail;
		raw += clock_mono() - t0;

		t0 = clock_mono();
		s = sample_new();
		fd = openat(t.dirfd, "smaps", O_RDONLY | O_CLOEXEC);
		ret = fd < 0 || !s ? -1 : smaps_read_fd(fd, &l, &perr);
		if (fd >= 0)
			close(fd);
		if (ret || regions_build(&l, NULL, 0, s)) {
			vma_list_free(&l);
			sample_unref(s);
			goto fail;
		}
		full += clock_mono() - t0;
		bytes = rawbuf.len;
		vmas = l.n;
		nregions = s->nregions;
		vma_list_free(&l);
		sample_unref(s);
	}
	printf("{\"rounds\": %ld, \"bytes\": %zu, \"vmas\": %zu, \"regions\": %zu, "
	       "\"raw_read_s\": %.6f, \"read_parse_s\": %.6f}\n",
	       rounds, bytes, vmas, nregions, raw / (double)rounds, full / (double)rounds);
	readbuf_free(&rawbuf);
	proc_close(&t);
	return EXIT_OK;
fail:
	snprintf(err, sizeof(err), "reading /proc/%d/smaps failed", pid);
	readbuf_free(&rawbuf);
	proc_close(&t);
	return runtime_error("__bench-smaps", false, err);
}
