// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz harness: smaps -> regions -> window -> printers, between two parsed inputs. */
#include "analyzer/allocator.h"
#include "analyzer/regions.h"
#include "analyzer/window.h"
#include "cli/print.h"
#include "collectors/smaps.h"
#include "fuzz_common.h"

#include <string.h>

/*
 * Input: one byte N (taken mod 8), N little-endian 64-bit thread stack
 * pointers, then the old smaps text, a NUL, the new smaps text. Without a NUL
 * the text is compared with itself, and then every delta must be zero.
 */

static struct sample *load(const char *text, size_t len, const uint64_t *sps, size_t nsps)
{
	struct vma_list vmas = { 0 };
	struct sample *s;
	uint64_t rss = 0;
	uint32_t nvmas = 0;
	size_t i;

	if (smaps_parse(text, len, &vmas, NULL))
		return NULL;
	s = sample_new();
	if (!s || regions_build(&vmas, sps, nsps, s)) {
		sample_unref(s);
		vma_list_free(&vmas);
		return NULL;
	}
	s->allocator = (uint8_t)allocator_detect(&vmas);
	s->comm = strdup("fuzz");
	s->pid = 1;
	for (i = 0; i < s->nregions; i++) {
		FUZZ_CHECK(s->regions[i].name && s->regions[i].kind < REGION_NKINDS);
		rss += s->regions[i].rss;
		nvmas += s->regions[i].nvmas;
	}
	FUZZ_CHECK(rss == s->totals.rss);
	FUZZ_CHECK(nvmas == vmas.n);
	vma_list_free(&vmas);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct print_opts popts = PRINT_OPTS_DEFAULT;
	uint64_t sps[8];
	struct sample *s[2] = { NULL, NULL };
	const char *text, *sep;
	size_t nsps, len, i;
	struct fuzz_out out_text, out_json;
	struct window *w;
	bool same;

	if (size < 1)
		return 0;
	nsps = data[0] % 8;
	if (size < 1 + nsps * 8)
		return 0;
	memcpy(sps, data + 1, nsps * 8);
	text = (const char *)data + 1 + nsps * 8;
	len = size - 1 - nsps * 8;
	sep = memchr(text, '\0', len);
	same = !sep;
	s[0] = load(text, sep ? (size_t)(sep - text) : len, sps, nsps);
	if (sep)
		s[1] = load(sep + 1, len - (size_t)(sep - text) - 1, sps, nsps);
	else if (s[0])
		s[1] = sample_ref(s[0]);
	if (!s[0] || !s[1])
		goto out;
	s[1]->t = 1.0;
	w = window_build(s, 2);
	FUZZ_CHECK(w != NULL);
	FUZZ_CHECK(w->nregions >= s[0]->nregions && w->nregions >= s[1]->nregions);
	for (i = 0; i < w->nregions; i++) {
		FUZZ_CHECK(w->regions[i].name && (w->regions[i].cur || w->regions[i].old));
		FUZZ_CHECK(!same || w->regions[i].rss_delta == 0);
	}
	print_window_text(fuzz_out_open(&out_text), w, &popts);
	print_diff_text(out_text.f, w, "old", "new", &popts);
	fuzz_out_check_text(&out_text);
	FUZZ_CHECK(print_window_json(fuzz_out_open(&out_json), w) == 0);
	FUZZ_CHECK(print_diff_json(out_json.f, w, "old", "new") == 0);
	fuzz_out_check_json(&out_json);
	window_free(w);
out:
	sample_unref(s[0]);
	sample_unref(s[1]);
	return 0;
}
