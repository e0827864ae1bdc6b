/*
 * util.h - small helpers the daemon's modules share: wall-clock time,
 * RFC 3339 instants, request-body hashes, json-c field access.
 */
#ifndef SLAD_UTIL_H
#define SLAD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "sla_types.h"

/* The daemon's one read of the wall clock for domain time (libsla takes it
 * as a parameter).  libfaketime moves it in tests. */
sla_time util_now(void);

/* "2026-11-27T10:42:07Z"; buf of at least 24 bytes. */
const char *util_format_time(sla_time t, char *buf, size_t len);
/* RFC 3339 with Z or an offset, optional fraction (dropped). 0 or -1. */
__attribute__((warn_unused_result)) int util_parse_time(const char *s, sla_time *out);

/* SHA-256 of the plain serialisation of `body`, hex, into out[65]. */
void util_body_hash(const json_object *body, char out[65]);

/* Field access on a JSON object; NULL / def when absent or JSON null. */
const char *util_jstr(const json_object *obj, const char *key);
int64_t util_jint(const json_object *obj, const char *key, int64_t def);
bool util_jbool(const json_object *obj, const char *key, bool def);
bool util_jhas(const json_object *obj, const char *key);

/* New JSON string, or JSON null when s is NULL. */
json_object *util_jstr_or_null(const char *s);
/* New RFC 3339 string, or JSON null for SLA_TIME_NEVER / 0 when never. */
json_object *util_jtime(sla_time t);

#endif /* SLAD_UTIL_H */
