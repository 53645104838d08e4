// SPDX-License-Identifier: GPL-2.0-only
/* Strings from the target made safe to show: valid UTF-8, no terminal control bytes. */
#include "lib/text_safe.h"

#include <stdint.h>
#include <string.h>

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	size_t need, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		need = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		need = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		need = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((need == 2 && cp < 0x80) || (need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

/* U+0080..U+009F are C1 controls: some terminals act on them (0x9b is CSI). */
static int is_c1(const unsigned char *s, size_t len)
{
	return len == 2 && s[0] == 0xc2 && s[1] < 0xa0;
}

size_t text_safe_copy(char *dst, size_t dstlen, const char *src)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t n = strlen(src), i = 0, o = 0, chars = 0;

	if (dstlen == 0)
		return 0;
	while (i < n) {
		size_t l = utf8_seq_len(p + i, n - i);
		int bad = l == 0 || p[i] < 0x20 || p[i] == 0x7f || is_c1(p + i, l);
		size_t out = bad ? 1 : l;

		if (o + out >= dstlen)
			break;
		if (bad)
			dst[o] = '?';
		else
			memmove(dst + o, p + i, l);
		o += out;
		i += l ? l : 1;
		chars++;
	}
	dst[o] = '\0';
	return chars;
}
