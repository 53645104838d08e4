// SPDX-License-Identifier: GPL-2.0-only
/* What every BPF collector needs first: privileges, and libbpf's output routed to the logger. */
#include "collectors/bpf_common.h"
#include "lib/log.h"
#include "collectors/proc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <linux/capability.h>

#include <bpf/libbpf.h>

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];
	size_t n;

	/* libbpf's warnings are verifier and probing noise; our own error says what failed. */
	(void)level;
	if (log_get_level() < LOG_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	log_debug("libbpf: %s", line);
	return 0;
}

int bpf_common_check_privileges(char *err, size_t errlen)
{
	bool admin = proc_self_has_cap(CAP_SYS_ADMIN);
	bool bpf = admin || proc_self_has_cap(CAP_BPF);
	bool perfmon = admin || proc_self_has_cap(CAP_PERFMON);

	libbpf_set_print(libbpf_print);
	if (bpf && perfmon)
		return 0;
	snprintf(err, errlen, "eBPF probes need %s%s%s",
		 bpf ? "" : "CAP_BPF", !bpf && !perfmon ? " and " : "", perfmon ? "" : "CAP_PERFMON");
	return -EPERM;
}
