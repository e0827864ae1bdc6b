/*
 * log.c - key=value lines on stderr (DESIGN.md "Observability").
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

static enum log_level min_level = LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level level)
{
	min_level = level;
}

int log_level_parse(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (level < min_level)
		return;
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	gmtime_r(&tv.tv_sec, &tm);
	char line[2048];
	int n = snprintf(line, sizeof(line), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03dZ level=%s ",
	                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	                 tm.tm_sec, (int)(tv.tv_usec / 1000), level_names[level]);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One write per line so lines from a crash-looping process stay whole. */
	fprintf(stderr, "%s\n", line);
}

const char *log_quote(char *buf, size_t size, const char *s)
{
	if (size == 0)
		return buf;
	if (s == NULL)
		s = "";
	int needs_quote = (*s == '\0');
	for (const char *p = s; *p; p++)
		if (*p == ' ' || *p == '"' || *p == '\\' || *p == '=' || (unsigned char)*p < 0x20)
			needs_quote = 1;
	size_t o = 0;
	if (needs_quote && o + 1 < size)
		buf[o++] = '"';
	for (const char *p = s; *p && o + 3 < size; p++) {
		unsigned char c = (unsigned char)*p;
		if (!needs_quote) {
			buf[o++] = (char)c;
		} else if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20) {
			buf[o++] = '\\';
			buf[o++] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : '?';
		} else {
			buf[o++] = (char)c;
		}
	}
	if (needs_quote && o + 1 < size)
		buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}
