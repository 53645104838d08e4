/* SPDX-License-Identifier: GPL-2.0-only */
/* JSON strings from bytes that came from the target, always valid UTF-8. */
#ifndef MEMSLEUTH_JSON_TEXT_H
#define MEMSLEUTH_JSON_TEXT_H

#include <jansson.h>

/*
 * A JSON string from bytes that came from the target (comm, paths, symbols):
 * invalid UTF-8 becomes U+FFFD so the output stays valid JSON; control
 * characters are kept (jansson escapes them). NULL reads as "". Returns a new
 * reference, NULL only when out of memory.
 */
json_t *json_text(const char *s);

#endif
