// SPDX-License-Identifier: GPL-2.0-only
/* The demo's target: a small service with one defect of each kind memsleuth names. */
#include "cli/commands.h"
#include "cli/util.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 * The main thread serves a request every 95 ms:
 *  - request_log_append() adds one 64 KiB block to a request log that is
 *    never trimmed: [heap] grows in 64 KiB steps (chunk_steps; with --alloc
 *    the blocks are a leak too). Ten and a half blocks a second: a 1-second
 *    sample sees ten or eleven, so the steps' common size is one block (a
 *    whole number of requests a second would make each second's growth one
 *    equal step of its own);
 * and every fifth request accept_connection() opens a socket it never closes
 * (fd_growth).
 * A session thread calls demo_session_open() every 10 ms, which leaks a small
 * session object (leak, named by its stack with --alloc). The thread has its
 * own glibc arena, so that the leak does not blur the steps of [heap].
 * DEMO_FRAG_THREADS workers, each in its own arena, fragment it
 * (arena_fragmentation): a round allocates blocks, then gives back all of
 * each block but a small record at its start (a shrinking realloc stays in
 * place), so the arena holds free holes between sparse live records, and no
 * later block fits in a hole (each round's blocks are larger): RSS grows,
 * live bytes barely do.
 * Before the target says it is ready it fragments each worker's arena by
 * 12 MiB, so that memsleuth's first window already finds it, and as a
 * warning: the three arenas' free space is then over 32 MiB and a quarter of
 * the process (what arena_fragmentation calls large against it);
 * then the workers go on slowly, with few enough records that their live
 * bytes stay under the leak detector's threshold.
 * Every growth has a cap, so a forgotten demo cannot hurt the machine.
 */
#define DEMO_TICK_MS 95
#define DEMO_CHUNK (64 * 1024)
#define DEMO_LOG_LIMIT (256u << 20)
#define DEMO_FD_EVERY 5			/* ticks between sockets */
#define DEMO_MAX_FDS 900

#define DEMO_SESSION_MS 10
#define DEMO_SESSION_BYTES 96		/* ~35 MB an hour */
#define DEMO_SESSION_LIMIT (64u << 20)

#define DEMO_FRAG_THREADS 3
#define DEMO_FRAG_RECORD 24		/* the live record left between holes */
#define DEMO_FRAG_START_ROUNDS 32	/* before ready: ~12 MiB of blocks per worker */
#define DEMO_FRAG_START_BLOCKS 1024
#define DEMO_FRAG_START_SIZE 128	/* a chunk size class more every round */
#define DEMO_FRAG_ROUND_MS 250		/* after ready */
#define DEMO_FRAG_BLOCKS 5
#define DEMO_FRAG_SIZE 2048		/* larger than every hole left before */
#define DEMO_FRAG_STEP 32
#define DEMO_FRAG_LIMIT (48u << 20)	/* block bytes per worker */

static volatile sig_atomic_t demo_stop;

static void on_term(int sig)
{
	(void)sig;
	demo_stop = 1;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L };

	nanosleep(&ts, NULL);
}

struct log_block {
	struct log_block *next;
	char data[];
};

static struct log_block *request_log;
static size_t request_log_bytes;

/* The size keeps a whole block within 64 KiB of heap, chunk header included. */
__attribute__((noinline)) static void request_log_append(void)
{
	struct log_block *b = malloc(DEMO_CHUNK - 64);

	if (!b)
		return;
	memset(b->data, 'r', DEMO_CHUNK - 64 - sizeof(*b));
	b->next = request_log;
	request_log = b;
	request_log_bytes += DEMO_CHUNK;
}

__attribute__((noinline)) static int accept_connection(void)
{
	return socket(AF_UNIX, SOCK_STREAM, 0) >= 0;
}

struct demo_session {
	struct demo_session *peer;
	char name[DEMO_SESSION_BYTES - sizeof(struct demo_session *)];
};

/* Opens a session that nothing ever closes. */
__attribute__((noinline)) static struct demo_session *demo_session_open(unsigned long n)
{
	struct demo_session *s = malloc(sizeof(*s));

	if (s) {
		s->peer = NULL;
		snprintf(s->name, sizeof(s->name), "session-%lu", n);
	}
	return s;
}

static void *sessions(void *arg)
{
	unsigned long n = 0;

	(void)arg;
	while (!demo_stop) {
		if (n * DEMO_SESSION_BYTES < DEMO_SESSION_LIMIT && demo_session_open(n))
			n++;
		sleep_ms(DEMO_SESSION_MS);
	}
	return NULL;
}

/* Allocates `n` consecutive blocks of `size` from the top of the arena, then keeps only a record of each. */
__attribute__((noinline)) static void fragment_round(size_t n, size_t size)
{
	char *blocks[DEMO_FRAG_START_BLOCKS];
	size_t i;

	for (i = 0; i < n; i++) {
		blocks[i] = malloc(size);
		if (blocks[i])
			memset(blocks[i], 'b', size);
	}
	for (i = 0; i < n; i++) {
		char *record = blocks[i] ? realloc(blocks[i], DEMO_FRAG_RECORD) : NULL;

		if (record)
			record[0] = 'r';
	}
}

struct worker {
	pthread_t thread;
	pthread_barrier_t *started;
};

/* One fragmenting worker; its records stay allocated until the process exits. */
static void *fragment(void *arg)
{
	struct worker *w = arg;
	size_t total = 0, round;

	for (round = 0; round < DEMO_FRAG_START_ROUNDS; round++) {
		size_t size = DEMO_FRAG_START_SIZE + 16 * round;

		fragment_round(DEMO_FRAG_START_BLOCKS, size);
		total += size * DEMO_FRAG_START_BLOCKS;
	}
	pthread_barrier_wait(w->started);
	for (round = 0; !demo_stop && total < DEMO_FRAG_LIMIT; round++) {
		size_t size = DEMO_FRAG_SIZE + DEMO_FRAG_STEP * round;

		sleep_ms(DEMO_FRAG_ROUND_MS);
		fragment_round(DEMO_FRAG_BLOCKS, size);
		total += size * DEMO_FRAG_BLOCKS;
	}
	while (!demo_stop)
		sleep_ms(100);
	return NULL;
}

/* Tells the demo on `fd` that the target is set up; the demo then starts watching. */
static void say_ready(const char *fd_arg)
{
	int fd = fd_arg ? atoi(fd_arg) : -1;

	if (fd < 0)
		return;
	if (write(fd, "ready\n", 6) != 6)
		demo_stop = 1;
	close(fd);
}

int cmd_demo_target(int argc, char **argv)
{
	struct worker workers[DEMO_FRAG_THREADS];
	pthread_barrier_t started;
	pthread_t session_thread;
	size_t tick, fds = 0, nworkers = 0;
	bool session_started;
	struct sigaction sa;

	prctl(PR_SET_NAME, "memsleuth-demo");
	/* Dies with the memsleuth that started it. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	pthread_barrier_init(&started, NULL, DEMO_FRAG_THREADS + 1);
	for (; nworkers < DEMO_FRAG_THREADS; nworkers++) {
		workers[nworkers].started = &started;
		if (pthread_create(&workers[nworkers].thread, NULL, fragment, &workers[nworkers]))
			break;
	}
	/* A worker that could not start would leave the others waiting for it. */
	if (nworkers < DEMO_FRAG_THREADS) {
		_exit(runtime_error("demo target", false, "cannot start its threads"));
	}
	pthread_barrier_wait(&started);
	session_started = pthread_create(&session_thread, NULL, sessions, NULL) == 0;
	say_ready(argc > 1 ? argv[1] : NULL);

	for (tick = 0; !demo_stop; tick++) {
		if (request_log_bytes < DEMO_LOG_LIMIT)
			request_log_append();
		if (tick % DEMO_FD_EVERY == 0 && fds < DEMO_MAX_FDS && accept_connection())
			fds++;
		sleep_ms(DEMO_TICK_MS);
	}
	while (nworkers--)
		pthread_join(workers[nworkers].thread, NULL);
	if (session_started)
		pthread_join(session_thread, NULL);
	/* Leaking is this process's purpose: leave without the exit-time leak checks. */
	_exit(EXIT_OK);
}
