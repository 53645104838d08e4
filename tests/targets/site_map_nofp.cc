// SPDX-License-Identifier: GPL-2.0-only
/* C++ without frame pointers: remember_session() leaks through a std::map of std::string beside balanced STL churn. */
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "target.h"

/*
 * usage: site_map_nofp RATE SECONDS
 * Built -O2 -fomit-frame-pointer. After "go", serves RATE requests a second
 * for SECONDS: each request runs churn_containers() (a vector of strings and
 * a map built and destroyed: balanced) and remember_session(), which keeps a
 * 240-character std::string in a std::map<long, std::string> that is never
 * pruned: a map node and a string buffer leak per request, from one
 * function. Prints "done sessions=N".
 */

static std::map<long, std::string> sessions;
static volatile uint64_t sink;

__attribute__((noinline)) static void remember_session(long id)
{
	sessions[id] = std::string(240, (char)('a' + id % 26));
}

__attribute__((noinline)) static uint64_t churn_containers(long id)
{
	std::vector<std::string> parts;
	std::map<int, std::string> fields;
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		parts.push_back(std::string(100 + i * 10, 'p'));
	for (i = 0; i < 4; i++)
		fields[i] = parts[(size_t)(id + i) % parts.size()] + "-field";
	for (const auto &f : fields)
		v += f.second.size();
	return v;
}

static void serve(long i)
{
	sink += churn_containers(i);
	remember_session(i);
}

int main(int argc, char **argv)
{
	if (target_serve(argc, argv, serve) < 0)
		return 2;
	target_done("sessions=%zu", sessions.size());
	target_wait();
	return 0;
}
