/* SPDX-License-Identifier: GPL-2.0-only */
/* What every BPF collector needs first: privileges, and libbpf's output routed to the logger. */
#ifndef MEMSLEUTH_BPF_COMMON_H
#define MEMSLEUTH_BPF_COMMON_H

#include <stddef.h>

/*
 * Returns 0 when the process may load tracing BPF programs, or -EPERM with a
 * reason naming the missing capabilities in `err`. Installs libbpf's printer.
 */
int bpf_common_check_privileges(char *err, size_t errlen);

#endif
