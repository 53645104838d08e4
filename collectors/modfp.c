// SPDX-License-Identifier: GPL-2.0-only
/* Whether a module's code keeps frame pointers, judged from its functions' prologues. */
#include "collectors/modfp.h"

#include <gelf.h>
#include <stdbool.h>
#include <string.h>

#define PROLOGUE_BYTES 16

/* Copies `len` bytes of code at ELF address `vaddr` of `elf`; false when no code section holds them. */
static bool read_code(Elf *elf, GElf_Addr vaddr, unsigned char *buf, size_t len)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_EXECINSTR) || vaddr < sh.sh_addr ||
		    vaddr + len > sh.sh_addr + sh.sh_size)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf || vaddr - sh.sh_addr + len > data->d_size)
			return false;
		memcpy(buf, (const unsigned char *)data->d_buf + (vaddr - sh.sh_addr), len);
		return true;
	}
	return false;
}

/* push %rbp; mov %rsp,%rbp */
static bool sets_frame_pointer(const unsigned char *code)
{
	static const unsigned char seq[] = { 0x55, 0x48, 0x89, 0xe5 };
	size_t i;

	for (i = 0; i + sizeof(seq) <= PROLOGUE_BYTES; i++)
		if (memcmp(code + i, seq, sizeof(seq)) == 0)
			return true;
	return false;
}

int modfp_detect(Dwfl_Module *mod)
{
	int n = dwfl_module_getsymtab(mod), i, examined = 0, framed = 0;
	unsigned char code[PROLOGUE_BYTES];
	Dwarf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);

	if (!elf || n <= 0)
		return -1;
	for (i = 1; i < n && examined < MODFP_SAMPLE; i++) {
		GElf_Addr addr;
		GElf_Sym sym;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);

		if (!name || GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF ||
		    sym.st_size < PROLOGUE_BYTES || !read_code(elf, addr - bias, code, sizeof(code)))
			continue;
		examined++;
		framed += sets_frame_pointer(code);
	}
	if (examined < MODFP_MIN)
		return -1;
	return framed * 2 >= examined;
}
