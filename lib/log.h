/* SPDX-License-Identifier: GPL-2.0-only */
/* memsleuth's logger: one-line messages on stderr, libbpf's output routed through it. */
#ifndef MEMSLEUTH_LOG_H
#define MEMSLEUTH_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Messages above this level are dropped; -v raises it to LOG_DEBUG. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/*
 * While set, messages are kept in memory instead of written (curses owns the
 * terminal); log_release() writes what was kept and stops holding.
 */
void log_hold(void);
void log_release(void);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
