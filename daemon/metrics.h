/*
 * metrics.h - slad's own figures, for GET /metrics (the Prometheus text
 * format) and the STATS verb (issue 7, DESIGN.md "Observability").
 *
 * Two kinds of figures:
 *  - what this process sees (sessions by role, answers by verb and code,
 *    database round trips, commit latencies, HTTP requests, webhook alerts)
 *    lives in one process-wide registry here, fed by one-line calls from
 *    the modules where things happen.  slad is single-threaded: no locks.
 *  - what PostgreSQL knows (tickets by state and level, open clocks,
 *    firings and breaches, the delivery backlog and its oldest push) is
 *    read by one asynchronous query per scrape (metrics_query), so every
 *    instance behind a load balancer reports the same truth.
 *
 * Every name starts with slad_ (README lists them); metrics_render() writes
 * them all, with # HELP and # TYPE, each family once.
 */
#ifndef SLAD_METRICS_H
#define SLAD_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/buffer.h>
#include <json-c/json.h>

#include "proto.h"

struct store;

/* Where an HTTP request went (slad_http_requests_total{route}). */
enum metrics_route {
	METRICS_ROUTE_ALERTMANAGER,
	METRICS_ROUTE_PAGERDUTY,
	METRICS_ROUTE_HEALTHZ,
	METRICS_ROUTE_METRICS,
	METRICS_ROUTE_OTHER,
	METRICS_ROUTE_COUNT
};

/* Which committing statement (slad_commit_duration_seconds{statement}). */
enum metrics_commit {
	METRICS_COMMIT_REPORT_BATCH, /* REPORT and ALERT triggers, group-committed */
	METRICS_COMMIT_TICKET_APPLY, /* a state change of one ticket */
	METRICS_COMMIT_COUNT
};

/* The start instant (slad_start_time_seconds, STATS uptime).  Called once
 * by main before the loop; the registry works without it. */
void metrics_init(void);

/* Monotonic seconds: the start of an interval to observe. */
double metrics_clock(void);

/* A line session's role changed: 0 -> role when it is authenticated, role
 * -> 0 when it closes, old -> new when an administrator changes it.  0 and
 * unknown roles are ignored. */
void metrics_sessions_move(unsigned from_role, unsigned to_role);

/* A request (line or internal) was answered with `code` (PROTO_OK). */
void metrics_answered(const char *verb, enum proto_err code);

/* store.c: pool connection `conn` sent a query / got its last result. */
void metrics_db_sent(int conn);
void metrics_db_done(int conn);

/* A committing statement that started at `started` (metrics_clock()) has
 * its answer now. */
void metrics_commit(enum metrics_commit what, double started);

/* An HTTP request on `route` was answered `status`; it arrived at
 * `started`. */
void metrics_http(enum metrics_route route, int status, double started);
/* An HTTPS connection opened (+1) or closed (-1). */
void metrics_http_connections(int delta);

/* One webhook alert or event was handled: `source` "alertmanager" or
 * "pagerduty", `effect` the ALERT effect ("created", "unchanged", ...) or
 * "rejected", "failed", "replay", "noted", "unknown_alert". */
void metrics_webhook_alert(enum metrics_route source, const char *effect);

/*
 * Read PostgreSQL's figures (slad_metrics() in deploy/sql/004_monitoring.sql)
 * and call cb(arg, db) once: `db` is the parsed document (borrowed for the
 * call) or NULL when the database did not answer.  Returns 0, or -1 when
 * the store refused at once (cb is then not called).
 */
typedef void (*metrics_db_cb)(void *arg, const json_object *db);
__attribute__((warn_unused_result)) int metrics_query(struct store *st, metrics_db_cb cb,
                                                      void *arg);

/* What the caller knows at render time. */
struct metrics_live {
	bool db_available; /* store_available() */
	size_t db_pending; /* store_pending() */
};

/* Append the Prometheus text exposition (format 0.0.4) to `out`.  `db` may
 * be NULL: the database families are then left out and slad_database_up
 * says 0. */
void metrics_render(struct evbuffer *out, const json_object *db, const struct metrics_live *live);

/* The STATS answer (PROTOCOL.md) from the same figures; a new object. */
json_object *metrics_stats(const json_object *db);

#endif /* SLAD_METRICS_H */
