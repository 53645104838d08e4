// SPDX-License-Identifier: GPL-2.0-only
/* C++: leak_blobs() leaks objects made with new; churn_objects() news and deletes. */
#include <cstdint>
#include <string>

#include "target.h"

/*
 * usage: alloc_cxx COUNT
 * After "go", leak_blobs() allocates COUNT Blobs (256 bytes) with new and
 * keeps them, and COUNT arrays of 100 chars with new[]; churn_objects() does
 * the same and deletes them, and builds strings. Prints "done kept=BYTES".
 */

struct Blob {
	char data[256];
};

static volatile uint64_t sink;

__attribute__((noinline)) static void leak_blobs(Blob **blobs, char **arrays, size_t i)
{
	blobs[i] = new Blob();
	arrays[i] = new char[100];
	arrays[i][0] = 1;
}

__attribute__((noinline)) static void churn_objects(size_t i)
{
	Blob *b = new Blob();
	char *a = new char[100];
	std::string s(200 + i % 50, 'x');

	sink ^= (uint64_t)(uintptr_t)b ^ (uint64_t)(uintptr_t)a ^ s.size();
	delete b;
	delete[] a;
}

int main(int argc, char **argv)
{
	size_t n, i;

	if (argc < 2)
		return 2;
	n = strtoull(argv[1], NULL, 0);
	Blob **blobs = new Blob *[n];
	char **arrays = new char *[n];
	target_ready();
	target_wait();
	for (i = 0; i < n; i++) {
		leak_blobs(blobs, arrays, i);
		churn_objects(i);
	}
	target_done("kept=%zu", n * (sizeof(Blob) + 100));
	target_wait();
	return 0;
}
