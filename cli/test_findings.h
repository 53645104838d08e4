/* SPDX-License-Identifier: GPL-2.0-only */
/* Test-only: findings described in MEMSLEUTH_TEST_FINDINGS, added to the live view's windows. */
#ifndef MEMSLEUTH_TEST_FINDINGS_H
#define MEMSLEUTH_TEST_FINDINGS_H

#include "analyzer/window.h"

/*
 * The tests of `top` must see findings drawn whatever the detectors find.
 * When the environment variable MEMSLEUTH_TEST_FINDINGS is set, every window
 * the view shows gets the findings it describes, one per line:
 *     SEVERITY|KIND|SUMMARY[|KEY=INT,KEY=INT...[|FRAME;FRAME...]]
 * and the findings are sorted again. Lines that do not parse are skipped.
 * Returns 0 (also when the variable is unset) or -ENOMEM.
 */
int test_findings_add(struct window *w);

#endif
