/*
 * http.c - HTTPS ingest, /healthz and /metrics (see http.h).
 *
 * Life of a webhook: evhttp hands over a complete request (its body under
 * http_max_body_bytes) -> the JSON is parsed -> the sender is looked up
 * (one query) -> its token bucket is charged -> the payload is checked and
 * turned into ALERT bodies -> each goes through verbs_dispatch() as an
 * internal request -> when the last is answered, the HTTP answer goes out.
 *
 * A request in flight is a `struct hreq`, referenced by each store query
 * or internal request it waits on; it is freed when answered and the last
 * reference is gone, so a late answer never touches freed memory.
 *
 * Deadlines: evhttp's own timeout ends a connection that stops sending,
 * but it restarts with every byte read; a sender trickling a byte at a time
 * would hold a connection for ever.  So each HTTPS connection also has a
 * deadline of its own (struct hconn, hung on the SSL object so it goes away
 * with the connection): armed at accept and after each answer, stopped
 * while a complete request is being worked on.  When it passes, the socket
 * is shut down and evhttp frees the connection on the EOF.
 */
#include "http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <openssl/evp.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "session.h"
#include "store.h"
#include "tls.h"
#include "util.h"
#include "verbs.h"

#define HTTP_MAX_HEADERS_BYTES 16384
#define RATE_BUCKETS           64
#define SUMMARY_MAX            1024 /* bytes; PagerDuty's own cap on summary */
#define TOKEN_MAX              512
#define DEDUP_MAX              255 /* PagerDuty's cap on dedup_key */
#define ITEM_ID_MAX            256

/* ---- the module ---- */

struct bucket {
	struct bucket *next;
	int64_t principal_id;
	double tokens;
	double at; /* metrics_clock() of the last refill */
};

struct hconn;
struct hreq;

struct http {
	struct event_base *base;
	const struct slad_config *cfg;
	SSL_CTX *ctx;
	struct server *srv;
	struct store *store;
	struct evhttp *https;
	struct evhttp_bound_socket *https_bound;
	struct evhttp *plain;
	struct evhttp_bound_socket *plain_bound;
	struct bucket *buckets[RATE_BUCKETS];
	struct hconn *conns; /* open HTTPS connections */
	int nconns;
	struct hreq *reqs; /* requests in flight */
	bool draining;
};

/* One HTTPS connection: its deadline.  Owned by the SSL object (ex_data),
 * freed with it. */
struct hconn {
	struct hconn *prev, *next;
	struct http *h; /* NULL once http_free has let go of it */
	struct bufferevent *bev;
	struct event *deadline;
	bool nodelay; /* TCP_NODELAY set on its socket */
};

/* One webhook alert or event as the store sees it. */
struct hitem {
	struct hreq *owner;
	json_object *body;    /* the ALERT body, until dispatched */
	bool note;            /* PagerDuty acknowledge: a note, not an ALERT */
	bool resolve;         /* an ALERT resolve */
	char id[ITEM_ID_MAX]; /* fingerprint or dedup_key, for the answer */
	const char *status;   /* "firing", "resolved", "trigger", ... (static) */
	bool done;
	enum proto_err code; /* PROTO_OK or the error */
	int64_t ticket_id;
	char effect[32];
	char message[256];
};

enum hreq_kind { HK_ALERTMANAGER, HK_PAGERDUTY, HK_HEALTHZ, HK_METRICS };

struct hreq {
	struct hreq *prev, *next;
	struct http *h;             /* NULL once detached by http_free */
	struct evhttp_request *req; /* NULL once answered or detached */
	enum hreq_kind kind;
	enum metrics_route route;
	bool tls;
	double started;
	int refs;           /* 1 until answered + one per pending callback */
	char cert_name[64]; /* a verified client certificate's CN, or "" */
	bool has_bearer;
	char token_hex[65]; /* SHA-256 of the token, hex, or "" */
	struct principal who;
	json_object *payload;
	struct hitem *items;
	size_t n, pending;
	char dedup[DEDUP_MAX + 1]; /* PagerDuty: the key to answer with */
	struct event *timer;       /* healthz/metrics: the database's deadline */
};

static int conn_ex_index = -1; /* SSL ex_data slot for struct hconn */

/* ---- small helpers ---- */

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 202:
		return "Accepted";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Payload Too Large";
	case 415:
		return "Unsupported Media Type";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	default:
		return "Service Unavailable";
	}
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", i < mdlen ? md[i] : 0);
	out[64] = '\0';
}

static void arm_ms(struct event *ev, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	evtimer_add(ev, &tv);
}

/* Copy at most `max` bytes of s into a new JSON string, not cutting a UTF-8
 * sequence in two. */
static json_object *jstr_capped(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	return json_object_new_string_len(s, (int)n);
}

/* A non-empty string member, or NULL. */
static const char *jstring(const json_object *o, const char *key)
{
	const char *s = util_jstr(o, key);
	return s && s[0] ? s : NULL;
}

static json_object *jmember(const json_object *o, const char *key)
{
	json_object *v = NULL;
	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static void errorf(json_object *errors, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void errorf(json_object *errors, const char *fmt, ...)
{
	char buf[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_object_array_add(errors, json_object_new_string(buf));
}

/* "2015-07-17T08:42:58.315+0000" (PagerDuty's example) -> with a colon in
 * the offset, so util_parse_time (RFC 3339) reads it. */
static int parse_iso8601(const char *s, sla_time *out)
{
	char buf[64];
	size_t n = strlen(s);
	if (n < 5 || n + 2 > sizeof(buf))
		return -1;
	memcpy(buf, s, n + 1);
	const char *tz = buf + n - 5;
	if ((tz[0] == '+' || tz[0] == '-') && isdigit((unsigned char)tz[1]) &&
	    isdigit((unsigned char)tz[2]) && isdigit((unsigned char)tz[3]) &&
	    isdigit((unsigned char)tz[4]) && strchr(buf, 'T') != NULL) {
		memmove(buf + n - 1, buf + n - 2, 3); /* "HHMM\0" -> "HH?MM\0" */
		buf[n - 2] = ':';
	}
	return util_parse_time(buf, out);
}

/* A positive integer in a label (string) or a JSON integer; 0 if none, -1
 * if present but not one. */
static int64_t positive_id(json_object *v)
{
	if (v == NULL || json_object_is_type(v, json_type_null))
		return 0;
	if (json_object_is_type(v, json_type_int)) {
		int64_t x = json_object_get_int64(v);
		return x >= 1 ? x : -1;
	}
	if (!json_object_is_type(v, json_type_string))
		return -1;
	const char *s = json_object_get_string(v);
	if (*s == '\0' || strlen(s) > 18)
		return -1;
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p))
			return -1;
	int64_t x = strtoll(s, NULL, 10);
	return x >= 1 ? x : -1;
}

/* ---- rate limits: a token bucket per principal ---- */

/* Charge one request to the principal's bucket.  0, or the seconds to wait
 * (>= 1) when it is empty. */
static int rate_charge(struct http *h, int64_t principal_id)
{
	double rate = (double)h->cfg->http_rate_per_min / 60.0; /* tokens per second */
	double burst = (double)h->cfg->http_rate_burst;
	double now = metrics_clock();
	struct bucket **slot = &h->buckets[(uint64_t)principal_id % RATE_BUCKETS];
	while (*slot != NULL && (*slot)->principal_id != principal_id)
		slot = &(*slot)->next;
	if (*slot == NULL) {
		*slot = calloc(1, sizeof(**slot));
		if (*slot == NULL)
			return 0; /* out of memory: let it through rather than refuse */
		(*slot)->principal_id = principal_id;
		(*slot)->tokens = burst;
		(*slot)->at = now;
	}
	struct bucket *b = *slot;
	b->tokens += (now - b->at) * rate;
	if (b->tokens > burst)
		b->tokens = burst;
	b->at = now;
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		return 0;
	}
	int wait = (int)ceil((1.0 - b->tokens) / rate);
	return wait < 1 ? 1 : wait;
}

/* ---- connections and their deadlines ---- */

static void hconn_unlink(struct hconn *c)
{
	if (c->h == NULL)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		c->h->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->h->nconns--;
	c->h = NULL;
}

/* OpenSSL frees the SSL object, and with it our record of the connection. */
static void hconn_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                          void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	struct hconn *c = ptr;
	if (c == NULL)
		return;
	hconn_unlink(c);
	if (c->deadline)
		event_free(c->deadline);
	metrics_http_connections(-1);
	free(c);
}

static void hconn_deadline_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	struct hconn *c = arg;
	evutil_socket_t sock = bufferevent_getfd(c->bev);
	log_info("event=http_timeout reason=request_not_complete_in_time");
	/* evhttp sees the EOF and frees the connection (and so this). */
	if (sock >= 0)
		shutdown(sock, SHUT_RDWR);
}

/* The record of the connection a request came on (HTTPS only), or NULL. */
static struct hconn *hconn_of(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = req ? evhttp_request_get_connection(req) : NULL;
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	return ssl ? SSL_get_ex_data(ssl, conn_ex_index) : NULL;
}

/* evhttp asks for each new HTTPS connection's bufferevent. */
static struct bufferevent *https_bevcb(struct event_base *base, void *arg)
{
	struct http *h = arg;
	struct hconn *c = calloc(1, sizeof(*c));
	SSL *ssl = c ? SSL_new(h->ctx) : NULL;
	if (ssl == NULL) {
		/* evhttp falls back to a plain bufferevent; the request handler
		 * refuses anything that did not come over TLS. */
		log_error("event=http_accept_failed reason=out_of_memory");
		free(c);
		return NULL;
	}
	/* Client certificates are optional here (a webhook sender may use a
	 * token instead), but one that is sent must verify. */
	SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
	c->deadline = evtimer_new(base, hconn_deadline_cb, c);
	c->h = h;
	c->next = h->conns;
	if (h->conns)
		h->conns->prev = c;
	h->conns = c;
	h->nconns++;
	metrics_http_connections(1);
	SSL_set_ex_data(ssl, conn_ex_index, c);
	c->bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
	                                        BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		/* The SSL is freed already (and c with it, by hconn_ex_free). */
		log_error("event=http_accept_failed reason=bufferevent");
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	/* Over the cap: the deadline ends it at once, before any work. */
	if (h->nconns > h->cfg->http_max_connections || h->draining) {
		log_warn("event=http_connection_refused reason=%s",
		         h->draining ? "draining" : "http_max_connections");
		arm_ms(c->deadline, 0);
	} else {
		arm_ms(c->deadline, h->cfg->http_timeout_ms);
	}
	return c->bev;
}

/* ---- requests in flight ---- */

static struct hreq *hreq_new(struct http *h, struct evhttp_request *req, enum hreq_kind kind,
                             enum metrics_route route, bool tls)
{
	struct hreq *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->h = h;
	r->req = req;
	r->kind = kind;
	r->route = route;
	r->tls = tls;
	r->started = metrics_clock();
	r->refs = 1;
	r->next = h->reqs;
	if (h->reqs)
		h->reqs->prev = r;
	h->reqs = r;
	return r;
}

static void hreq_unlink(struct hreq *r)
{
	if (r->h == NULL)
		return;
	if (r->prev)
		r->prev->next = r->next;
	else
		r->h->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
	r->h = NULL;
}

static void hreq_unref(struct hreq *r)
{
	if (--r->refs > 0)
		return;
	hreq_unlink(r);
	if (r->timer)
		event_free(r->timer);
	for (size_t i = 0; i < r->n; i++)
		json_object_put(r->items[i].body);
	free(r->items);
	json_object_put(r->payload);
	free(r);
}

/* Send the answer (once); the request's own reference goes with it. */
static void reply_buf(struct hreq *r, int status, const char *content_type, struct evbuffer *body,
                      const char *hname, const char *hvalue)
{
	if (r->req == NULL)
		return;
	metrics_http(r->route, status, r->started);
	struct evhttp_request *req = r->req;
	r->req = NULL;
	if (r->h != NULL) {
		struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);
		evhttp_add_header(hdr, "Content-Type", content_type);
		evhttp_add_header(hdr, "Cache-Control", "no-store");
		if (hname != NULL)
			evhttp_add_header(hdr, hname, hvalue);
		if (r->h->draining)
			evhttp_add_header(hdr, "Connection", "close");
		if (body != NULL)
			evbuffer_add_buffer(evhttp_request_get_output_buffer(req), body);
		/* The next request on this connection gets a deadline of its
		 * own (a keep-alive connection that idles is evhttp's). */
		struct hconn *c = hconn_of(req);
		if (c != NULL && c->deadline != NULL)
			arm_ms(c->deadline, r->h->cfg->http_timeout_ms);
		evhttp_send_reply(req, status, reason_phrase(status), NULL);
	}
	hreq_unref(r);
}

static void reply_json(struct hreq *r, int status, json_object *body, const char *hname,
                       const char *hvalue)
{
	struct evbuffer *buf = evbuffer_new();
	if (buf != NULL) {
		const char *text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
		evbuffer_add(buf, text, strlen(text));
		evbuffer_add(buf, "\n", 1);
		reply_buf(r, status, "application/json", buf, hname, hvalue);
		evbuffer_free(buf);
	} else {
		reply_buf(r, 503, "application/json", NULL, NULL, NULL);
	}
	json_object_put(body);
}

/* An error answer in the shape the sender's format uses: PagerDuty's
 * {"status", "message", "errors"}, else {"status": "error", "error",
 * "errors"}.  Takes `errors` (may be NULL). */
static void reply_error(struct hreq *r, int status, const char *message, json_object *errors,
                        const char *hname, const char *hvalue)
{
	json_object *b = json_object_new_object();
	if (r->kind == HK_PAGERDUTY) {
		const char *st = status == 400   ? "invalid event"
		                 : status == 429 ? "throttle exceeded"
		                 : status == 401 ? "unauthorized"
		                 : status == 403 ? "forbidden"
		                                 : "error";
		json_object_object_add(b, "status", json_object_new_string(st));
		json_object_object_add(b, "message", json_object_new_string(message));
	} else {
		json_object_object_add(b, "status", json_object_new_string("error"));
		json_object_object_add(b, "error", json_object_new_string(message));
	}
	json_object_object_add(b, "errors", errors ? errors : json_object_new_array());
	reply_json(r, status, b, hname, hvalue);
}

/* ---- /healthz and /metrics ---- */

static void health_answer(struct hreq *r, bool db_up)
{
	json_object *b = json_object_new_object();
	bool ok = db_up && r->h != NULL && !r->h->draining;
	json_object_object_add(b, "status",
	                       json_object_new_string(ok                       ? "ok"
	                                              : r->h && r->h->draining ? "draining"
	                                                                       : "unavailable"));
	json_object_object_add(b, "database", json_object_new_string(db_up ? "up" : "down"));
	json_object_object_add(b, "version", json_object_new_string(SLAD_VERSION));
	if (r->h != NULL)
		json_object_object_add(
		    b, "sessions", json_object_new_int64((int64_t)server_session_count(r->h->srv)));
	reply_json(r, ok ? 200 : 503, b, ok ? NULL : "Retry-After", ok ? NULL : "5");
}

static void metrics_answer(struct hreq *r, const json_object *db)
{
	if (r->h == NULL || r->req == NULL)
		return;
	struct evbuffer *buf = evbuffer_new();
	if (buf == NULL) {
		reply_error(r, 503, "out of memory", NULL, NULL, NULL);
		return;
	}
	struct metrics_live live = {store_available(r->h->store), store_pending(r->h->store)};
	metrics_render(buf, db, &live);
	reply_buf(r, 200, "text/plain; version=0.0.4; charset=utf-8", buf, NULL, NULL);
	evbuffer_free(buf);
}

static void probe_done(void *arg, enum store_status status, PGresult *res)
{
	struct hreq *r = arg;
	if (r->h != NULL)
		health_answer(r, status == STORE_DONE && PQresultStatus(res) == PGRES_TUPLES_OK);
	hreq_unref(r);
}

static void metrics_db_read(void *arg, const json_object *db)
{
	struct hreq *r = arg;
	if (r->h != NULL)
		metrics_answer(r, db);
	hreq_unref(r);
}

/* The database did not answer within healthz_timeout_ms: answer without
 * it (its late answer is dropped). */
static void probe_deadline_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	struct hreq *r = arg;
	if (r->kind == HK_HEALTHZ)
		health_answer(r, false);
	else
		metrics_answer(r, NULL);
}

static void probe_start(struct hreq *r)
{
	struct http *h = r->h;
	r->timer = evtimer_new(h->base, probe_deadline_cb, r);
	if (r->timer != NULL)
		arm_ms(r->timer, h->cfg->healthz_timeout_ms);
	r->refs++;
	int rc = r->kind == HK_HEALTHZ ? store_submit(h->store, "SELECT 1", 0, NULL, probe_done, r)
	                               : metrics_query(h->store, metrics_db_read, r);
	if (rc != 0) {
		r->refs--;
		if (r->kind == HK_HEALTHZ)
			health_answer(r, false);
		else
			metrics_answer(r, NULL);
	}
}

/* ---- Alertmanager: one notification -> ALERT bodies ---- */

/* The request_id of an ALERT body: its own hash, so an identical repeat
 * (a retry, the other replica of an HA pair, the repeat_interval) is a
 * replay, and anything that differs is judged by the dedup key. */
static void add_request_id(json_object *body, const char *prefix)
{
	char hash[65], rid[64];
	util_body_hash(body, hash);
	snprintf(rid, sizeof(rid), "%s%.40s", prefix, hash);
	json_object_object_add(body, "request_id", json_object_new_string(rid));
}

/* Alertmanager's fingerprint; from the labels if an old sender left it out
 * (the same labels give the same key). */
static int label_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void labels_fingerprint(const json_object *labels, char out[17])
{
	size_t n = (size_t)json_object_object_length(labels);
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	if (keys == NULL) {
		snprintf(out, 17, "%016x", 0);
		return;
	}
	size_t i = 0;
	json_object_object_foreach((json_object *)labels, k, v)
	{
		(void)v;
		keys[i++] = k;
	}
	qsort(keys, n, sizeof(*keys), label_cmp);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	if (md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1) {
		for (i = 0; i < n; i++) {
			const char *value = util_jstr(labels, keys[i]);
			EVP_DigestUpdate(md, keys[i], strlen(keys[i]) + 1);
			EVP_DigestUpdate(md, value ? value : "", value ? strlen(value) + 1 : 1);
		}
		EVP_DigestFinal_ex(md, d, &dlen);
	}
	EVP_MD_CTX_free(md);
	for (i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", i < dlen ? d[i] : 0);
	out[16] = '\0';
	free(keys);
}

/* Check one alert of a notification and describe it as an ALERT; errors
 * go to `errors` (prefixed "alerts[i]"), NULL then. */
static json_object *am_alert(const struct slad_config *cfg, size_t i, const json_object *a,
                             struct hitem *it, json_object *errors)
{
	size_t before = json_object_array_length(errors);
	if (!json_object_is_type(a, json_type_object)) {
		errorf(errors, "alerts[%zu]: expected an object", i);
		return NULL;
	}
	const char *status = util_jstr(a, "status");
	bool firing = status && strcmp(status, "firing") == 0;
	if (!firing && (status == NULL || strcmp(status, "resolved") != 0))
		errorf(errors, "alerts[%zu].status: expected \"firing\" or \"resolved\"", i);
	json_object *labels = jmember(a, "labels");
	if (!json_object_is_type(labels, json_type_object)) {
		errorf(errors, "alerts[%zu].labels: expected an object", i);
		labels = NULL;
	} else {
		json_object_object_foreach(labels, k, v)
		{
			if (!json_object_is_type(v, json_type_string)) {
				errorf(errors, "alerts[%zu].labels.%.60s: expected a string", i, k);
				break;
			}
		}
	}
	json_object *annotations = jmember(a, "annotations");
	if (annotations != NULL && !json_object_is_type(annotations, json_type_object) &&
	    !json_object_is_type(annotations, json_type_null))
		errorf(errors, "alerts[%zu].annotations: expected an object", i);
	sla_time starts = 0, ends = 0;
	const char *s = util_jstr(a, "startsAt");
	if (s == NULL || util_parse_time(s, &starts) != 0)
		errorf(errors, "alerts[%zu].startsAt: expected an RFC 3339 time", i);
	if (!firing) {
		s = util_jstr(a, "endsAt");
		if (s == NULL || util_parse_time(s, &ends) != 0)
			errorf(errors, "alerts[%zu].endsAt: expected an RFC 3339 time", i);
		else if (starts > 0 && ends < starts)
			errorf(errors, "alerts[%zu].endsAt: before startsAt", i);
	}
	json_object *fp = jmember(a, "fingerprint");
	const char *fingerprint = NULL;
	if (fp != NULL && !json_object_is_type(fp, json_type_null)) {
		fingerprint =
		    json_object_is_type(fp, json_type_string) ? json_object_get_string(fp) : NULL;
		bool ok = fingerprint && fingerprint[0] && strlen(fingerprint) <= 128;
		for (const char *p = fingerprint; ok && *p; p++)
			ok = *p > 0x20 && *p < 0x7f;
		if (!ok)
			errorf(errors,
			       "alerts[%zu].fingerprint: expected a non-empty printable string", i);
	}
	int64_t customer = labels ? positive_id(jmember(labels, cfg->am_customer_label)) : 0;
	if (customer < 0)
		errorf(errors, "alerts[%zu].labels.%s: expected a customer id (a positive integer)",
		       i, cfg->am_customer_label);
	if (json_object_array_length(errors) > before)
		return NULL;

	char computed[17];
	if (fingerprint == NULL) {
		labels_fingerprint(labels, computed);
		fingerprint = computed;
	}
	snprintf(it->id, sizeof(it->id), "%s", fingerprint);
	it->status = firing ? "firing" : "resolved";
	it->resolve = !firing;
	char when[32];
	json_object *b = json_object_new_object();
	json_object_object_add(b, "action", json_object_new_string(firing ? "trigger" : "resolve"));
	/* The fingerprint hashes every label, the customer's and the
	 * equipment's included; the customer scopes it in the store. */
	json_object_object_add(b, "dedup_key", json_object_new_string(fingerprint));
	json_object_object_add(
	    b, "starts_at", json_object_new_string(util_format_time(starts, when, sizeof(when))));
	if (!firing)
		json_object_object_add(
		    b, "ends_at",
		    json_object_new_string(util_format_time(ends, when, sizeof(when))));
	if (customer > 0)
		json_object_object_add(b, "customer_id", json_object_new_int64(customer));
	const char *equipment = jstring(labels, cfg->am_equipment_label);
	if (equipment != NULL)
		json_object_object_add(b, "equipment_no", json_object_new_string(equipment));
	if (firing) {
		const char *severity = jstring(labels, cfg->am_severity_label);
		/* No severity label: the rules read the summary (S1). */
		json_object_object_add(b, "severity",
		                       json_object_new_string(severity ? severity : "unknown"));
		const char *summary = jstring(annotations, "summary");
		if (summary == NULL)
			summary = jstring(annotations, "description");
		if (summary == NULL)
			summary = jstring(labels, "alertname");
		char fallback[160];
		if (summary == NULL) {
			snprintf(fallback, sizeof(fallback), "alert %s", fingerprint);
			summary = fallback;
		}
		json_object_object_add(b, "summary", jstr_capped(summary, SUMMARY_MAX));
		const char *source = jstring(labels, "instance");
		if (source == NULL)
			source = jstring(labels, "job");
		json_object_object_add(b, "source",
		                       json_object_new_string(source ? source : "alertmanager"));
		json_object *copy = json_object_new_object();
		json_object_object_foreach(labels, k, v)
		{
			if (json_object_get_string_len(v) > 0)
				json_object_object_add(copy, k, json_object_get(v));
		}
		json_object_object_add(b, "labels", copy);
	}
	add_request_id(b, "am-");
	return b;
}

static int am_translate(struct hreq *r, json_object *errors)
{
	const struct slad_config *cfg = r->h->cfg;
	const json_object *p = r->payload;
	const char *version = util_jstr(p, "version");
	if (version == NULL || strcmp(version, "4") != 0)
		errorf(errors, "version: expected \"4\" (Alertmanager webhook payload)");
	json_object *alerts = jmember(p, "alerts");
	if (!json_object_is_type(alerts, json_type_array)) {
		errorf(errors, "alerts: expected an array");
		return -1;
	}
	if (util_jint(p, "truncatedAlerts", 0) > 0)
		log_warn("event=alertmanager_truncated alerts_left_out=%" PRId64,
		         util_jint(p, "truncatedAlerts", 0));
	size_t n = json_object_array_length(alerts);
	r->items = calloc(n ? n : 1, sizeof(*r->items));
	if (r->items == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct hitem *it = &r->items[r->n];
		json_object *body =
		    am_alert(cfg, i, json_object_array_get_idx(alerts, i), it, errors);
		if (body != NULL) {
			it->owner = r;
			it->body = body;
			r->n++;
		}
	}
	return json_object_array_length(errors) > 0 ? -1 : 0;
}

/* ---- PagerDuty Events API v2: one event -> one ALERT (or a note) ---- */

static const char *const pd_severities[] = {"critical", "error", "warning", "info"};

static int pd_translate(struct hreq *r, json_object *errors)
{
	const struct slad_config *cfg = r->h->cfg;
	const json_object *e = r->payload;
	const char *action = util_jstr(e, "event_action");
	bool trigger = action && strcmp(action, "trigger") == 0;
	bool ack = action && strcmp(action, "acknowledge") == 0;
	bool resolve = action && strcmp(action, "resolve") == 0;
	if (!trigger && !ack && !resolve)
		errorf(errors, "event_action must be one of trigger, acknowledge or resolve");
	json_object *dk = jmember(e, "dedup_key");
	const char *dedup = NULL;
	if (dk != NULL && !json_object_is_type(dk, json_type_null)) {
		dedup =
		    json_object_is_type(dk, json_type_string) ? json_object_get_string(dk) : NULL;
		if (dedup == NULL || dedup[0] == '\0' || strlen(dedup) > DEDUP_MAX)
			errorf(errors,
			       "dedup_key must be a non-empty string of at most %d characters",
			       DEDUP_MAX);
	} else if (ack || resolve) {
		errorf(errors, "dedup_key is required for %s", action);
	}
	json_object *payload = jmember(e, "payload");
	const char *summary = NULL, *source = NULL, *severity = NULL;
	sla_time at = 0;
	json_object *details = NULL;
	if (trigger) {
		if (!json_object_is_type(payload, json_type_object)) {
			errorf(errors, "payload is required for trigger (an object)");
			payload = NULL;
		} else {
			summary = jstring(payload, "summary");
			source = jstring(payload, "source");
			severity = util_jstr(payload, "severity");
			if (summary == NULL)
				errorf(errors, "payload.summary is required");
			if (source == NULL)
				errorf(errors, "payload.source is required");
			bool known = false;
			for (size_t i = 0; severity && i < 4; i++)
				known |= strcmp(severity, pd_severities[i]) == 0;
			if (!known)
				errorf(errors, "payload.severity must be one of critical, error, "
				               "warning or info");
			json_object *ts = jmember(payload, "timestamp");
			if (ts != NULL && !json_object_is_type(ts, json_type_null) &&
			    (!json_object_is_type(ts, json_type_string) ||
			     parse_iso8601(json_object_get_string(ts), &at) != 0))
				errorf(errors, "payload.timestamp must be an ISO 8601 time");
			details = jmember(payload, "custom_details");
			if (!json_object_is_type(details, json_type_object))
				details = NULL;
			static const char *const strs[] = {"component", "group", "class"};
			for (size_t i = 0; i < 3; i++) {
				json_object *v = jmember(payload, strs[i]);
				if (v != NULL && !json_object_is_type(v, json_type_null) &&
				    !json_object_is_type(v, json_type_string))
					errorf(errors, "payload.%s must be a string", strs[i]);
			}
		}
	}
	int64_t customer = details ? positive_id(jmember(details, cfg->am_customer_label)) : 0;
	if (customer < 0)
		errorf(errors,
		       "payload.custom_details.%s must be a customer id (a positive integer)",
		       cfg->am_customer_label);
	if (json_object_array_length(errors) > 0)
		return -1;

	/* The event's own hash: a retry of it is a replay (request_id), and a
	 * trigger without a dedup_key gets one that its retry gets too. */
	char hash[65];
	util_body_hash(e, hash);
	if (dedup == NULL)
		snprintf(r->dedup, sizeof(r->dedup), "%.32s", hash + 32);
	else
		snprintf(r->dedup, sizeof(r->dedup), "%s", dedup);
	r->items = calloc(1, sizeof(*r->items));
	if (r->items == NULL)
		return -1;
	struct hitem *it = &r->items[0];
	it->owner = r;
	snprintf(it->id, sizeof(it->id), "%s", r->dedup);
	it->status = trigger ? "trigger" : ack ? "acknowledge" : "resolve";
	it->resolve = resolve;
	it->note = ack;
	char rid[64], when[32];
	snprintf(rid, sizeof(rid), "pd-%.40s", hash);
	json_object *b = json_object_new_object();
	if (!ack) {
		json_object_object_add(b, "request_id", json_object_new_string(rid));
		json_object_object_add(b, "action",
		                       json_object_new_string(trigger ? "trigger" : "resolve"));
	}
	json_object_object_add(b, "dedup_key", json_object_new_string(r->dedup));
	if (customer > 0)
		json_object_object_add(b, "customer_id", json_object_new_int64(customer));
	const char *equipment = details ? jstring(details, cfg->am_equipment_label) : NULL;
	if (equipment != NULL && trigger)
		json_object_object_add(b, "equipment_no", json_object_new_string(equipment));
	if (trigger) {
		/* No timestamp: now -- its retry differs only there, and is still
		 * a replay by its request_id (see item_result). */
		json_object_object_add(b, "starts_at",
		                       json_object_new_string(util_format_time(
		                           at ? at : util_now(), when, sizeof(when))));
		json_object_object_add(b, "severity", json_object_new_string(severity));
		json_object_object_add(b, "summary", jstr_capped(summary, SUMMARY_MAX));
		json_object_object_add(b, "source", json_object_new_string(source));
		json_object *labels = json_object_new_object();
		static const char *const strs[] = {"component", "group", "class"};
		for (size_t i = 0; i < 3; i++)
			if (jstring(payload, strs[i]))
				json_object_object_add(
				    labels, strs[i],
				    json_object_new_string(jstring(payload, strs[i])));
		json_object_object_add(b, "labels", labels);
	}
	if (ack) {
		/* Only a person acknowledges (PROTOCOL.md): a note. */
		json_object_object_add(b, "request_id", json_object_new_string(rid));
		const char *text = payload ? jstring(payload, "summary") : NULL;
		json_object_object_add(b, "text",
		                       jstr_capped(text ? text
		                                        : "acknowledged by the "
		                                          "monitoring system",
		                                   SUMMARY_MAX));
	}
	it->body = b;
	r->n = 1;
	return 0;
}

/* ---- dispatch and answer ---- */

/* How one item's outcome counts for the sender: 2xx, 4xx or 5xx. */
static int item_status(const struct hitem *it)
{
	switch (it->code) {
	case PROTO_OK:
		return 200;
	case PROTO_ERR_MISSING_FIELD:
	case PROTO_ERR_INVALID_FIELD:
	case PROTO_ERR_NOT_FOUND: /* an unknown customer or equipment */
		return 400;
	case PROTO_ERR_FORBIDDEN:
		return 403;
	case PROTO_ERR_INVALID_TRANSITION:
		return 409;
	case PROTO_ERR_CONFLICT:
		/* The ticket changed under us five times: retry.  Any other
		 * conflict (equipment of another customer) is the input's. */
		return strstr(it->message, "concurrently") ? 503 : 409;
	case PROTO_ERR_INTERNAL:
		return 500;
	default: /* UNAVAILABLE, SHUTTING_DOWN, RATE_LIMITED, ... */
		return 503;
	}
}

static void respond(struct hreq *r)
{
	/* 5xx wins (the sender retries, and what committed replays), then
	 * 4xx, else success. */
	int status = 0;
	for (size_t i = 0; i < r->n; i++) {
		int s = item_status(&r->items[i]);
		if (s >= 500 && (status < 500 || s == 503))
			status = s;
		else if (s >= 400 && status < 400)
			status = s;
	}
	enum metrics_route source = r->route;
	for (size_t i = 0; i < r->n; i++)
		metrics_webhook_alert(
		    source, r->items[i].code == PROTO_OK
		                ? r->items[i].effect
		                : (item_status(&r->items[i]) >= 500 ? "failed" : "rejected"));
	log_info("event=http_ingest route=%s principal=%s alerts=%zu status=%d",
	         r->kind == HK_PAGERDUTY ? "pagerduty" : "alertmanager", r->who.name, r->n,
	         status ? status : (r->kind == HK_PAGERDUTY ? 202 : 200));
	if (r->kind == HK_PAGERDUTY) {
		struct hitem *it = &r->items[0];
		if (status == 0) {
			json_object *b = json_object_new_object();
			json_object_object_add(b, "status", json_object_new_string("success"));
			json_object_object_add(b, "message",
			                       json_object_new_string("Event processed"));
			json_object_object_add(b, "dedup_key", json_object_new_string(r->dedup));
			reply_json(r, 202, b, NULL, NULL);
			return;
		}
		json_object *errors = json_object_new_array();
		json_object_array_add(errors, json_object_new_string(it->message));
		reply_error(r, status,
		            status == 400   ? "Event object is invalid"
		            : status >= 500 ? "The event could not be stored; retry"
		                            : it->message,
		            errors, status >= 500 ? "Retry-After" : NULL, "5");
		return;
	}
	json_object *alerts = json_object_new_array();
	for (size_t i = 0; i < r->n; i++) {
		struct hitem *it = &r->items[i];
		json_object *o = json_object_new_object();
		json_object_object_add(o, "fingerprint", json_object_new_string(it->id));
		json_object_object_add(o, "status", json_object_new_string(it->status));
		if (it->code == PROTO_OK) {
			json_object_object_add(o, "ticket_id",
			                       it->ticket_id ? json_object_new_int64(it->ticket_id)
			                                     : NULL);
			json_object_object_add(o, "effect", json_object_new_string(it->effect));
		} else {
			json_object *e = json_object_new_object();
			json_object_object_add(e, "code",
			                       json_object_new_string(proto_err_name(it->code)));
			json_object_object_add(e, "message", json_object_new_string(it->message));
			json_object_object_add(o, "error", e);
		}
		json_object_array_add(alerts, o);
	}
	json_object *b = json_object_new_object();
	if (status == 0) {
		json_object_object_add(b, "status", json_object_new_string("success"));
		json_object_object_add(b, "alerts", alerts);
		reply_json(r, 200, b, NULL, NULL);
		return;
	}
	json_object_object_add(b, "status", json_object_new_string("error"));
	json_object_object_add(
	    b, "error",
	    json_object_new_string(status >= 500 ? "not every alert could be stored; retry"
	                                         : "some alerts were refused; see alerts[].error"));
	json_object_object_add(b, "alerts", alerts);
	reply_json(r, status, b, status >= 500 ? "Retry-After" : NULL, "5");
}

/* Record an item's outcome; the last one answers. */
static void item_finished(struct hitem *it)
{
	struct hreq *r = it->owner;
	it->done = true;
	if (--r->pending == 0 && r->h != NULL)
		respond(r);
	hreq_unref(r);
}

static void item_answered(void *arg, enum proto_err code, const json_object *body,
                          const char *message)
{
	struct hitem *it = arg;
	it->code = code;
	snprintf(it->message, sizeof(it->message), "%s", message ? message : "");
	if (code == PROTO_OK) {
		it->ticket_id = util_jint(body, "ticket_id", 0);
		const char *effect = util_jstr(body, "effect");
		snprintf(it->effect, sizeof(it->effect), "%s",
		         util_jbool(body, "replay", false) ? "replay"
		         : effect                          ? effect
		                                           : "unchanged");
	} else if (code == PROTO_ERR_IDEMPOTENCY_MISMATCH) {
		/* The request_id is the hash of what the sender sent: the same id
		 * is the same event, retried (a trigger without a timestamp gets
		 * another starts_at each time, hence another body). */
		it->code = PROTO_OK;
		snprintf(it->effect, sizeof(it->effect), "replay");
	} else if (code == PROTO_ERR_NOT_FOUND && it->resolve) {
		/* Resolving what slad never saw (it fired before slad listened):
		 * nothing to do, and nothing for the sender to retry. */
		it->code = PROTO_OK;
		snprintf(it->effect, sizeof(it->effect), "unknown_alert");
	}
	item_finished(it);
}

static void note_done(void *arg, enum store_status status, PGresult *res)
{
	struct hitem *it = arg;
	json_object *a = NULL;
	if (status == STORE_DONE && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		a = json_tokener_parse(PQgetvalue(res, 0, 0));
	if (a == NULL) {
		it->code = PROTO_ERR_UNAVAILABLE;
		snprintf(it->message, sizeof(it->message), "database unavailable, retry later");
		if (status == STORE_DONE && PQresultStatus(res) != PGRES_TUPLES_OK) {
			char q[400];
			log_error("event=sql_failed what=alert_note reason=%s",
			          log_quote(q, sizeof(q), PQresultErrorMessage(res)));
			it->code = PROTO_ERR_INTERNAL;
			snprintf(it->message, sizeof(it->message), "internal error (logged)");
		}
	} else if (util_jstr(a, "err") != NULL &&
	           strcmp(util_jstr(a, "err"), "IDEMPOTENCY_MISMATCH") != 0) {
		enum proto_err e = proto_err_parse(util_jstr(a, "err"));
		it->code = e == PROTO_ERR_COUNT ? PROTO_ERR_INTERNAL : e;
		snprintf(it->message, sizeof(it->message), "%s",
		         util_jstr(a, "message") ? util_jstr(a, "message") : "failed");
	} else {
		it->code = PROTO_OK;
		it->ticket_id = util_jint(a, "ticket_id", 0);
		const char *effect = util_jstr(a, "effect");
		/* No open ticket for the key: nothing to note, nothing to retry. */
		snprintf(it->effect, sizeof(it->effect), "%s",
		         util_jstr(a, "err") || util_jbool(a, "replay", false) ? "replay"
		         : effect && strcmp(effect, "noted") == 0              ? "noted"
		                                                               : "unknown_alert");
	}
	json_object_put(a);
	item_finished(it);
}

/* PagerDuty acknowledge: a note on the key's open ticket (004's
 * slad_alert_note). */
static void note_start(struct hreq *r, struct hitem *it)
{
	json_object *b = it->body;
	char cust[24], pid[24], hash[65];
	snprintf(pid, sizeof(pid), "%" PRId64, r->who.id);
	bool has_cust = util_jhas(b, "customer_id");
	snprintf(cust, sizeof(cust), "%" PRId64, util_jint(b, "customer_id", 0));
	util_body_hash(b, hash);
	json_object *data = json_object_new_object();
	json_object_object_add(data, "text", json_object_get(jmember(b, "text")));
	json_object_object_add(data, "monitor_acknowledged", json_object_new_boolean(1));
	json_object_object_add(data, "verb", json_object_new_string("ALERT"));
	const char *params[6] = {has_cust ? cust : NULL,
	                         pid,
	                         util_jstr(b, "dedup_key"),
	                         util_jstr(b, "request_id"),
	                         hash,
	                         json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN)};
	r->refs++;
	if (store_submit(r->h->store,
	                 "SELECT slad_alert_note($1::bigint, $2::bigint, $3, $4, $5, $6::jsonb)", 6,
	                 params, note_done, it) != 0) {
		it->code = PROTO_ERR_UNAVAILABLE;
		snprintf(it->message, sizeof(it->message), "database unavailable, retry later");
		item_finished(it);
	}
	json_object_put(data);
}

static void dispatch_items(struct hreq *r)
{
	if (r->n == 0) {
		respond(r); /* an empty notification: nothing to do */
		return;
	}
	r->pending = r->n;
	for (size_t i = 0; i < r->n; i++) {
		struct hitem *it = &r->items[i];
		if (it->note) {
			note_start(r, it);
			continue;
		}
		json_object *body = it->body;
		it->body = NULL;
		r->refs++;
		struct request *req =
		    request_new_internal(r->h->srv, &r->who, "ALERT", body, item_answered, it);
		if (req == NULL) {
			it->code = PROTO_ERR_UNAVAILABLE;
			snprintf(it->message, sizeof(it->message), "server busy, retry later");
			item_finished(it);
			continue;
		}
		verbs_dispatch(req);
	}
}

/* ---- authentication ---- */

/* After the principal is known: the role, the rate, then the work. */
static void authenticated(struct hreq *r)
{
	struct http *h = r->h;
	bool metrics = r->kind == HK_METRICS;
	unsigned allowed = metrics ? (PROTO_ROLE_MONITOR | PROTO_ROLE_ADMIN) : PROTO_ROLE_MONITOR;
	if ((r->who.role & allowed) == 0) {
		log_warn("event=http_forbidden principal=%s role=%s route=%s", r->who.name,
		         proto_role_name((enum proto_role)r->who.role),
		         metrics ? "metrics" : "ingest");
		reply_error(r, 403,
		            metrics ? "only a monitor or admin principal may read /metrics"
		                    : "only a monitor principal may send alerts",
		            NULL, NULL, NULL);
		return;
	}
	if (metrics) {
		probe_start(r);
		return;
	}
	int wait = rate_charge(h, r->who.id);
	if (wait > 0) {
		char after[16];
		snprintf(after, sizeof(after), "%d", wait);
		log_warn("event=http_rate_limited principal=%s retry_after=%d", r->who.name, wait);
		reply_error(r, 429, "too many requests from this sender; retry later", NULL,
		            "Retry-After", after);
		return;
	}
	json_object *errors = json_object_new_array();
	int rc = r->kind == HK_ALERTMANAGER ? am_translate(r, errors) : pd_translate(r, errors);
	if (rc != 0) {
		if (json_object_array_length(errors) == 0) {
			json_object_put(errors);
			reply_error(r, 503, "out of memory", NULL, "Retry-After", "5");
			return;
		}
		metrics_webhook_alert(r->route, "rejected");
		reply_error(r, 400,
		            r->kind == HK_PAGERDUTY
		                ? "Event object is invalid"
		                : "the notification is not a valid Alertmanager "
		                  "webhook payload (version 4)",
		            errors, NULL, NULL);
		return;
	}
	json_object_put(errors);
	dispatch_items(r);
}

static void auth_done(void *arg, enum store_status status, PGresult *res)
{
	struct hreq *r = arg;
	if (r->h == NULL) {
		hreq_unref(r);
		return;
	}
	if (status != STORE_DONE || PQresultStatus(res) != PGRES_TUPLES_OK) {
		reply_error(r, 503, "database unavailable, retry later", NULL, "Retry-After", "5");
	} else if (PQntuples(res) != 1) {
		log_warn("event=http_auth_refused reason=%s",
		         r->token_hex[0] ? "unknown_token" : "unknown_principal");
		reply_error(r, 401, "the token or certificate names no active principal", NULL,
		            "WWW-Authenticate", "Bearer realm=\"slad\"");
	} else {
		r->who.id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		snprintf(r->who.name, sizeof(r->who.name), "%s", PQgetvalue(res, 0, 1));
		r->who.role = proto_role_parse(PQgetvalue(res, 0, 2));
		snprintf(r->who.tier, sizeof(r->who.tier), "%s", PQgetvalue(res, 0, 3));
		snprintf(r->who.team, sizeof(r->who.team), "%s", PQgetvalue(res, 0, 4));
		snprintf(r->who.region, sizeof(r->who.region), "%s", PQgetvalue(res, 0, 5));
		authenticated(r);
	}
	hreq_unref(r);
}

/* Who is sending: the bearer token, else a verified client certificate,
 * else (PagerDuty) the routing key. */
static void authenticate(struct hreq *r, const char *routing_key)
{
	static const char by_token[] =
	    "SELECT id, name, role, coalesce(tier, ''), coalesce(team, ''), coalesce(region, '')"
	    " FROM principals WHERE token_hash = decode($1, 'hex') AND active";
	static const char by_name[] =
	    "SELECT id, name, role, coalesce(tier, ''), coalesce(team, ''), coalesce(region, '')"
	    " FROM principals WHERE name = $1 AND active";
	if (!r->has_bearer && r->cert_name[0] == '\0' && routing_key != NULL)
		sha256_hex(routing_key, strlen(routing_key), r->token_hex);
	const char *params[1];
	const char *sql;
	if (r->token_hex[0]) {
		params[0] = r->token_hex;
		sql = by_token;
	} else if (r->cert_name[0]) {
		params[0] = r->cert_name;
		sql = by_name;
	} else {
		reply_error(r, 401,
		            r->kind == HK_PAGERDUTY
		                ? "routing_key is required (or an Authorization: Bearer token)"
		                : "authentication required: Authorization: Bearer <token> or a "
		                  "client certificate",
		            NULL, "WWW-Authenticate", "Bearer realm=\"slad\"");
		return;
	}
	r->refs++;
	if (store_submit(r->h->store, sql, 1, params, auth_done, r) != 0) {
		r->refs--;
		reply_error(r, 503, "database unavailable, retry later", NULL, "Retry-After", "5");
	}
}

/* ---- the request handler ---- */

/* The body as one strict JSON document (UTF-8 checked, depth capped). */
static json_object *parse_body(struct evhttp_request *req, char *why, size_t whylen)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	if (len == 0) {
		snprintf(why, whylen, "the request has no body (expected JSON)");
		return NULL;
	}
	const char *data = (const char *)evbuffer_pullup(in, -1);
	json_tokener *tok = json_tokener_new_ex(PROTO_MAX_JSON_DEPTH);
	if (data == NULL || tok == NULL) {
		json_tokener_free(tok);
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *o = json_tokener_parse_ex(tok, data, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	while (o != NULL && end < len && isspace((unsigned char)data[end]))
		end++;
	if (o == NULL || jerr != json_tokener_success || end != len) {
		snprintf(why, whylen, "the body is not valid JSON: %s",
		         o == NULL ? json_tokener_error_desc(jerr) : "trailing characters");
		json_object_put(o);
		return NULL;
	}
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(why, whylen, "the body is not a JSON object");
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* Authorization: Bearer <token>, hashed.  False if the header is there but
 * is not that. */
static bool read_bearer(struct hreq *r, struct evhttp_request *req)
{
	const char *a = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	if (a == NULL)
		return true;
	r->has_bearer = true;
	if (strncasecmp(a, "Bearer ", 7) != 0)
		return false;
	a += 7;
	while (*a == ' ')
		a++;
	size_t n = strlen(a);
	while (n > 0 && a[n - 1] == ' ')
		n--;
	if (n == 0 || n > TOKEN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (a[i] < 0x21 || a[i] > 0x7e)
			return false;
	sha256_hex(a, n, r->token_hex);
	return true;
}

static void handle(struct http *h, struct evhttp_request *req, bool tls)
{
	struct hconn *c = tls ? hconn_of(req) : NULL;
	if (c != NULL && c->deadline != NULL)
		evtimer_del(c->deadline); /* complete: the work is ours now */
	if (c != NULL && !c->nodelay) {
		/* Answers are small: do not let Nagle hold them back waiting
		 * for the sender's delayed ACK. */
		int one = 1;
		c->nodelay = true;
		(void)setsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP, TCP_NODELAY, &one,
		                 sizeof(one));
	}
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	static const struct {
		const char *path;
		enum hreq_kind kind;
		enum metrics_route route;
		bool post;
		bool tls_only;
	} routes[] = {
	    {"/v1/alertmanager", HK_ALERTMANAGER, METRICS_ROUTE_ALERTMANAGER, true, true},
	    {"/v2/enqueue", HK_PAGERDUTY, METRICS_ROUTE_PAGERDUTY, true, true},
	    {"/healthz", HK_HEALTHZ, METRICS_ROUTE_HEALTHZ, false, false},
	    {"/metrics", HK_METRICS, METRICS_ROUTE_METRICS, false, false},
	};
	int found = -1;
	for (size_t i = 0; path && i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strcmp(path, routes[i].path) == 0 && (tls || !routes[i].tls_only))
			found = (int)i;
	struct hreq *r = hreq_new(h, req, found >= 0 ? routes[found].kind : HK_ALERTMANAGER,
	                          found >= 0 ? routes[found].route : METRICS_ROUTE_OTHER, tls);
	if (r == NULL) {
		evhttp_send_error(req, 503, "Service Unavailable");
		return;
	}
	/* An HTTPS connection that is not TLS (see https_bevcb): refused. */
	if (tls && c == NULL) {
		reply_error(r, 400, "this port speaks HTTPS only", NULL, "Connection", "close");
		return;
	}
	if (found < 0) {
		reply_error(r, 404, "no such path", NULL, NULL, NULL);
		return;
	}
	bool want_post = routes[found].post;
	if (want_post ? cmd != EVHTTP_REQ_POST
	              : (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD)) {
		reply_error(r, 405, want_post ? "use POST" : "use GET", NULL, "Allow",
		            want_post ? "POST" : "GET, HEAD");
		return;
	}
	if (h->draining) {
		if (r->kind == HK_HEALTHZ)
			health_answer(r, false);
		else
			reply_error(r, 503, "slad is shutting down; retry", NULL, "Retry-After",
			            "1");
		return;
	}
	if (tls) {
		SSL *ssl = bufferevent_openssl_get_ssl(
		    evhttp_connection_get_bufferevent(evhttp_request_get_connection(req)));
		if (tls_peer_principal(ssl, r->cert_name, sizeof(r->cert_name)) != 0)
			r->cert_name[0] = '\0';
	}
	if (r->kind == HK_HEALTHZ || (r->kind == HK_METRICS && !tls)) {
		probe_start(r);
		return;
	}
	if (!read_bearer(r, req)) {
		reply_error(r, 401, "Authorization: expected \"Bearer <token>\"", NULL,
		            "WWW-Authenticate", "Bearer realm=\"slad\"");
		return;
	}
	if (r->kind == HK_METRICS) {
		authenticate(r, NULL);
		return;
	}
	const char *enc =
	    evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Encoding");
	if (enc != NULL && strcasecmp(enc, "identity") != 0) {
		reply_error(r, 415, "Content-Encoding is not supported; send the JSON as it is",
		            NULL, NULL, NULL);
		return;
	}
	char why[200];
	r->payload = parse_body(req, why, sizeof(why));
	if (r->payload == NULL) {
		json_object *errors = json_object_new_array();
		json_object_array_add(errors, json_object_new_string(why));
		metrics_webhook_alert(r->route, "rejected");
		reply_error(r, 400, r->kind == HK_PAGERDUTY ? "Event object is invalid" : why,
		            errors, NULL, NULL);
		return;
	}
	authenticate(r, r->kind == HK_PAGERDUTY ? jstring(r->payload, "routing_key") : NULL);
}

static void https_request_cb(struct evhttp_request *req, void *arg)
{
	handle(arg, req, true);
}

static void plain_request_cb(struct evhttp_request *req, void *arg)
{
	handle(arg, req, false);
}

/* ---- lifetime ---- */

static void apply_limits(struct evhttp *eh, const struct slad_config *cfg)
{
	evhttp_set_max_body_size(eh, cfg->http_max_body_bytes);
	evhttp_set_max_headers_size(eh, HTTP_MAX_HEADERS_BYTES);
	struct timeval tv = {cfg->http_timeout_ms / 1000, (cfg->http_timeout_ms % 1000) * 1000};
	evhttp_set_timeout_tv(eh, &tv);
}

static struct evhttp *listen_on(struct http *h, const char *addr, bool tls,
                                struct evhttp_bound_socket **bound, char *err, size_t errlen)
{
	char host[256];
	int port;
	bool loopback;
	if (config_numeric_addr(addr, host, sizeof(host), &port, &loopback) != 0) {
		snprintf(err, errlen, "%s: '%s' is not numeric host:port",
		         tls ? "http_listen" : "metrics_listen", addr);
		return NULL;
	}
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	socklen_t sslen;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		sslen = sizeof(*in);
	} else {
		(void)inet_pton(AF_INET6, host, &in6->sin6_addr);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		sslen = sizeof(*in6);
	}
	struct evhttp *eh = evhttp_new(h->base);
	if (eh == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	apply_limits(eh, h->cfg);
	/* Every method reaches our handler, which answers 405 in JSON. */
	evhttp_set_allowed_methods(eh, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
	                                   EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
	                                   EVHTTP_REQ_PATCH);
	/* A body over the cap is read to its end before the 413 goes out, so
	 * the sender sees the answer rather than a reset. */
	evhttp_set_flags(eh, EVHTTP_SERVER_LINGERING_CLOSE);
	evhttp_set_gencb(eh, tls ? https_request_cb : plain_request_cb, h);
	if (tls)
		evhttp_set_bevcb(eh, https_bevcb, h);
	/* Our own listener: evhttp_bind_socket would resolve the address. */
	struct evconnlistener *lst = evconnlistener_new_bind(
	    h->base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    128, (struct sockaddr *)&ss, (int)sslen);
	*bound = lst ? evhttp_bind_listener(eh, lst) : NULL;
	if (*bound == NULL) {
		snprintf(err, errlen, "%s %s: %s", tls ? "http_listen" : "metrics_listen", addr,
		         strerror(errno));
		if (lst)
			evconnlistener_free(lst);
		evhttp_free(eh);
		return NULL;
	}
	return eh;
}

struct http *http_new(struct event_base *base, const struct slad_config *cfg, SSL_CTX *ctx,
                      struct server *srv, struct store *st, char *err, size_t errlen)
{
	if (conn_ex_index < 0)
		conn_ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, hconn_ex_free);
	struct http *h = calloc(1, sizeof(*h));
	if (h == NULL || conn_ex_index < 0) {
		free(h);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->base = base;
	h->cfg = cfg;
	h->ctx = ctx;
	h->srv = srv;
	h->store = st;
	if (cfg->http_listen[0] &&
	    (h->https = listen_on(h, cfg->http_listen, true, &h->https_bound, err, errlen)) == NULL)
		goto fail;
	if (cfg->metrics_listen[0] && (h->plain = listen_on(h, cfg->metrics_listen, false,
	                                                    &h->plain_bound, err, errlen)) == NULL)
		goto fail;
	if (h->https)
		log_info("event=http_listening listen=%s", cfg->http_listen);
	if (h->plain)
		log_info("event=metrics_listening listen=%s", cfg->metrics_listen);
	return h;
fail:
	http_free(h);
	return NULL;
}

void http_reload(struct http *h, SSL_CTX *ctx, const struct slad_config *cfg)
{
	h->ctx = ctx; /* open connections keep their SSL objects */
	h->cfg = cfg;
	if (h->https)
		apply_limits(h->https, cfg);
	if (h->plain)
		apply_limits(h->plain, cfg);
}

void http_drain(struct http *h)
{
	if (h == NULL || h->draining)
		return;
	h->draining = true;
	if (h->https && h->https_bound) {
		evhttp_del_accept_socket(h->https, h->https_bound);
		h->https_bound = NULL;
	}
	/* The loopback /healthz keeps answering (503, draining) to the end. */
}

void http_free(struct http *h)
{
	if (h == NULL)
		return;
	/* Requests still waiting on the store or on tickets lose their HTTP
	 * side: their late answers only release them. */
	while (h->reqs != NULL) {
		struct hreq *r = h->reqs;
		bool answered = r->req == NULL;
		r->req = NULL;
		if (r->timer) {
			event_free(r->timer);
			r->timer = NULL;
		}
		hreq_unlink(r);
		if (!answered)
			hreq_unref(r); /* the answer that will not come */
	}
	/* Connections freed later (libevent finalizes bufferevents in the
	 * loop) must not reach back into h. */
	for (struct hconn *c = h->conns; c != NULL; c = c->next) {
		if (c->deadline) {
			event_free(c->deadline);
			c->deadline = NULL;
		}
	}
	while (h->conns != NULL)
		hconn_unlink(h->conns);
	if (h->https)
		evhttp_free(h->https);
	if (h->plain)
		evhttp_free(h->plain);
	for (int i = 0; i < RATE_BUCKETS; i++) {
		while (h->buckets[i]) {
			struct bucket *next = h->buckets[i]->next;
			free(h->buckets[i]);
			h->buckets[i] = next;
		}
	}
	free(h);
}
