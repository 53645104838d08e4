// SPDX-License-Identifier: GPL-2.0-only
/* The allocator a target uses: which file defines its malloc, and where to probe each function. */
#include "collectors/alloc_lib.h"
#include "analyzer/allocator.h"
#include "collectors/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/types.h>

#include "bpf/alloc.h"

#define FREE_NOT_FOUND UINT64_MAX

static const struct {
	const char *name;
	uint32_t fn;
} alloc_funcs[] = {
	{ "malloc", ALLOC_FN_MALLOC },
	{ "calloc", ALLOC_FN_CALLOC },
	{ "realloc", ALLOC_FN_REALLOC },
	/* glibc's reallocarray jumps to realloc, whose probe then counts the call once. */
	{ "reallocarray", ALLOC_FN_REALLOC },
	{ "posix_memalign", ALLOC_FN_POSIX_MEMALIGN },
	{ "aligned_alloc", ALLOC_FN_MEMALIGN },
	{ "memalign", ALLOC_FN_MEMALIGN },
	{ "valloc", ALLOC_FN_VALLOC },
	{ "pvalloc", ALLOC_FN_VALLOC },
};

#define NFUNCS (sizeof(alloc_funcs) / sizeof(alloc_funcs[0]))

/* operator new and new[], plain, nothrow, aligned: each takes the size first. */
static const char *const new_funcs[] = {
	"_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t",
	"_ZnwmSt11align_val_t", "_ZnamSt11align_val_t",
	"_ZnwmSt11align_val_tRKSt9nothrow_t", "_ZnamSt11align_val_tRKSt9nothrow_t",
};

#define NNEW (sizeof(new_funcs) / sizeof(new_funcs[0]))

/*
 * Where to probe a function whose first bytes are `code`: past a leading test
 * of the first argument that a conditional jump follows, else at 0.
 */
static size_t probe_skip(const uint8_t *code, size_t n)
{
	size_t at = 0;

	if (n >= 4 && code[0] == 0xf3 && code[1] == 0x0f && code[2] == 0x1e && code[3] == 0xfa)
		at = 4;		/* endbr64 */
	/* test %rdi,%rdi (48 85 ff), then je/jne rel8 or rel32 */
	if (n < at + 5 || code[at] != 0x48 || code[at + 1] != 0x85 || code[at + 2] != 0xff)
		return 0;
	if (code[at + 3] == 0x74 || code[at + 3] == 0x75)
		return at + 3;
	if (code[at + 3] == 0x0f && (code[at + 4] == 0x84 || code[at + 4] == 0x85))
		return at + 3;
	return 0;
}

/* A symbol's address as a file offset, through the loadable segment holding it. */
static int vaddr_to_offset(Elf *e, uint64_t vaddr, uint64_t *off)
{
	size_t i, n;

	if (elf_getphdrnum(e, &n))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		if (vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz) {
			*off = vaddr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

/* Looks up defined function symbols in one symbol table section. */
static void scan_symtab(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh, const char *const *names,
			size_t n, uint64_t *vaddrs)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t i, k, count;

	if (!d || !sh->sh_entsize)
		return;
	count = sh->sh_size / sh->sh_entsize;
	for (i = 0; i < count; i++) {
		GElf_Sym sym;
		const char *name;

		if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF || !sym.st_value)
			continue;
		if (GELF_ST_TYPE(sym.st_info) != STT_FUNC)
			continue;
		name = elf_strptr(e, sh->sh_link, sym.st_name);
		if (!name)
			continue;
		for (k = 0; k < n; k++)
			if (!vaddrs[k] && strcmp(name, names[k]) == 0)
				vaddrs[k] = sym.st_value;
	}
}

static int read_at(int fd, uint64_t off, uint8_t *buf, size_t n)
{
	ssize_t r = pread(fd, buf, n, (off_t)off);

	return r == (ssize_t)n ? 0 : -EIO;
}

/* Adds the function at `vaddr` to `f` unless one at the same address is there. */
static void add_sym(struct alloc_file *f, Elf *e, uint64_t vaddr, const char *name, uint32_t fn)
{
	uint64_t off;
	size_t k;

	if (!vaddr || vaddr_to_offset(e, vaddr, &off))
		return;
	for (k = 0; k < f->nsyms; k++)
		if (f->syms[k].offset == off)
			return;
	if (f->nsyms >= ALLOC_LIB_MAX_SYMS)
		return;
	f->syms[f->nsyms].name = name;
	f->syms[f->nsyms].fn = fn;
	f->syms[f->nsyms].offset = off;
	f->nsyms++;
}

/*
 * Resolves `names` in the ELF file at `f->path` into *vaddrs (0: absent).
 * .dynsym first: it holds what the dynamic linker binds, the functions that
 * get called. Returns an open Elf (the caller ends it and closes *fd), or NULL.
 */
static Elf *elf_lookup(const struct alloc_file *f, const char *const *names, size_t n,
		       uint64_t *vaddrs, int *fd)
{
	Elf_Scn *scn = NULL;
	Elf *e;
	int pass;

	*fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return NULL;
	elf_version(EV_CURRENT);
	e = elf_begin(*fd, ELF_C_READ, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		if (e)
			elf_end(e);
		close(*fd);
		return NULL;
	}
	for (pass = 0; pass < 2; pass++) {
		while ((scn = elf_nextscn(e, scn))) {
			GElf_Shdr sh;

			if (gelf_getshdr(scn, &sh) &&
			    sh.sh_type == (pass == 0 ? SHT_DYNSYM : SHT_SYMTAB))
				scan_symtab(e, scn, &sh, names, n, vaddrs);
		}
	}
	return e;
}

/* Fills the allocator's probe offsets; -ENOENT when the file lacks malloc or free. */
static int lib_resolve(struct alloc_lib *l)
{
	struct alloc_file *f = &l->files[0];
	const char *names[NFUNCS + 1];
	uint64_t vaddrs[NFUNCS + 1] = { 0 };
	uint8_t code[16];
	size_t i;
	int fd, ret = -ENOENT;
	Elf *e;

	for (i = 0; i < NFUNCS; i++)
		names[i] = alloc_funcs[i].name;
	names[NFUNCS] = "free";
	e = elf_lookup(f, names, NFUNCS + 1, vaddrs, &fd);
	if (!e)
		return -ENOENT;
	if (!vaddrs[0] || !vaddrs[NFUNCS] || vaddr_to_offset(e, vaddrs[NFUNCS], &l->free_entry))
		goto out;
	for (i = 0; i < NFUNCS; i++)
		add_sym(f, e, vaddrs[i], alloc_funcs[i].name, alloc_funcs[i].fn);
	l->free_probe = l->free_entry;
	if (read_at(fd, l->free_entry, code, sizeof(code)) == 0)
		l->free_probe += probe_skip(code, sizeof(code));
	ret = 0;
out:
	elf_end(e);
	close(fd);
	return ret;
}

/* Fills operator new's probe offsets in libstdc++ `f`; 0 when it has none. */
static void cxx_resolve(struct alloc_file *f)
{
	uint64_t vaddrs[NNEW] = { 0 };
	size_t i;
	Elf *e;
	int fd;

	e = elf_lookup(f, new_funcs, NNEW, vaddrs, &fd);
	if (!e)
		return;
	for (i = 0; i < NNEW; i++)
		add_sym(f, e, vaddrs[i], new_funcs[i], ALLOC_FN_MALLOC);
	elf_end(e);
	close(fd);
}

/*
 * Ranks a mapped file as the provider of malloc (lower is tried first): an
 * allocator that replaces libc's, the executable (it may link one
 * statically), libc; libstdc++ is ranked apart, for operator new.
 */
static int rank_of(const char *path, const char *exe, uint8_t *kind)
{
	enum allocator_kind k = allocator_of_file(path);

	*kind = ALLOC_UNKNOWN;
	if (k == ALLOC_JEMALLOC || k == ALLOC_TCMALLOC || k == ALLOC_MIMALLOC)
		return *kind = k, 0;
	if (exe && strcmp(path, exe) == 0)
		return 1;
	if (allocator_lib_is(path, "libstdc++"))
		return 3;
	if (k == ALLOC_GLIBC || k == ALLOC_MUSL)
		return *kind = k, 2;
	return -1;
}

static int file_set(struct alloc_file *f, const struct proc_target *t, const char *name)
{
	char *rooted = NULL;

	free(f->path);
	free(f->name);
	f->nsyms = 0;
	f->name = strdup(name);
	f->path = asprintf(&rooted, "root%s", name) < 0 ? NULL : proc_path(t, rooted);
	free(rooted);
	return f->name && f->path ? 0 : -ENOMEM;
}

/* Adds libstdc++ as files[1] when the target maps it. 0 or -ENOMEM. */
static int find_cxx(const struct proc_target *t, const char *maps, struct alloc_lib *out)
{
	const char *line;
	uint8_t kind;

	for (line = maps; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		const char *file = strchr(line, '/'), *eol = strchr(line, '\n');
		char *name;
		int ret;

		if (!file || (eol && file > eol))
			continue;
		name = eol ? strndup(file, (size_t)(eol - file)) : strdup(file);
		if (!name)
			return -ENOMEM;
		if (rank_of(name, NULL, &kind) != 3) {
			free(name);
			continue;
		}
		ret = file_set(&out->files[1], t, name);
		free(name);
		if (ret)
			return ret;
		cxx_resolve(&out->files[1]);
		if (out->files[1].nsyms)
			out->nfiles = 2;
		return 0;
	}
	return 0;
}

int alloc_lib_find(const struct proc_target *t, struct alloc_lib *out, char *err, size_t errlen)
{
	char exe[4096], *maps = NULL, *line, *save = NULL;
	size_t len;
	ssize_t n;
	int rank, best_rank, ret;

	memset(out, 0, sizeof(*out));
	n = readlinkat(t->dirfd, "exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	ret = proc_read(t, "maps", &maps, &len);
	if (ret) {
		snprintf(err, errlen, "cannot read /proc/%d/maps: %s", t->pid, strerror(-ret));
		return proc_errno_gone(-ret) ? -ESRCH : ret;
	}
	/* Try the candidates best rank first; within a rank, in address order. */
	ret = -ENOENT;
	for (best_rank = 0; best_rank <= 2 && ret; best_rank++) {
		char *copy = strdup(maps);

		if (!copy) {
			ret = -ENOMEM;
			break;
		}
		for (line = strtok_r(copy, "\n", &save); line && ret; line = strtok_r(NULL, "\n", &save)) {
			char perms[8], *file;
			uint8_t kind;
			int used = 0;

			if (sscanf(line, "%*x-%*x %7s %*x %*x:%*x %*u %n", perms, &used) < 1 || !used)
				continue;
			file = line + used;
			if (perms[2] != 'x' || file[0] != '/')
				continue;
			rank = rank_of(file, exe, &kind);
			if (rank != best_rank)
				continue;
			ret = file_set(&out->files[0], t, file);
			if (ret)
				break;
			out->allocator = kind;
			ret = lib_resolve(out);
		}
		free(copy);
	}
	if (!ret) {
		out->nfiles = 1;
		ret = find_cxx(t, maps, out);
	}
	free(maps);
	if (ret == -ENOMEM) {
		snprintf(err, errlen, "out of memory");
	} else if (ret) {
		snprintf(err, errlen, "no file mapped by process %d defines malloc and free", t->pid);
		ret = -ENOENT;
	}
	if (ret)
		alloc_lib_clear(out);
	return ret;
}

void alloc_lib_clear(struct alloc_lib *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < 2; i++) {
		free(l->files[i].path);
		free(l->files[i].name);
	}
	memset(l, 0, sizeof(*l));
}
