// SPDX-License-Identifier: GPL-2.0-only
/* Finds glibc's version, main_arena and mp_ in a target, with debug info or without. */
#include "collectors/arena_locate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

/* Writable data of libc (its .data/.bss) larger than this is not libc. */
#define MAX_SCAN_BYTES ((size_t)16 << 20)

int arena_parse_version(const char *s, unsigned int *minor)
{
	char *end;
	unsigned long v;

	if (strncmp(s, "2.", 2) != 0)
		return -EINVAL;
	v = strtoul(s + 2, &end, 10);
	if (end == s + 2 || v > 999)
		return -EINVAL;
	*minor = (unsigned int)v;
	return 0;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static bool is_libc_path(const char *path)
{
	const char *b;

	if (!path || path[0] != '/')
		return false;
	b = base_name(path);
	return strcmp(b, "libc.so.6") == 0 || (strncmp(b, "libc-2.", 7) == 0 && strstr(b, ".so"));
}

/* The libc mapping path, its writable ranges (data, then the anonymous bss after it), [heap]. */
struct libc_maps {
	const char *path;
	uint64_t rw_lo, rw_hi;
	uint64_t heap_lo, heap_hi;
};

static int find_maps(const struct vma_list *vmas, struct libc_maps *lm)
{
	size_t i;

	memset(lm, 0, sizeof(*lm));
	for (i = 0; i < vmas->n; i++) {
		const struct vma *v = &vmas->v[i];

		if (v->path && strcmp(v->path, "[heap]") == 0) {
			lm->heap_lo = v->start;
			lm->heap_hi = v->end;
		}
		if (!is_libc_path(v->path) || (lm->path && strcmp(lm->path, v->path) != 0))
			continue;
		lm->path = v->path;
		if (v->perms[1] != 'w')
			continue;
		if (!lm->rw_lo)
			lm->rw_lo = v->start;
		lm->rw_hi = v->end;
		/* libc's .bss continues in the anonymous mapping right after its file data. */
		if (i + 1 < vmas->n && !vmas->v[i + 1].path && vmas->v[i + 1].start == v->end &&
		    vmas->v[i + 1].perms[1] == 'w')
			lm->rw_hi = vmas->v[i + 1].end;
	}
	return lm->path && lm->rw_lo ? 0 : -ENOENT;
}

/* ---- symbols and layouts from libdwfl ---- */

static int no_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
			Dwarf_Addr base, const char *file_name, const char *debuglink_file,
			GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	(void)mod, (void)userdata, (void)modname, (void)base, (void)file_name;
	(void)debuglink_file, (void)debuglink_crc, (void)debuginfo_file_name;
	return -1;
}

static const Dwfl_Callbacks with_debug = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
};

static const Dwfl_Callbacks without_debug = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = no_debuginfo,
};

struct find_mod {
	const char *path;
	Dwfl_Module *mod;
};

static int match_module(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start,
			void *arg)
{
	struct find_mod *fm = arg;

	(void)userdata, (void)start;
	if (name && strcmp(base_name(name), base_name(fm->path)) == 0) {
		fm->mod = mod;
		return DWARF_CB_ABORT;
	}
	return DWARF_CB_OK;
}

/* Looks up a symbol by name (debug .symtab when loaded, else .dynsym). 0 when absent. */
static uint64_t sym_addr(Dwfl_Module *mod, const char *want)
{
	int i, n = dwfl_module_getsymtab(mod);

	for (i = 0; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);

		if (name && strcmp(name, want) == 0 && sym.st_shndx != SHN_UNDEF)
			return addr;
	}
	return 0;
}

/* Finds a struct (by tag name) among the top-level DIEs of any unit. */
static bool find_struct(Dwarf *dw, const char *name, Dwarf_Die *out)
{
	Dwarf_Off off = 0, next;
	size_t hsize;

	while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, child;

		if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &child) == 0) {
			do {
				const char *n;

				if (dwarf_tag(&child) != DW_TAG_structure_type)
					continue;
				n = dwarf_diename(&child);
				if (n && strcmp(n, name) == 0 && dwarf_haschildren(&child)) {
					*out = child;
					return true;
				}
			} while (dwarf_siblingof(&child, &child) == 0);
		}
		off = next;
	}
	return false;
}

/* Offset of a member, or -1. */
static long member_offset(Dwarf_Die *st, const char *member)
{
	Dwarf_Die child;

	if (dwarf_child(st, &child) != 0)
		return -1;
	do {
		const char *n = dwarf_diename(&child);
		Dwarf_Attribute at;
		Dwarf_Word off;

		if (dwarf_tag(&child) != DW_TAG_member || !n || strcmp(n, member) != 0)
			continue;
		if (!dwarf_attr(&child, DW_AT_data_member_location, &at) ||
		    dwarf_formudata(&at, &off) != 0)
			return -1;
		return (long)off;
	} while (dwarf_siblingof(&child, &child) == 0);
	return -1;
}

/* Replaces the built-in layout with DWARF's, when DWARF describes every field it needs. */
static bool layout_from_dwarf(Dwarf *dw, struct arena_layout *l, long *sbrk_off, long *mmapped_off)
{
	Dwarf_Die ms, hi, mp;
	long f[8], h[3];
	int size, hsize;
	size_t i;

	if (!find_struct(dw, "malloc_state", &ms) || !find_struct(dw, "_heap_info", &hi))
		return false;
	f[0] = member_offset(&ms, "mutex");
	f[1] = member_offset(&ms, "fastbinsY");
	f[2] = member_offset(&ms, "top");
	f[3] = member_offset(&ms, "bins");
	f[4] = member_offset(&ms, "next");
	f[5] = member_offset(&ms, "attached_threads");
	f[6] = member_offset(&ms, "system_mem");
	f[7] = member_offset(&ms, "max_system_mem");
	h[0] = member_offset(&hi, "ar_ptr");
	h[1] = member_offset(&hi, "prev");
	h[2] = member_offset(&hi, "size");
	size = dwarf_bytesize(&ms);
	hsize = dwarf_bytesize(&hi);
	for (i = 0; i < 8; i++)
		if (f[i] < 0 || f[i] > ARENA_STATE_MAX - 8)
			return false;
	for (i = 0; i < 3; i++)
		if (h[i] < 0 || h[i] > 16)
			return false;
	if (size <= 0 || size > ARENA_STATE_MAX || hsize <= 0)
		return false;
	l->off_mutex = (uint32_t)f[0];
	l->off_fastbins = (uint32_t)f[1];
	l->off_top = (uint32_t)f[2];
	l->off_bins = (uint32_t)f[3];
	l->off_next = (uint32_t)f[4];
	l->off_attached = (uint32_t)f[5];
	l->off_system = (uint32_t)f[6];
	l->off_max_system = (uint32_t)f[7];
	l->state_size = (uint32_t)size;
	l->heap_info_size = (uint32_t)hsize;
	l->hi_ar_ptr = (uint32_t)h[0];
	l->hi_prev = (uint32_t)h[1];
	l->hi_size = (uint32_t)h[2];
	if (find_struct(dw, "malloc_par", &mp)) {
		*sbrk_off = member_offset(&mp, "sbrk_base");
		*mmapped_off = member_offset(&mp, "mmapped_mem");
	}
	return true;
}

/* gnu_get_libc_version is `lea rax,[rip+d]; ret` on x86_64: the string it returns gives the version. */
static int version_from_code(const struct mem_reader *m, uint64_t fn, unsigned int *minor)
{
	uint8_t code[8];
	char s[16];
	int32_t disp;

	if (!fn || m->read(m->ctx, fn, code, sizeof(code)))
		return -EINVAL;
	if (code[0] != 0x48 || code[1] != 0x8d || code[2] != 0x05 || code[7] != 0xc3)
		return -EINVAL;
	memcpy(&disp, code + 3, sizeof(disp));
	if (m->read(m->ctx, fn + 7 + (uint64_t)(int64_t)disp, s, sizeof(s) - 1))
		return -EINVAL;
	s[sizeof(s) - 1] = '\0';
	return arena_parse_version(s, minor);
}

/* ---- without debug info ---- */

static int read_range(const struct mem_reader *m, uint64_t lo, uint64_t hi, uint8_t **out)
{
	uint8_t *buf;

	if (hi <= lo || hi - lo > MAX_SCAN_BYTES)
		return -EINVAL;
	buf = malloc(hi - lo);
	if (!buf)
		return -ENOMEM;
	if (m->read(m->ctx, lo, buf, hi - lo)) {
		free(buf);
		return -EFAULT;
	}
	*out = buf;
	return 0;
}

static int scan_main_arena(const struct arena_target *t, const struct mem_reader *m,
			   const struct libc_maps *lm, const uint8_t *data, uint64_t *found)
{
	size_t len = lm->rw_hi - lm->rw_lo, off;
	int n = 0;

	for (off = 0; off + t->layout.state_size <= len; off += 8) {
		uint64_t addr = lm->rw_lo + off;

		/* Cheap filter first: the `next` ring and an in-heap top. */
		if (arena_u64(data + off + t->layout.off_top) < lm->heap_lo ||
		    arena_u64(data + off + t->layout.off_top) >= lm->heap_hi)
			continue;
		if (arena_is_main(&t->layout, m, addr, data + off, lm->heap_lo, lm->heap_hi,
				  ARENA_LOCATE_MAX_ARENAS)) {
			*found = addr;
			n++;
		}
	}
	return n;
}

/*
 * mp_.sbrk_base holds the start of [heap]; the fields around it are the same
 * from 2.26 to 2.42: mmapped_mem 16 bytes before it, tcache_bins (at most 64)
 * 8 bytes after, tcache_count (at most 65535) 24 bytes after.
 */
static void scan_mp(struct arena_target *t, const struct libc_maps *lm, const uint8_t *data)
{
	size_t len = lm->rw_hi - lm->rw_lo, off;
	uint64_t at = 0;
	int n = 0;

	for (off = 16; off + 32 <= len; off += 8) {
		uint64_t mmapped = arena_u64(data + off - 16), max_mmapped = arena_u64(data + off - 8);

		if (arena_u64(data + off) != lm->heap_lo || mmapped % 4096 ||
		    max_mmapped < mmapped || arena_u64(data + off + 8) > 64 ||
		    arena_u64(data + off + 24) > 65535)
			continue;
		at = lm->rw_lo + off;
		n++;
	}
	if (n == 1) {
		t->mp_sbrk_base = at;
		t->mp_mmapped_mem = at - 16;
	}
}

int arena_locate(int pid, const struct vma_list *vmas, const struct mem_reader *m,
		 bool use_debuginfo, struct arena_target *out, char *why, size_t whylen)
{
	struct libc_maps lm;
	struct find_mod fm = { 0 };
	Dwfl *dwfl = NULL;
	Dwarf *dw = NULL;
	Dwarf_Addr bias;
	uint8_t *data = NULL;
	uint64_t mp = 0;
	long sbrk_off = -1, mmapped_off = -1;
	int ret, n;

	memset(out, 0, sizeof(*out));
	if (find_maps(vmas, &lm)) {
		snprintf(why, whylen, "no glibc libc.so mapped (statically linked, or another libc)");
		return -ENOENT;
	}
	snprintf(out->libc_path, sizeof(out->libc_path), "%s", lm.path);
	dwfl = dwfl_begin(use_debuginfo ? &with_debug : &without_debug);
	if (dwfl && dwfl_linux_proc_report(dwfl, pid) == 0 &&
	    dwfl_report_end(dwfl, NULL, NULL) == 0) {
		fm.path = lm.path;
		dwfl_getmodules(dwfl, match_module, &fm, 0);
	}
	if (fm.mod) {
		if (version_from_code(m, sym_addr(fm.mod, "gnu_get_libc_version"),
				      &out->glibc_minor))
			out->glibc_minor = 0;
		if (use_debuginfo)
			dw = dwfl_module_getdwarf(fm.mod, &bias);
	}
	/* Older Debian named the file after the version. */
	if (!out->glibc_minor && strncmp(base_name(lm.path), "libc-", 5) == 0)
		arena_parse_version(base_name(lm.path) + 5, &out->glibc_minor);
	if (!out->glibc_minor) {
		snprintf(why, whylen, "cannot tell the glibc version of %s", lm.path);
		ret = -ENOTSUP;
		goto cleanup;
	}
	ret = arena_layout_for(out->glibc_minor, &out->layout);
	if (ret) {
		snprintf(why, whylen, "glibc 2.%u: arena layout unknown to memsleuth",
			 out->glibc_minor);
		goto cleanup;
	}
	if (dw && layout_from_dwarf(dw, &out->layout, &sbrk_off, &mmapped_off)) {
		out->main_arena = sym_addr(fm.mod, "main_arena");
		mp = sym_addr(fm.mod, "mp_");
		out->from_debuginfo = out->main_arena != 0;
		if (mp && sbrk_off >= 0 && mmapped_off >= 0) {
			out->mp_sbrk_base = mp + (uint64_t)sbrk_off;
			out->mp_mmapped_mem = mp + (uint64_t)mmapped_off;
		}
	}
	if (!out->main_arena) {
		/* No debug info: restore the built-in layout in case DWARF was partial. */
		arena_layout_for(out->glibc_minor, &out->layout);
		out->mp_sbrk_base = out->mp_mmapped_mem = 0;
		ret = read_range(m, lm.rw_lo, lm.rw_hi, &data);
		if (ret) {
			snprintf(why, whylen, "cannot read libc's data in the target: %s",
				 strerror(-ret));
			goto cleanup;
		}
		n = lm.heap_hi ? scan_main_arena(out, m, &lm, data, &out->main_arena) : 0;
		if (n != 1) {
			snprintf(why, whylen,
				 n ? "%d candidates for main_arena in libc's data" :
				     "main_arena not found in libc's data (malloc unused yet?)", n);
			out->main_arena = 0;
			ret = -ESRCH;
			goto cleanup;
		}
		scan_mp(out, &lm, data);
	}
	ret = 0;
cleanup:
	free(data);
	dwfl_end(dwfl);
	return ret;
}
