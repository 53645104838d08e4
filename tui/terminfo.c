// SPDX-License-Identifier: GPL-2.0-only
/* Checks that terminfo knows the terminal before curses is started on it. */
#include "tui/curses.h"
#include "tui/terminfo.h"

/* term.h defines short macros (lines, columns...): it stays confined to this file. */
#include <term.h>
#include <unistd.h>

bool terminfo_usable(void)
{
	int err = 0;

	/* newterm() on an unknown terminal fails but keeps memory it allocated; this does not. */
	if (setupterm(NULL, STDOUT_FILENO, &err) != OK)
		return false;
	del_curterm(cur_term);
	return true;
}
