// SPDX-License-Identifier: GPL-2.0-only
/* Test target: starts NTHREADS threads that each touch STACK_KIB of their own stack. */
#include <pthread.h>
#include <stdint.h>

#include "target.h"

static size_t stack_bytes;
static pthread_barrier_t started;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t quit = PTHREAD_COND_INITIALIZER;
static int stopping;

static void __attribute__((noinline)) use_stack(size_t n)
{
	volatile char *buf = __builtin_alloca(n);
	size_t i;

	for (i = 0; i < n; i += 4096)
		buf[i] = 1;
	pthread_barrier_wait(&started);
	/* Blocked here, the thread sits in a syscall: its stack pointer is visible. */
	pthread_mutex_lock(&lock);
	while (!stopping)
		pthread_cond_wait(&quit, &lock);
	pthread_mutex_unlock(&lock);
	buf[0] = 2;
}

static void *thread_main(void *arg)
{
	(void)arg;
	use_stack(stack_bytes);
	return NULL;
}

/* Usage: grow_stacks [NTHREADS [STACK_KIB]] (defaults 8 threads, 1024 KiB each). */
int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 8, i;
	pthread_t *t;

	stack_bytes = (size_t)(argc > 2 ? atoi(argv[2]) : 1024) << 10;
	t = calloc((size_t)n, sizeof(*t));
	if (!t)
		return 1;
	pthread_barrier_init(&started, NULL, (unsigned)n + 1);
	target_ready();
	target_wait();
	for (i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, thread_main, NULL))
			return 1;
	pthread_barrier_wait(&started);
	target_done("threads=%d stack=%zu", n, stack_bytes);
	target_wait();
	pthread_mutex_lock(&lock);
	stopping = 1;
	pthread_cond_broadcast(&quit);
	pthread_mutex_unlock(&lock);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return 0;
}
