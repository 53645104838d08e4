// SPDX-License-Identifier: GPL-2.0-only
/* Test target: a relay service whose allocations all balance, shaped like issue 12's, with an optional rare leak. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "target.h"

/*
 * usage: relay steady|leak SECONDS [WARMUP_S]
 * (run it with MALLOC_ARENA_MAX=2, as the service in issue 12 ran)
 *
 * READERS reader threads produce FRAME_RATE frames a second between them
 * (paced on the clock): frame_alloc() mallocs a frame of 2-5 KiB and hands it
 * to one of WORKERS worker threads, which frees it after frame_process():
 *   frame_decode()  mallocs, fills and frees a SCRATCH (32 KiB) block
 *   history_push()  copies the payload into a ring of HISTORY entries; the
 *                   copy replaces, and frees, the oldest one
 *   lru_put()       KEYS_PER_FRAME keys of 24-64 B into a cache of KEYS
 *                   slots with random replacement (the key it displaces is
 *                   freed)
 *   query_lookup()  QUERIES_PER_FRAME times: a request and a response
 *                   buffer, malloc'd and freed; one call in QUERY_ERROR_EVERY
 *                   takes the error path, where query_result_keep() mallocs
 *                   a 1-3.5 KiB result block: freed by its caller in "steady",
 *                   never freed in "leak" after "go" (on average 2 x 2304 / 20
 *                   = 230 B a frame, 173 KB/s at the full rate)
 *   reply_build()   a 256-1023 B reply, malloc'd and freed
 *   batch_add()     a 200-599 B record appended to a batch that a flusher
 *                   thread frees whole every FLUSH_MS (batch_flush())
 * About 13 mallocs a frame: ~9,800 a second, each freed, most by another
 * thread than the one that allocated it.
 *
 * Before "ready" the ring and the cache are filled and the service runs
 * WARMUP_S seconds (default 5), so every bounded structure is full, and
 * turning over, when a tool attaches. After "go" it runs SECONDS more (or
 * until the test writes another line), then prints "done frames=N leaked=BYTES leaked_blocks=N errors=N mallocs=N
 * late_frames=N" (figures since "go"; late frames are those a reader sent
 * more than 100 ms after their time, when the machine could not keep up).
 */

#define READERS 4
#define WORKERS 16
#define FRAME_RATE 750.0
#define FRAME_MIN 2048
#define FRAME_SPAN 3072		/* payload 2048-5119 bytes */
#define SCRATCH (32 * 1024)
#define HISTORY 5000
#define KEYS 40000
#define KEY_MIN 24
#define KEY_SPAN 41		/* keys of 24-64 bytes */
#define KEYS_PER_FRAME 4
#define QUERIES_PER_FRAME 2
#define QUERY_ERROR_EVERY 20
#define RESULT_MIN 1024
#define RESULT_SPAN 2560	/* result blocks of 1024-3583 bytes, mean 2304 */
#define FLUSH_MS 100
#define QUEUE_CAP 4096		/* frames waiting per worker */
#define MALLOCS_PER_FRAME (1 + 1 + 1 + KEYS_PER_FRAME + 2 * QUERIES_PER_FRAME + 1 + 1)

struct frame {
	size_t len;
	uint64_t seq;
	unsigned char payload[];
};

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	struct frame *slot[QUEUE_CAP];
	size_t head, count;
};

struct record {
	struct record *next;
	size_t len;
	unsigned char data[];
};

static struct queue queues[WORKERS];

static pthread_mutex_t history_lock = PTHREAD_MUTEX_INITIALIZER;
static void *history[HISTORY];
static size_t history_head;

static pthread_mutex_t keys_lock = PTHREAD_MUTEX_INITIALIZER;
static char *keys[KEYS];

static pthread_mutex_t batch_lock = PTHREAD_MUTEX_INITIALIZER;
static struct record *batch;

static atomic_int stopping;
static atomic_int leaking;
static atomic_uint_fast64_t frames_done, leaked_bytes, leaked_blocks, errors, late_frames;
static volatile uint64_t sink;

/* xorshift64*: each thread its own, seeded apart, so runs repeat. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* malloc is called from each named function itself, so that it is frame 0 of its stack. */
#define NEED(p) do { if (!(p)) abort(); } while (0)

static void sleep_until(double t)
{
	struct timespec ts;

	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

__attribute__((noinline)) static struct frame *frame_alloc(uint64_t seq, uint64_t *rng)
{
	size_t len = FRAME_MIN + rng_next(rng) % FRAME_SPAN;
	struct frame *f = malloc(sizeof(*f) + len);

	NEED(f);
	f->len = len;
	f->seq = seq;
	memset(f->payload, (int)(seq & 0xff), len);
	return f;
}

__attribute__((noinline)) static uint64_t frame_decode(const struct frame *f)
{
	unsigned char *scratch = malloc(SCRATCH);
	uint64_t sum = 0;
	size_t i;

	NEED(scratch);
	memset(scratch, 0, SCRATCH);
	memcpy(scratch, f->payload, f->len);
	for (i = 0; i < SCRATCH; i += 512)
		sum += scratch[i];
	free(scratch);
	return sum;
}

__attribute__((noinline)) static void history_push(const struct frame *f)
{
	void *copy = malloc(f->len), *oldest;

	NEED(copy);
	memcpy(copy, f->payload, f->len);
	pthread_mutex_lock(&history_lock);
	oldest = history[history_head];
	history[history_head] = copy;
	history_head = (history_head + 1) % HISTORY;
	pthread_mutex_unlock(&history_lock);
	free(oldest);
}

__attribute__((noinline)) static void lru_put(uint64_t *rng)
{
	size_t len = KEY_MIN + rng_next(rng) % KEY_SPAN, slot = rng_next(rng) % KEYS;
	char *key = malloc(len), *displaced;

	NEED(key);
	memset(key, 'k', len - 1);
	key[len - 1] = '\0';
	pthread_mutex_lock(&keys_lock);
	displaced = keys[slot];
	keys[slot] = key;
	pthread_mutex_unlock(&keys_lock);
	free(displaced);
}

/* The error path: a result block of *len bytes, which the caller should free. */
__attribute__((noinline)) static void *query_result_keep(uint64_t *rng, size_t *len_out)
{
	size_t len = RESULT_MIN + rng_next(rng) % RESULT_SPAN;
	unsigned char *r = malloc(len);

	NEED(r);
	memset(r, 'r', len);
	*len_out = len;
	return r;
}

__attribute__((noinline)) static void query_lookup(const struct frame *f, uint64_t *rng)
{
	size_t qlen = 64 + rng_next(rng) % 192, rlen = 256 + rng_next(rng) % 768;
	char *request = malloc(qlen), *response = malloc(rlen);

	NEED(request);
	NEED(response);
	memset(request, 'q', qlen);
	memset(response, (int)(f->seq & 0x7f), rlen);
	if (rng_next(rng) % QUERY_ERROR_EVERY == 0) {
		size_t len;
		void *result = query_result_keep(rng, &len);

		atomic_fetch_add(&errors, 1);
		/* The defect: "leak" forgets the result block on this path. */
		if (atomic_load(&leaking)) {
			atomic_fetch_add(&leaked_bytes, len);
			atomic_fetch_add(&leaked_blocks, 1);
		} else {
			free(result);
		}
	}
	sink ^= (uint64_t)(uintptr_t)response;
	free(response);
	free(request);
}

__attribute__((noinline)) static void reply_build(const struct frame *f, uint64_t *rng)
{
	size_t len = 256 + rng_next(rng) % 768;
	char *reply = malloc(len);

	NEED(reply);
	memset(reply, (int)(f->seq & 0x3f), len);
	sink ^= (uint64_t)(uintptr_t)reply;
	free(reply);
}

__attribute__((noinline)) static void batch_add(const struct frame *f, uint64_t *rng)
{
	size_t len = 200 + rng_next(rng) % 400;
	struct record *r = malloc(sizeof(*r) + len);

	NEED(r);
	r->len = len;
	memcpy(r->data, f->payload, len);
	pthread_mutex_lock(&batch_lock);
	r->next = batch;
	batch = r;
	pthread_mutex_unlock(&batch_lock);
}

__attribute__((noinline)) static size_t batch_flush(struct record *r)
{
	size_t n = 0;

	while (r) {
		struct record *next = r->next;

		free(r);
		r = next;
		n++;
	}
	return n;
}

static void frame_process(struct frame *f, uint64_t *rng)
{
	int i;

	sink ^= frame_decode(f);
	history_push(f);
	for (i = 0; i < KEYS_PER_FRAME; i++)
		lru_put(rng);
	for (i = 0; i < QUERIES_PER_FRAME; i++)
		query_lookup(f, rng);
	reply_build(f, rng);
	batch_add(f, rng);
}

static void queue_put(struct queue *q, struct frame *f)
{
	pthread_mutex_lock(&q->lock);
	while (q->count == QUEUE_CAP && !atomic_load(&stopping))
		pthread_cond_wait(&q->ready, &q->lock);
	if (q->count < QUEUE_CAP) {
		q->slot[(q->head + q->count++) % QUEUE_CAP] = f;
		f = NULL;
	}
	pthread_cond_broadcast(&q->ready);
	pthread_mutex_unlock(&q->lock);
	free(f);		/* only when stopping with a full queue */
}

/* The next frame, or NULL once stopping and drained. */
static struct frame *queue_take(struct queue *q)
{
	struct frame *f = NULL;

	pthread_mutex_lock(&q->lock);
	while (q->count == 0 && !atomic_load(&stopping))
		pthread_cond_wait(&q->ready, &q->lock);
	if (q->count) {
		f = q->slot[q->head];
		q->head = (q->head + 1) % QUEUE_CAP;
		q->count--;
		pthread_cond_broadcast(&q->ready);
	}
	pthread_mutex_unlock(&q->lock);
	return f;
}

static void *reader(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	uint64_t rng = 0x9e3779b97f4a7c15ULL * (id + 1), seq;
	double period = READERS / FRAME_RATE, t0 = target_now() + period * (double)id / READERS;

	for (seq = 0; !atomic_load(&stopping); seq++) {
		double due = t0 + period * (double)seq;
		struct frame *f;

		sleep_until(due);
		if (target_now() - due > 0.1)
			atomic_fetch_add(&late_frames, 1);
		f = frame_alloc(seq * READERS + id, &rng);
		/* Reader r feeds workers r, r + READERS, ...: every worker is busy. */
		queue_put(&queues[id + READERS * (seq % (WORKERS / READERS))], f);
	}
	return NULL;
}

static void *worker(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	uint64_t rng = 0xd1b54a32d192ed03ULL * (id + 101);
	struct frame *f;

	while ((f = queue_take(&queues[id]))) {
		frame_process(f, &rng);
		free(f);
		atomic_fetch_add(&frames_done, 1);
	}
	return NULL;
}

static void *flusher(void *arg)
{
	struct timespec ts = { 0, FLUSH_MS * 1000000L };
	struct record *full;

	(void)arg;
	while (!atomic_load(&stopping)) {
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&batch_lock);
		full = batch;
		batch = NULL;
		pthread_mutex_unlock(&batch_lock);
		batch_flush(full);
	}
	return NULL;
}

/* Fills the ring and the cache through the same functions the workers call. */
static void prefill(void)
{
	uint64_t rng = 42;
	size_t i;

	for (i = 0; i < HISTORY; i++) {
		struct frame *f = frame_alloc(i, &rng);

		history_push(f);
		free(f);
	}
	for (i = 0; i < KEYS; i++) {
		size_t len = KEY_MIN + rng_next(&rng) % KEY_SPAN;

		keys[i] = malloc(len);
		NEED(keys[i]);
		memset(keys[i], 'k', len - 1);
		keys[i][len - 1] = '\0';
	}
}

static void start(pthread_t *th, void *(*fn)(void *), uintptr_t id, const char *name)
{
	char label[16];

	if (pthread_create(th, NULL, fn, (void *)id))
		abort();
	snprintf(label, sizeof(label), "%s%u", name, (unsigned)id);
	pthread_setname_np(*th, label);
}

int main(int argc, char **argv)
{
	pthread_t readers[READERS], workers[WORKERS], flush;
	uint64_t frames0;
	double secs, warmup;
	uintptr_t i;
	int leak;

	if (argc < 3 || (strcmp(argv[1], "steady") && strcmp(argv[1], "leak"))) {
		fprintf(stderr, "usage: relay steady|leak SECONDS [WARMUP_S]\n");
		return 2;
	}
	leak = strcmp(argv[1], "leak") == 0;
	secs = atof(argv[2]);
	warmup = argc > 3 ? atof(argv[3]) : 5;
	for (i = 0; i < WORKERS; i++) {
		pthread_mutex_init(&queues[i].lock, NULL);
		pthread_cond_init(&queues[i].ready, NULL);
	}
	prefill();
	for (i = 0; i < WORKERS; i++)
		start(&workers[i], worker, i, "worker");
	for (i = 0; i < READERS; i++)
		start(&readers[i], reader, i, "reader");
	start(&flush, flusher, 0, "flusher");
	sleep_until(target_now() + warmup);
	target_ready();
	target_wait();
	frames0 = atomic_load(&frames_done);
	atomic_store(&errors, 0);
	atomic_store(&late_frames, 0);
	if (leak)
		atomic_store(&leaking, 1);
	target_sleep_until(target_now() + secs);
	atomic_store(&leaking, 0);
	atomic_store(&stopping, 1);
	for (i = 0; i < WORKERS; i++) {
		pthread_mutex_lock(&queues[i].lock);
		pthread_cond_broadcast(&queues[i].ready);
		pthread_mutex_unlock(&queues[i].lock);
	}
	for (i = 0; i < READERS; i++)
		pthread_join(readers[i], NULL);
	for (i = 0; i < WORKERS; i++)
		pthread_join(workers[i], NULL);
	pthread_join(flush, NULL);
	{
		uint64_t frames = atomic_load(&frames_done) - frames0;

		target_done("frames=%llu leaked=%llu leaked_blocks=%llu errors=%llu mallocs=%llu "
			    "late_frames=%llu", (unsigned long long)frames,
			    (unsigned long long)atomic_load(&leaked_bytes),
			    (unsigned long long)atomic_load(&leaked_blocks),
			    (unsigned long long)atomic_load(&errors),
			    (unsigned long long)(frames * MALLOCS_PER_FRAME +
						 atomic_load(&errors)),
			    (unsigned long long)atomic_load(&late_frames));
	}
	target_wait();
	return 0;
}
