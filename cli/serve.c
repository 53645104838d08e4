// SPDX-License-Identifier: GPL-2.0-only
/* The read-only HTTP endpoint of a live run: /metrics and /debug/pprof/heap (libmicrohttpd). */
#include "cli/serve.h"
#include "export/metrics.h"
#include "lib/log.h"
#include "lib/vec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNECTIONS 32
#define MAX_PER_CLIENT 8
#define IDLE_TIMEOUT_S 10
#define REQUEST_MEMORY (16u << 10)

#define NO_PROFILE                                                                       \
	"no heap profile yet: profiles need the malloc probes (watch --alloc, or the "    \
	"agent's --alloc-on-growth) and one closed window\n"

struct body {
	char *data;
	size_t len;
};

struct profile {
	int pid;
	struct body gz;
};

struct serve {
	struct MHD_Daemon *daemon;
	int listen_fd;
	char url[96];
	pthread_mutex_t lock;		/* guards what follows */
	struct body text, om;
	struct profile *profiles;
	size_t nprofiles, profiles_cap;
};

static int set_body(struct body *b, const void *data, size_t len)
{
	char *copy = malloc(len ? len : 1);

	if (!copy)
		return -ENOMEM;
	memcpy(copy, data, len);
	free(b->data);
	b->data = copy;
	b->len = len;
	return 0;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
			     const void *data, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, const char *msg)
{
	return reply(c, status, "text/plain; charset=utf-8", msg, strlen(msg));
}

/* Copies a published body out under the lock, then answers: the lock is never held across I/O. */
static enum MHD_Result reply_body(struct serve *s, struct MHD_Connection *c, const struct body *b,
				  const char *type)
{
	struct body copy = { 0 };
	enum MHD_Result ret;
	int err;

	pthread_mutex_lock(&s->lock);
	err = b->data ? set_body(&copy, b->data, b->len) : -ENOENT;
	pthread_mutex_unlock(&s->lock);
	if (err == -ENOENT)
		return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no sample taken yet\n");
	if (err)
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	ret = reply(c, MHD_HTTP_OK, type, copy.data, copy.len);
	free(copy.data);
	return ret;
}

static enum MHD_Result metrics(struct serve *s, struct MHD_Connection *c)
{
	const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);

	if (metrics_wants_openmetrics(accept))
		return reply_body(s, c, &s->om, METRICS_CONTENT_TYPE_OPENMETRICS);
	return reply_body(s, c, &s->text, METRICS_CONTENT_TYPE_TEXT);
}

/* The profile asked for: ?pid=N, or the only one. */
static enum MHD_Result heap(struct serve *s, struct MHD_Connection *c)
{
	const char *arg = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "pid");
	const struct body *b = NULL;
	char msg[160], *end;
	long pid = 0;
	size_t i;

	if (arg) {
		errno = 0;
		pid = strtol(arg, &end, 10);
		if (errno || *end || end == arg || pid <= 0 || pid > INT_MAX)
			return reply_text(c, MHD_HTTP_BAD_REQUEST, "pid: not a process id\n");
	}
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->nprofiles; i++)
		if (s->profiles[i].pid == pid || (!arg && s->nprofiles == 1))
			b = &s->profiles[i].gz;
	if (!arg && s->nprofiles > 1) {
		snprintf(msg, sizeof(msg), "%zu processes have a profile: choose one with ?pid=N "
			 "(one of them: %d)\n", s->nprofiles, s->profiles[0].pid);
		pthread_mutex_unlock(&s->lock);
		return reply_text(c, MHD_HTTP_BAD_REQUEST, msg);
	}
	pthread_mutex_unlock(&s->lock);
	if (!b)
		return reply_text(c, MHD_HTTP_NOT_FOUND, NO_PROFILE);
	/* The profile is gzipped itself, as pprof's HTTP handlers serve it. */
	return reply_body(s, c, b, "application/octet-stream");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_len, void **state)
{
	struct serve *s = cls;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)state;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "read-only: GET or HEAD\n");
	if (strcmp(url, "/metrics") == 0)
		return metrics(s, c);
	if (strcmp(url, "/debug/pprof/heap") == 0)
		return heap(s, c);
	if (strcmp(url, "/") == 0)
		return reply_text(c, MHD_HTTP_OK,
				  "memsleuth\n/metrics            Prometheus metrics\n"
				  "/debug/pprof/heap   outstanding allocations by stack (pprof)\n");
	return reply_text(c, MHD_HTTP_NOT_FOUND, "not found: /metrics or /debug/pprof/heap\n");
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("http: %s", msg);
}

/* Splits "HOST:PORT", "[V6]:PORT", ":PORT" or "PORT" into host and port (host 127.0.0.1 if none). */
static int split_hostport(const char *hp, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *colon;
	size_t n;

	if (hp[0] == '[') {
		const char *close = strchr(hp, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		n = (size_t)(close - hp - 1);
		colon = close + 1;
		hp++;
	} else {
		colon = strrchr(hp, ':');
		n = colon ? (size_t)(colon - hp) : 0;
	}
	if (n >= hostlen || strlen(colon ? colon + 1 : hp) >= portlen)
		return -EINVAL;
	snprintf(host, hostlen, "%.*s", (int)n, hp);
	snprintf(port, portlen, "%s", colon ? colon + 1 : hp);
	if (!host[0])
		snprintf(host, hostlen, "127.0.0.1");
	return port[0] && strspn(port, "0123456789") == strlen(port) ? 0 : -EINVAL;
}

/* A listening socket of our own: its errors are ours to word, and port 0 can be read back. */
static int listen_on(struct serve *s, const char *hostport, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256], port[16], shown[INET6_ADDRSTRLEN];
	int fd, ret, one = 1;

	if (split_hostport(hostport, host, sizeof(host), port, sizeof(port))) {
		snprintf(err, errlen, "--listen %s: expected HOST:PORT (for instance 127.0.0.1:9464)",
			 hostport);
		return -EINVAL;
	}
	ret = getaddrinfo(host, port, &hints, &ai);
	if (ret) {
		snprintf(err, errlen, "--listen %s: %s", hostport, gai_strerror(ret));
		return -EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, MAX_CONNECTIONS) ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl)) {
		ret = -errno;
		snprintf(err, errlen, "cannot listen on %s: %s", hostport, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return ret;
	}
	freeaddrinfo(ai);
	s->listen_fd = fd;
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &a->sin6_addr, shown, sizeof(shown));
		snprintf(s->url, sizeof(s->url), "http://[%s]:%u", shown, ntohs(a->sin6_port));
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &a->sin_addr, shown, sizeof(shown));
		snprintf(s->url, sizeof(s->url), "http://%s:%u", shown, ntohs(a->sin_port));
	}
	return 0;
}

int serve_start(const char *hostport, struct serve **out, char *err, size_t errlen)
{
	sigset_t all, old;
	struct serve *s;
	int ret;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	s->listen_fd = -1;
	ret = listen_on(s, hostport, err, errlen);
	if (ret) {
		serve_stop(s);
		return ret;
	}
	/* The server's thread takes no signal: Ctrl-C and SIGTERM reach the run's loop. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	s->daemon = MHD_start_daemon(
		MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
		handle, s, MHD_OPTION_LISTEN_SOCKET, s->listen_fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)MAX_PER_CLIENT,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)REQUEST_MEMORY,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!s->daemon) {
		snprintf(err, errlen, "cannot start the HTTP server on %s", hostport);
		serve_stop(s);
		return -EIO;
	}
	*out = s;
	return 0;
}

const char *serve_url(const struct serve *s)
{
	return s->url;
}

int serve_publish_metrics(struct serve *s, const char *text, size_t text_len, const char *om,
			  size_t om_len)
{
	int ret;

	pthread_mutex_lock(&s->lock);
	ret = set_body(&s->text, text, text_len);
	if (!ret)
		ret = set_body(&s->om, om, om_len);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

int serve_publish_profile(struct serve *s, int pid, const uint8_t *gz, size_t len)
{
	struct profile *p = NULL;
	size_t i;
	int ret = 0;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->nprofiles && !p; i++)
		if (s->profiles[i].pid == pid)
			p = &s->profiles[i];
	if (!len) {
		if (p) {
			free(p->gz.data);
			*p = s->profiles[--s->nprofiles];
		}
	} else {
		if (!p) {
			p = VEC_PUSH(s->profiles, s->nprofiles, s->profiles_cap);
			if (p)
				p->pid = pid;
		}
		ret = p ? set_body(&p->gz, gz, len) : -ENOMEM;
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

void serve_stop(struct serve *s)
{
	size_t i;

	if (!s)
		return;
	if (s->daemon)
		MHD_stop_daemon(s->daemon);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	free(s->text.data);
	free(s->om.data);
	for (i = 0; i < s->nprofiles; i++)
		free(s->profiles[i].gz.data);
	free(s->profiles);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
