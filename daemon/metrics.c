/*
 * metrics.c - the registry and the Prometheus text exposition (see
 * metrics.h).
 */
#include "metrics.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "sla_types.h"
#include "store.h"

/* Seconds: from a fast commit on a local disk to a database that is
 * struggling (the store's watchdog ends a query after statement_timeout). */
static const double bucket_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                       0.1,    0.25,  0.5,    1,     2.5,  5,     10};
#define N_BUCKETS (sizeof(bucket_bounds) / sizeof(bucket_bounds[0]))

struct histogram {
	uint64_t buckets[N_BUCKETS]; /* observations <= bound, not cumulative */
	uint64_t count;
	double sum;
};

/* Roles as PROTO_ROLE_* bits, in the protocol's order. */
static const unsigned role_bits[] = {PROTO_ROLE_HOTLINE, PROTO_ROLE_ENGINEER, PROTO_ROLE_MONITOR,
                                     PROTO_ROLE_ADMIN};
#define N_ROLES 4

#define MAX_VERBS 96 /* the protocol has fewer; the last row is "unknown" */
#define MAX_CONNS 65 /* db_connections is at most 64 */

static const char *const route_names[METRICS_ROUTE_COUNT] = {"alertmanager", "pagerduty", "healthz",
                                                             "metrics", "other"};
static const char *const commit_names[METRICS_COMMIT_COUNT] = {"report_batch", "ticket_apply"};
/* HTTP status codes slad answers with; anything else counts as 0 ("other"). */
static const int http_codes[] = {200, 202, 400, 401, 403, 404, 405,
                                 409, 413, 415, 429, 500, 503, 0};
#define N_HTTP_CODES (sizeof(http_codes) / sizeof(http_codes[0]))
static const char *const effect_names[] = {
    "created", "new_occurrence", "unchanged",     "reopened", "resolved",
    "noted",   "replay",         "unknown_alert", "rejected", "failed",
};
#define N_EFFECTS (sizeof(effect_names) / sizeof(effect_names[0]))

static struct {
	double start_mono;
	time_t start_wall;
	uint64_t sessions[N_ROLES];
	uint64_t answers[MAX_VERBS][PROTO_ERR_COUNT];
	double db_sent[MAX_CONNS];
	struct histogram db_roundtrip;
	struct histogram commit[METRICS_COMMIT_COUNT];
	uint64_t http[METRICS_ROUTE_COUNT][N_HTTP_CODES];
	struct histogram http_duration[METRICS_ROUTE_COUNT];
	int64_t http_connections;
	uint64_t webhook[METRICS_ROUTE_COUNT][N_EFFECTS];
} reg;

double metrics_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void metrics_init(void)
{
	reg.start_mono = metrics_clock();
	reg.start_wall = time(NULL);
}

static void observe(struct histogram *h, double seconds)
{
	if (seconds < 0 || isnan(seconds))
		seconds = 0;
	for (size_t i = 0; i < N_BUCKETS; i++) {
		if (seconds <= bucket_bounds[i]) {
			h->buckets[i]++;
			break;
		}
	}
	h->count++;
	h->sum += seconds;
}

static int role_index(unsigned role)
{
	for (int i = 0; i < N_ROLES; i++)
		if (role_bits[i] == role)
			return i;
	return -1;
}

void metrics_sessions_move(unsigned from_role, unsigned to_role)
{
	int from = role_index(from_role), to = role_index(to_role);
	if (from >= 0 && reg.sessions[from] > 0)
		reg.sessions[from]--;
	if (to >= 0)
		reg.sessions[to]++;
}

static size_t verb_count(void)
{
	size_t n = 0;
	while (proto_verbs[n].name != NULL && n < MAX_VERBS - 1)
		n++;
	return n;
}

void metrics_answered(const char *verb, enum proto_err code)
{
	const struct proto_verb *v = proto_verb_find(verb);
	size_t row = v ? (size_t)(v - proto_verbs) : verb_count();
	if (row >= MAX_VERBS)
		row = MAX_VERBS - 1;
	if ((int)code < 0 || code >= PROTO_ERR_COUNT)
		code = PROTO_ERR_INTERNAL;
	reg.answers[row][code]++;
}

void metrics_db_sent(int conn)
{
	if (conn >= 0 && conn < MAX_CONNS)
		reg.db_sent[conn] = metrics_clock();
}

void metrics_db_done(int conn)
{
	if (conn >= 0 && conn < MAX_CONNS && reg.db_sent[conn] > 0) {
		observe(&reg.db_roundtrip, metrics_clock() - reg.db_sent[conn]);
		reg.db_sent[conn] = 0;
	}
}

void metrics_commit(enum metrics_commit what, double started)
{
	if ((int)what >= 0 && what < METRICS_COMMIT_COUNT && started > 0)
		observe(&reg.commit[what], metrics_clock() - started);
}

static size_t code_slot(int status)
{
	for (size_t i = 0; i + 1 < N_HTTP_CODES; i++)
		if (http_codes[i] == status)
			return i;
	return N_HTTP_CODES - 1;
}

void metrics_http(enum metrics_route route, int status, double started)
{
	if ((int)route < 0 || route >= METRICS_ROUTE_COUNT)
		route = METRICS_ROUTE_OTHER;
	reg.http[route][code_slot(status)]++;
	if (started > 0)
		observe(&reg.http_duration[route], metrics_clock() - started);
}

void metrics_http_connections(int delta)
{
	reg.http_connections += delta;
	if (reg.http_connections < 0)
		reg.http_connections = 0;
}

void metrics_webhook_alert(enum metrics_route source, const char *effect)
{
	if ((int)source < 0 || source >= METRICS_ROUTE_COUNT || effect == NULL)
		return;
	for (size_t i = 0; i < N_EFFECTS; i++) {
		if (strcmp(effect_names[i], effect) == 0) {
			reg.webhook[source][i]++;
			return;
		}
	}
	log_debug("event=metrics_unknown_effect effect=%s", effect);
}

/* ---- the database's figures ---- */

struct query {
	metrics_db_cb cb;
	void *arg;
};

static void query_done(void *arg, enum store_status status, PGresult *res)
{
	struct query *q = arg;
	json_object *db = NULL;
	if (status == STORE_DONE && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    !PQgetisnull(res, 0, 0))
		db = json_tokener_parse(PQgetvalue(res, 0, 0));
	q->cb(q->arg, db);
	json_object_put(db);
	free(q);
}

int metrics_query(struct store *st, metrics_db_cb cb, void *arg)
{
	struct query *q = malloc(sizeof(*q));
	if (q == NULL)
		return -1;
	q->cb = cb;
	q->arg = arg;
	if (store_submit(st, "SELECT slad_metrics()", 0, NULL, query_done, q) != 0) {
		free(q);
		return -1;
	}
	return 0;
}

/* ---- rendering ---- */

static void family(struct evbuffer *out, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Label values here are our own identifiers; escaped all the same, as the
 * format wants (backslash, double quote, line feed). */
static void label_value(struct evbuffer *out, const char *v)
{
	for (const char *p = v; *p; p++) {
		if (*p == '\\' || *p == '"')
			evbuffer_add_printf(out, "\\%c", *p);
		else if (*p == '\n')
			evbuffer_add(out, "\\n", 2);
		else
			evbuffer_add(out, p, 1);
	}
}

/* name{k1="v1",k2="v2"} value -- labels given as pairs, NULL-terminated. */
static void sample_u(struct evbuffer *out, const char *name, const char *const *labels,
                     uint64_t value)
{
	evbuffer_add_printf(out, "%s", name);
	if (labels && labels[0]) {
		evbuffer_add(out, "{", 1);
		for (size_t i = 0; labels[i] != NULL; i += 2) {
			evbuffer_add_printf(out, "%s%s=\"", i ? "," : "", labels[i]);
			label_value(out, labels[i + 1]);
			evbuffer_add(out, "\"", 1);
		}
		evbuffer_add(out, "}", 1);
	}
	evbuffer_add_printf(out, " %" PRIu64 "\n", value);
}

static void sample_d(struct evbuffer *out, const char *name, const char *const *labels,
                     double value)
{
	evbuffer_add_printf(out, "%s", name);
	if (labels && labels[0]) {
		evbuffer_add(out, "{", 1);
		for (size_t i = 0; labels[i] != NULL; i += 2) {
			evbuffer_add_printf(out, "%s%s=\"", i ? "," : "", labels[i]);
			label_value(out, labels[i + 1]);
			evbuffer_add(out, "\"", 1);
		}
		evbuffer_add(out, "}", 1);
	}
	evbuffer_add_printf(out, " %.17g\n", value);
}

/* One histogram's series: _bucket (cumulative, ending in +Inf), _sum and
 * _count, under one optional label. */
static void histogram(struct evbuffer *out, const char *name, const char *label, const char *value,
                      const struct histogram *h)
{
	char series[128];
	uint64_t cumulative = 0;
	snprintf(series, sizeof(series), "%s_bucket", name);
	for (size_t i = 0; i <= N_BUCKETS; i++) {
		char le[32];
		if (i < N_BUCKETS) {
			cumulative += h->buckets[i];
			snprintf(le, sizeof(le), "%g", bucket_bounds[i]);
		} else {
			cumulative = h->count;
			snprintf(le, sizeof(le), "+Inf");
		}
		const char *labels[] = {label, value, "le", le, NULL};
		sample_u(out, series, label ? labels : labels + 2, cumulative);
	}
	const char *labels[] = {label, value, NULL};
	snprintf(series, sizeof(series), "%s_sum", name);
	sample_d(out, series, label ? labels : NULL, h->sum);
	snprintf(series, sizeof(series), "%s_count", name);
	sample_u(out, series, label ? labels : NULL, h->count);
}

/* The count of `arr`'s element whose string fields match (k1=v1[, k2=v2])
 * -- the database's rows are few (states x levels). */
static uint64_t db_count(const json_object *db, const char *arr, const char *k1, const char *v1,
                         const char *k2, const char *v2, const char *field)
{
	json_object *rows = NULL;
	if (db == NULL || !json_object_object_get_ex(db, arr, &rows) ||
	    !json_object_is_type(rows, json_type_array))
		return 0;
	uint64_t n = 0;
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		json_object *row = json_object_array_get_idx(rows, i), *a = NULL, *b = NULL,
		            *c = NULL;
		if (!json_object_object_get_ex(row, k1, &a) ||
		    strcmp(json_object_get_string(a), v1) != 0)
			continue;
		if (k2 && (!json_object_object_get_ex(row, k2, &b) ||
		           strcmp(json_object_get_string(b), v2) != 0))
			continue;
		if (json_object_object_get_ex(row, field, &c))
			n += (uint64_t)json_object_get_int64(c);
	}
	return n;
}

static const char *const clock_states[] = {"running", "overdue", "paused"};
static const char *const escalation_kinds[] = {"warning", "breach", "escalation"};

static void render_db(struct evbuffer *out, const json_object *db)
{
	family(out, "slad_tickets", "gauge", "Tickets by state and level (from PostgreSQL).");
	for (int s = 0; s < SLA_STATE_COUNT; s++) {
		const char *state = sla_ticket_state_name((enum sla_ticket_state)s);
		for (int level = 1; level <= SLA_LEVEL_COUNT; level++) {
			char lv[4];
			snprintf(lv, sizeof(lv), "%d", level);
			const char *labels[] = {"state", state, "level", lv, NULL};
			sample_u(out, "slad_tickets", labels,
			         db_count(db, "tickets", "state", state, "level", lv, "n"));
		}
	}
	family(out, "slad_open_clocks", "gauge",
	       "SLA clocks of open tickets by clock and state: running, overdue (past due, "
	       "not yet fired), paused.");
	for (int c = 0; c < SLA_CLOCK_COUNT; c++) {
		const char *clock = sla_clock_name((enum sla_clock)c);
		for (size_t s = 0; s < sizeof(clock_states) / sizeof(clock_states[0]); s++) {
			const char *labels[] = {"clock", clock, "state", clock_states[s], NULL};
			sample_u(
			    out, "slad_open_clocks", labels,
			    db_count(db, "clocks", "clock", clock, "state", clock_states[s], "n"));
		}
	}
	family(out, "slad_escalations_fired_total", "counter",
	       "Escalation steps fired, by kind: warning, breach, escalation (ladder climbs).");
	for (size_t k = 0; k < sizeof(escalation_kinds) / sizeof(escalation_kinds[0]); k++) {
		const char *labels[] = {"kind", escalation_kinds[k], NULL};
		sample_u(out, "slad_escalations_fired_total", labels,
		         db_count(db, "escalations", "kind", escalation_kinds[k], NULL, NULL, "n"));
	}
	family(out, "slad_escalations_late_total", "counter",
	       "Escalation steps fired late (slad was down when they fell due).");
	uint64_t late = 0;
	for (size_t k = 0; k < sizeof(escalation_kinds) / sizeof(escalation_kinds[0]); k++)
		late +=
		    db_count(db, "escalations", "kind", escalation_kinds[k], NULL, NULL, "late");
	sample_u(out, "slad_escalations_late_total", NULL, late);
	family(out, "slad_delivery_backlog", "gauge",
	       "Pushes (escalations) without a delivery receipt.");
	json_object *v = NULL;
	sample_u(out, "slad_delivery_backlog", NULL,
	         json_object_object_get_ex(db, "backlog", &v) ? (uint64_t)json_object_get_int64(v)
	                                                      : 0);
	family(out, "slad_delivery_oldest_undelivered_age_seconds", "gauge",
	       "Age of the oldest push without a receipt; 0 when there is none.");
	double age = 0;
	if (json_object_object_get_ex(db, "oldest_age", &v) && v != NULL)
		age = json_object_get_double(v);
	sample_d(out, "slad_delivery_oldest_undelivered_age_seconds", NULL, age);
}

void metrics_render(struct evbuffer *out, const json_object *db, const struct metrics_live *live)
{
	family(out, "slad_build_info", "gauge", "slad's version; always 1.");
	const char *build[] = {"version", SLAD_VERSION, NULL};
	sample_u(out, "slad_build_info", build, 1);
	family(out, "slad_start_time_seconds", "gauge", "When this process started, Unix time.");
	sample_u(out, "slad_start_time_seconds", NULL, (uint64_t)reg.start_wall);
	family(out, "slad_uptime_seconds", "gauge", "Seconds since this process started.");
	sample_d(out, "slad_uptime_seconds", NULL,
	         reg.start_mono > 0 ? metrics_clock() - reg.start_mono : 0);
	family(out, "slad_database_up", "gauge",
	       "1 if PostgreSQL answered this scrape's query, else 0 (its figures are then "
	       "left out).");
	sample_u(out, "slad_database_up", NULL, db != NULL);
	if (db != NULL)
		render_db(out, db);

	family(out, "slad_db_pool_up", "gauge",
	       "1 if at least one connection of the pool is up, else 0.");
	sample_u(out, "slad_db_pool_up", NULL, live->db_available);
	family(out, "slad_db_queries_pending", "gauge",
	       "Queries waiting for a connection or under way.");
	sample_u(out, "slad_db_queries_pending", NULL, live->db_pending);
	family(out, "slad_db_roundtrip_seconds", "histogram",
	       "Database round trip per query: sent to last result.");
	histogram(out, "slad_db_roundtrip_seconds", NULL, NULL, &reg.db_roundtrip);
	family(out, "slad_commit_duration_seconds", "histogram",
	       "Committing statements, sent to committed: report_batch (REPORT and ALERT "
	       "triggers, group-committed) and ticket_apply (one state change).");
	for (int i = 0; i < METRICS_COMMIT_COUNT; i++)
		histogram(out, "slad_commit_duration_seconds", "statement", commit_names[i],
		          &reg.commit[i]);

	family(out, "slad_sessions", "gauge", "Connected line-protocol sessions by role.");
	static const char *const role_names[N_ROLES] = {"hotline", "engineer", "monitor", "admin"};
	for (int i = 0; i < N_ROLES; i++) {
		const char *labels[] = {"role", role_names[i], NULL};
		sample_u(out, "slad_sessions", labels, reg.sessions[i]);
	}
	family(out, "slad_requests_total", "counter",
	       "Requests answered, by verb and answer code (OK or the error code); webhook "
	       "alerts count as ALERT.");
	size_t nverbs = verb_count();
	for (size_t v = 0; v <= nverbs; v++) {
		for (int c = 0; c < PROTO_ERR_COUNT; c++) {
			if (reg.answers[v][c] == 0)
				continue;
			const char *labels[] = {
			    "verb", v < nverbs ? proto_verbs[v].name : "unknown", "code",
			    c == PROTO_OK ? "OK" : proto_err_name((enum proto_err)c), NULL};
			sample_u(out, "slad_requests_total", labels, reg.answers[v][c]);
		}
	}

	family(out, "slad_http_connections", "gauge", "Open HTTPS connections.");
	sample_u(out, "slad_http_connections", NULL, (uint64_t)reg.http_connections);
	family(out, "slad_http_requests_total", "counter", "HTTP requests by route and status.");
	for (int r = 0; r < METRICS_ROUTE_COUNT; r++) {
		for (size_t c = 0; c < N_HTTP_CODES; c++) {
			if (reg.http[r][c] == 0)
				continue;
			char code[8];
			if (http_codes[c] != 0)
				snprintf(code, sizeof(code), "%d", http_codes[c]);
			else
				snprintf(code, sizeof(code), "other");
			const char *labels[] = {"route", route_names[r], "code", code, NULL};
			sample_u(out, "slad_http_requests_total", labels, reg.http[r][c]);
		}
	}
	family(out, "slad_http_request_duration_seconds", "histogram",
	       "HTTP requests, complete request to answer, by route.");
	for (int r = 0; r < METRICS_ROUTE_COUNT; r++)
		histogram(out, "slad_http_request_duration_seconds", "route", route_names[r],
		          &reg.http_duration[r]);
	family(out, "slad_webhook_alerts_total", "counter",
	       "Webhook alerts and events taken in, by source and effect (the ingest rate).");
	for (int r = 0; r <= METRICS_ROUTE_PAGERDUTY; r++) {
		for (size_t e = 0; e < N_EFFECTS; e++) {
			const char *labels[] = {"source", route_names[r], "effect", effect_names[e],
			                        NULL};
			sample_u(out, "slad_webhook_alerts_total", labels, reg.webhook[r][e]);
		}
	}
}

/* ---- STATS ---- */

json_object *metrics_stats(const json_object *db)
{
	json_object *a = json_object_new_object();
	json_object *by_state = json_object_new_object();
	json_object *by_level = json_object_new_object();
	for (int s = 0; s < SLA_STATE_COUNT; s++) {
		const char *state = sla_ticket_state_name((enum sla_ticket_state)s);
		uint64_t n = 0;
		for (int level = 1; level <= SLA_LEVEL_COUNT; level++) {
			char lv[4];
			snprintf(lv, sizeof(lv), "%d", level);
			n += db_count(db, "tickets", "state", state, "level", lv, "n");
		}
		json_object_object_add(by_state, state, json_object_new_int64((int64_t)n));
	}
	/* PROTOCOL.md STATS: levels of the open tickets (S15: reported up to
	 * on site). */
	for (int level = 1; level <= SLA_LEVEL_COUNT; level++) {
		char lv[4];
		snprintf(lv, sizeof(lv), "%d", level);
		uint64_t n = 0;
		for (int s = SLA_STATE_REPORTED; s <= SLA_STATE_ONSITE; s++)
			n += db_count(db, "tickets", "state",
			              sla_ticket_state_name((enum sla_ticket_state)s), "level", lv,
			              "n");
		json_object_object_add(by_level, lv, json_object_new_int64((int64_t)n));
	}
	json_object_object_add(a, "tickets_by_state", by_state);
	json_object_object_add(a, "tickets_by_level", by_level);
	uint64_t open_clocks = 0, firings = 0;
	for (int c = 0; c < SLA_CLOCK_COUNT; c++) {
		const char *clock = sla_clock_name((enum sla_clock)c);
		open_clocks += db_count(db, "clocks", "clock", clock, "state", "running", "n") +
		               db_count(db, "clocks", "clock", clock, "state", "overdue", "n");
	}
	for (size_t k = 0; k < sizeof(escalation_kinds) / sizeof(escalation_kinds[0]); k++)
		firings +=
		    db_count(db, "escalations", "kind", escalation_kinds[k], NULL, NULL, "n");
	json_object_object_add(a, "open_clocks", json_object_new_int64((int64_t)open_clocks));
	json_object_object_add(a, "firings_total", json_object_new_int64((int64_t)firings));
	json_object_object_add(a, "breaches_total",
	                       json_object_new_int64((int64_t)db_count(db, "escalations", "kind",
	                                                               "breach", NULL, NULL, "n")));
	json_object *v = NULL;
	json_object_object_add(a, "delivery_backlog",
	                       json_object_new_int64(json_object_object_get_ex(db, "backlog", &v)
	                                                 ? json_object_get_int64(v)
	                                                 : 0));
	json_object *age = NULL;
	if (json_object_object_get_ex(db, "oldest_age", &v) && v != NULL)
		age = json_object_new_int64((int64_t)json_object_get_double(v));
	json_object_object_add(a, "oldest_undelivered_age_seconds", age);
	json_object *roles = json_object_new_object();
	static const char *const role_names[N_ROLES] = {"hotline", "engineer", "monitor", "admin"};
	for (int i = 0; i < N_ROLES; i++)
		json_object_object_add(roles, role_names[i],
		                       json_object_new_int64((int64_t)reg.sessions[i]));
	json_object_object_add(a, "sessions_by_role", roles);
	json_object_object_add(
	    a, "uptime_seconds",
	    json_object_new_int64(reg.start_mono > 0 ? (int64_t)(metrics_clock() - reg.start_mono)
	                                             : 0));
	return a;
}
