/* SPDX-License-Identifier: GPL-2.0-only */
/* Whether a module's code keeps frame pointers, judged from its functions' prologues. */
#ifndef MEMSLEUTH_MODFP_H
#define MEMSLEUTH_MODFP_H

#include <elfutils/libdwfl.h>

/*
 * A frame-pointer walk (the kernel's, in bpf_get_stackid) is right only in
 * code that keeps rbp as the frame pointer: every function opens with
 * `push %rbp; mov %rsp,%rbp` (after endbr64 with CET). Code built with
 * -fomit-frame-pointer, GCC's default at -O1 and above and Debian's for its
 * packages, uses rbp as an ordinary register: the walk follows whatever it
 * holds. So a module counts as keeping frame pointers when at least half of
 * its functions (up to MODFP_SAMPLE of them, from its symbol table or, if
 * stripped, its exported symbols; 16 bytes or longer) have that sequence in
 * their first 16 bytes; GCC's shrink-wrapping can put a few instructions
 * before it. Without frame pointers the sequence does not occur, so the
 * margin is wide on both sides.
 *
 * Returns 1 (frame pointers), 0 (none), or -1 when fewer than MODFP_MIN
 * functions could be read (treated as "none" by callers: the safe choice).
 */
#define MODFP_SAMPLE 512
#define MODFP_MIN 4

int modfp_detect(Dwfl_Module *mod);

#endif
