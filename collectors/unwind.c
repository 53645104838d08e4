// SPDX-License-Identifier: GPL-2.0-only
/* DWARF unwinding of user stacks copied by BPF: registers plus the top of the stack. */
#include "collectors/unwind.h"

#include <dwarf.h>
#include <elf.h>
#include <errno.h>
#include <libelf.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(CAPTURE_NREGS == UNWIND_NREGS && CAPTURE_REG_IP == UNWIND_REG_IP,
	       "the probes copy the registers the unwinder reads");
_Static_assert(CAPTURE_STACK_CHUNKS <= 32, "stack_valid has a bit per chunk");

struct unwinder {
	struct modmap *map;
	const struct unwind_input *in;	/* the copy being walked */
	struct unwind_frame *out;
	size_t n, max;
	bool ended;		/* the walk met a pc of 0: the end of the chain */
};

void unwind_input_capture(struct unwind_input *in, int tid, const struct stack_capture *cap,
			  const uint8_t *stack, size_t stack_bytes)
{
	memset(in, 0, sizeof(*in));
	in->tid = tid;
	memcpy(in->regs, cap->regs, sizeof(in->regs));
	in->stack_base = cap->stack_base;
	in->stack = stack;
	in->chunk = CAPTURE_STACK_CHUNK;
	in->nchunks = stack_bytes / CAPTURE_STACK_CHUNK;
	if (in->nchunks > CAPTURE_STACK_CHUNKS)
		in->nchunks = CAPTURE_STACK_CHUNKS;
	in->valid = cap->stack_valid;
}

/* Threads are only ever asked for by id (dwfl_getthread_frames): there is no list. */
static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	(void)dwfl;
	(void)arg;
	(void)thread_argp;
	return 0;
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	struct unwinder *u = arg;

	(void)dwfl;
	*thread_argp = u;
	return u->in && u->in->tid == tid;
}

/* Serves a word only from the copied window, and only from chunks that were read. */
static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct unwinder *u = arg;
	const struct unwind_input *in = u->in;
	uint64_t off, first, last;

	(void)dwfl;
	if (!in || addr < in->stack_base)
		return false;
	off = addr - in->stack_base;
	if (off + sizeof(*result) > (uint64_t)in->chunk * in->nchunks ||
	    off + sizeof(*result) < off)
		return false;
	first = off / in->chunk;
	last = (off + sizeof(*result) - 1) / in->chunk;
	if (!(in->valid & (1ULL << first)) || !(in->valid & (1ULL << last)))
		return false;
	memcpy(result, in->stack + off, sizeof(*result));
	return true;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	struct unwinder *u = arg;

	if (!dwfl_thread_state_registers(thread, 0, UNWIND_NREGS, u->in->regs))
		return false;
	dwfl_thread_state_register_pc(thread, u->in->regs[UNWIND_REG_IP]);
	return true;
}

static const Dwfl_Thread_Callbacks callbacks = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

/*
 * An ELF header naming the architecture whose registers BPF copies (x86_64),
 * for dwfl_attach_state to open its own backend from. Given no ELF, it borrows
 * the backend of the first module it can read, and frees it with that module:
 * a refresh of the module list after an exec (or a dlclose) then left the
 * unwinder calling through freed memory. Made once; it lives as long as the
 * process, as the Dwfl sessions that use it may.
 */
static Elf64_Ehdr arch_ehdr;
static Elf *arch_elf_handle;

static void arch_elf_make(void)
{
	memcpy(arch_ehdr.e_ident, ELFMAG, SELFMAG);
	arch_ehdr.e_ident[EI_CLASS] = ELFCLASS64;
	arch_ehdr.e_ident[EI_DATA] = ELFDATA2LSB;
	arch_ehdr.e_ident[EI_VERSION] = EV_CURRENT;
	arch_ehdr.e_type = ET_EXEC;
	arch_ehdr.e_machine = EM_X86_64;
	arch_ehdr.e_version = EV_CURRENT;
	arch_ehdr.e_ehsize = sizeof(arch_ehdr);
	elf_version(EV_CURRENT);
	arch_elf_handle = elf_memory((char *)&arch_ehdr, sizeof(arch_ehdr));
}

static Elf *arch_elf(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, arch_elf_make);
	return arch_elf_handle;
}

int unwinder_new(struct modmap *m, struct unwinder **out)
{
	struct unwinder *u;
	Elf *elf = arch_elf();

	*out = NULL;
	if (!elf)
		return -ENOMEM;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->map = m;
	if (!dwfl_attach_state(modmap_dwfl(m), elf, modmap_pid(m), &callbacks, u)) {
		free(u);
		return -EINVAL;
	}
	*out = u;
	return 0;
}

static int on_frame(Dwfl_Frame *state, void *arg)
{
	struct unwinder *u = arg;
	Dwarf_Addr pc;
	bool act;

	if (!dwfl_frame_pc(state, &pc, &act))
		return DWARF_CB_ABORT;
	if (pc == 0) {
		u->ended = true;
		return DWARF_CB_ABORT;
	}
	u->out[u->n].pc = pc;
	u->out[u->n].activation = act;
	u->n++;
	return u->n < u->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

/* Walks; *whole as unwind_frames says. */
static size_t walk(struct unwinder *u, const struct unwind_input *in, struct unwind_frame *frames,
		   size_t max, bool *whole)
{
	int ret;

	u->in = in;
	u->out = frames;
	u->n = 0;
	u->max = max;
	u->ended = false;
	/* 0: the CFI ended the stack; -1: an error (no CFI, outside the copy); 1: aborted here. */
	ret = dwfl_getthread_frames(modmap_dwfl(u->map), in->tid, on_frame, u);
	*whole = ret == 0 || u->ended;
	u->in = NULL;
	u->out = NULL;
	return u->n;
}

int unwind_frames(struct unwinder *u, const struct unwind_input *in, struct unwind_frame *frames,
		  size_t max, bool *whole)
{
	size_t n, i;

	*whole = false;
	if (!max || in->nchunks > 64)
		return -EINVAL;
	/* Reads the module list again first when it is known to be out of date. */
	modmap_find(u->map, in->regs[UNWIND_REG_IP]);
	n = walk(u, in, frames, max, whole);
	for (i = 0; i < n; i++) {
		uint64_t pc = frames[i].activation ? frames[i].pc : frames[i].pc - 1;

		if (modmap_known(u->map, pc))
			continue;
		if (modmap_find(u->map, pc))
			n = walk(u, in, frames, max, whole);
		break;
	}
	if (n == 0) {
		frames[0].pc = in->regs[UNWIND_REG_IP];
		frames[0].activation = true;
		n = 1;
	}
	return (int)n;
}

/* A register rule "at CFA + k" (libdw spells it call_frame_cfa, plus_uconst k); false if another. */
static bool at_cfa(const Dwarf_Op *ops, size_t nops, int64_t *k)
{
	if (nops == 1 && ops[0].atom == DW_OP_call_frame_cfa) {
		*k = 0;
		return true;
	}
	if (nops == 2 && ops[0].atom == DW_OP_call_frame_cfa && ops[1].atom == DW_OP_plus_uconst) {
		*k = (int64_t)ops[1].number;
		return true;
	}
	return false;
}

/* x86_64 DWARF numbers of the registers a rule names. */
#define DWARF_REG_BP 6
#define DWARF_REG_SP 7

static int rule_of(Dwarf_Frame *frame, struct unwind_rule *out)
{
	Dwarf_Op mem[3], *ops;
	size_t nops;
	int64_t k;
	bool signal = false;
	int ra = dwarf_frame_info(frame, NULL, NULL, &signal);

	if (ra != UNWIND_REG_IP || signal)
		return -ENOTSUP;
	if (dwarf_frame_register(frame, ra, mem, &ops, &nops))
		return -ENOTSUP;
	if (nops == 0 && ops == mem) {
		out->kind = UNWIND_RULE_END;
		out->cfa_off = out->bp_off = 0;
		return 0;
	}
	if (!at_cfa(ops, nops, &k) || k != -8)
		return -ENOTSUP;
	if (dwarf_frame_cfa(frame, &ops, &nops) || nops != 1 || ops[0].atom != DW_OP_bregx ||
	    (ops[0].number != DWARF_REG_SP && ops[0].number != DWARF_REG_BP) ||
	    (int64_t)ops[0].number2 != (int32_t)ops[0].number2)
		return -ENOTSUP;
	out->kind = ops[0].number == DWARF_REG_SP ? UNWIND_RULE_SP : UNWIND_RULE_BP;
	out->cfa_off = (int32_t)ops[0].number2;
	if (dwarf_frame_register(frame, DWARF_REG_BP, mem, &ops, &nops))
		return -ENOTSUP;
	if (nops == 0) {
		/* Same value, or undefined (a callee that clobbers rbp is not followed through it). */
		out->bp_off = 0;
		return ops == mem && out->kind == UNWIND_RULE_BP ? -ENOTSUP : 0;
	}
	if (!at_cfa(ops, nops, &k) || k >= 0 || k < INT32_MIN)
		return -ENOTSUP;
	out->bp_off = (int32_t)k;
	return 0;
}

int unwind_rule(struct unwinder *u, uint64_t pc, struct unwind_rule *out)
{
	Dwfl_Module *mod = modmap_find(u->map, pc - 1);
	Dwarf_Frame *frame = NULL;
	Dwarf_Addr bias;
	Dwarf_CFI *cfi;
	int k, ret;

	if (!mod)
		return -ENOENT;
	/* .eh_frame is what every module built for unwinding has; .debug_frame comes with -g. */
	for (k = 0; k < 2 && !frame; k++) {
		cfi = k == 0 ? dwfl_module_eh_cfi(mod, &bias) : dwfl_module_dwarf_cfi(mod, &bias);
		if (cfi && dwarf_cfi_addrframe(cfi, pc - 1 - bias, &frame))
			frame = NULL;
	}
	if (!frame)
		return -ENOENT;
	ret = rule_of(frame, out);
	free(frame);
	return ret;
}

void unwinder_free(struct unwinder *u)
{
	free(u);
}
