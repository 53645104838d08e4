// SPDX-License-Identifier: GPL-2.0-only
/* Symbolization of user code addresses with libdwfl, cached per build-id and offset. */
#include "collectors/symbols.h"

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

static char *resolve(Dwfl_Module *mod, const char *modname, uint64_t pc, bool activation)
{
	uint64_t at = activation ? pc : pc - 1;
	const char *sym, *file;
	GElf_Off off = 0;
	GElf_Sym esym;
	Dwfl_Line *line;
	Dwarf_Addr bias = 0;
	char shown[256], *dem, *text = NULL;
	int lineno = 0, r;

	module_name(modname, shown, sizeof(shown));
	sym = dwfl_module_addrinfo(mod, at, &off, &esym, NULL, NULL, NULL);
	if (!sym || !*sym) {
		dwfl_module_getelf(mod, &bias);
		r = asprintf(&text, "%s+0x%" PRIx64, shown, pc - bias);
		return r < 0 ? NULL : text;
	}
	if (!activation)
		off += 1;
	dem = demangle(sym);
	/* "memcpy@@GLIBC_2.14": the symbol version says nothing about the code. */
	if (!dem && strchr(sym, '@'))
		dem = strndup(sym, (size_t)(strchr(sym, '@') - sym));
	line = dwfl_module_getsrc(mod, at);
	file = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
	if (file && lineno > 0)
		r = asprintf(&text, "%s+0x%" PRIx64 " (%s:%d)", dem ? dem : sym, (uint64_t)off,
			     base_name(file), lineno);
	else
		r = asprintf(&text, "%s+0x%" PRIx64 " (%s)", dem ? dem : sym, (uint64_t)off, shown);
	free(dem);
	return r < 0 ? NULL : text;
}

const char *symbols_frame(struct symbols *s, uint64_t pc, bool activation)
{
	Dwfl_Module *mod = modmap_find(s->map, activation ? pc : pc - 1);
	struct sym_slot *slot;
	struct sym_key k;
	const char *modname;
	Dwarf_Addr start;
	char *text;

	if (!mod) {
		free(s->scratch);
		if (asprintf(&s->scratch, "0x%" PRIx64, pc) < 0)
			s->scratch = NULL;
		return s->scratch;
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
		return slot->text;
	}
	s->misses++;
	text = resolve(mod, modname, pc, activation);
	return text ? cache_put(s, &k, text) : NULL;
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
	free(s);
}
