// SPDX-License-Identifier: GPL-2.0-only
/* Outstanding allocations by stack as a pprof heap profile (profile.proto, gzipped). */
#include "export/pprof.h"
#include "analyzer/stack.h"
#include "export/pb.h"
#include "lib/idmap.h"
#include "lib/strmap.h"
#include "lib/vec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/*
 * Field numbers of perftools.profiles (profile.proto, as google/pprof
 * documents them). Written with a small encoder (export/pb.h) rather than a
 * generated one: a profile needs five wire forms, and a code generator in
 * the build would be a larger thing to keep than this table.
 */
enum {
	PROFILE_SAMPLE_TYPE = 1,
	PROFILE_SAMPLE = 2,
	PROFILE_MAPPING = 3,
	PROFILE_LOCATION = 4,
	PROFILE_FUNCTION = 5,
	PROFILE_STRING_TABLE = 6,
	PROFILE_TIME_NANOS = 9,
	PROFILE_DURATION_NANOS = 10,
	PROFILE_PERIOD_TYPE = 11,
	PROFILE_PERIOD = 12,
	PROFILE_COMMENT = 13,
	PROFILE_DEFAULT_SAMPLE_TYPE = 14,
};
enum { VALUE_TYPE_TYPE = 1, VALUE_TYPE_UNIT = 2 };
enum { SAMPLE_LOCATION_ID = 1, SAMPLE_VALUE = 2, SAMPLE_LABEL = 3 };
enum { LABEL_KEY = 1, LABEL_STR = 2, LABEL_NUM = 3 };
enum {
	MAPPING_ID = 1,
	MAPPING_MEMORY_START = 2,
	MAPPING_MEMORY_LIMIT = 3,
	MAPPING_FILENAME = 5,
	MAPPING_BUILD_ID = 6,
	MAPPING_HAS_FUNCTIONS = 7,
	MAPPING_HAS_FILENAMES = 8,
	MAPPING_HAS_LINE_NUMBERS = 9,
	MAPPING_HAS_INLINE_FRAMES = 10,
};
enum { LOCATION_ID = 1, LOCATION_MAPPING_ID = 2, LOCATION_ADDRESS = 3, LOCATION_LINE = 4 };
enum { LINE_FUNCTION_ID = 1, LINE_LINE = 2 };
enum { FUNCTION_ID = 1, FUNCTION_NAME = 2, FUNCTION_SYSTEM_NAME = 3, FUNCTION_FILENAME = 4 };

/* A location key for a frame without its address: above any user address. */
#define FRAME_KEY (1ULL << 63)
/* Locations of a stack and lines of a location kept: a stack holds at most 32 frames. */
#define STACK_LOCATIONS_MAX 32
#define LOCATION_LINES_MAX 32

/* A mapping written: its file and where it is mapped (path borrowed from the sample). */
struct known_mapping {
	const char *path;
	uint64_t start;
};

struct builder {
	struct pb pb;
	char **strings;			/* the string table, owned */
	size_t nstrings, strings_cap;
	struct strmap string_index;	/* keys: the strings above */
	struct idmap functions;		/* name index << 32 | file index -> function id */
	struct idmap locations;		/* address, or FRAME_KEY | ..., -> location id */
	struct known_mapping *maps;	/* mapping id i + 1 */
	size_t nmaps, maps_cap;
};

/* The string table index of s[0..n), added on first use; -1 on ENOMEM. */
static int64_t string_of(struct builder *b, const char *s, size_t n)
{
	char *copy = strndup(s, n), **slot;
	size_t at;

	if (!copy)
		return -1;
	at = strmap_get(&b->string_index, 0, copy);
	if (at != SIZE_MAX) {
		free(copy);
		return (int64_t)at;
	}
	slot = VEC_PUSH(b->strings, b->nstrings, b->strings_cap);
	if (!slot) {
		free(copy);
		return -1;
	}
	*slot = copy;
	strmap_put(&b->string_index, 0, copy, b->nstrings - 1);
	return (int64_t)(b->nstrings - 1);
}

static int64_t str(struct builder *b, const char *s)
{
	return string_of(b, s ? s : "", s ? strlen(s) : 0);
}

static void value_type(struct builder *b, uint32_t field, int64_t type, int64_t unit)
{
	size_t m = pb_open(&b->pb, field);

	pb_int(&b->pb, VALUE_TYPE_TYPE, type);
	pb_int(&b->pb, VALUE_TYPE_UNIT, unit);
	pb_close(&b->pb, m);
}

/* The function id of frame i of d (one per name and file); 0 on ENOMEM. */
static uint64_t function_of(struct builder *b, const struct stack_frames *d, uint32_t i)
{
	const struct stack_frame *f = &d->f[i];
	char buf[512];
	const char *name = stack_frame_name(d, i, buf, sizeof(buf));
	int64_t n = str(b, name), file = str(b, f->file);
	int64_t sys = f->symbol ? str(b, f->symbol) : n;
	uint64_t key, id;
	size_t m;

	if (n < 0 || file < 0 || sys < 0)
		return 0;
	key = (uint64_t)n << 32 | (uint64_t)file;
	id = idmap_get(&b->functions, key);
	if (id != SIZE_MAX)
		return id;
	id = b->functions.n + 1;
	if (idmap_put(&b->functions, key, id))
		return 0;
	m = pb_open(&b->pb, PROFILE_FUNCTION);
	pb_uint(&b->pb, FUNCTION_ID, id);
	pb_int(&b->pb, FUNCTION_NAME, n);
	pb_int(&b->pb, FUNCTION_SYSTEM_NAME, sys);
	pb_int(&b->pb, FUNCTION_FILENAME, file);
	pb_close(&b->pb, m);
	return id;
}

static int mapping(struct builder *b, uint64_t id, const struct stack_module *mod)
{
	int64_t f = str(b, mod->path), bid = str(b, mod->build_id);
	size_t m;

	if (f < 0 || bid < 0)
		return -ENOMEM;
	m = pb_open(&b->pb, PROFILE_MAPPING);
	pb_uint(&b->pb, MAPPING_ID, id);
	pb_uint(&b->pb, MAPPING_MEMORY_START, mod->start);
	pb_uint(&b->pb, MAPPING_MEMORY_LIMIT, mod->end);
	pb_int(&b->pb, MAPPING_FILENAME, f);
	pb_int(&b->pb, MAPPING_BUILD_ID, bid);
	/* Lines come symbolized: a reader need not look for the file to symbolize it. */
	pb_bool(&b->pb, MAPPING_HAS_FUNCTIONS, 1);
	pb_bool(&b->pb, MAPPING_HAS_FILENAMES, 1);
	pb_bool(&b->pb, MAPPING_HAS_LINE_NUMBERS, 1);
	pb_bool(&b->pb, MAPPING_HAS_INLINE_FRAMES, 1);
	pb_close(&b->pb, m);
	return 0;
}

/*
 * The mapping id of module `m` of a stack (NULL: "[unknown]", for locations
 * without one), written on first use: each stack names its modules, the
 * profile once per file and address. 0 on ENOMEM.
 */
static uint64_t mapping_of(struct builder *b, const struct stack_module *m)
{
	static const struct stack_module unknown = { .path = "[unknown]" };
	const struct stack_module *key = m ? m : &unknown;
	struct known_mapping *k;
	size_t i;

	for (i = 0; i < b->nmaps; i++)
		if (b->maps[i].start == key->start && strcmp(b->maps[i].path, key->path) == 0)
			return i + 1;
	k = VEC_PUSH(b->maps, b->nmaps, b->maps_cap);
	if (!k)
		return 0;
	k->start = key->start;
	k->path = key->path;
	return mapping(b, b->nmaps, key) ? 0 : b->nmaps;
}

/*
 * The location of frames [i, j] of d: the functions inlined at one address
 * and the one holding it (last), at address f[j].pc, written on first use;
 * a frame whose address is not known (a recording made before addresses
 * were kept) is a location of its own in "[unknown]". 0 on ENOMEM.
 */
static uint64_t location_of(struct builder *b, const struct stack_frames *d, uint32_t i,
			    uint32_t j)
{
	const struct stack_frame *hold = &d->f[j];
	uint64_t fn[LOCATION_LINES_MAX], id, key, map;
	uint32_t k, n = 0;
	size_t m, l;

	for (k = i; k <= j && n < LOCATION_LINES_MAX; k++) {
		fn[n] = function_of(b, d, k);
		if (!fn[n++])
			return 0;
	}
	/* An address stands for the same frames wherever it is met; text alone, for its function. */
	key = hold->pc ? hold->pc : FRAME_KEY | fn[0] << 24 | (hold->line & 0xffffff);
	id = idmap_get(&b->locations, key);
	if (id != SIZE_MAX)
		return id;
	map = mapping_of(b, hold->module >= 0 && (uint32_t)hold->module < d->nmodules
				    ? &d->modules[hold->module]
				    : NULL);
	id = b->locations.n + 1;
	if (!map || idmap_put(&b->locations, key, id))
		return 0;
	m = pb_open(&b->pb, PROFILE_LOCATION);
	pb_uint(&b->pb, LOCATION_ID, id);
	pb_uint(&b->pb, LOCATION_MAPPING_ID, map);
	pb_uint(&b->pb, LOCATION_ADDRESS, hold->pc);
	/* Inlined functions first, the function holding the code last: pprof's order too. */
	for (k = 0; k < n; k++) {
		l = pb_open(&b->pb, LOCATION_LINE);
		pb_uint(&b->pb, LINE_FUNCTION_ID, fn[k]);
		pb_int(&b->pb, LINE_LINE, d->f[i + k].line);
		pb_close(&b->pb, l);
	}
	pb_close(&b->pb, m);
	return id;
}

/* The location ids of a stack, innermost first, into ids[]; returns how many, or -ENOMEM. */
static int stack_locations(struct builder *b, const struct stack_frames *d,
			   uint64_t ids[STACK_LOCATIONS_MAX])
{
	uint32_t i = 0, j;
	int n = 0;

	while (i < d->n && n < STACK_LOCATIONS_MAX) {
		/* Frames inlined at an address come first; the holder ends the location. */
		for (j = i; j + 1 < d->n && d->f[j].inlined && d->f[j].pc &&
			    d->f[j].pc == d->f[j + 1].pc;
		     j++)
			;
		ids[n] = location_of(b, d, i, j);
		if (!ids[n++])
			return -ENOMEM;
		i = j + 1;
	}
	return n;
}

static int label(struct builder *b, const char *key, const char *s, int64_t num)
{
	int64_t k = str(b, key), v = s ? str(b, s) : 0;
	size_t m;

	if (k < 0 || v < 0)
		return -ENOMEM;
	m = pb_open(&b->pb, SAMPLE_LABEL);
	pb_int(&b->pb, LABEL_KEY, k);
	pb_int(&b->pb, LABEL_STR, v);
	pb_int(&b->pb, LABEL_NUM, s ? 0 : num);
	pb_close(&b->pb, m);
	return 0;
}

static int sample(struct builder *b, const struct stack_stat *st, const struct pprof_meta *meta)
{
	uint64_t ids[STACK_LOCATIONS_MAX];
	int n = st->def ? stack_locations(b, st->def, ids) : 0, i;
	size_t m, p;

	if (n < 0)
		return n;
	m = pb_open(&b->pb, PROFILE_SAMPLE);
	p = pb_open(&b->pb, SAMPLE_LOCATION_ID);
	for (i = 0; i < n; i++)
		pb_packed(&b->pb, ids[i]);
	pb_close(&b->pb, p);
	p = pb_open(&b->pb, SAMPLE_VALUE);
	pb_packed(&b->pb, (uint64_t)(st->count > 0 ? st->count : 0));
	pb_packed(&b->pb, (uint64_t)st->bytes);
	pb_close(&b->pb, p);
	if (label(b, "pid", NULL, meta->pid) || (meta->comm && label(b, "comm", meta->comm, 0)))
		return -ENOMEM;
	pb_close(&b->pb, m);
	return 0;
}

/* Strings an encoding can need at most: its fixed ones, three per frame, two per module. */
static size_t strings_bound(const struct sample *s)
{
	size_t i, n = 32;

	for (i = 0; i < s->nstacks; i++)
		if (s->stacks[i].def)
			n += 3 * (size_t)s->stacks[i].def->n + 2 * (size_t)s->stacks[i].def->nmodules;
	return n;
}

static int header(struct builder *b, const struct sample *s, const struct pprof_meta *meta)
{
	int64_t objects = str(b, "inuse_objects"), count = str(b, "count");
	int64_t space = str(b, "inuse_space"), bytes = str(b, "bytes"), sp = str(b, "space");
	char text[256];
	int64_t comment;

	if (objects < 0 || count < 0 || space < 0 || bytes < 0 || sp < 0)
		return -ENOMEM;
	value_type(b, PROFILE_SAMPLE_TYPE, objects, count);
	value_type(b, PROFILE_SAMPLE_TYPE, space, bytes);
	pb_int(&b->pb, PROFILE_DEFAULT_SAMPLE_TYPE, space);
	value_type(b, PROFILE_PERIOD_TYPE, sp, bytes);
	pb_int(&b->pb, PROFILE_PERIOD, s->has_alloc && s->alloc.sample_bytes ?
					       (int64_t)s->alloc.sample_bytes : 1);
	pb_int(&b->pb, PROFILE_TIME_NANOS, (int64_t)(s->t * 1e9));
	pb_int(&b->pb, PROFILE_DURATION_NANOS, (int64_t)(meta->duration_s * 1e9));
	snprintf(text, sizeof(text), "memsleuth: outstanding allocations of pid %d by stack", meta->pid);
	comment = str(b, text);
	if (comment < 0)
		return -ENOMEM;
	pb_int(&b->pb, PROFILE_COMMENT, comment);
	if (s->has_alloc && s->alloc.estimated) {
		snprintf(text, sizeof(text), "estimated: scaled up from the %.1f%% of allocator calls "
			 "that were recorded", 100.0 * s->alloc.share);
		comment = str(b, text);
		if (comment < 0)
			return -ENOMEM;
		pb_int(&b->pb, PROFILE_COMMENT, comment);
	}
	return 0;
}

/*
 * The mapping of the program itself, written first: readers take the first
 * mapping for the program ("File:" in pprof). It is the module of the site
 * frame (the program's code, analyzer/stack_site.h) of the largest stack.
 */
static int program_mapping(struct builder *b, const struct sample *s)
{
	const struct stack_frames *best = NULL;
	int64_t bytes = 0;
	int32_t m;
	size_t i;

	for (i = 0; i < s->nstacks; i++)
		if (s->stacks[i].kind == STACK_ALLOC && s->stacks[i].def &&
		    s->stacks[i].def->n && s->stacks[i].bytes > bytes) {
			best = s->stacks[i].def;
			bytes = s->stacks[i].bytes;
		}
	if (!best)
		return 0;
	m = best->f[best->site < best->n ? best->site : 0].module;
	if (m < 0 || (uint32_t)m >= best->nmodules)
		return 0;
	return mapping_of(b, &best->modules[m]) ? 0 : -ENOMEM;
}

static int encode(struct builder *b, const struct sample *s, const struct pprof_meta *meta)
{
	size_t i;
	int ret;

	if (strmap_init(&b->string_index, strings_bound(s)) || str(b, "") != 0)
		return -ENOMEM;
	ret = header(b, s, meta);
	if (!ret)
		ret = program_mapping(b, s);
	for (i = 0; !ret && i < s->nstacks; i++)
		if (s->stacks[i].kind == STACK_ALLOC && s->stacks[i].bytes > 0)
			ret = sample(b, &s->stacks[i], meta);
	for (i = 0; !ret && i < b->nstrings; i++)
		pb_str_always(&b->pb, PROFILE_STRING_TABLE, b->strings[i]);
	return ret ? ret : b->pb.err;
}

static int gzip(const uint8_t *in, size_t n, uint8_t **out, size_t *len)
{
	z_stream z = { 0 };
	uLong cap;
	int ret;

	*out = NULL;
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -EIO;
	/* deflateBound leaves out the gzip header and trailer. */
	cap = deflateBound(&z, n) + 32;
	*out = malloc(cap);
	if (!*out) {
		deflateEnd(&z);
		return -ENOMEM;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	z.next_out = *out;
	z.avail_out = (uInt)cap;
	ret = deflate(&z, Z_FINISH);
	*len = z.total_out;
	deflateEnd(&z);
	if (ret != Z_STREAM_END) {
		free(*out);
		*out = NULL;
		return -EIO;
	}
	return 0;
}

int pprof_heap_encode(const struct sample *s, const struct pprof_meta *meta, uint8_t **out,
		      size_t *len)
{
	struct builder b = { 0 };
	uint8_t *raw = NULL;
	size_t rawlen = 0, i;
	int ret;

	*out = NULL;
	*len = 0;
	ret = encode(&b, s, meta);
	if (pb_finish(&b.pb, &raw, &rawlen) && !ret)
		ret = -ENOMEM;
	if (!ret)
		ret = gzip(raw, rawlen, out, len);
	free(raw);
	for (i = 0; i < b.nstrings; i++)
		free(b.strings[i]);
	free(b.strings);
	strmap_free(&b.string_index);
	idmap_free(&b.functions);
	idmap_free(&b.locations);
	free(b.maps);
	return ret;
}
