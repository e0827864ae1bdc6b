/*
 * log.h - structured log lines on stderr, one event per line:
 *
 *   ts=2026-11-27T10:42:07.123Z level=info event=session_open peer=127.0.0.1:53211
 *
 * journald keeps stderr; operators grep key=value.  Callers format the
 * key=value pairs themselves; log_quote() makes any string safe to embed.
 * Secrets (keys, tokens, conninfo passwords) are never passed here.
 */
#ifndef SLAD_LOG_H
#define SLAD_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
int log_level_parse(const char *name, enum log_level *out);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/* Copy `s` into buf as a value for a key=value pair: bare if it has no
 * space, quote, backslash or control byte, else double-quoted with escapes.
 * Truncates to fit; returns buf. */
const char *log_quote(char *buf, size_t size, const char *s);

#endif /* SLAD_LOG_H */
