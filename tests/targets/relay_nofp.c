// SPDX-License-Identifier: GPL-2.0-only
/* relay built without frame pointers (the Makefile keys on "nofp" in the name). */
#include "relay.c"
