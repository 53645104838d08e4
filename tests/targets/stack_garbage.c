// SPDX-License-Identifier: GPL-2.0-only
/* Allocates and maps on a stack of garbage: every unwinder that goes past its caller reads text, small numbers and data pointers. */
#include <stdint.h>
#include <sys/mman.h>

#include "target.h"

/*
 * usage: stack_garbage COUNT
 * After "go", calls leak_on_garbage() (malloc of 4096 bytes, kept) and
 * map_on_garbage() (an anonymous mmap of 64 KiB, kept) COUNT times each,
 * both running on a stack that is a buffer of garbage: above the frame they
 * run in lie ASCII text ("1761681617..." read as 0x3631383637313631), small
 * integers (0xe), pointers to the real stack, to the heap and to data. rbp
 * points into the garbage too, its chain leading through the same words,
 * and garbage_call's CFI says its return address is the first garbage word.
 * So a frame-pointer walk, a walk by CFI rules and a DWARF unwind all take
 * garbage for the callers of garbage_call: none of it may be printed as a
 * frame. Prints "done leaked=BYTES mapped=BYTES".
 */

#define GARBAGE_WORDS (48 * 1024)	/* 384 KiB: 256 KiB of stack below, garbage above */
#define STACK_WORDS (32 * 1024)

static uint64_t garbage[GARBAGE_WORDS] __attribute__((aligned(64)));
static void **kept;
static size_t nkept, leaked, mapped;

/* Calls fn(arg) with rsp at stack_top and rbp = fake_rbp; defined below. */
void *garbage_call(void *(*fn)(size_t), size_t arg, void *stack_top, void *fake_rbp);

__asm__(".text\n"
	".globl garbage_call\n"
	".type garbage_call, @function\n"
	"garbage_call:\n"
	".cfi_startproc\n"
	"push %rbp\n"
	".cfi_adjust_cfa_offset 8\n"
	".cfi_rel_offset %rbp, 0\n"
	"push %rbx\n"
	".cfi_adjust_cfa_offset 8\n"
	".cfi_rel_offset %rbx, 0\n"
	"mov %rsp, %rbx\n"
	"mov %rdx, %rsp\n"
	/* The lie: the return address is the first word of the garbage. */
	".cfi_def_cfa %rsp, 8\n"
	"mov %rcx, %rbp\n"
	"mov %rdi, %rax\n"
	"mov %rsi, %rdi\n"
	"call *%rax\n"
	"mov %rbx, %rsp\n"
	".cfi_def_cfa %rsp, 24\n"
	"pop %rbx\n"
	".cfi_adjust_cfa_offset -8\n"
	"pop %rbp\n"
	".cfi_adjust_cfa_offset -8\n"
	"ret\n"
	".cfi_endproc\n"
	".size garbage_call, .-garbage_call\n");

__attribute__((noinline)) static void *leak_on_garbage(size_t n)
{
	void *p = malloc(n);

	if (!p)
		abort();
	target_touch(p, n);
	kept[nkept++] = p;
	leaked += n;
	return p;
}

__attribute__((noinline)) static void *map_on_garbage(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		abort();
	target_touch(p, n);
	kept[nkept++] = p;
	mapped += n;
	return p;
}

/* Fills the words above the stack: text, small numbers, stack, heap and data pointers, and an rbp chain through them. */
static void fill_garbage(void *heap)
{
	static const char text[] = "17616816176816176316561761681617";
	uint64_t local = 0, i;

	for (i = STACK_WORDS; i < GARBAGE_WORDS; i++) {
		switch (i % 6) {
		case 0:
			memcpy(&garbage[i], text + (i / 6) % 24, 6);	/* 0x0000363138363731 */
			break;
		case 1:
			garbage[i] = 0xe;
			break;
		case 2:
			garbage[i] = (uint64_t)(uintptr_t)&local;
			break;
		case 3:
			garbage[i] = (uint64_t)(uintptr_t)heap;
			break;
		case 4:
			/* A saved rbp: the next pair of words up, so that a frame-pointer walk goes on. */
			garbage[i] = (uint64_t)(uintptr_t)&garbage[i + 6 < GARBAGE_WORDS ? i + 6 : i];
			break;
		default:
			memcpy(&garbage[i], text + 3, 8);	/* 0x3631363731363836 */
			break;
		}
	}
}

int main(int argc, char **argv)
{
	size_t n, i;
	void *heap;

	if (argc < 2)
		return 2;
	n = strtoull(argv[1], NULL, 0);
	kept = malloc((2 * n + 1) * sizeof(*kept));
	heap = malloc(64);
	if (!kept || !heap)
		return 1;
	fill_garbage(heap);
	target_ready();
	target_wait();
	for (i = 0; i < n; i++) {
		/* rbp at a saved-rbp word: [rbp] the next one, [rbp+8] text. */
		garbage_call(leak_on_garbage, 4096, &garbage[STACK_WORDS], &garbage[STACK_WORDS + 4]);
		garbage_call(map_on_garbage, 64 << 10, &garbage[STACK_WORDS], &garbage[STACK_WORDS + 4]);
		target_sleep_until(target_now() + 0.002);
	}
	target_done("leaked=%zu mapped=%zu", leaked, mapped);
	target_wait();
	return 0;
}
