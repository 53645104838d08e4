// SPDX-License-Identifier: GPL-2.0-only
/* The modules (executable, shared libraries, vDSO) mapped by one process, as one libdwfl session. */
#include "collectors/modmap.h"
#include "lib/log.h"
#include "collectors/proc.h"
#include "lib/clock.h"
#include "lib/vec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct modmap {
	const struct proc_target *proc;	/* borrowed */
	Dwfl *dwfl;
	struct modmap_range *exec;	/* sorted by start, from the last read */
	size_t nexec, exec_cap;
	Dwfl_Callbacks cb;	/* must outlive dwfl */
	char *debuginfo_path;
	bool stale;
	double last_read;	/* CLOCK_MONOTONIC seconds */
	unsigned reads;
};

/*
 * libdwfl's find_elf callback has no argument of ours, and it only runs while
 * modules are being reported and opened (modules are opened eagerly, inside
 * modmap_read), so the modmap being read is passed through this variable.
 */
static __thread struct modmap *reading;

/* Opens `name` below /proc/PID, and names it for libdwfl (which looks for debug files beside it). */
static int open_named(struct modmap *m, const char *name, char **file_name)
{
	int fd = proc_open_regular(m->proc, name);

	if (fd < 0)
		return -1;
	*file_name = proc_path(m->proc, name);
	if (!*file_name) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A deleted file (a binary replaced by an upgrade) stays reachable through map_files. */
static int open_map_file(struct modmap *m, uint64_t base, char **file_name)
{
	char prefix[32], *name = NULL;
	struct dirent *de;
	int dfd, fd = -1;
	DIR *d;

	snprintf(prefix, sizeof(prefix), "%" PRIx64 "-", base);
	dfd = openat(m->proc->dirfd, "map_files", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -1;
	}
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		if (asprintf(&name, "map_files/%s", de->d_name) < 0)
			name = NULL;
		break;
	}
	closedir(d);
	if (name)
		fd = open_named(m, name, file_name);
	free(name);
	return fd;
}

static bool is_deleted(const char *name)
{
	size_t n = strlen(name), k = strlen(" (deleted)");

	return n > k && strcmp(name + n - k, " (deleted)") == 0;
}

static int find_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
		    char **file_name, Elf **elfp)
{
	struct modmap *m = reading;
	char *rooted;
	int fd;

	if (!m || name[0] != '/')
		return dwfl_linux_proc_find_elf(mod, userdata, name, base, file_name, elfp);
	if (is_deleted(name))
		return open_map_file(m, base, file_name);
	if (asprintf(&rooted, "root%s", name) < 0)
		return -1;
	fd = open_named(m, rooted, file_name);
	free(rooted);
	return fd >= 0 ? fd : open_map_file(m, base, file_name);
}

static int open_module(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start,
		       void *arg)
{
	Dwarf_Addr bias;

	(void)userdata;
	(void)name;
	(void)start;
	(void)arg;
	/* Failures are remembered by libdwfl; such a module symbolizes as an address. */
	if (dwfl_module_getelf(mod, &bias)) {
		dwfl_module_getdwarf(mod, &bias);
		dwfl_module_getsymtab(mod);
	}
	return DWARF_CB_OK;
}

/* Parses "start-end perms offset dev inode path" for a file or the vDSO. */
static bool parse_line(char *line, uint64_t *start, uint64_t *end, char perms[5], unsigned *dmaj,
		       unsigned *dmin, uint64_t *ino, char **path)
{
	int n = -1;

	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %*x %x:%x %" SCNu64 " %n", start, end, perms,
		   dmaj, dmin, ino, &n) < 6 ||
	    n <= 0)
		return false;
	*path = line + n;
	return true;
}

/*
 * Notes an executable mapping. The kernel's [uprobes] page (the uretprobe
 * trampoline) is executable but never a caller, and [vsyscall] is not code
 * a program returns into.
 */
static int note_exec(struct modmap *m, uint64_t start, uint64_t end, const char *perms,
		     const char *path)
{
	struct modmap_range *r;

	if (perms[2] != 'x' || strcmp(path, "[uprobes]") == 0 || strcmp(path, "[vsyscall]") == 0)
		return 0;
	r = VEC_PUSH(m->exec, m->nexec, m->exec_cap);
	if (!r)
		return -ENOMEM;
	r->start = start;
	r->end = end;
	return 0;
}

/*
 * Reports one module per file, from its first mapping to its last (a file's
 * segments may have anonymous mappings such as .bss between them), and the
 * vDSO under the name libdwfl's proc callbacks read from memory.
 */
static int report_maps(struct modmap *m, char *buf)
{
	uint64_t start, end, ino, last_ino = 0, low = 0, high = 0;
	unsigned dmaj, dmin, last_maj = 0, last_min = 0;
	char *line, *next, *path, *last = NULL, vdso[32], perms[5];

	m->nexec = 0;
	for (line = buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!parse_line(line, &start, &end, perms, &dmaj, &dmin, &ino, &path))
			return -EIO;
		if (note_exec(m, start, end, perms, path))
			return -ENOMEM;
		if (strcmp(path, "[vdso]") == 0) {
			/* libdwfl reads the vDSO from /proc/PID/mem under this name. */
			snprintf(vdso, sizeof(vdso), "[vdso: %d]", m->proc->pid);
			if (!dwfl_report_module(m->dwfl, vdso, start, end))
				return -EIO;
			continue;
		}
		if (path[0] != '/' || ino == 0)
			continue;
		if (last && ino == last_ino && dmaj == last_maj && dmin == last_min &&
		    strcmp(path, last) == 0) {
			high = end;
			continue;
		}
		if (last && !dwfl_report_module(m->dwfl, last, low, high))
			return -EIO;
		last = path;
		last_ino = ino;
		last_maj = dmaj;
		last_min = dmin;
		low = start;
		high = end;
	}
	if (last && !dwfl_report_module(m->dwfl, last, low, high))
		return -EIO;
	return 0;
}

/* Reads the module list again; on failure the previous list stays. */
static int modmap_read(struct modmap *m)
{
	char *buf = NULL;
	size_t len;
	int ret;

	ret = proc_read(m->proc, "maps", &buf, &len);
	m->last_read = clock_mono();
	m->stale = false;
	if (ret)
		return proc_errno_gone(-ret) ? -ESRCH : ret;
	/* An exited process leaves an empty maps file: keep what was known. */
	if (len == 0) {
		free(buf);
		return -ESRCH;
	}
	reading = m;
	dwfl_report_begin(m->dwfl);
	ret = report_maps(m, buf);
	if (ret)
		log_debug("unwind: /proc/%d/maps: cannot report modules: %s", m->proc->pid,
			  dwfl_errmsg(-1));
	/* Even after a failure, the modules reported so far are better than none. */
	if (dwfl_report_end(m->dwfl, NULL, NULL) && !ret)
		ret = -EIO;
	dwfl_getmodules(m->dwfl, open_module, m, 0);
	reading = NULL;
	free(buf);
	m->reads++;
	return ret;
}

static int count_module(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start,
			void *arg)
{
	(void)mod;
	(void)userdata;
	(void)name;
	(void)start;
	(*(unsigned *)arg)++;
	return DWARF_CB_OK;
}

static unsigned modmap_count(struct modmap *m)
{
	unsigned n = 0;

	dwfl_getmodules(m->dwfl, count_module, &n, 0);
	return n;
}

int modmap_open(const struct proc_target *t, struct modmap **out, char *err, size_t errlen)
{
	int pid = t->pid, ret;
	struct modmap *m;
	char *debug;

	*out = NULL;
	/* Symbolization must never wait on the network (see modmap.h). */
	unsetenv("DEBUGINFOD_URLS");
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->proc = t;
	debug = proc_path(t, "root/usr/lib/debug");
	if (!debug || asprintf(&m->debuginfo_path, ":.debug:%s:/usr/lib/debug", debug) < 0) {
		free(debug);
		m->debuginfo_path = NULL;
		ret = -ENOMEM;
		goto fail;
	}
	free(debug);
	m->cb.find_elf = find_elf;
	m->cb.find_debuginfo = dwfl_standard_find_debuginfo;
	m->cb.debuginfo_path = &m->debuginfo_path;
	m->dwfl = dwfl_begin(&m->cb);
	if (!m->dwfl) {
		snprintf(err, errlen, "cannot start libdwfl: %s", dwfl_errmsg(-1));
		ret = -ENOMEM;
		goto fail;
	}
	ret = modmap_read(m);
	if (ret == -ESRCH) {
		snprintf(err, errlen, "process %d has exited", pid);
		goto fail;
	}
	if (ret) {
		snprintf(err, errlen, "cannot read the modules of process %d: %s", pid,
			 strerror(-ret));
		goto fail;
	}
	/* Tests count these lines: one per target however many probe families it has. */
	log_debug("stacks: process %d: module map opened, %u modules", pid, modmap_count(m));
	*out = m;
	return 0;
fail:
	modmap_free(m);
	return ret;
}

void modmap_invalidate(struct modmap *m)
{
	m->stale = true;
}

struct overlap_arg {
	uint64_t start, end;
	bool hit;
};

static int check_overlap(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start,
			 void *arg)
{
	struct overlap_arg *o = arg;
	Dwarf_Addr low, high;

	(void)userdata;
	(void)name;
	(void)start;
	dwfl_module_info(mod, NULL, &low, &high, NULL, NULL, NULL, NULL);
	if (low < o->end && o->start < high) {
		o->hit = true;
		return DWARF_CB_ABORT;
	}
	return DWARF_CB_OK;
}

bool modmap_overlaps(struct modmap *m, uint64_t start, uint64_t end)
{
	struct overlap_arg o = { .start = start, .end = end };

	dwfl_getmodules(m->dwfl, check_overlap, &o, 0);
	return o.hit;
}

/*
 * libdwfl (0.188) answers an address above the highest module, such as the
 * stack or the [uprobes] page, with that module: its answer is checked
 * against the module's extent.
 */
Dwfl_Module *modmap_known(const struct modmap *m, uint64_t pc)
{
	Dwfl_Module *mod = dwfl_addrmodule(m->dwfl, pc);
	Dwarf_Addr low, high;

	if (!mod || !dwfl_module_info(mod, NULL, &low, &high, NULL, NULL, NULL, NULL))
		return NULL;
	return pc >= low && pc < high ? mod : NULL;
}

Dwfl_Module *modmap_find(struct modmap *m, uint64_t pc)
{
	Dwfl_Module *mod = NULL;

	if (!m->stale)
		mod = modmap_known(m, pc);
	if (mod)
		return mod;
	if (clock_mono() - m->last_read >= MODMAP_REFRESH_MS / 1000.0)
		modmap_read(m);
	return modmap_known(m, pc);
}

static bool exec_known(const struct modmap *m, uint64_t pc)
{
	size_t lo = 0, hi = m->nexec;

	/* /proc/PID/maps lists mappings in address order. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pc < m->exec[mid].start)
			hi = mid;
		else if (pc >= m->exec[mid].end)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

bool modmap_executable(struct modmap *m, uint64_t pc)
{
	if (!m->stale && exec_known(m, pc))
		return true;
	if (clock_mono() - m->last_read >= MODMAP_REFRESH_MS / 1000.0)
		modmap_read(m);
	return exec_known(m, pc);
}

static void hex(const unsigned char *bits, int n, char *out, size_t len)
{
	size_t k = 0;
	int i;

	for (i = 0; i < n && k + 3 <= len; i++, k += 2)
		snprintf(out + k, 3, "%02x", bits[i]);
	out[k] = '\0';
}

int modmap_describe(const struct modmap *m, Dwfl_Module *mod, struct modmap_module *out)
{
	const unsigned char *bits;
	const char *name;
	GElf_Addr vaddr;
	Dwarf_Addr low, high;
	int n;

	(void)m;
	name = dwfl_module_info(mod, NULL, &low, &high, NULL, NULL, NULL, NULL);
	if (!name)
		return -ENOENT;
	/* libdwfl knows the vDSO as "[vdso: PID]": the maps file calls it "[vdso]". */
	out->path = strncmp(name, "[vdso", 5) == 0 ? "[vdso]" : name;
	out->start = low;
	out->end = high;
	out->build_id[0] = '\0';
	n = dwfl_module_build_id(mod, &bits, &vaddr);
	if (n > 0)
		hex(bits, n, out->build_id, sizeof(out->build_id));
	return 0;
}

Dwfl *modmap_dwfl(const struct modmap *m)
{
	return m->dwfl;
}

int modmap_pid(const struct modmap *m)
{
	return m->proc->pid;
}

const struct proc_target *modmap_target(const struct modmap *m)
{
	return m->proc;
}

size_t modmap_exec_ranges(const struct modmap *m, const struct modmap_range **out)
{
	*out = m->exec;
	return m->nexec;
}

unsigned modmap_reads(const struct modmap *m)
{
	return m->reads;
}

void modmap_free(struct modmap *m)
{
	if (!m)
		return;
	if (m->dwfl)
		dwfl_end(m->dwfl);
	free(m->debuginfo_path);
	free(m->exec);
	free(m);
}
