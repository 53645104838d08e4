// SPDX-License-Identifier: GPL-2.0-only
/* Symbolization of user code addresses with libdwfl, cached per build-id and offset. */
#include "collectors/symbols.h"
#include "collectors/debug_hint.h"
#include "analyzer/names.h"
#include "lib/idmap.h"
#include "lib/log.h"

#include <dwarf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Entries kept before the cache is emptied: a few MiB at most. */
#define CACHE_MAX (1U << 16)

struct sym_key {
	uint64_t module;	/* hash of the build-id, or of the file name without one */
	uint64_t offset;	/* pc - module start */
	uint64_t activation;
};

/* The frames of one address, as symbols_frames hands them out, owning their strings. */
struct sym_entry {
	uint32_t n;
	struct sym_own {
		char *text, *name, *function, *symbol, *file;
		uint32_t line;
		bool inlined;
	} f[SYMBOLS_MAX_INLINE];
};

struct sym_slot {
	struct sym_key key;
	struct sym_entry *e;	/* NULL: empty slot */
};

struct symbols {
	struct modmap *map;
	struct sym_slot *slots;
	size_t mask, n;
	struct sym_entry *scratch;	/* the answer for an address in no module */
	struct idmap hinted;		/* modules whose missing symbols were said */
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

static void entry_free(struct sym_entry *e)
{
	uint32_t i;

	if (!e)
		return;
	for (i = 0; i < e->n; i++) {
		free(e->f[i].text);
		free(e->f[i].name);
		free(e->f[i].function);
		free(e->f[i].symbol);
		free(e->f[i].file);
	}
	free(e);
}

static size_t slot_of(const struct sym_key *k, size_t mask)
{
	return (size_t)fnv1a(k, sizeof(*k), FNV_BASIS) & mask;
}

static void cache_clear(struct symbols *s)
{
	size_t i;

	for (i = 0; s->slots && i <= s->mask; i++) {
		entry_free(s->slots[i].e);
		s->slots[i].e = NULL;
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

	for (i = slot_of(k, s->mask); s->slots[i].e; i = (i + 1) & s->mask)
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
		if (old[i].e)
			*cache_find(s, &old[i].key) = old[i];
	free(old);
	return 0;
}

/* Inserts; the caller hands over `e`. Returns the stored entry or NULL. */
static struct sym_entry *cache_put(struct symbols *s, const struct sym_key *k, struct sym_entry *e)
{
	struct sym_slot *slot;

	if (s->n >= CACHE_MAX)
		cache_clear(s);
	if ((s->n + 1) * 2 > s->mask + 1 && cache_grow(s)) {
		entry_free(e);
		return NULL;
	}
	slot = cache_find(s, k);
	slot->key = *k;
	slot->e = e;
	s->n++;
	return e;
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

/*
 * Names one function into `o`: the raw symbol, its full demangled form and
 * the short one. "memcpy@@GLIBC_2.14": the symbol version says nothing about
 * the code, and goes. Returns 0 or -ENOMEM.
 */
static int name_function(struct sym_own *o, const char *raw)
{
	const char *at = strchr(raw, '@');

	o->symbol = at ? strndup(raw, (size_t)(at - raw)) : strdup(raw);
	if (!o->symbol)
		return -ENOMEM;
	return names_of_symbol(o->symbol, &o->function, &o->name);
}

struct src_loc {
	const char *file;
	int line;
};

/* Sets the frame's text: its name and `suffix`, then the location or the module. */
static int set_text(struct sym_own *o, const char *suffix, const struct src_loc *loc,
		    const char *module)
{
	int n;

	if (loc->file && loc->line > 0) {
		o->file = strdup(loc->file);
		if (!o->file)
			return -ENOMEM;
		o->line = (uint32_t)loc->line;
		n = asprintf(&o->text, "%s%s (%s:%d)", o->name, suffix, base_name(loc->file),
			     loc->line);
	} else {
		n = asprintf(&o->text, "%s%s (%s)", o->name, suffix, module);
	}
	if (n < 0) {
		o->text = NULL;
		return -ENOMEM;
	}
	return 0;
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

/*
 * An inlined function's raw name from its DWARF entry: a mangled linkage name
 * (C++, Rust), else the plain name: a C function's linkage name is an alias
 * ("__GI___mmap64" for __mmap64) that says less than its name.
 */
static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *link = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &a));
	const char *name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));

	if (link && (strncmp(link, "_Z", 2) == 0 || strncmp(link, "_R", 2) == 0))
		return link;
	return name ? name : link ? link : "??";
}

/* The functions inlined at `at`, innermost first, each at its line; `loc` ends at the holder's. */
static int put_inlined(struct sym_entry *e, Dwfl_Module *mod, uint64_t at, const char *module,
		       struct src_loc *loc)
{
	Dwarf_Die *cu, *scopes = NULL;
	Dwarf_Addr bias;
	int n, i, ret = 0;

	cu = dwfl_module_addrdie(mod, at, &bias);
	n = cu ? dwarf_getscopes(cu, at - bias, &scopes) : 0;
	for (i = 0; i < n && !ret; i++) {
		struct sym_own *o;

		if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine)
			continue;
		if (e->n < SYMBOLS_MAX_INLINE - 1) {
			o = &e->f[e->n++];
			o->inlined = true;
			ret = name_function(o, die_name(&scopes[i]));
			if (!ret)
				ret = set_text(o, " [inlined]", loc, module);
		}
		call_site(cu, &scopes[i], loc);
	}
	free(scopes);
	return ret;
}

/* Resolves `pc` into its frames. Returns the entry, or NULL on ENOMEM. */
static struct sym_entry *resolve(Dwfl_Module *mod, const char *modname, uint64_t pc,
				 bool activation)
{
	uint64_t at = activation ? pc : pc - 1;
	struct src_loc loc = { NULL, 0 };
	struct sym_entry *e = calloc(1, sizeof(*e));
	struct sym_own *o;
	Dwarf_Addr bias = 0;
	GElf_Off off = 0;
	GElf_Sym esym;
	Dwfl_Line *line;
	const char *sym;
	char shown[256];
	char *offset = NULL;

	if (!e)
		return NULL;
	module_name(modname, shown, sizeof(shown));
	sym = dwfl_module_addrinfo(mod, at, &off, &esym, NULL, NULL, NULL);
	if (!sym || !*sym) {
		dwfl_module_getelf(mod, &bias);
		o = &e->f[e->n++];
		if (asprintf(&o->text, "%s+0x%" PRIx64, shown, pc - bias) < 0)
			o->text = NULL;
		return o->text ? e : (entry_free(e), NULL);
	}
	line = dwfl_module_getsrc(mod, at);
	if (line)
		loc.file = dwfl_lineinfo(line, NULL, &loc.line, NULL, NULL, NULL);
	if (put_inlined(e, mod, at, shown, &loc))
		goto fail;
	o = &e->f[e->n++];
	if (name_function(o, sym) ||
	    asprintf(&offset, "+0x%" PRIx64, (uint64_t)off + (activation ? 0 : 1)) < 0)
		goto fail;
	if (set_text(o, offset, &loc, shown))
		goto fail;
	free(offset);
	return e;
fail:
	free(offset);
	entry_free(e);
	return NULL;
}

static void hand_out(const struct sym_entry *e, struct symbols_frame out[SYMBOLS_MAX_INLINE])
{
	uint32_t i;

	for (i = 0; i < e->n; i++) {
		out[i].text = e->f[i].text;
		out[i].name = e->f[i].name;
		out[i].function = e->f[i].function;
		out[i].symbol = e->f[i].symbol;
		out[i].file = e->f[i].file;
		out[i].line = e->f[i].line;
		out[i].inlined = e->f[i].inlined;
	}
}

/* Says once per module when its frames cannot be named, and what would name them. */
static void hint_once(struct symbols *s, Dwfl_Module *mod, uint64_t key)
{
	char hint[1024];

	if (idmap_get(&s->hinted, key) != SIZE_MAX || idmap_put(&s->hinted, key, 1))
		return;
	if (debug_hint(modmap_target(s->map), mod, hint, sizeof(hint)) > 0)
		log_warn("%s", hint);
}

static int no_module(struct symbols *s, uint64_t pc, struct symbols_frame out[SYMBOLS_MAX_INLINE])
{
	entry_free(s->scratch);
	s->scratch = calloc(1, sizeof(*s->scratch));
	if (!s->scratch)
		return -ENOMEM;
	if (asprintf(&s->scratch->f[0].text, "0x%" PRIx64, pc) < 0) {
		s->scratch->f[0].text = NULL;
		return -ENOMEM;
	}
	s->scratch->n = 1;
	hand_out(s->scratch, out);
	return 1;
}

int symbols_frames(struct symbols *s, uint64_t pc, bool activation,
		   struct symbols_frame out[SYMBOLS_MAX_INLINE])
{
	Dwfl_Module *mod = modmap_find(s->map, activation ? pc : pc - 1);
	struct sym_slot *slot;
	struct sym_entry *e;
	struct sym_key k;
	const char *modname;
	Dwarf_Addr start;

	if (!mod)
		return no_module(s, pc, out);
	modname = dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL);
	if (!modname)
		modname = "?";
	memset(&k, 0, sizeof(k));
	k.module = module_key(mod, modname);
	k.offset = pc - start;
	k.activation = activation;
	slot = cache_find(s, &k);
	if (slot->e) {
		s->hits++;
		hand_out(slot->e, out);
		return (int)slot->e->n;
	}
	s->misses++;
	hint_once(s, mod, k.module);
	e = resolve(mod, modname, pc, activation);
	e = e ? cache_put(s, &k, e) : NULL;
	if (!e)
		return -ENOMEM;
	hand_out(e, out);
	return (int)e->n;
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
	entry_free(s->scratch);
	idmap_free(&s->hinted);
	free(s);
}
