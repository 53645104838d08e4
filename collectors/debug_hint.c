// SPDX-License-Identifier: GPL-2.0-only
/* Which file or package would name the frames of a module that has no symbols beyond its exports. */
#include "collectors/debug_hint.h"

#include <dirent.h>
#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool has_symtab(Elf *elf)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			return true;
	return false;
}

/* Whether the dpkg list file open as `f` names `path` (or its other spelling, before usrmerge). */
static bool list_names(FILE *f, const char *path, const char *alt)
{
	char line[4096];

	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strcmp(line, path) == 0 || (alt && strcmp(line, alt) == 0))
			return true;
	}
	return false;
}

/* The package that owns `path` in the target's dpkg database, into pkg; false when none. */
static bool find_package(const struct proc_target *t, const char *path, char *pkg, size_t len)
{
	char alt[4096];
	const char *other = NULL;
	struct dirent *de;
	bool found = false;
	int dfd;
	DIR *d;

	/* Debian 12's dpkg knows /lib/... where the maps file says /usr/lib/..., and back. */
	if (strncmp(path, "/usr/", 5) == 0)
		other = path + 4;
	else if (snprintf(alt, sizeof(alt), "/usr%s", path) < (int)sizeof(alt))
		other = alt;
	dfd = openat(t->dirfd, "root/var/lib/dpkg/info", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return false;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return false;
	}
	while (!found && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		FILE *f;
		int fd;

		if (n < 6 || strcmp(de->d_name + n - 5, ".list") != 0)
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC);
		f = fd >= 0 ? fdopen(fd, "r") : NULL;
		if (!f) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (list_names(f, path, other)) {
			/* "libc6:amd64.list" -> "libc6" */
			snprintf(pkg, len, "%.*s", (int)strcspn(de->d_name, ":."), de->d_name);
			found = true;
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

/* Debian's name for the package of debug symbols of `pkg`. */
static void dbg_package(const char *pkg, char *out, size_t len)
{
	/* glibc ships its debug info in the main archive, under its own name. */
	if (strcmp(pkg, "libc6") == 0)
		snprintf(out, len, "libc6-dbg");
	else
		snprintf(out, len, "%s-dbgsym (Debian's debug archive)", pkg);
}

int debug_hint(const struct proc_target *t, Dwfl_Module *mod, char *out, size_t len)
{
	const unsigned char *bits;
	const char *name, *link;
	char pkg[256], dbg[300], idpath[300] = "", where[700] = "";
	Dwarf_Addr bias;
	GElf_Addr vaddr;
	GElf_Word crc;
	Elf *elf;
	int n, i, k;

	name = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	if (!name || name[0] != '/' || dwfl_module_getdwarf(mod, &bias))
		return 0;
	elf = dwfl_module_getelf(mod, &bias);
	if (!elf || has_symtab(elf))
		return 0;
	n = dwfl_module_build_id(mod, &bits, &vaddr);
	if (n > 1) {
		k = snprintf(idpath, sizeof(idpath), "/usr/lib/debug/.build-id/%02x/", bits[0]);
		for (i = 1; i < n && k + 3 < (int)sizeof(idpath); i++)
			k += snprintf(idpath + k, sizeof(idpath) - (size_t)k, "%02x", bits[i]);
		snprintf(idpath + k, sizeof(idpath) - (size_t)k, ".debug");
	}
	link = dwelf_elf_gnu_debuglink(elf, &crc);
	if (idpath[0] && link)
		snprintf(where, sizeof(where), "its debug file at %s or, by its debuglink, %s beside "
			 "it or under /usr/lib/debug", idpath, link);
	else if (idpath[0])
		snprintf(where, sizeof(where), "its debug file at %s", idpath);
	else if (link)
		snprintf(where, sizeof(where), "its debug file %s (its debuglink) beside it or under "
			 "/usr/lib/debug", link);
	if (find_package(t, name, pkg, sizeof(pkg))) {
		dbg_package(pkg, dbg, sizeof(dbg));
		snprintf(out, len, "%s has no symbols beyond its exports and no debug info: its frames "
			 "read as exported names or addresses; install %s%s%s to name them", name, dbg,
			 where[0] ? ", which provides " : "", where);
	} else {
		snprintf(out, len, "%s has no symbols beyond its exports and no debug info: its frames "
			 "read as exported names or addresses; to name them, install %s", name,
			 where[0] ? where : "a build of it with symbols (not stripped, or -g)");
	}
	return 1;
}
