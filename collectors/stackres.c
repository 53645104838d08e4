// SPDX-License-Identifier: GPL-2.0-only
/* A target's one stack pipeline: its modules, unwinder, symbols and stack table, for every probe. */
#include "collectors/stackres.h"
#include "collectors/modfp.h"
#include "collectors/symbols.h"
#include "lib/idmap.h"
#include "lib/log.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Stacks kept per kind; figures of further stacks are summed under one
 * "other" stack. Allocation stacks are the most varied: a service has many
 * more allocating paths than paths that map memory or open fds.
 */
static const size_t max_per_kind[STACK_NKINDS] = {
	[STACK_ALLOC] = 1024,
	[STACK_MMAP] = 256,
	[STACK_BRK] = 256,
	[STACK_FAULT] = 256,
	[STACK_FD] = 256,
};

struct stackres {
	const struct proc_target *proc;	/* borrowed */
	const struct site_rules *rules;	/* borrowed; NULL: the built-in ones */
	struct modmap *map;		/* NULL before stackres_load or after it failed */
	struct unwinder *unwinder;	/* NULL: a capture gives its first frame only */
	struct symbols *syms;		/* NULL: frames are addresses */
	struct stacktab *stacks;
	struct idmap fp;		/* module path hash -> 1 + modfp_detect() */
	pthread_mutex_t lock;
	bool loaded;
	int load_ret;
	char load_err[256];
	uint64_t captures, walks, cut;
};

int stackres_new(const struct proc_target *t, const struct site_rules *rules,
		 struct stackres **out)
{
	struct stackres *r;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->proc = t;
	r->rules = rules;
	pthread_mutex_init(&r->lock, NULL);
	r->stacks = stacktab_new(max_per_kind);
	if (!r->stacks) {
		free(r);
		return -ENOMEM;
	}
	*out = r;
	return 0;
}

static int load(struct stackres *r)
{
	int ret = modmap_open(r->proc, &r->map, r->load_err, sizeof(r->load_err));

	if (ret)
		return ret;
	ret = unwinder_new(r->map, &r->unwinder);
	if (ret)
		snprintf(r->load_err, sizeof(r->load_err), "cannot unwind the stacks of process %d: %s",
			 r->proc->pid, strerror(-ret));
	if (symbols_new(r->map, &r->syms) && !ret) {
		snprintf(r->load_err, sizeof(r->load_err), "out of memory");
		ret = -ENOMEM;
	}
	return ret;
}

int stackres_load(struct stackres *r, char *err, size_t errlen)
{
	if (!r->loaded) {
		r->loaded = true;
		r->load_ret = load(r);
	}
	if (r->load_ret)
		snprintf(err, errlen, "%s", r->load_err);
	return r->load_ret;
}

/* The frames being built: each pc's symbolized frames, and the modules they lie in. */
struct building {
	struct stack_frame f[STACKTAB_MAX_FRAMES];
	Dwfl_Module *mod[STACKTAB_MAX_FRAMES];	/* of each frame */
	uint32_t n;
};

static void building_clear(struct building *b)
{
	uint32_t i;

	for (i = 0; i < b->n; i++)
		stack_frame_clear(&b->f[i]);
	b->n = 0;
}

static char *dup_or_null(const char *s, bool *failed)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*failed = true;
	return d;
}

/* Appends the frames of one pc. Returns 0, -ENOSPC when they do not all fit, or -ENOMEM. */
static int add_pc(struct stackres *r, struct building *b, const struct unwind_frame *uf)
{
	struct symbols_frame sf[SYMBOLS_MAX_INLINE];
	uint64_t at = uf->activation ? uf->pc : uf->pc - 1;
	Dwfl_Module *mod = r->map ? modmap_known(r->map, at) : NULL;
	bool failed = false;
	char hex[24];
	int j, nf;

	if (r->syms) {
		nf = symbols_frames(r->syms, uf->pc, uf->activation, sf);
		if (nf < 0)
			return nf;
	} else {
		snprintf(hex, sizeof(hex), "0x%" PRIx64, uf->pc);
		memset(sf, 0, sizeof(sf[0]));
		sf[0].text = hex;
		nf = 1;
	}
	for (j = 0; j < nf; j++) {
		struct stack_frame *f;

		if (b->n >= STACKTAB_MAX_FRAMES)
			return -ENOSPC;
		f = &b->f[b->n];
		memset(f, 0, sizeof(*f));
		f->pc = uf->pc;
		f->module = -1;
		f->inlined = sf[j].inlined;
		f->line = sf[j].line;
		f->text = dup_or_null(sf[j].text, &failed);
		f->name = dup_or_null(sf[j].name, &failed);
		f->function = dup_or_null(sf[j].function, &failed);
		f->symbol = dup_or_null(sf[j].symbol, &failed);
		f->file = dup_or_null(sf[j].file, &failed);
		b->mod[b->n++] = mod;
		if (failed)
			return -ENOMEM;
	}
	return 0;
}

/* Moves the frames into a stack, each distinct module described once. NULL on ENOMEM. */
static struct stack_frames *seal(struct stackres *r, struct building *b, bool truncated)
{
	Dwfl_Module *seen[STACKTAB_MAX_FRAMES];
	struct stack_frames *d;
	uint32_t i, k, nmods = 0;

	for (i = 0; i < b->n; i++) {
		for (k = 0; k < nmods && seen[k] != b->mod[i]; k++)
			;
		if (b->mod[i] && k == nmods)
			seen[nmods++] = b->mod[i];
		b->f[i].module = b->mod[i] ? (int32_t)k : -1;
	}
	d = stack_frames_new(b->n, nmods);
	if (!d)
		return NULL;
	memcpy(d->f, b->f, b->n * sizeof(b->f[0]));
	b->n = 0;	/* the strings now belong to d */
	for (k = 0; k < nmods; k++) {
		struct modmap_module mm;

		if (modmap_describe(r->map, seen[k], &mm))
			continue;
		d->modules[k].start = mm.start;
		d->modules[k].end = mm.end;
		d->modules[k].path = strdup(mm.path);
		d->modules[k].build_id = mm.build_id[0] ? strdup(mm.build_id) : NULL;
		if (!d->modules[k].path || (mm.build_id[0] && !d->modules[k].build_id)) {
			stack_frames_unref(d);
			return NULL;
		}
	}
	d->truncated = truncated;
	stack_frames_seal(d);
	stack_site_find(d, r->rules);
	/* Ending at a program's or thread's entry point, a stack is whole however the walk stopped. */
	if (d->truncated && stack_site_reaches_root(d))
		d->truncated = false;
	return d;
}

/*
 * Where frames become a stack: each pc checked against the executable
 * mappings (the stack stops at the first that fails), symbolized into its
 * frames (the functions inlined there first), the first STACKTAB_MAX_FRAMES
 * of them interned. Returns the stack id, or 0 on ENOMEM.
 */
static uint64_t intern(struct stackres *r, const struct unwind_frame *frames, size_t n,
		       enum stackres_walk_end end)
{
	struct building b = { .n = 0 };
	struct stack_frames *d;
	bool cut = end != STACKRES_WALK_WHOLE;
	uint64_t id = 0;
	size_t i;
	int ret = 0;

	/*
	 * The probe's own pc was running there, but not always in the program:
	 * a fault taken while the kernel single-steps a probed instruction out
	 * of line (the first instruction of malloc, say, under the malloc
	 * probes) has its pc in the kernel's [uprobes] page, which is no
	 * module. That frame names nothing; its caller, frame 1, is whole.
	 */
	i = 0;
	if (n > 1 && frames[0].activation && r->map && !modmap_executable(r->map, frames[0].pc))
		i = 1;
	for (; i < n && !ret; i++) {
		uint64_t at = frames[i].activation ? frames[i].pc : frames[i].pc - 1;

		if (i > 0 && (!r->map || !modmap_executable(r->map, at))) {
			cut = true;
			r->cut++;
			break;
		}
		ret = add_pc(r, &b, &frames[i]);
	}
	if (ret == -ENOSPC)
		cut = true;
	else if (ret)
		goto out;
	d = seal(r, &b, cut);
	if (!d)
		goto out;
	id = stacktab_intern(r->stacks, d);
	stack_frames_unref(d);
out:
	building_clear(&b);
	return id;
}

uint64_t stackres_capture(struct stackres *r, int tid, const struct stack_capture *cap,
			  const uint8_t *stack, size_t stack_bytes, bool at_return, uint64_t *pcs,
			  size_t *npcs)
{
	/* Each pc gives at least one frame: deeper walks would not be kept. */
	struct unwind_frame frames[STACKTAB_MAX_FRAMES];
	struct unwind_input in;
	bool whole = false;
	size_t i;
	int n = -1;

	unwind_input_capture(&in, tid, cap, stack, stack_bytes);
	if (r->unwinder)
		n = unwind_frames(r->unwinder, &in, frames, STACKTAB_MAX_FRAMES, &whole);
	if (n < 1) {
		frames[0].pc = cap->regs[CAPTURE_REG_IP];
		frames[0].activation = true;
		n = 1;
		whole = false;
	}
	if (at_return)
		frames[0].activation = false;
	if (pcs) {
		for (i = 0; i < (size_t)n && i < *npcs; i++)
			pcs[i] = frames[i].pc;
		*npcs = i;
	}
	r->captures++;
	return intern(r, frames, (size_t)n, whole ? STACKRES_WALK_WHOLE : STACKRES_WALK_CUT);
}

uint64_t stackres_walk(struct stackres *r, const uint64_t *pcs, size_t n,
		       enum stackres_walk_end end)
{
	struct unwind_frame frames[STACKTAB_MAX_FRAMES];
	size_t i;

	if (n > STACKTAB_MAX_FRAMES) {
		n = STACKTAB_MAX_FRAMES;
		end = STACKRES_WALK_CUT;
	}
	/* Every frame is a return address: the allocator has returned into frame 0. */
	for (i = 0; i < n; i++) {
		frames[i].pc = pcs[i];
		frames[i].activation = false;
	}
	r->walks++;
	return intern(r, frames, n, end);
}

int stackres_unwind_rule(struct stackres *r, uint64_t pc, struct unwind_rule *out)
{
	if (!r->unwinder)
		return -ENODEV;
	return unwind_rule(r->unwinder, pc, out);
}

static uint64_t path_key(const char *path)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *path; path++) {
		h ^= (unsigned char)*path;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Whether `mod` keeps frame pointers, judged once per file. */
static bool keeps_fp(struct stackres *r, Dwfl_Module *mod)
{
	const char *name = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	uint64_t key = path_key(name ? name : "?");
	size_t v = idmap_get(&r->fp, key);
	int fp;

	if (v == SIZE_MAX) {
		fp = modfp_detect(mod);
		log_debug("stacks: process %d: %s %s frame pointers", r->proc->pid, name ? name : "?",
			  fp > 0 ? "keeps" : fp == 0 ? "has no" : "too few functions to judge:");
		v = (size_t)(fp + 1);
		if (idmap_put(&r->fp, key, v))
			return false;
	}
	return v == 2;
}

ssize_t stackres_exec_ranges(const struct stackres *r, struct modmap_range **out)
{
	const struct modmap_range *exec = NULL;
	size_t n = r->map ? modmap_exec_ranges(r->map, &exec) : 0;

	*out = malloc((n ? n : 1) * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	memcpy(*out, exec, n * sizeof(**out));
	return (ssize_t)n;
}

void stackres_lock(struct stackres *r)
{
	pthread_mutex_lock(&r->lock);
}

void stackres_unlock(struct stackres *r)
{
	pthread_mutex_unlock(&r->lock);
}

size_t stackres_fp_ranges(struct stackres *r, struct modmap_range *out, size_t max,
			  unsigned *reads)
{
	const struct modmap_range *exec;
	size_t i, n, k = 0;

	*reads = r->map ? modmap_reads(r->map) : 0;
	if (!r->map)
		return 0;
	n = modmap_exec_ranges(r->map, &exec);
	for (i = 0; i < n && k < max; i++) {
		Dwfl_Module *mod = modmap_known(r->map, exec[i].start);

		if (mod && keeps_fp(r, mod))
			out[k++] = exec[i];
	}
	return k;
}

struct stacktab *stackres_table(const struct stackres *r)
{
	return r->stacks;
}

void stackres_mapped_file(struct stackres *r)
{
	if (r->map)
		modmap_invalidate(r->map);
}

void stackres_unmapped(struct stackres *r, uint64_t start, uint64_t end)
{
	if (r->map && modmap_overlaps(r->map, start, end))
		modmap_invalidate(r->map);
}

int stackres_export(struct stackres *r, struct sample *s)
{
	return stacktab_export(r->stacks, s);
}

void stackres_free(struct stackres *r)
{
	if (!r)
		return;
	if (r->map && r->syms) {
		uint64_t hits, misses;

		symbols_stats(r->syms, &hits, &misses);
		log_debug("stacks: process %d: %" PRIu64 " captures unwound, %" PRIu64
			  " walks resolved, %zu stacks kept, %" PRIu64 " cut at a bad return address; "
			  "symbols: %" PRIu64 " cached, %" PRIu64 " resolved; module list read %u times",
			  r->proc->pid, r->captures, r->walks, stacktab_count(r->stacks), r->cut, hits,
			  misses, modmap_reads(r->map));
	}
	/* The unwinder is attached to the modmap's session: it goes first. */
	unwinder_free(r->unwinder);
	symbols_free(r->syms);
	modmap_free(r->map);
	stacktab_free(r->stacks);
	idmap_free(&r->fp);
	pthread_mutex_destroy(&r->lock);
	free(r);
}
