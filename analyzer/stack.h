/* SPDX-License-Identifier: GPL-2.0-only */
/* A stack's frames as resolved once: text, per-frame identity, the site that names the program, truncation. */
#ifndef MEMSLEUTH_STACK_H
#define MEMSLEUTH_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The collectors resolve a stack once (stackres.h) and the recording reader
 * reads it once; every sample that carries the stack then shares the same
 * immutable `struct stack_frames`, counted (stack_frames_ref/unref, safe
 * across threads). What it holds, for each kind of reader:
 *
 * - printers, the view and the detectors: the frames' text, innermost first
 *   ("func+0x1a (file.c:42)", C++/Rust/Zig names shortened: analyzer/names.h),
 *   the site (stack_site.h: the first frame, from the leaf, that belongs to the
 *   program rather than to the allocator or the runtime) and whether the stack
 *   was cut (`truncated`: unwinding stopped before the program's entry point);
 * - exporters (pprof): each frame's address in the target, its module (path,
 *   build-id, the address range it is mapped at), the full function name, the
 *   raw symbol and the source line. Frames inlined at one address share its pc
 *   and come first, the holder last (inlined false).
 *
 * A stack read from a recording made before these fields existed has text
 * only: pc 0, module -1, no names; its site is found from the text.
 */

/* A module (executable, shared library, vDSO) as the target maps it. */
struct stack_module {
	char *path;		/* as /proc/PID/maps names it ("[vdso]" for the vDSO) */
	char *build_id;		/* lowercase hex; NULL when the file has none or was not read */
	uint64_t start, end;	/* the range of the target's address space it is mapped at */
};

struct stack_frame {
	char *text;		/* what printers show (never NULL) */
	char *name;		/* the function's short name ("ns::Class::method"); NULL: no symbol */
	char *function;		/* the full demangled name, parameters included; NULL: no symbol */
	char *symbol;		/* the raw symbol as the ELF or DWARF has it (mangled); NULL: none */
	char *file;		/* source file; NULL unknown */
	uint32_t line;		/* 0 unknown */
	int32_t module;		/* index into the stack's modules; -1: in no module */
	bool inlined;		/* a function inlined at pc into the next frame */
	uint64_t pc;		/* address in the target (a return address after frame 0); 0 unknown */
};

struct stack_frames {
	int refs;
	uint32_t n;
	struct stack_frame *f;	/* n frames, innermost first */
	char **text;		/* n + 1 pointers: f[i].text, then NULL (for string-list printers) */
	uint32_t nmodules;
	struct stack_module *modules;
	uint32_t site;		/* index of the frame that names the program's code (< n, or 0) */
	bool truncated;		/* unwinding stopped before the stack's root: callers are missing */
};

/*
 * Makes an empty stack of `n` frames and `nmodules` modules (every field
 * zero, modules -1), holding one reference; NULL with errno ENOMEM.
 */
struct stack_frames *stack_frames_new(uint32_t n, uint32_t nmodules);

/* Takes another reference; returns d. */
struct stack_frames *stack_frames_ref(struct stack_frames *d);

/* Drops a reference, freeing with the last one; NULL is accepted. */
void stack_frames_unref(struct stack_frames *d);

/*
 * Makes a stack of text-only frames (a recording from before per-frame
 * identity, a synthetic stack). `truncated` as given. The site is set by the
 * caller (stack_site_find). NULL with errno ENOMEM.
 */
struct stack_frames *stack_frames_from_text(char *const *text, uint32_t n, bool truncated);

/*
 * Fills d->text from the frames' text, once every frame has its text.
 * Returns 0, or -EINVAL when a frame has none.
 */
int stack_frames_seal(struct stack_frames *d);

/* Frees the strings a frame owns (not the frame), leaving them NULL. */
void stack_frame_clear(struct stack_frame *f);

/* The path of the module of frame i, or NULL. */
const char *stack_frame_module(const struct stack_frames *d, uint32_t i);

/*
 * The function name of frame i: its short name, else the text before the
 * offset or location ("func" of "func+0x1a (f.c:3)"), written into buf.
 * Returns buf.
 */
const char *stack_frame_name(const struct stack_frames *d, uint32_t i, char *buf, size_t len);

#endif
