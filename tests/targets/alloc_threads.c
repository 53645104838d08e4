// SPDX-License-Identifier: GPL-2.0-only
/* Threads allocate, others free: produce_item() is freed elsewhere, produce_kept() never. */
#include <pthread.h>
#include <stdint.h>

#include "target.h"

/*
 * usage: alloc_threads ITEMS
 * After "go", two producer threads each allocate ITEMS items of 200 bytes in
 * produce_item() and hand them to two consumer threads, which free them; every
 * 16th item a producer also allocates 1000 bytes in produce_kept() that nobody
 * frees. Prints "done kept=BYTES freed=ITEMS".
 */

#define QCAP 1024
#define PRODUCERS 2
#define CONSUMERS 2

static void *queue[QCAP];
static size_t qhead, qtail, items, freed, kept_bytes;
static int producers_left = PRODUCERS;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static void *keep[1 << 16];
static size_t nkeep;

__attribute__((noinline)) static void *produce_item(void)
{
	char *p = malloc(200);

	p[0] = 1;
	return p;
}

__attribute__((noinline)) static void produce_kept(void)
{
	char *p = malloc(1000);

	p[0] = 1;
	pthread_mutex_lock(&lock);
	keep[nkeep++ % (1 << 16)] = p;
	kept_bytes += 1000;
	pthread_mutex_unlock(&lock);
}

static void *producer(void *arg)
{
	size_t i;

	(void)arg;
	for (i = 0; i < items; i++) {
		void *p = produce_item();

		if (i % 16 == 15)
			produce_kept();
		pthread_mutex_lock(&lock);
		while (qtail - qhead == QCAP)
			pthread_cond_wait(&cond, &lock);
		queue[qtail++ % QCAP] = p;
		pthread_cond_broadcast(&cond);
		pthread_mutex_unlock(&lock);
	}
	pthread_mutex_lock(&lock);
	producers_left--;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void *consumer(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		void *p;

		while (qtail == qhead && producers_left)
			pthread_cond_wait(&cond, &lock);
		if (qtail == qhead)
			break;
		p = queue[qhead++ % QCAP];
		freed++;
		pthread_cond_broadcast(&cond);
		pthread_mutex_unlock(&lock);
		free(p);
		pthread_mutex_lock(&lock);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[PRODUCERS + CONSUMERS];
	int k;

	if (argc < 2)
		return 2;
	items = strtoull(argv[1], NULL, 0);
	if (items > (1 << 16) * 16 / PRODUCERS)
		return 2;
	target_ready();
	target_wait();
	for (k = 0; k < PRODUCERS; k++)
		pthread_create(&th[k], NULL, producer, NULL);
	for (k = 0; k < CONSUMERS; k++)
		pthread_create(&th[PRODUCERS + k], NULL, consumer, NULL);
	for (k = 0; k < PRODUCERS + CONSUMERS; k++)
		pthread_join(th[k], NULL);
	target_done("kept=%zu freed=%zu first=%p", kept_bytes, freed, nkeep ? keep[0] : NULL);
	target_wait();
	return 0;
}
