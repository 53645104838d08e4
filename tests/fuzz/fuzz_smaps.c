// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz harness: the smaps and smaps_rollup parsers on arbitrary bytes. */
#include "collectors/smaps.h"
#include "fuzz_common.h"

#include <errno.h>
#include <string.h>

static void check_vmas(const struct vma_list *l)
{
	size_t i;

	FUZZ_CHECK(l->n > 0 && l->n <= l->cap);
	for (i = 0; i < l->n; i++) {
		const struct vma *v = &l->v[i];

		FUZZ_CHECK(v->end >= v->start);
		FUZZ_CHECK(strlen(v->perms) == 4);
		FUZZ_CHECK(!v->path || strlen(v->path) > 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vma_list vmas = { 0 };
	struct parse_error err = { 0 };
	struct totals totals;
	int ret;

	ret = smaps_parse((const char *)data, size, &vmas, &err);
	if (ret == 0)
		check_vmas(&vmas);
	else
		FUZZ_CHECK(ret == -EINVAL && vmas.n == 0 && vmas.v == NULL && err.msg[0]);
	vma_list_free(&vmas);

	memset(&err, 0, sizeof(err));
	ret = smaps_rollup_parse((const char *)data, size, &totals, &err);
	FUZZ_CHECK(ret == 0 || (ret == -EINVAL && err.msg[0]));
	return 0;
}
