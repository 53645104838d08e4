// SPDX-License-Identifier: GPL-2.0-only
/* Symbolization of user code addresses with libdwfl, cached per build-id and offset. */
#include "collectors/symbols.h"

#include <dwarf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libstdc++'s demangler has C linkage; declared here to keep this file C. */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

/* Entries kept before the cache is emptied: a few MiB at most. */
#define CACHE_MAX (1U << 16)

struct sym_key {
	uint64_t module;	/* hash of the build-id, or of the file name without one */
	uint64_t offset;	/* pc - module start */
	uint64_t activation;
};

struct sym_slot {
	struct sym_key key;
	char *text;		/* NULL: empty slot */
};

struct symbols {
	struct modmap *map;
	struct sym_slot *slots;
	size_t mask, n;
	char *scratch;		/* the answer for an address in no module */
	char *split;		/* the frames last handed out, NUL-separated */
	uint64_t hits, misses;
};

static uint64_t fnv1a(const void *p, size_t n, uint64_t h)
{
	const unsigned char *c = p;

	while (n--) {
		h ^= *c++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define FNV_BASIS 0xcbf29ce484222325ULL

static size_t slot_of(const struct sym_key *k, size_t mask)
{
	return (size_t)fnv1a(k, sizeof(*k), FNV_BASIS) & mask;
}

static void cache_clear(struct symbols *s)
{
	size_t i;

	for (i = 0; s->slots && i <= s->mask; i++) {
		free(s->slots[i].text);
		s->slots[i].text = NULL;
	}
	s->n = 0;
}

static int cache_init(struct symbols *s, size_t size)
{
	s->slots = calloc(size, sizeof(*s->slots));
	if (!s->slots)
		return -ENOMEM;
	s->mask = size - 1;
	return 0;
}

static struct sym_slot *cache_find(struct symbols *s, const struct sym_key *k)
{
	size_t i;

	for (i = slot_of(k, s->mask); s->slots[i].text; i = (i + 1) & s->mask)
		if (memcmp(&s->slots[i].key, k, sizeof(*k)) == 0)
			return &s->slots[i];
	return &s->slots[i];
}

static int cache_grow(struct symbols *s)
{
	struct sym_slot *old = s->slots;
	size_t oldsize = s->mask + 1, i;

	if (cache_init(s, oldsize * 2)) {
		s->slots = old;
		return -ENOMEM;
	}
	for (i = 0; i < oldsize; i++)
		if (old[i].text)
			*cache_find(s, &old[i].key) = old[i];
	free(old);
	return 0;
}

/* Inserts; the caller hands over `text`. Returns the stored string or NULL. */
static const char *cache_put(struct symbols *s, const struct sym_key *k, char *text)
{
	struct sym_slot *slot;

	if (s->n >= CACHE_MAX)
		cache_clear(s);
	if ((s->n + 1) * 2 > s->mask + 1 && cache_grow(s)) {
		free(text);
		return NULL;
	}
	slot = cache_find(s, k);
	slot->key = *k;
	slot->text = text;
	s->n++;
	return text;
}

int symbols_new(struct modmap *m, struct symbols **out)
{
	struct symbols *s;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->map = m;
	if (cache_init(s, 1024)) {
		free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

static uint64_t module_key(Dwfl_Module *mod, const char *name)
{
	const unsigned char *bits;
	GElf_Addr vaddr;
	int n = dwfl_module_build_id(mod, &bits, &vaddr);

	if (n > 0)
		return fnv1a(bits, (size_t)n, FNV_BASIS);
	return fnv1a(name, strlen(name), FNV_BASIS ^ 1);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* The module's display name: the file's base name, "[vdso]" for the vDSO. */
static void module_name(const char *name, char *out, size_t outlen)
{
	if (strncmp(name, "[vdso", 5) == 0)
		snprintf(out, outlen, "[vdso]");
	else
		snprintf(out, outlen, "%s", base_name(name));
}

static char *demangle(const char *name)
{
	int status = -1;
	char *d;

	if (strncmp(name, "_Z", 2) != 0)
		return NULL;
	d = __cxa_demangle(name, NULL, NULL, &status);
	if (status != 0) {
		free(d);
		return NULL;
	}
	return d;
}

/* Writes a string from the target's files; a newline would split the frame list. */
static void put_clean(FILE *f, const char *str)
{
	for (; *str; str++)
		fputc(*str == '\n' ? '?' : *str, f);
}

/* A function's name from its DWARF entry: the demangled linkage name, else the plain name. */
static void put_die_name(FILE *f, Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *link = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &a));
	const char *name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
	char *dem = link ? demangle(link) : NULL;

	put_clean(f, dem ? dem : name ? name : "??");
	free(dem);
}

struct src_loc {
	const char *file;
	int line;
};

static void put_loc(FILE *f, const struct src_loc *loc, const char *module)
{
	if (loc->file && loc->line > 0) {
		fputs(" (", f);
		put_clean(f, base_name(loc->file));
		fprintf(f, ":%d)", loc->line);
	} else {
		fputs(" (", f);
		put_clean(f, module);
		fputc(')', f);
	}
}

/* Where an inlined function was called from, in its caller. */
static void call_site(Dwarf_Die *cu, Dwarf_Die *inl, struct src_loc *loc)
{
	Dwarf_Attribute a;
	Dwarf_Word idx, line;
	Dwarf_Files *files;
	size_t nfiles;

	loc->file = NULL;
	loc->line = 0;
	if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_file, &a), &idx) == 0 &&
	    dwarf_getsrcfiles(cu, &files, &nfiles) == 0 && idx < nfiles)
		loc->file = dwarf_filesrc(files, idx, NULL, NULL);
	if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_line, &a), &line) == 0)
		loc->line = (int)line;
}

/* The functions inlined at `at`, innermost first, each at its line; `loc` ends at the holder's. */
static void put_inlined(FILE *f, Dwfl_Module *mod, uint64_t at, const char *module,
			struct src_loc *loc)
{
	Dwarf_Die *cu, *scopes = NULL;
	Dwarf_Addr bias;
	int n, i, shown = 0;

	cu = dwfl_module_addrdie(mod, at, &bias);
	n = cu ? dwarf_getscopes(cu, at - bias, &scopes) : 0;
	for (i = 0; i < n; i++) {
		if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine)
			continue;
		if (shown++ < SYMBOLS_MAX_INLINE - 1) {
			put_die_name(f, &scopes[i]);
			fputs(" [inlined]", f);
			put_loc(f, loc, module);
			fputc('\n', f);
		}
		call_site(cu, &scopes[i], loc);
	}
	free(scopes);
}

/* Resolves `pc` into its frames, newline-separated. */
static char *resolve(Dwfl_Module *mod, const char *modname, uint64_t pc, bool activation)
{
	uint64_t at = activation ? pc : pc - 1;
	struct src_loc loc = { NULL, 0 };
	const char *sym, *at_sign;
	Dwarf_Addr bias = 0;
	GElf_Off off = 0;
	GElf_Sym esym;
	Dwfl_Line *line;
	char shown[256], *dem, *text = NULL;
	size_t len;
	FILE *f;

	module_name(modname, shown, sizeof(shown));
	f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	sym = dwfl_module_addrinfo(mod, at, &off, &esym, NULL, NULL, NULL);
	if (!sym || !*sym) {
		dwfl_module_getelf(mod, &bias);
		put_clean(f, shown);
		fprintf(f, "+0x%" PRIx64, pc - bias);
		goto out;
	}
	line = dwfl_module_getsrc(mod, at);
	if (line)
		loc.file = dwfl_lineinfo(line, NULL, &loc.line, NULL, NULL, NULL);
	put_inlined(f, mod, at, shown, &loc);
	dem = demangle(sym);
	/* "memcpy@@GLIBC_2.14": the symbol version says nothing about the code. */
	at_sign = strchr(sym, '@');
	if (dem)
		put_clean(f, dem);
	else if (at_sign)
		fprintf(f, "%.*s", (int)(at_sign - sym), sym);
	else
		put_clean(f, sym);
	free(dem);
	fprintf(f, "+0x%" PRIx64, (uint64_t)off + (activation ? 0 : 1));
	put_loc(f, &loc, shown);
out:
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

/* Hands out a cached entry's frames: a private copy, split at the newlines. */
static int split_frames(struct symbols *s, const char *text, const char *out[SYMBOLS_MAX_INLINE])
{
	char *p;
	int n = 0;

	free(s->split);
	s->split = strdup(text);
	if (!s->split)
		return -ENOMEM;
	for (p = s->split; p && n < SYMBOLS_MAX_INLINE; n++) {
		out[n] = p;
		p = strchr(p, '\n');
		if (p)
			*p++ = '\0';
	}
	return n;
}

int symbols_frames(struct symbols *s, uint64_t pc, bool activation,
		   const char *out[SYMBOLS_MAX_INLINE])
{
	Dwfl_Module *mod = modmap_find(s->map, activation ? pc : pc - 1);
	struct sym_slot *slot;
	struct sym_key k;
	const char *modname, *text;
	Dwarf_Addr start;
	char *fresh;

	if (!mod) {
		free(s->scratch);
		if (asprintf(&s->scratch, "0x%" PRIx64, pc) < 0) {
			s->scratch = NULL;
			return -ENOMEM;
		}
		out[0] = s->scratch;
		return 1;
	}
	modname = dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL);
	if (!modname)
		modname = "?";
	memset(&k, 0, sizeof(k));
	k.module = module_key(mod, modname);
	k.offset = pc - start;
	k.activation = activation;
	slot = cache_find(s, &k);
	if (slot->text) {
		s->hits++;
		return split_frames(s, slot->text, out);
	}
	s->misses++;
	fresh = resolve(mod, modname, pc, activation);
	text = fresh ? cache_put(s, &k, fresh) : NULL;
	return text ? split_frames(s, text, out) : -ENOMEM;
}

void symbols_stats(const struct symbols *s, uint64_t *hits, uint64_t *misses)
{
	*hits = s->hits;
	*misses = s->misses;
}

void symbols_free(struct symbols *s)
{
	if (!s)
		return;
	cache_clear(s);
	free(s->slots);
	free(s->scratch);
	free(s->split);
	free(s);
}
