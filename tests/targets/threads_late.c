// SPDX-License-Identifier: GPL-2.0-only
/* Test target: threads started after attach map memory and open sockets from known functions. */
#include <pthread.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "target.h"

#define MIB (1UL << 20)
#define NTHREADS 4

/*
 * After "go", starts NTHREADS threads; each one calls thread_map_here()
 * (keeps one 1 MiB mapping) and thread_socket_here() (keeps one socket),
 * then waits until the test's next line. "done" follows once all have.
 */
static pthread_barrier_t done;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t quit = PTHREAD_COND_INITIALIZER;
static int quitting;

__attribute__((noinline)) static void thread_map_here(void)
{
	void *p = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		exit(1);
	target_touch(p, MIB);
}

__attribute__((noinline)) static void thread_socket_here(void)
{
	if (socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0) < 0)
		exit(1);
}

static void *worker(void *arg)
{
	(void)arg;
	thread_map_here();
	thread_socket_here();
	pthread_barrier_wait(&done);
	pthread_mutex_lock(&lock);
	while (!quitting)
		pthread_cond_wait(&quit, &lock);
	pthread_mutex_unlock(&lock);
	return NULL;
}

int main(void)
{
	pthread_t t[NTHREADS];
	int i;

	target_ready();
	target_wait();
	pthread_barrier_init(&done, NULL, NTHREADS + 1);
	for (i = 0; i < NTHREADS; i++)
		if (pthread_create(&t[i], NULL, worker, NULL))
			return 1;
	pthread_barrier_wait(&done);
	target_done("threads=%d map_bytes=%lu sockets=%d", NTHREADS, NTHREADS * MIB, NTHREADS);
	target_wait();
	pthread_mutex_lock(&lock);
	quitting = 1;
	pthread_cond_broadcast(&quit);
	pthread_mutex_unlock(&lock);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	return 0;
}
