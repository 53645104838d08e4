// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz harness: the inflater of compressed recordings, then the reader on what it gives. */
#include "recording/recording.h"
#include "recording/zfile.h"
#include "fuzz_common.h"

#include <string.h>

/*
 * Any bytes: a clean one-line error or a rewound stream; whatever the stream
 * holds then goes through the reader, which must end cleanly too. Inputs that
 * do not start with zstd's magic are given it, so that mutations reach the
 * frame decoder rather than stopping at the first four bytes.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
	struct recording_reader *rd;
	struct recording_header h;
	struct sample *s;
	uint8_t *buf = malloc(size + sizeof(magic));
	FILE *f, *plain = NULL;
	char err[512];
	size_t n = 0;
	int ret;

	FUZZ_CHECK(buf != NULL);
	if (size < sizeof(magic) || memcmp(data, magic, sizeof(magic)) != 0) {
		memcpy(buf, magic, sizeof(magic));
		n = sizeof(magic);
	}
	memcpy(buf + n, data, size);
	f = fmemopen(buf, n + size, "r");
	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(zfile_is_zstd(f));
	err[0] = '\0';
	ret = zfile_inflate(f, "fuzz", &plain, err, sizeof(err));
	if (ret) {
		FUZZ_CHECK(plain == NULL && fuzz_is_clean_line(err));
		free(buf);
		return 0;
	}
	FUZZ_CHECK(plain != NULL);
	if (recording_open_stream(plain, "fuzz", &rd, &h, err, sizeof(err)) == 0) {
		while ((ret = recording_next(rd, &s, err, sizeof(err))) == 1)
			sample_unref(s);
		FUZZ_CHECK(ret == 0 || fuzz_is_clean_line(err));
		recording_close(rd);
		recording_header_clear(&h);
	} else {
		FUZZ_CHECK(fuzz_is_clean_line(err));
	}
	free(buf);
	return 0;
}
