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
	bool usable;

	/* newterm() on an unknown terminal fails but keeps memory it allocated; this does not. */
	if (setupterm(NULL, STDOUT_FILENO, &err) != OK)
		return false;
	/* A terminal that cannot move its cursor (TERM=dumb) would show a blank screen. */
	usable = cursor_address != NULL && cursor_address != (char *)-1;
	del_curterm(cur_term);
	return usable;
}
