/* SPDX-License-Identifier: GPL-2.0-only */
/* Checks that terminfo knows the terminal before curses is started on it. */
#ifndef MEMSLEUTH_TUI_TERMINFO_H
#define MEMSLEUTH_TUI_TERMINFO_H

#include <stdbool.h>

/* Whether $TERM names a terminal terminfo describes (stdout must be a terminal). */
bool terminfo_usable(void);

#endif
