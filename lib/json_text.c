// SPDX-License-Identifier: GPL-2.0-only
/* JSON strings from bytes that came from the target, always valid UTF-8. */
#include "lib/json_text.h"
#include "lib/text_safe.h"

#include <stdlib.h>
#include <string.h>

json_t *json_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), i = 0, o = 0;
	json_t *j;
	char *out;

	out = malloc(n * 3 + 1);
	if (!out)
		return NULL;
	while (i < n) {
		size_t l = utf8_seq_len(p + i, n - i);

		if (l == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, p + i, l);
		o += l;
		i += l;
	}
	j = json_stringn_nocheck(out, o);
	free(out);
	return j;
}
