/*
 * test_http.c - monitoring systems in over HTTPS, health and metrics out
 * (issue 7): Alertmanager webhooks and PagerDuty events written from the
 * formats' documentation, replayed against a real slad, TLS and
 * PostgreSQL, with the documented answers and their effects in the
 * database; 5xx while PostgreSQL is down; 429 over the rate; /metrics read
 * by a strict Prometheus text-format parser.
 *
 * The HTTP client is a few lines of OpenSSL and sockets below (the harness
 * speaks the line protocol only).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "harness.h"

#define TOKEN        "tok-monitor-0123456789abcdef"
#define TOKEN2       "tok-monitor2-replica"
#define TOKEN_ADMIN  "tok-admin-0123456789"
#define TOKEN_NOCUST "tok-monitor-without-customer"
#define BODY_CAP     65536
#define TIMEOUT_MS   1500

static char https_port[16], metrics_port[16];
static time_t base_time; /* alerts start from here, in the past */

/* ---- a small HTTP(S) client ---- */

struct resp {
	int status;
	char head[8192];
	char *body;
	size_t len;
	json_object *json; /* the body parsed, if it is JSON */
};

static void resp_clear(struct resp *r)
{
	free(r->body);
	json_object_put(r->json);
	memset(r, 0, sizeof(*r));
}

static void pick_port(char *out, size_t len)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(out, len, "%d", ntohs(sa.sin_port));
	close(fd);
}

static int connect_to(const char *port, int timeout_ms)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)atoi(port)),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	int one = 1; /* head and body are two writes: no Nagle wait between */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A TLS client session to slad's HTTPS port; `cert` names a client
 * certificate of the test CA, or NULL. */
static SSL *tls_open(int fd, const char *cert, SSL_CTX **ctx_out)
{
	const char *certs = getenv("SLAD_TEST_CERTS");
	char path[1024], key[1024];
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	assert_non_null(ctx);
	snprintf(path, sizeof(path), "%s/ca.crt", certs);
	assert_int_equal(SSL_CTX_load_verify_locations(ctx, path, NULL), 1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (cert != NULL) {
		snprintf(path, sizeof(path), "%s/%s.crt", certs, cert);
		snprintf(key, sizeof(key), "%s/%s.key", certs, cert);
		assert_int_equal(SSL_CTX_use_certificate_chain_file(ctx, path), 1);
		assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM), 1);
	}
	SSL *ssl = SSL_new(ctx);
	SSL_set_tlsext_host_name(ssl, "localhost");
	SSL_set1_host(ssl, "localhost");
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1) {
		SSL_free(ssl);
		SSL_CTX_free(ctx);
		return NULL;
	}
	*ctx_out = ctx;
	return ssl;
}

static int io_write(SSL *ssl, int fd, const char *p, size_t n)
{
	while (n > 0) {
		int w = ssl ? SSL_write(ssl, p, (int)n) : (int)send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Everything the server sends until it closes (Connection: close). */
static void io_read_all(SSL *ssl, int fd, char **out, size_t *len)
{
	size_t cap = 65536, used = 0;
	char *buf = malloc(cap + 1);
	for (;;) {
		if (used == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
		int n = ssl ? SSL_read(ssl, buf + used, (int)(cap - used))
		            : (int)recv(fd, buf + used, cap - used, 0);
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	buf[used] = '\0';
	*out = buf;
	*len = used;
}

static void parse_response(char *raw, size_t len, struct resp *r)
{
	char *end = strstr(raw, "\r\n\r\n");
	if (end == NULL || sscanf(raw, "HTTP/1.%*d %d", &r->status) != 1) {
		r->status = -1;
		free(raw);
		return;
	}
	size_t hl = (size_t)(end - raw);
	snprintf(r->head, sizeof(r->head), "%.*s", (int)hl, raw);
	r->len = len - hl - 4;
	r->body = malloc(r->len + 1);
	memcpy(r->body, end + 4, r->len);
	r->body[r->len] = '\0';
	free(raw);
	r->json = json_tokener_parse(r->body);
}

/*
 * One request on a fresh connection.  tls: to the HTTPS port (with `cert`
 * if not NULL), else to the loopback metrics port.  `auth` is the bearer
 * token or NULL.  Returns the status (-1: no answer).
 */
static int http_req(bool tls, const char *cert, const char *method, const char *path,
                    const char *auth, const char *body, size_t body_len, struct resp *r)
{
	memset(r, 0, sizeof(*r));
	int fd = connect_to(tls ? https_port : metrics_port, 10000);
	if (fd < 0)
		return r->status = -1;
	SSL_CTX *ctx = NULL;
	SSL *ssl = tls ? tls_open(fd, cert, &ctx) : NULL;
	if (tls && ssl == NULL) {
		close(fd);
		return r->status = -1;
	}
	char head[1024];
	int n = snprintf(head, sizeof(head),
	                 "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
	                 "Content-Type: application/json\r\nContent-Length: %zu\r\n%s%s%s\r\n",
	                 method, path, body ? body_len : 0, auth ? "Authorization: Bearer " : "",
	                 auth ? auth : "", auth ? "\r\n" : "");
	/* A refused body may be cut off mid-way: read the answer regardless. */
	if (io_write(ssl, fd, head, (size_t)n) == 0 && body != NULL)
		(void)io_write(ssl, fd, body, body_len);
	char *raw;
	size_t len;
	io_read_all(ssl, fd, &raw, &len);
	parse_response(raw, len, r);
	if (ssl) {
		SSL_free(ssl);
		SSL_CTX_free(ctx);
	}
	close(fd);
	return r->status;
}

static int post(const char *path, const char *auth, const char *body, struct resp *r)
{
	return http_req(true, NULL, "POST", path, auth, body, strlen(body), r);
}

static const char *jstr(const json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

static int64_t jint(const json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return -1;
	return json_object_get_int64(v);
}

static json_object *jat(const json_object *o, const char *key, size_t i)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array) ||
	    i >= json_object_array_length(v))
		return NULL;
	return json_object_array_get_idx(v, i);
}

static bool header_has(const struct resp *r, const char *needle)
{
	return strcasestr(r->head, needle) != NULL;
}

static int64_t sqlf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int64_t sqlf(const char *fmt, ...)
{
	char sql[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	return h_sql_int(sql);
}

/* "2026-11-27T10:00:00Z" for base_time + offset seconds. */
static const char *at(int offset, char *buf)
{
	time_t t = base_time + offset;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/* ---- payloads, as the formats document them ---- */

/*
 * One Alertmanager alert (webhook payload version 4,
 * https://prometheus.io/docs/alerting/latest/configuration/#webhook_config):
 * `ends` < 0 means firing (endsAt is the zero time then, as Alertmanager
 * sends it).
 */
static void am_alert(char *out, size_t len, const char *fp, int starts, int ends,
                     const char *severity, const char *extra_labels, const char *summary)
{
	char s[32], e[32];
	snprintf(out, len,
	         "{\"status\":\"%s\",\"labels\":{\"alertname\":\"StationDown\",\"instance\":"
	         "\"ps3:9100\",\"job\":\"node\",\"severity\":\"%s\"%s},"
	         "\"annotations\":{\"summary\":\"%s\",\"description\":\"no scrape for 5m\"},"
	         "\"startsAt\":\"%s\",\"endsAt\":\"%s\","
	         "\"generatorURL\":\"http://prometheus:9090/graph?g0.expr=up%%3D%%3D0\","
	         "\"fingerprint\":\"%s\"}",
	         ends < 0 ? "firing" : "resolved", severity, extra_labels ? extra_labels : "",
	         summary, at(starts, s), ends < 0 ? "0001-01-01T00:00:00Z" : at(ends, e), fp);
}

static void am_notification(char *out, size_t len, const char *status, const char *alerts)
{
	snprintf(out, len,
	         "{\"version\":\"4\",\"groupKey\":\"{}:{alertname=\\\"StationDown\\\"}\","
	         "\"truncatedAlerts\":0,\"status\":\"%s\",\"receiver\":\"slad\","
	         "\"groupLabels\":{\"alertname\":\"StationDown\"},"
	         "\"commonLabels\":{\"alertname\":\"StationDown\"},\"commonAnnotations\":{},"
	         "\"externalURL\":\"http://alertmanager:9093\",\"alerts\":[%s]}",
	         status, alerts);
}

/* POST one Alertmanager notification holding one alert. */
static int am_post1(const char *auth, const char *fp, int starts, int ends, const char *severity,
                    struct resp *r)
{
	char alert[2048], body[4096];
	am_alert(alert, sizeof(alert), fp, starts, ends, severity, NULL,
	         "pump station 3 unreachable");
	am_notification(body, sizeof(body), ends < 0 ? "firing" : "resolved", alert);
	return post("/v1/alertmanager", auth, body, r);
}

static int64_t ticket_of(const char *dedup)
{
	return sqlf("SELECT max(id) FROM tickets WHERE dedup_key = '%s'", dedup);
}

/* ---- fixtures ---- */

static int group_setup(void **state)
{
	(void)state;
	h_init();
	base_time = time(NULL) - 20000;
	pick_port(https_port, sizeof(https_port));
	pick_port(metrics_port, sizeof(metrics_port));
	char extra[1024];
	snprintf(extra, sizeof(extra),
	         "http_listen = 127.0.0.1:%s\n"
	         "metrics_listen = 127.0.0.1:%s\n"
	         "http_max_body_bytes = %d\n"
	         "http_timeout_ms = %d\n"
	         "http_rate_per_min = 60000\n"
	         "http_rate_burst = 1000\n"
	         "alert_flap_window_s = 900\n",
	         https_port, metrics_port, BODY_CAP, TIMEOUT_MS);
	h_slad_start(extra, NULL);
	/* The tokens, as an administrator sets them (004_monitoring.sql). */
	h_sql_exec("INSERT INTO equipment (customer_id, equipment_no, model) "
	           "VALUES (1, 'PS-3-CTRL', 'pump controller')");
	h_sql_exec("INSERT INTO customers (name, phone, region, team) "
	           "VALUES ('Second Plant', '+86-21-5555-0200', 'east', 'north')");
	h_sql_exec("UPDATE principals SET token_hash = sha256(convert_to('" TOKEN "', 'UTF8')),"
	           " customer_id = 1 WHERE name = 'monitor'");
	h_sql_exec("UPDATE principals SET token_hash = sha256(convert_to('" TOKEN_ADMIN
	           "', 'UTF8')) WHERE name = 'admin'");
	h_sql_exec("INSERT INTO principals (name, role, token_hash, customer_id) VALUES "
	           "('monitor2', 'monitor', sha256(convert_to('" TOKEN2 "', 'UTF8')), 1),"
	           "('monitor3', 'monitor', sha256(convert_to('" TOKEN_NOCUST "', 'UTF8')), NULL)");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	/* A clean exit: drained, and (sanitizer build) nothing leaked. */
	int status = h_slad_stop(SIGTERM);
	if (status != 0)
		fprintf(stderr, "slad exited with status %d\n", status);
	return status == 0 ? 0 : -1;
}

/* ---- Alertmanager ---- */

/* A firing alert opens a ticket classified by its severity label; the
 * answer is 200 only with the ticket committed. */
static void am_firing(void **state)
{
	(void)state;
	struct resp r;
	assert_int_equal(am_post1(TOKEN, "a1f1000000000001", 0, -1, "critical", &r), 200);
	assert_string_equal(jstr(r.json, "status"), "success");
	json_object *a = jat(r.json, "alerts", 0);
	assert_non_null(a);
	assert_string_equal(jstr(a, "fingerprint"), "a1f1000000000001");
	assert_string_equal(jstr(a, "effect"), "created");
	int64_t id = jint(a, "ticket_id");
	assert_true(id > 0);
	resp_clear(&r);
	assert_int_equal(ticket_of("a1f1000000000001"), id);
	assert_int_equal(sqlf("SELECT level FROM tickets WHERE id = %lld", (long long)id), 1);
	assert_int_equal(sqlf("SELECT customer_id FROM tickets WHERE id = %lld", (long long)id), 1);
	assert_int_equal(sqlf("SELECT count(*) FROM tickets WHERE id = %lld AND symptoms ="
	                      " 'pump station 3 unreachable' AND state = 'reported'",
	                      (long long)id),
	                 1);
	assert_int_equal(
	    sqlf("SELECT slad_epoch(alert_starts_at) FROM tickets WHERE id = %lld", (long long)id),
	    (int64_t)base_time);
	/* The monitor's clocks run like everyone's. */
	assert_int_equal(sqlf("SELECT count(*) FROM clocks WHERE ticket_id = %lld AND state ="
	                      " 'running'",
	                      (long long)id),
	                 2);
}

/* Alertmanager re-sends every repeat_interval, and each replica of an HA
 * pair sends too: an identical repeat changes nothing, counters included. */
static void am_repeated(void **state)
{
	(void)state;
	struct resp r;
	assert_int_equal(am_post1(TOKEN, "a1f1000000000002", 10, -1, "warning", &r), 200);
	int64_t id = jint(jat(r.json, "alerts", 0), "ticket_id");
	resp_clear(&r);
	int64_t events =
	    sqlf("SELECT count(*) FROM ticket_events WHERE ticket_id = %lld", (long long)id);
	int64_t requests = h_sql_int("SELECT count(*) FROM requests");
	for (int i = 0; i < 3; i++) {
		/* the same sender, again (a retry or repeat_interval) */
		assert_int_equal(am_post1(TOKEN, "a1f1000000000002", 10, -1, "warning", &r), 200);
		assert_int_equal(jint(jat(r.json, "alerts", 0), "ticket_id"), id);
		assert_string_equal(jstr(jat(r.json, "alerts", 0), "effect"), "replay");
		resp_clear(&r);
	}
	/* the other replica of the HA pair, with its own token */
	assert_int_equal(am_post1(TOKEN2, "a1f1000000000002", 10, -1, "warning", &r), 200);
	assert_string_equal(jstr(jat(r.json, "alerts", 0), "effect"), "unchanged");
	resp_clear(&r);
	/* the same alert with another annotation value: still the same */
	char alert[2048], body[4096];
	am_alert(alert, sizeof(alert), "a1f1000000000002", 10, -1, "warning", NULL,
	         "pump station 3 unreachable (now 12 minutes)");
	am_notification(body, sizeof(body), "firing", alert);
	assert_int_equal(post("/v1/alertmanager", TOKEN, body, &r), 200);
	assert_string_equal(jstr(jat(r.json, "alerts", 0), "effect"), "unchanged");
	resp_clear(&r);
	assert_int_equal(sqlf("SELECT count(*) FROM tickets WHERE dedup_key = 'a1f1000000000002'"),
	                 1);
	assert_int_equal(sqlf("SELECT occurrences FROM tickets WHERE id = %lld", (long long)id), 1);
	assert_int_equal(
	    sqlf("SELECT count(*) FROM ticket_events WHERE ticket_id = %lld", (long long)id),
	    events);
	/* the replica's and the new annotation's first answers are kept */
	assert_int_equal(h_sql_int("SELECT count(*) FROM requests"), requests + 2);
	/* a new startsAt is a new occurrence of the same ticket */
	assert_int_equal(am_post1(TOKEN, "a1f1000000000002", 70, -1, "warning", &r), 200);
	assert_string_equal(jstr(jat(r.json, "alerts", 0), "effect"), "new_occurrence");
	resp_clear(&r);
	assert_int_equal(sqlf("SELECT occurrences FROM tickets WHERE id = %lld", (long long)id), 2);
	/* and a late repeat of the older one changes nothing */
	am_alert(alert, sizeof(alert), "a1f1000000000002", 10, -1, "warning", NULL,
	         "pump station 3 unreachable (late)");
	am_notification(body, sizeof(body), "firing", alert);
	assert_int_equal(post("/v1/alertmanager", TOKEN2, body, &r), 200);
	assert_string_equal(jstr(jat(r.json, "alerts", 0), "effect"), "unchanged");
	resp_clear(&r);
	assert_int_equal(sqlf("SELECT occurrences FROM tickets WHERE id = %lld", (long long)id), 2);
}

/* resolved records the end of the outage (S9) and stops the clocks. */
static void am_resolved(void **state)
{
	(void)state;
	struct resp r;
	assert_int_equal(am_post1(TOKEN, "a1f1000000000003", 100, -1, "critical", &r), 200);
	int64_t id = jint(jat(r.json, "alerts", 0), "ticket_id");
	resp_clear(&r);
	assert_int_equal(am_post1(TOKEN, "a1f1000000000003", 100, 100 + 5400, "critical", &r), 200);
	assert_string_equal(jstr(jat(r.json, "alerts", 0), "effect"), "resolved");
	assert_int_equal(jint(jat(r.json, "alerts", 0), "ticket_id"), id);
	resp_clear(&r);
	assert_int_equal(sqlf("SELECT count(*) FROM tickets WHERE id = %lld AND state = 'restored'",
	                      (long long)id),
	                 1);
	assert_int_equal(sqlf("SELECT extract(epoch FROM outage_ended_at - outage_started_at)"
	                      "::bigint FROM tickets WHERE id = %lld",
	                      (long long)id),
	                 5400);
	assert_int_equal(sqlf("SELECT count(*) FROM clocks WHERE ticket_id = %lld AND state IN"
	                      " ('running', 'overdue')",
	                      (long long)id),
	                 0);
	/* repeated: nothing changes */
	int64_t events =
	    sqlf("SELECT count(*) FROM ticket_events WHERE ticket_id = %lld", (long long)id);
	assert_int_equal(am_post1(TOKEN, "a1f1000000000003", 100, 100 + 5400, "critical", &r), 200);
	assert_string_equal(jstr(jat(r.json, "alerts", 0), "effect"), "replay");
	resp_clear(&r);
	assert_int_equal(am_post1(TOKEN2, "a1f1000000000003", 100, 100 + 5400, "critical", &r),
	                 200);
	assert_string_equal(jstr(jat(r.json, "alerts", 0), "effect"), "unchanged");
	resp_clear(&r);
	/* the replica's late firing for the finished occurrence: no new ticket */
	assert_int_equal(am_post1(TOKEN2, "a1f1000000000003", 100, -1, "critical", &r), 200);
	assert_string_equal(jstr(jat(r.json, "alerts", 0), "effect"), "unchanged");
	resp_clear(&r);
	assert_int_equal(sqlf("SELECT count(*) FROM tickets WHERE dedup_key = 'a1f1000000000003'"),
	                 1);
	assert_int_equal(
	    sqlf("SELECT count(*) FROM ticket_events WHERE ticket_id = %lld", (long long)id),
	    events);
	/* resolving what slad never saw: nothing to do, nothing to retry */
	assert_int_equal(am_post1(TOKEN, "a1f10000000000ff", 100, 200, "critical", &r), 200);
	assert_string_equal(jstr(jat(r.json, "alerts", 0), "effect"), "unknown_alert");
	resp_clear(&r);
}

/* One notification, several alerts: each its own ALERT, customer and
 * equipment from the configured labels; 200 once all are committed. */
static void am_grouped(void **state)
{
	(void)state;
	char a1[2048], a2[2048], a3[2048], all[8192], body[10000];
	am_alert(a1, sizeof(a1), "b2000000000000a1", 200, -1, "critical",
	         ",\"equipment_no\":\"PS-3-CTRL\"", "pump controller down");
	am_alert(a2, sizeof(a2), "b2000000000000a2", 200, -1, "info", ",\"customer_id\":\"2\"",
	         "disk 80% full");
	am_alert(a3, sizeof(a3), "a1f1000000000001", 0, 300, "critical", NULL, "resolved one");
	snprintf(all, sizeof(all), "%s,%s,%s", a1, a2, a3);
	am_notification(body, sizeof(body), "firing", all);
	struct resp r;
	assert_int_equal(post("/v1/alertmanager", TOKEN, body, &r), 200);
	assert_string_equal(jstr(jat(r.json, "alerts", 0), "effect"), "created");
	assert_string_equal(jstr(jat(r.json, "alerts", 1), "effect"), "created");
	assert_string_equal(jstr(jat(r.json, "alerts", 2), "effect"), "resolved");
	assert_string_equal(jstr(jat(r.json, "alerts", 2), "status"), "resolved");
	resp_clear(&r);
	assert_int_equal(sqlf("SELECT count(*) FROM tickets t JOIN equipment e ON e.id ="
	                      " t.equipment_id WHERE t.dedup_key = 'b2000000000000a1' AND"
	                      " e.equipment_no = 'PS-3-CTRL' AND t.level = 1"),
	                 1);
	assert_int_equal(sqlf("SELECT count(*) FROM tickets WHERE dedup_key = 'b2000000000000a2'"
	                      " AND customer_id = 2 AND level = 4"),
	                 1);
	assert_int_equal(sqlf("SELECT count(*) FROM tickets WHERE dedup_key = 'a1f1000000000001'"
	                      " AND state = 'restored'"),
	                 1);
	/* one alert names an unknown customer: the others commit, the answer
	 * is 400 naming the one refused (and Alertmanager does not retry) */
	am_alert(a1, sizeof(a1), "b2000000000000a3", 200, -1, "critical",
	         ",\"customer_id\":\"999\"", "unknown customer");
	am_alert(a2, sizeof(a2), "b2000000000000a4", 200, -1, "critical", NULL, "fine");
	snprintf(all, sizeof(all), "%s,%s", a1, a2);
	am_notification(body, sizeof(body), "firing", all);
	assert_int_equal(post("/v1/alertmanager", TOKEN, body, &r), 400);
	assert_string_equal(jstr(r.json, "status"), "error");
	json_object *e = NULL;
	assert_true(json_object_object_get_ex(jat(r.json, "alerts", 0), "error", &e));
	assert_string_equal(jstr(e, "code"), "NOT_FOUND");
	assert_string_equal(jstr(jat(r.json, "alerts", 1), "effect"), "created");
	resp_clear(&r);
	assert_int_equal(sqlf("SELECT count(*) FROM tickets WHERE dedup_key = 'b2000000000000a3'"),
	                 0);
	/* a monitor without a customer must name one */
	assert_int_equal(am_post1(TOKEN_NOCUST, "b2000000000000a5", 200, -1, "critical", &r), 400);
	assert_non_null(strstr(r.body, "MISSING_FIELD"));
	resp_clear(&r);
}

/* Flapping: resolved, then firing again within the window, reopens the
 * same ticket (a new clock cycle, one outage); later than the window, a
 * new ticket. */
static void am_flapping(void **state)
{
	(void)state;
	struct resp r;
	const char *fp = "c3000000000000f1";
	assert_int_equal(am_post1(TOKEN, fp, 1000, -1, "critical", &r), 200);
	int64_t id = jint(jat(r.json, "alerts", 0), "ticket_id");
	resp_clear(&r);
	assert_int_equal(am_post1(TOKEN, fp, 1000, 1600, "critical", &r), 200);
	assert_string_equal(jstr(jat(r.json, "alerts", 0), "effect"), "resolved");
	resp_clear(&r);
	/* fires again 300 s after the resolve: within 900 s */
	assert_int_equal(am_post1(TOKEN, fp, 1900, -1, "critical", &r), 200);
	assert_string_equal(jstr(jat(r.json, "alerts", 0), "effect"), "reopened");
	assert_int_equal(jint(jat(r.json, "alerts", 0), "ticket_id"), id);
	resp_clear(&r);
	assert_int_equal(sqlf("SELECT count(*) FROM tickets WHERE id = %lld AND state = 'reported'"
	                      " AND cycle = 2 AND occurrences = 2 AND outage_ended_at IS NULL",
	                      (long long)id),
	                 1);
	assert_int_equal(sqlf("SELECT count(*) FROM ticket_events WHERE ticket_id = %lld AND"
	                      " kind = 'reopened'",
	                      (long long)id),
	                 1);
	/* its retry is a replay; the older resolve arriving late changes nothing */
	assert_int_equal(am_post1(TOKEN, fp, 1900, -1, "critical", &r), 200);
	assert_string_equal(jstr(jat(r.json, "alerts", 0), "effect"), "replay");
	resp_clear(&r);
	assert_int_equal(am_post1(TOKEN2, fp, 1000, 1600, "critical", &r), 200);
	assert_string_equal(jstr(jat(r.json, "alerts", 0), "effect"), "unchanged");
	resp_clear(&r);
	assert_int_equal(sqlf("SELECT count(*) FROM tickets WHERE id = %lld AND state = 'reported'",
	                      (long long)id),
	                 1);
	/* resolved again: one outage, first start to last end (S9) */
	assert_int_equal(am_post1(TOKEN, fp, 1900, 2500, "critical", &r), 200);
	assert_string_equal(jstr(jat(r.json, "alerts", 0), "effect"), "resolved");
	resp_clear(&r);
	assert_int_equal(sqlf("SELECT extract(epoch FROM outage_ended_at - outage_started_at)"
	                      "::bigint FROM tickets WHERE id = %lld",
	                      (long long)id),
	                 1500);
	/* fires again an hour later: a new ticket */
	assert_int_equal(am_post1(TOKEN, fp, 6100, -1, "critical", &r), 200);
	assert_string_equal(jstr(jat(r.json, "alerts", 0), "effect"), "created");
	assert_true(jint(jat(r.json, "alerts", 0), "ticket_id") > id);
	resp_clear(&r);
	assert_int_equal(sqlf("SELECT count(*) FROM tickets WHERE dedup_key = '%s'", fp), 2);
}

/* Bad input: 4xx with a JSON body that says what is wrong; nothing
 * written. */
static void am_malformed(void **state)
{
	(void)state;
	int64_t tickets = h_sql_int("SELECT count(*) FROM tickets");
	static const struct {
		const char *body;
		const char *says; /* in the answer's text */
	} cases[] = {
	    {"this is not json", "not valid JSON"},
	    {"[1,2,3]", "not a JSON object"},
	    {"{\"version\":\"4\",\"alerts\":[]} trailing", "not valid JSON"},
	    {"{\"version\":\"4\",\"status\":\"firing\"}", "alerts: expected an array"},
	    {"{\"version\":\"3\",\"alerts\":[]}", "version"},
	    {"{\"version\":\"4\",\"alerts\":[{\"status\":\"burning\",\"labels\":{},"
	     "\"startsAt\":\"2026-11-27T10:00:00Z\",\"fingerprint\":\"ff\"}]}",
	     "alerts[0].status"},
	    {"{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"a\":\"b\"},"
	     "\"startsAt\":\"yesterday\",\"fingerprint\":\"ff\"}]}",
	     "alerts[0].startsAt"},
	    {"{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"a\":1},"
	     "\"startsAt\":\"2026-11-27T10:00:00Z\"}]}",
	     "alerts[0].labels.a"},
	    {"{\"version\":\"4\",\"alerts\":[{\"status\":\"resolved\",\"labels\":{\"a\":\"b\"},"
	     "\"startsAt\":\"2026-11-27T10:00:00Z\",\"endsAt\":\"2026-11-27T09:00:00Z\"}]}",
	     "alerts[0].endsAt"},
	    {"{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"customer_id\":"
	     "\"seven\"},\"startsAt\":\"2026-11-27T10:00:00Z\"}]}",
	     "customer_id"},
	    {"{\"version\":\"4\",\"alerts\":[\"x\"]}", "alerts[0]: expected an object"},
	    {"{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"a\":\"\xff\"},"
	     "\"startsAt\":\"2026-11-27T10:00:00Z\"}]}",
	     "not valid JSON"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct resp r;
		int st = post("/v1/alertmanager", TOKEN, cases[i].body, &r);
		if (st != 400 || r.json == NULL || strstr(r.body, cases[i].says) == NULL)
			fail_msg("case %zu: got %d %s", i, st, r.body ? r.body : "");
		assert_string_equal(jstr(r.json, "status"), "error");
		assert_true(header_has(&r, "Content-Type: application/json"));
		resp_clear(&r);
	}
	/* wrong method, unknown path, compressed body */
	struct resp r;
	assert_int_equal(http_req(true, NULL, "GET", "/v1/alertmanager", TOKEN, NULL, 0, &r), 405);
	assert_true(header_has(&r, "Allow: POST"));
	resp_clear(&r);
	assert_int_equal(post("/v1/nowhere", TOKEN, "{}", &r), 404);
	assert_non_null(r.json);
	resp_clear(&r);
	assert_int_equal(h_sql_int("SELECT count(*) FROM tickets"), tickets);
}

/* A body over http_max_body_bytes: 413, nothing read further. */
static void am_oversize(void **state)
{
	(void)state;
	size_t n = BODY_CAP * 2;
	char *body = malloc(n + 1);
	memset(body, ' ', n);
	memcpy(body, "{\"version\":\"4\",\"alerts\":[]", 26);
	body[n - 1] = '}';
	body[n] = '\0';
	struct resp r;
	assert_int_equal(http_req(true, NULL, "POST", "/v1/alertmanager", TOKEN, body, n, &r), 413);
	resp_clear(&r);
	free(body);
	/* just under the cap is fine */
	n = BODY_CAP - 100;
	body = malloc(n + 1);
	memset(body, ' ', n);
	memcpy(body, "{\"version\":\"4\",\"alerts\":[]", 26);
	body[n - 1] = '}';
	body[n] = '\0';
	assert_int_equal(http_req(true, NULL, "POST", "/v1/alertmanager", TOKEN, body, n, &r), 200);
	resp_clear(&r);
	free(body);
}

/* Who may send: a monitor's token, or its client certificate. */
static void authentication(void **state)
{
	(void)state;
	struct resp r;
	assert_int_equal(am_post1(NULL, "d4000000000000a1", 300, -1, "warning", &r), 401);
	assert_true(header_has(&r, "WWW-Authenticate: Bearer"));
	assert_non_null(r.json);
	resp_clear(&r);
	assert_int_equal(am_post1("not-a-known-token", "d4000000000000a1", 300, -1, "warning", &r),
	                 401);
	resp_clear(&r);
	assert_int_equal(am_post1(TOKEN_ADMIN, "d4000000000000a1", 300, -1, "warning", &r), 403);
	resp_clear(&r);
	assert_int_equal(sqlf("SELECT count(*) FROM tickets WHERE dedup_key = 'd4000000000000a1'"),
	                 0);
	/* mutual TLS: the certificate names the monitor principal */
	char alert[2048], body[4096];
	am_alert(alert, sizeof(alert), "d4000000000000a1", 300, -1, "warning", NULL,
	         "by certificate");
	am_notification(body, sizeof(body), "firing", alert);
	assert_int_equal(
	    http_req(true, "monitor", "POST", "/v1/alertmanager", NULL, body, strlen(body), &r),
	    200);
	assert_string_equal(jstr(jat(r.json, "alerts", 0), "effect"), "created");
	resp_clear(&r);
	assert_int_equal(
	    http_req(true, "engineer", "POST", "/v1/alertmanager", NULL, body, strlen(body), &r),
	    403);
	resp_clear(&r);
	/* a client certificate from another CA does not get in at all */
	assert_int_equal(http_req(true, "foreign-client", "POST", "/v1/alertmanager", NULL, body,
	                          strlen(body), &r),
	                 -1);
	resp_clear(&r);
	/* the HTTPS port speaks only TLS */
	int fd = connect_to(https_port, 5000);
	assert_true(fd >= 0);
	const char *plain = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	(void)io_write(NULL, fd, plain, strlen(plain));
	char *raw;
	size_t len;
	io_read_all(NULL, fd, &raw, &len);
	assert_null(strstr(raw, "200 OK"));
	free(raw);
	close(fd);
}

/* ---- PagerDuty Events API v2 ---- */

static int pd_post(const char *json, struct resp *r)
{
	return post("/v2/enqueue", NULL, json, r);
}

/* trigger -> 202 with the dedup_key; acknowledge -> a note, no clock
 * stops; resolve -> restored (https://developer.pagerduty.com/docs/events-api-v2/). */
static void pd_actions(void **state)
{
	(void)state;
	char ts[32], body[2048];
	snprintf(body, sizeof(body),
	         "{\"routing_key\":\"" TOKEN "\",\"event_action\":\"trigger\","
	         "\"dedup_key\":\"srv01/HTTP\",\"payload\":{\"summary\":\"DISK at 99%% on "
	         "machine prod-datapipe03.example.com\",\"timestamp\":\"%.19s.315+0000\","
	         "\"severity\":\"critical\",\"source\":\"prod-datapipe03.example.com\","
	         "\"component\":\"mysql\",\"group\":\"prod-datapipe\",\"class\":\"disk\","
	         "\"custom_details\":{\"free space\":\"1%%\"}},\"client\":\"Sample Monitoring "
	         "Service\",\"client_url\":\"https://monitoring.example.com\"}",
	         at(3000, ts));
	struct resp r;
	assert_int_equal(pd_post(body, &r), 202);
	assert_string_equal(jstr(r.json, "status"), "success");
	assert_string_equal(jstr(r.json, "message"), "Event processed");
	assert_string_equal(jstr(r.json, "dedup_key"), "srv01/HTTP");
	resp_clear(&r);
	int64_t id = ticket_of("srv01/HTTP");
	assert_true(id > 0);
	assert_int_equal(sqlf("SELECT level FROM tickets WHERE id = %lld", (long long)id), 1);
	assert_int_equal(
	    sqlf("SELECT slad_epoch(alert_starts_at) FROM tickets WHERE id = %lld", (long long)id),
	    (int64_t)base_time + 3000);
	/* the same event again: 202, nothing new */
	assert_int_equal(pd_post(body, &r), 202);
	resp_clear(&r);
	assert_int_equal(sqlf("SELECT count(*) FROM tickets WHERE dedup_key = 'srv01/HTTP'"), 1);

	/* acknowledge: recorded as a note; the response clock keeps running */
	const char *ack = "{\"routing_key\":\"" TOKEN "\",\"event_action\":\"acknowledge\","
	                  "\"dedup_key\":\"srv01/HTTP\"}";
	assert_int_equal(pd_post(ack, &r), 202);
	assert_string_equal(jstr(r.json, "dedup_key"), "srv01/HTTP");
	resp_clear(&r);
	assert_int_equal(sqlf("SELECT count(*) FROM ticket_events WHERE ticket_id = %lld AND"
	                      " kind = 'note' AND data->>'monitor_acknowledged' = 'true'",
	                      (long long)id),
	                 1);
	assert_int_equal(sqlf("SELECT count(*) FROM tickets WHERE id = %lld AND state = 'reported'",
	                      (long long)id),
	                 1);
	assert_int_equal(sqlf("SELECT count(*) FROM clocks WHERE ticket_id = %lld AND clock ="
	                      " 'response' AND state = 'running'",
	                      (long long)id),
	                 1);
	assert_int_equal(pd_post(ack, &r), 202); /* its retry notes nothing more */
	resp_clear(&r);
	assert_int_equal(sqlf("SELECT count(*) FROM ticket_events WHERE ticket_id = %lld AND"
	                      " kind = 'note'",
	                      (long long)id),
	                 1);

	/* resolve */
	const char *res = "{\"routing_key\":\"" TOKEN "\",\"event_action\":\"resolve\","
	                  "\"dedup_key\":\"srv01/HTTP\"}";
	assert_int_equal(pd_post(res, &r), 202);
	resp_clear(&r);
	assert_int_equal(sqlf("SELECT count(*) FROM tickets WHERE id = %lld AND state = 'restored'",
	                      (long long)id),
	                 1);
	/* acknowledging a resolved key: nothing to note */
	assert_int_equal(pd_post(ack, &r), 202);
	resp_clear(&r);

	/* a trigger without dedup_key gets one, and its retry the same one */
	const char *nokey = "{\"routing_key\":\"" TOKEN "\",\"event_action\":\"trigger\","
	                    "\"payload\":{\"summary\":\"queue backlog growing\",\"severity\":"
	                    "\"warning\",\"source\":\"mq01\"}}";
	assert_int_equal(pd_post(nokey, &r), 202);
	char key[300];
	snprintf(key, sizeof(key), "%s", jstr(r.json, "dedup_key"));
	assert_true(strlen(key) >= 16);
	resp_clear(&r);
	assert_int_equal(pd_post(nokey, &r), 202);
	assert_string_equal(jstr(r.json, "dedup_key"), key);
	resp_clear(&r);
	assert_int_equal(
	    sqlf("SELECT count(*) FROM tickets WHERE dedup_key = '%s' AND level = 3", key), 1);
	/* a bearer token instead of the routing key works too */
	const char *bearer = "{\"routing_key\":\"ignored-when-a-token-is-given\",\"event_action\":"
	                     "\"trigger\",\"dedup_key\":\"by-bearer\",\"payload\":{\"summary\":"
	                     "\"x\",\"severity\":\"info\",\"source\":\"y\"}}";
	assert_int_equal(post("/v2/enqueue", TOKEN, bearer, &r), 202);
	resp_clear(&r);
	assert_int_equal(sqlf("SELECT count(*) FROM tickets WHERE dedup_key = 'by-bearer' AND"
	                      " level = 4"),
	                 1);
}

/* 400 {"status":"invalid event","message":...,"errors":[...]} */
static void pd_invalid(void **state)
{
	(void)state;
	int64_t tickets = h_sql_int("SELECT count(*) FROM tickets");
	static const struct {
		const char *body;
		int status;
		const char *says;
	} cases[] = {
	    {"{\"routing_key\":\"" TOKEN "\",\"event_action\":\"explode\",\"dedup_key\":\"k\"}",
	     400, "event_action"},
	    {"{\"routing_key\":\"" TOKEN "\",\"event_action\":\"trigger\"}", 400, "payload"},
	    {"{\"routing_key\":\"" TOKEN "\",\"event_action\":\"trigger\",\"payload\":{"
	     "\"severity\":\"critical\",\"source\":\"s\"}}",
	     400, "payload.summary"},
	    {"{\"routing_key\":\"" TOKEN "\",\"event_action\":\"trigger\",\"payload\":{"
	     "\"summary\":\"s\",\"severity\":\"critical\"}}",
	     400, "payload.source"},
	    {"{\"routing_key\":\"" TOKEN "\",\"event_action\":\"trigger\",\"payload\":{"
	     "\"summary\":\"s\",\"severity\":\"fatal\",\"source\":\"s\"}}",
	     400, "payload.severity"},
	    {"{\"routing_key\":\"" TOKEN "\",\"event_action\":\"trigger\",\"payload\":{"
	     "\"summary\":\"s\",\"severity\":\"info\",\"source\":\"s\",\"timestamp\":\"soon\"}}",
	     400, "payload.timestamp"},
	    {"{\"routing_key\":\"" TOKEN "\",\"event_action\":\"resolve\"}", 400, "dedup_key"},
	    {"{\"routing_key\":\"" TOKEN "\",\"event_action\":\"acknowledge\"}", 400, "dedup_key"},
	    {"{\"event_action\":\"trigger\",\"payload\":{\"summary\":\"s\",\"severity\":\"info\","
	     "\"source\":\"s\"}}",
	     401, "routing_key"},
	    {"{\"routing_key\":\"wrong\",\"event_action\":\"trigger\",\"payload\":{\"summary\":"
	     "\"s\",\"severity\":\"info\",\"source\":\"s\"}}",
	     401, "principal"},
	    {"not json", 400, "invalid event"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct resp r;
		int st = pd_post(cases[i].body, &r);
		if (st != cases[i].status || r.json == NULL ||
		    strstr(r.body, cases[i].says) == NULL)
			fail_msg("case %zu: got %d %s", i, st, r.body ? r.body : "");
		if (st == 400) {
			assert_string_equal(jstr(r.json, "status"), "invalid event");
			assert_non_null(jstr(r.json, "message"));
			assert_true(
			    json_object_is_type(jat(r.json, "errors", 0), json_type_string));
		}
		resp_clear(&r);
	}
	assert_int_equal(h_sql_int("SELECT count(*) FROM tickets"), tickets);
}

/* ---- health, metrics, STATS ---- */

static void healthz(void **state)
{
	(void)state;
	struct resp r;
	assert_int_equal(http_req(false, NULL, "GET", "/healthz", NULL, NULL, 0, &r), 200);
	assert_string_equal(jstr(r.json, "status"), "ok");
	assert_string_equal(jstr(r.json, "database"), "up");
	resp_clear(&r);
	assert_int_equal(http_req(true, NULL, "GET", "/healthz", NULL, NULL, 0, &r), 200);
	resp_clear(&r);
	/* the loopback port serves health and metrics only */
	assert_int_equal(http_req(false, NULL, "POST", "/v1/alertmanager", TOKEN, "{}", 2, &r),
	                 404);
	resp_clear(&r);
}

/* -- a strict parser of the Prometheus text format (0.0.4) -- */

#define MAX_FAMILIES 64
#define MAX_SAMPLES  4096

struct family {
	char name[128];
	char type[16];
	bool help, typed;
	bool closed; /* another family started after it */
};

struct sample {
	char name[128];
	char labels[512]; /* canonical: k="v",... without le, in order */
	char le[256];
	double value;
	int family;
};

struct exposition {
	struct family fam[MAX_FAMILIES];
	int nfam;
	struct sample s[MAX_SAMPLES];
	int ns;
};

static bool name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && c >= '0' && c <= '9');
}

static const char *parse_name(const char *p, char *out, size_t len, bool colon)
{
	size_t n = 0;
	while (name_char(*p, n == 0) && (colon || *p != ':') && n + 1 < len)
		out[n++] = *p++;
	out[n] = '\0';
	return n ? p : NULL;
}

/* Go's strconv.ParseFloat as Prometheus reads values: decimal, exponent,
 * NaN, +Inf, -Inf. */
static bool parse_value(const char *s, double *out)
{
	if (!strcmp(s, "NaN")) {
		*out = NAN;
		return true;
	}
	if (!strcmp(s, "+Inf") || !strcmp(s, "Inf")) {
		*out = INFINITY;
		return true;
	}
	if (!strcmp(s, "-Inf")) {
		*out = -INFINITY;
		return true;
	}
	char *end;
	errno = 0;
	*out = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0)
		return false;
	for (const char *p = s; *p; p++)
		if (!strchr("0123456789+-.eE", *p))
			return false;
	return true;
}

static int family_of(struct exposition *x, const char *name)
{
	for (int i = 0; i < x->nfam; i++)
		if (!strcmp(x->fam[i].name, name))
			return i;
	return -1;
}

/* Which declared family a sample name belongs to, by its TYPE. */
static int sample_family(struct exposition *x, const char *name, bool *is_bucket)
{
	*is_bucket = false;
	int f = family_of(x, name);
	if (f >= 0 && strcmp(x->fam[f].type, "histogram") != 0)
		return f;
	static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(name), k = strlen(suffixes[i]);
		if (n > k && !strcmp(name + n - k, suffixes[i])) {
			char base[128];
			snprintf(base, sizeof(base), "%.*s", (int)(n - k), name);
			f = family_of(x, base);
			if (f >= 0 && !strcmp(x->fam[f].type, "histogram")) {
				*is_bucket = i == 0;
				return f;
			}
		}
	}
	return -1;
}

static void parse_exposition(const char *text, struct exposition *x)
{
	memset(x, 0, sizeof(*x));
	assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
	int current = -1;
	const char *line = text;
	int lineno = 0;
	while (*line) {
		lineno++;
		const char *nl = strchr(line, '\n');
		char buf[2048];
		snprintf(buf, sizeof(buf), "%.*s", (int)(nl - line), line);
		line = nl + 1;
		if (buf[0] == '\0')
			fail_msg("line %d: empty line", lineno);
		if (buf[0] == '#') {
			char kind[8], name[128];
			const char *p = buf + 1;
			if (sscanf(p, " %7s", kind) != 1 ||
			    (strcmp(kind, "HELP") && strcmp(kind, "TYPE")))
				continue; /* a plain comment */
			if (strncmp(buf, "# HELP ", 7) && strncmp(buf, "# TYPE ", 7))
				fail_msg("line %d: malformed %s line", lineno, kind);
			p = parse_name(buf + 7, name, sizeof(name), true);
			if (p == NULL || *p != ' ')
				fail_msg("line %d: bad metric name in %s", lineno, kind);
			p++;
			int f = family_of(x, name);
			if (f < 0) {
				assert_true(x->nfam < MAX_FAMILIES);
				f = x->nfam++;
				snprintf(x->fam[f].name, sizeof(x->fam[f].name), "%s", name);
			}
			if (f != current) {
				if (x->fam[f].closed)
					fail_msg("line %d: family %s appears twice", lineno, name);
				if (current >= 0)
					x->fam[current].closed = true;
				current = f;
			}
			if (!strcmp(kind, "HELP")) {
				if (x->fam[f].help)
					fail_msg("line %d: second HELP for %s", lineno, name);
				x->fam[f].help = true;
				if (*p == '\0')
					fail_msg("line %d: empty HELP for %s", lineno, name);
				for (const char *q = p; *q; q++)
					if (*q == '\\' && q[1] != '\\' && q[1] != 'n')
						fail_msg("line %d: bad escape in HELP", lineno);
			} else {
				if (x->fam[f].typed)
					fail_msg("line %d: second TYPE for %s", lineno, name);
				static const char *const types[] = {"counter", "gauge", "histogram",
				                                    "summary", "untyped"};
				bool ok = false;
				for (int i = 0; i < 5; i++)
					ok |= !strcmp(p, types[i]);
				if (!ok)
					fail_msg("line %d: unknown type '%s'", lineno, p);
				snprintf(x->fam[f].type, sizeof(x->fam[f].type), "%s", p);
				x->fam[f].typed = true;
			}
			continue;
		}
		/* a sample: name[{labels}] value */
		assert_true(x->ns < MAX_SAMPLES);
		struct sample *s = &x->s[x->ns++];
		const char *p = parse_name(buf, s->name, sizeof(s->name), true);
		if (p == NULL)
			fail_msg("line %d: bad metric name", lineno);
		if (strncmp(s->name, "slad_", 5) && strncmp(s->name, "process_", 8))
			fail_msg("line %d: %s does not start with slad_", lineno, s->name);
		char seen[16][64];
		int nseen = 0;
		size_t used = 0;
		if (*p == '{') {
			p++;
			while (*p != '}') {
				char lname[64];
				p = parse_name(p, lname, sizeof(lname), false);
				if (p == NULL || *p != '=' || p[1] != '"')
					fail_msg("line %d: bad label", lineno);
				if (!strncmp(lname, "__", 2))
					fail_msg("line %d: reserved label name %s", lineno, lname);
				for (int i = 0; i < nseen; i++)
					if (!strcmp(seen[i], lname))
						fail_msg("line %d: label %s twice", lineno, lname);
				assert_true(nseen < 16);
				snprintf(seen[nseen++], 64, "%s", lname);
				p += 2;
				char value[256];
				size_t vn = 0;
				while (*p != '"') {
					if (*p == '\0' || vn + 2 >= sizeof(value))
						fail_msg("line %d: unterminated label value",
						         lineno);
					if (*p == '\\') {
						if (p[1] != '\\' && p[1] != '"' && p[1] != 'n')
							fail_msg(
							    "line %d: bad escape in label value",
							    lineno);
						value[vn++] = *p++;
					}
					value[vn++] = *p++;
				}
				value[vn] = '\0';
				p++;
				if (!strcmp(lname, "le"))
					snprintf(s->le, sizeof(s->le), "%s", value);
				else
					used += (size_t)snprintf(
					    s->labels + used, sizeof(s->labels) - used,
					    "%s%s=\"%s\"", used ? "," : "", lname, value);
				if (*p == ',')
					p++;
				else if (*p != '}')
					fail_msg("line %d: expected , or } in labels", lineno);
			}
			p++;
		}
		if (*p != ' ')
			fail_msg("line %d: expected a space before the value", lineno);
		p++;
		char value[64];
		if (sscanf(p, "%63s", value) != 1 || !parse_value(value, &s->value))
			fail_msg("line %d: bad value '%s'", lineno, p);
		if (strlen(p) != strlen(value))
			fail_msg("line %d: timestamps are not expected here", lineno);
		bool is_bucket;
		s->family = sample_family(x, s->name, &is_bucket);
		if (s->family < 0 || !x->fam[s->family].typed)
			fail_msg("line %d: %s has no TYPE before it", lineno, s->name);
		if (s->family != current)
			fail_msg("line %d: %s is not in its family's block", lineno, s->name);
		if (is_bucket != (s->le[0] != '\0'))
			fail_msg("line %d: le belongs on _bucket samples only", lineno);
		if (!strcmp(x->fam[s->family].type, "counter") && s->value < 0)
			fail_msg("line %d: negative counter", lineno);
		for (int i = 0; i < x->ns - 1; i++)
			if (!strcmp(x->s[i].name, s->name) && !strcmp(x->s[i].labels, s->labels) &&
			    !strcmp(x->s[i].le, s->le))
				fail_msg("line %d: series %s{%s} twice", lineno, s->name,
				         s->labels);
	}
	/* Histograms: per label set, buckets by increasing le, cumulative,
	 * ending in +Inf == _count, with a _sum. */
	for (int f = 0; f < x->nfam; f++) {
		if (!x->fam[f].help || !x->fam[f].typed)
			fail_msg("%s lacks HELP or TYPE", x->fam[f].name);
		if (strcmp(x->fam[f].type, "histogram"))
			continue;
		char bucket[160], sum[160], count[160];
		snprintf(bucket, sizeof(bucket), "%s_bucket", x->fam[f].name);
		snprintf(sum, sizeof(sum), "%s_sum", x->fam[f].name);
		snprintf(count, sizeof(count), "%s_count", x->fam[f].name);
		for (int i = 0; i < x->ns; i++) {
			if (x->s[i].family != f || strcmp(x->s[i].name, count))
				continue;
			double last_le = -INFINITY, last_v = 0, inf_v = -1, sum_v = NAN;
			int buckets = 0;
			for (int j = 0; j < x->ns; j++) {
				struct sample *b = &x->s[j];
				if (strcmp(b->labels, x->s[i].labels))
					continue;
				if (!strcmp(b->name, sum))
					sum_v = b->value;
				if (strcmp(b->name, bucket))
					continue;
				double le;
				if (!parse_value(b->le, &le) || le <= last_le)
					fail_msg("%s{%s}: le %s out of order", bucket, b->labels,
					         b->le);
				if (b->value < last_v)
					fail_msg("%s{%s}: buckets not cumulative", bucket,
					         b->labels);
				last_le = le;
				last_v = b->value;
				buckets++;
				if (isinf(le))
					inf_v = b->value;
			}
			if (buckets < 2 || inf_v < 0 || !isinf(last_le))
				fail_msg("%s{%s}: no +Inf bucket", bucket, x->s[i].labels);
			if (inf_v != x->s[i].value)
				fail_msg("%s{%s}: +Inf bucket %g != _count %g", bucket,
				         x->s[i].labels, inf_v, x->s[i].value);
			if (isnan(sum_v))
				fail_msg("%s{%s}: no _sum", x->fam[f].name, x->s[i].labels);
		}
	}
}

static double sample_value(const struct exposition *x, const char *name, const char *labels)
{
	double total = 0;
	bool found = false;
	for (int i = 0; i < x->ns; i++) {
		if (strcmp(x->s[i].name, name) || x->s[i].le[0])
			continue;
		if (labels && strcmp(x->s[i].labels, labels))
			continue;
		total += x->s[i].value;
		found = true;
	}
	if (!found)
		fail_msg("no sample %s{%s}", name, labels ? labels : "*");
	return total;
}

/* Prometheus's own checker too, where it is installed (the Debian package
 * prometheus has it; the test does not need it). */
static void promtool_check(const char *text)
{
	if (access("/usr/bin/promtool", X_OK) != 0)
		return;
	char path[1100], cmd[2400];
	snprintf(path, sizeof(path), "%s/metrics.txt", getenv("SLAD_TEST_WORK"));
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "/usr/bin/promtool check metrics < '%s'", path);
	assert_int_equal(system(cmd), 0);
}

static void metrics(void **state)
{
	(void)state;
	struct slac_client *admin = h_must_connect("admin");
	struct resp r;
	assert_int_equal(http_req(false, NULL, "GET", "/metrics", NULL, NULL, 0, &r), 200);
	assert_true(header_has(&r, "Content-Type: text/plain; version=0.0.4"));
	struct exposition *x = malloc(sizeof(*x));
	parse_exposition(r.body, x);
	promtool_check(r.body);
	static const char *const required[] = {
	    "slad_tickets",
	    "slad_open_clocks",
	    "slad_escalations_fired_total",
	    "slad_escalations_late_total",
	    "slad_delivery_backlog",
	    "slad_delivery_oldest_undelivered_age_seconds",
	    "slad_sessions",
	    "slad_requests_total",
	    "slad_webhook_alerts_total",
	    "slad_http_requests_total",
	    "slad_http_request_duration_seconds",
	    "slad_commit_duration_seconds",
	    "slad_db_roundtrip_seconds",
	    "slad_database_up",
	    "slad_build_info",
	};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (family_of(x, required[i]) < 0)
			fail_msg("no family %s", required[i]);
	assert_true(sample_value(x, "slad_database_up", NULL) == 1);
	assert_true(sample_value(x, "slad_tickets", NULL) ==
	            (double)h_sql_int("SELECT count(*) FROM tickets"));
	assert_true(sample_value(x, "slad_tickets", "state=\"restored\",level=\"1\"") ==
	            (double)h_sql_int("SELECT count(*) FROM tickets WHERE state = 'restored' AND"
	                              " level = 1"));
	assert_true(sample_value(x, "slad_open_clocks", NULL) ==
	            (double)h_sql_int("SELECT count(*) FROM clocks WHERE state IN ('running',"
	                              " 'overdue', 'paused')"));
	assert_true(sample_value(x, "slad_sessions", "role=\"admin\"") >= 1);
	assert_true(sample_value(x, "slad_webhook_alerts_total",
	                         "source=\"alertmanager\",effect=\"created\"") >= 5);
	assert_true(sample_value(x, "slad_webhook_alerts_total",
	                         "source=\"pagerduty\",effect=\"noted\"") == 1);
	assert_true(sample_value(x, "slad_commit_duration_seconds_count",
	                         "statement=\"report_batch\"") >= 5);
	assert_true(sample_value(x, "slad_db_roundtrip_seconds_count", NULL) > 0);
	assert_true(sample_value(x, "slad_http_requests_total",
	                         "route=\"alertmanager\",code=\"200\"") >= 5);
	assert_true(sample_value(x, "slad_requests_total", "verb=\"ALERT\",code=\"OK\"") >= 5);
	resp_clear(&r);
	/* over HTTPS it takes a monitor's or an admin's credentials */
	assert_int_equal(http_req(true, NULL, "GET", "/metrics", NULL, NULL, 0, &r), 401);
	resp_clear(&r);
	assert_int_equal(http_req(true, NULL, "GET", "/metrics", TOKEN, NULL, 0, &r), 200);
	parse_exposition(r.body, x);
	resp_clear(&r);
	assert_int_equal(http_req(true, "engineer", "GET", "/metrics", NULL, NULL, 0, &r), 403);
	resp_clear(&r);
	free(x);

	/* STATS: the same figures on the line protocol */
	json_object *st = h_ok(admin, "STATS", NULL);
	json_object *by_state = NULL;
	assert_true(json_object_object_get_ex(st, "tickets_by_state", &by_state));
	assert_int_equal(jint(by_state, "restored"),
	                 h_sql_int("SELECT count(*) FROM tickets WHERE state = 'restored'"));
	json_object *roles = NULL;
	assert_true(json_object_object_get_ex(st, "sessions_by_role", &roles));
	assert_true(jint(roles, "admin") >= 1);
	assert_true(jint(st, "open_clocks") >= 1);
	assert_true(jint(st, "uptime_seconds") >= 0);
	json_object_put(st);
	slac_client_free(admin);
}

/* ---- PostgreSQL down: 5xx so senders retry; the retry lands once ---- */

static void wait_healthy(void)
{
	for (int i = 0; i < 200; i++) {
		struct resp r;
		int st = http_req(false, NULL, "GET", "/healthz", NULL, NULL, 0, &r);
		resp_clear(&r);
		if (st == 200)
			return;
		struct timespec ts = {0, 50 * 1000000L};
		nanosleep(&ts, NULL);
	}
	fail_msg("slad did not become healthy again");
}

static void database_down(void **state)
{
	(void)state;
	h_pg_stop("fast");
	struct resp r;
	/* an Alertmanager notification: 503, retry later */
	int st = am_post1(TOKEN, "e5000000000000a1", 400, -1, "critical", &r);
	assert_int_equal(st, 503);
	assert_non_null(r.json);
	assert_true(header_has(&r, "Retry-After"));
	resp_clear(&r);
	const char *ev = "{\"routing_key\":\"" TOKEN "\",\"event_action\":\"trigger\","
	                 "\"dedup_key\":\"db-down\",\"payload\":{\"summary\":\"s\",\"severity\":"
	                 "\"error\",\"source\":\"s\"}}";
	assert_int_equal(pd_post(ev, &r), 503);
	resp_clear(&r);
	assert_int_equal(http_req(false, NULL, "GET", "/healthz", NULL, NULL, 0, &r), 503);
	assert_string_equal(jstr(r.json, "database"), "down");
	resp_clear(&r);
	/* /metrics still answers, without the database's figures */
	assert_int_equal(http_req(false, NULL, "GET", "/metrics", NULL, NULL, 0, &r), 200);
	struct exposition *x = malloc(sizeof(*x));
	parse_exposition(r.body, x);
	promtool_check(r.body);
	assert_true(sample_value(x, "slad_database_up", NULL) == 0);
	assert_true(family_of(x, "slad_tickets") < 0);
	free(x);
	resp_clear(&r);

	h_pg_start();
	wait_healthy();
	/* the senders' retries: committed once */
	assert_int_equal(am_post1(TOKEN, "e5000000000000a1", 400, -1, "critical", &r), 200);
	assert_string_equal(jstr(jat(r.json, "alerts", 0), "effect"), "created");
	resp_clear(&r);
	assert_int_equal(am_post1(TOKEN, "e5000000000000a1", 400, -1, "critical", &r), 200);
	resp_clear(&r);
	assert_int_equal(pd_post(ev, &r), 202);
	resp_clear(&r);
	assert_int_equal(sqlf("SELECT count(*) FROM tickets WHERE dedup_key IN"
	                      " ('e5000000000000a1', 'db-down')"),
	                 2);
}

/* ---- slow senders and the rate ---- */

/* A sender that trickles its request a byte at a time never completes it
 * in http_timeout_ms, and is cut off although it never stops sending
 * (evhttp's own timeout restarts with every byte). */
static void slow_sender(void **state)
{
	(void)state;
	int fd = connect_to(https_port, 10000);
	assert_true(fd >= 0);
	SSL_CTX *ctx;
	SSL *ssl = tls_open(fd, NULL, &ctx);
	assert_non_null(ssl);
	const char *part = "POST /v1/alertmanager HTTP/1.1\r\nHost: localhost\r\nX-Slow: ";
	assert_int_equal(io_write(ssl, fd, part, strlen(part)), 0);
	bool closed = false;
	for (int i = 0; i < 40 && !closed; i++) { /* 40 x 250 ms: 10 s at most */
		if (io_write(ssl, fd, "a", 1) != 0) {
			closed = true;
			break;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 250) == 1) {
			char buf[256];
			int n = SSL_read(ssl, buf, sizeof(buf));
			assert_true(n <= 0); /* no answer: just the end */
			closed = true;
		}
	}
	assert_true(closed);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
}

static void rate_limited(void **state)
{
	(void)state;
	assert_int_equal(h_slad_stop(SIGTERM), 0);
	char extra[512];
	snprintf(extra, sizeof(extra),
	         "http_listen = 127.0.0.1:%s\nmetrics_listen = 127.0.0.1:%s\n"
	         "http_rate_per_min = 6\nhttp_rate_burst = 3\n",
	         https_port, metrics_port);
	h_slad_start(extra, NULL);
	struct resp r;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(am_post1(TOKEN, "f6000000000000a1", 500, -1, "warning", &r), 200);
		resp_clear(&r);
	}
	assert_int_equal(am_post1(TOKEN, "f6000000000000a1", 500, -1, "warning", &r), 429);
	assert_true(header_has(&r, "Retry-After"));
	assert_string_equal(jstr(r.json, "status"), "error");
	resp_clear(&r);
	const char *ev = "{\"routing_key\":\"" TOKEN "\",\"event_action\":\"trigger\","
	                 "\"dedup_key\":\"rate\",\"payload\":{\"summary\":\"s\",\"severity\":"
	                 "\"error\",\"source\":\"s\"}}";
	assert_int_equal(pd_post(ev, &r), 429);
	assert_string_equal(jstr(r.json, "status"), "throttle exceeded");
	resp_clear(&r);
	/* per principal: the other sender is not held back */
	assert_int_equal(am_post1(TOKEN2, "f6000000000000a1", 500, -1, "warning", &r), 200);
	resp_clear(&r);
	/* health is not rate limited */
	assert_int_equal(http_req(true, NULL, "GET", "/healthz", NULL, NULL, 0, &r), 200);
	resp_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(am_firing),    cmocka_unit_test(am_repeated),
	    cmocka_unit_test(am_resolved),  cmocka_unit_test(am_grouped),
	    cmocka_unit_test(am_flapping),  cmocka_unit_test(am_malformed),
	    cmocka_unit_test(am_oversize),  cmocka_unit_test(authentication),
	    cmocka_unit_test(pd_actions),   cmocka_unit_test(pd_invalid),
	    cmocka_unit_test(healthz),      cmocka_unit_test(metrics),
	    cmocka_unit_test(slow_sender),  cmocka_unit_test(database_down),
	    cmocka_unit_test(rate_limited),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
