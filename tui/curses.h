/* SPDX-License-Identifier: GPL-2.0-only */
/* The one place the live view includes curses, with its wide-character API enabled. */
#ifndef MEMSLEUTH_TUI_CURSES_H
#define MEMSLEUTH_TUI_CURSES_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <curses.h>

#endif
