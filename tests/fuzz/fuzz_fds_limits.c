// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz harness: the fd link classifier and the /proc/PID/limits parser. */
#include "collectors/fds.h"
#include "fuzz_common.h"

#include <errno.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* readlink's result is NUL-terminated by the caller; limits text is not. */
	char *link = strndup((const char *)data, size);
	uint64_t soft = 12345;
	int ret;

	if (!link)
		return 0;
	FUZZ_CHECK((unsigned int)fds_classify_link(link) < FD_NTYPES);
	free(link);

	ret = fds_parse_limits((const char *)data, size, &soft);
	FUZZ_CHECK(ret == 0 || (ret == -EINVAL && soft == 12345));
	return 0;
}
