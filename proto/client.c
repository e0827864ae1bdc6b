/*
 * client.c - the slad client library (client.h): the session layer over
 * byte buffers, the non-blocking TLS transport, and the blocking API.
 */
#include "client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* A buffer freed when drained above this size: 10,000 idle sessions must
 * not each sit on the memory of their largest answer. */
#define SBUF_KEEP  4096
#define SBUF_FIRST 256

/* ---------------------------------------------------------------------- */
/* small helpers                                                           */
/* ---------------------------------------------------------------------- */

struct sbuf {
	char *data;
	size_t len, cap;
};

static int sbuf_reserve(struct sbuf *b, size_t extra)
{
	size_t need, ncap;
	char *p;

	if (extra > SIZE_MAX - b->len)
		return -1;
	need = b->len + extra;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : SBUF_FIRST;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return -1;
		ncap *= 2;
	}
	p = realloc(b->data, ncap);
	if (!p)
		return -1;
	b->data = p;
	b->cap = ncap;
	return 0;
}

static int sbuf_append(struct sbuf *b, const char *p, size_t n)
{
	if (sbuf_reserve(b, n) < 0)
		return -1;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static void sbuf_reset(struct sbuf *b)
{
	b->len = 0;
	if (b->cap > SBUF_KEEP) {
		free(b->data);
		b->data = NULL;
		b->cap = 0;
	}
}

static void sbuf_consume(struct sbuf *b, size_t n)
{
	if (n >= b->len) {
		sbuf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

static void sbuf_free(struct sbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static void set_error(struct slac_error *e, enum slac_status st, enum proto_err code,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void set_error(struct slac_error *e, enum slac_status st, enum proto_err code,
                      const char *fmt, ...)
{
	va_list ap;

	e->status = st;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof e->message, fmt, ap);
	va_end(ap);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *slac_status_name(enum slac_status status)
{
	switch (status) {
	case SLAC_OK:
		return "OK";
	case SLAC_ERR_SERVER:
		return "server error";
	case SLAC_ERR_CONN:
		return "connection failure";
	case SLAC_ERR_PROTOCOL:
		return "protocol error";
	case SLAC_ERR_TIMEOUT:
		return "timeout";
	case SLAC_ERR_LOCAL:
		return "local error";
	}
	return "unknown";
}

void slac_answer_clear(struct slac_answer *ans)
{
	if (!ans)
		return;
	json_object_put(ans->body);
	memset(ans, 0, sizeof *ans);
}

int slac_request_id_new(char out[SLAC_REQUEST_ID_LEN + 1])
{
	unsigned char r[16];

	if (RAND_bytes(r, sizeof r) != 1)
		return -1;
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, SLAC_REQUEST_ID_LEN + 1,
	         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
	         r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
	         r[15]);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* the session layer                                                       */
/* ---------------------------------------------------------------------- */

enum {
	PF_REPLAY = 1u << 0,    /* safe to re-send after a drop */
	PF_HELLO = 1u << 1,     /* the session's own HELLO */
	PF_RECEIPT = 1u << 2,   /* an automatic delivery receipt */
	PF_SUBSCRIBE = 1u << 3, /* a SUBSCRIBE (remembered for replay) */
	PF_INTERNAL = 1u << 4,  /* queued by the library, nobody waits */
	PF_WRITTEN = 1u << 5,   /* written on an earlier connection */
};

struct slac_pending {
	uint64_t id;
	uint64_t out_end; /* output position just past this line; 0: not queued */
	char *line;       /* the whole line with its LF, kept for a replay */
	size_t len;
	slac_done_fn *done;
	void *arg;
	unsigned flags;
	uint64_t seq; /* PF_RECEIPT: the push it receipts */
};

struct slac_session {
	struct sbuf out;           /* bytes for the transport */
	struct sbuf in;            /* an incomplete line carried to the next read */
	uint64_t out_total;        /* bytes queued on this connection */
	uint64_t out_written;      /* of which written */
	struct slac_pending *pend; /* sorted by id: ids only grow */
	size_t npend, cappend;
	uint64_t next_id;
	uint64_t last_seq;
	uint64_t sub_id;  /* the live SUBSCRIBE request, 0 if none */
	json_object *sub; /* its body, re-sent after a reconnect */
	bool subscribed;
	json_object *hello; /* last HELLO answer */
	size_t max_line;    /* incoming cap */
	size_t server_max;  /* the server's cap on our lines */
	bool online, ready, discarding, busy;
	char *client_name;
	slac_push_fn *push;
	void *push_arg;
	slac_done_fn *hello_done;
	void *hello_arg;
	struct slac_error err;
	struct slac_session_stats stats;
};

/* Verbs a replay cannot hurt besides the creating ones: session plumbing,
 * ACKNOWLEDGE (a second one "answers the first acknowledgement",
 * PROTOCOL.md) and read-only queries.  A verb missing here is failed with
 * UNAVAILABLE after a drop, never doubled. */
static const char *const idempotent_verbs[] = {
    "HELLO",    "PING",       "RECEIPT",       "SUBSCRIBE",     "UNSUBSCRIBE", "ACKNOWLEDGE",
    "SHOW",     "LIST",       "FIND_CUSTOMER", "CUSTOMER_SHOW", "POLICY_SHOW", "RULES_SHOW",
    "WARRANTY", "COMPLIANCE", "TASKS",         "STATS",         NULL,
};

static bool verb_is_idempotent(const char *verb)
{
	for (size_t i = 0; idempotent_verbs[i]; i++)
		if (strcmp(verb, idempotent_verbs[i]) == 0)
			return true;
	return false;
}

struct slac_session *slac_session_new(size_t max_line, const char *client_name)
{
	struct slac_session *s = calloc(1, sizeof *s);

	if (!s)
		return NULL;
	if (client_name && !(s->client_name = strdup(client_name))) {
		free(s);
		return NULL;
	}
	s->max_line = max_line ? max_line : SLAC_MAX_LINE_DEFAULT;
	s->server_max = PROTO_MAX_LINE_DEFAULT;
	s->next_id = 1;
	return s;
}

void slac_session_set_push_cb(struct slac_session *s, slac_push_fn *fn, void *arg)
{
	s->push = fn;
	s->push_arg = arg;
}

static struct slac_pending *pending_find(struct slac_session *s, uint64_t id, size_t *idx)
{
	size_t lo = 0, hi = s->npend;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->pend[mid].id == id) {
			*idx = mid;
			return &s->pend[mid];
		}
		if (s->pend[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void pending_remove(struct slac_session *s, size_t idx)
{
	memmove(&s->pend[idx], &s->pend[idx + 1], (s->npend - idx - 1) * sizeof s->pend[0]);
	s->npend--;
	if (s->npend == 0 && s->cappend > 16) {
		/* keep idle sessions small */
		free(s->pend);
		s->pend = NULL;
		s->cappend = 0;
	}
}

/* Append a pending line to the output. */
static int pending_emit(struct slac_session *s, struct slac_pending *p)
{
	if (sbuf_append(&s->out, p->line, p->len) < 0)
		return -1;
	s->out_total += p->len;
	p->out_end = s->out_total;
	return 0;
}

/* The verb of a stored line ("<tag> <VERB>[ <json>]\n"), for messages. */
static void line_verb(const struct slac_pending *p, char *verb, size_t size)
{
	const char *sp = memchr(p->line, ' ', p->len);
	size_t n = 0;

	if (sp) {
		sp++;
		while (sp + n < p->line + p->len && sp[n] != ' ' && sp[n] != '\n' && n + 1 < size)
			n++;
		memcpy(verb, sp, n);
	}
	verb[n] = '\0';
}

static uint64_t session_queue(struct slac_session *s, const char *verb, const json_object *body,
                              slac_done_fn *done, void *arg, unsigned flags)
{
	char tag[24];
	struct slac_pending p = {0};

	if (s->npend == s->cappend) {
		size_t ncap = s->cappend ? s->cappend * 2 : 4;
		struct slac_pending *np = realloc(s->pend, ncap * sizeof *np);

		if (!np)
			goto nomem;
		s->pend = np;
		s->cappend = ncap;
	}
	p.id = s->next_id;
	snprintf(tag, sizeof tag, "%" PRIu64, p.id);
	p.line = proto_format_request(tag, verb, body, &p.len);
	if (!p.line) {
		/* or out of memory, but the body is the likely culprit */
		set_error(&s->err, SLAC_ERR_LOCAL, PROTO_ERR_BAD_JSON,
		          "%s body cannot go on the wire (invalid UTF-8, a NaN, nesting over %d?)",
		          verb, PROTO_MAX_JSON_DEPTH);
		return 0;
	}
	/* Say it here rather than send a line the server must refuse. */
	if (p.len - 1 > s->server_max) {
		set_error(&s->err, SLAC_ERR_LOCAL, PROTO_ERR_LINE_TOO_LONG,
		          "%s request of %zu bytes is over the server's line cap of %zu", verb,
		          p.len - 1, s->server_max);
		free(p.line);
		return 0;
	}
	p.done = done;
	p.arg = arg;
	p.flags = flags;
	if (s->online && (s->ready || (flags & PF_HELLO)) && pending_emit(s, &p) < 0) {
		free(p.line);
		goto nomem;
	}
	s->next_id++;
	s->pend[s->npend++] = p;
	s->stats.requests++;
	return p.id;
nomem:
	set_error(&s->err, SLAC_ERR_LOCAL, PROTO_OK, "out of memory queueing %s", verb);
	return 0;
}

uint64_t slac_session_submit(struct slac_session *s, const char *verb, const json_object *body,
                             slac_done_fn *done, void *arg)
{
	const struct proto_verb *v = verb ? proto_verb_find(verb) : NULL;
	json_object *copy = NULL, *sub = NULL;
	unsigned flags = 0;
	uint64_t id;

	if (!v) {
		set_error(&s->err, SLAC_ERR_LOCAL, PROTO_ERR_UNKNOWN_VERB, "unknown verb %s",
		          verb ? verb : "(null)");
		return 0;
	}
	if (body && !json_object_is_type((json_object *)body, json_type_object)) {
		set_error(&s->err, SLAC_ERR_LOCAL, PROTO_ERR_BAD_JSON,
		          "%s body must be a JSON object", verb);
		return 0;
	}
	if (v->creating) {
		flags |= PF_REPLAY;
		/* The replay guarantee rests on the request_id: never send a
		 * creating request without one. */
		if (!body || !json_object_object_get_ex((json_object *)body, "request_id", NULL)) {
			char rid[SLAC_REQUEST_ID_LEN + 1];

			if (body ? json_object_deep_copy((json_object *)body, &copy, NULL) != 0
			         : (copy = json_object_new_object()) == NULL)
				goto nomem;
			if (slac_request_id_new(rid) < 0 ||
			    json_object_object_add(copy, "request_id", json_object_new_string(rid)))
				goto nomem;
			body = copy;
		}
	}
	if (verb_is_idempotent(v->name))
		flags |= PF_REPLAY;
	if (strcmp(v->name, "SUBSCRIBE") == 0) {
		flags |= PF_SUBSCRIBE;
		if (body && json_object_deep_copy((json_object *)body, &sub, NULL) != 0)
			goto nomem;
	}
	id = session_queue(s, v->name, body, done, arg, flags);
	json_object_put(copy);
	if (id && (flags & PF_SUBSCRIBE)) {
		json_object_put(s->sub);
		s->sub = sub;
		s->sub_id = id;
		s->subscribed = true;
	} else {
		json_object_put(sub);
	}
	if (id && strcmp(v->name, "UNSUBSCRIBE") == 0) {
		json_object_put(s->sub);
		s->sub = NULL;
		s->sub_id = 0;
		s->subscribed = false;
	}
	return id;
nomem:
	json_object_put(copy);
	set_error(&s->err, SLAC_ERR_LOCAL, PROTO_OK, "out of memory preparing %s", verb);
	return 0;
}

void slac_session_cancel(struct slac_session *s, uint64_t id)
{
	size_t idx;
	struct slac_pending *p = pending_find(s, id, &idx);

	if (!p)
		return;
	if (p->out_end == 0) {
		/* never reached the output: it is as if never submitted */
		free(p->line);
		pending_remove(s, idx);
		return;
	}
	p->done = NULL;
	p->flags |= PF_INTERNAL;
}

/* Run the callbacks of requests already taken off the pending list.  The
 * list is detached first so the callbacks may submit. */
static void fail_list(struct slac_pending *list, size_t n, const struct slac_error *why)
{
	for (size_t i = 0; i < n; i++) {
		struct slac_answer ans = {.err = *why, .body = NULL};

		if (list[i].done)
			list[i].done(list[i].arg, &ans);
		free(list[i].line);
	}
	free(list);
}

void slac_session_fail_pending(struct slac_session *s, const struct slac_error *why)
{
	struct slac_pending *list = s->pend;
	size_t n = s->npend;

	s->pend = NULL;
	s->npend = s->cappend = 0;
	fail_list(list, n, why);
}

void slac_session_free(struct slac_session *s)
{
	struct slac_error why;

	if (!s)
		return;
	set_error(&why, SLAC_ERR_CONN, PROTO_ERR_UNAVAILABLE, "session closed");
	slac_session_fail_pending(s, &why);
	for (size_t i = 0; i < s->npend; i++)
		free(s->pend[i].line);
	free(s->pend);
	sbuf_free(&s->out);
	sbuf_free(&s->in);
	json_object_put(s->sub);
	json_object_put(s->hello);
	free(s->client_name);
	free(s);
}

/* HELLO is answered: the session is open for everything else.  PROTOCOL.md
 * ("HELLO first") refuses other verbs before it, so they waited. */
static int hello_answered(struct slac_session *s, const struct slac_answer *ans)
{
	json_object *v;
	uint64_t id;

	if (ans->err.status != SLAC_OK) {
		s->err = ans->err;
		return 0;
	}
	json_object_put(s->hello);
	s->hello = json_object_get(ans->body);
	s->ready = true;
	/* The server's cap on our lines, if it says. */
	if (ans->body && json_object_object_get_ex(ans->body, "max_line", &v) &&
	    json_object_is_type(v, json_type_int) && json_object_get_int64(v) > 0)
		s->server_max = (size_t)json_object_get_int64(v);
	/* Pushes start on a session only with a SUBSCRIBE: re-establish it,
	 * unless the SUBSCRIBE itself is still pending (then it goes below). */
	if (s->subscribed && !pending_find(s, s->sub_id, &(size_t){0})) {
		id = session_queue(s, "SUBSCRIBE", s->sub, NULL, NULL,
		                   PF_SUBSCRIBE | PF_INTERNAL | PF_REPLAY);
		if (!id)
			return -1;
		s->sub_id = id;
	}
	for (size_t i = 0; i < s->npend; i++) {
		if (s->pend[i].out_end != 0)
			continue;
		if (pending_emit(s, &s->pend[i]) < 0) {
			set_error(&s->err, SLAC_ERR_LOCAL, PROTO_OK, "out of memory");
			return -1;
		}
		if (s->pend[i].flags & PF_WRITTEN)
			s->stats.replayed++;
	}
	return 0;
}

int slac_session_connected(struct slac_session *s, slac_done_fn *hello_done, void *arg)
{
	json_object *hello, *caps;
	uint64_t id;

	if (s->online)
		slac_session_disconnected(s, "reconnecting");
	/* A HELLO of an earlier connection is moot: this one gets its own. */
	for (size_t i = 0; i < s->npend;) {
		if (s->pend[i].flags & PF_HELLO) {
			free(s->pend[i].line);
			pending_remove(s, i);
		} else {
			i++;
		}
	}
	s->online = true;
	s->ready = false;
	s->discarding = false;
	s->out_total = s->out_written = 0;
	sbuf_reset(&s->out);
	sbuf_reset(&s->in);
	s->hello_done = hello_done;
	s->hello_arg = arg;

	hello = json_object_new_object();
	caps = json_object_new_array();
	if (!hello) {
		json_object_put(caps);
		set_error(&s->err, SLAC_ERR_LOCAL, PROTO_OK, "out of memory queueing HELLO");
		return -1;
	}
	json_object_object_add(hello, "version", json_object_new_int(PROTO_VERSION));
	json_object_object_add(hello, "client",
	                       json_object_new_string(s->client_name ? s->client_name : "libslac"));
	json_object_array_add(caps, json_object_new_string("pipelining"));
	json_object_array_add(caps, json_object_new_string("push"));
	json_object_array_add(caps, json_object_new_string("idempotency"));
	json_object_object_add(hello, "capabilities", caps);
	/* Only HELLO goes now; the rest waits for its answer. */
	id = session_queue(s, "HELLO", hello, NULL, NULL, PF_HELLO | PF_INTERNAL | PF_REPLAY);
	json_object_put(hello);
	return id ? 0 : -1;
}

void slac_session_disconnected(struct slac_session *s, const char *why)
{
	char what[SLAC_MESSAGE_MAX - 96];

	/* Copied: `why` may be a message that a callback below overwrites. */
	snprintf(what, sizeof what, "%s", why ? why : "closed");
	for (size_t i = 0; i < s->npend; i++) {
		struct slac_pending *p = &s->pend[i];

		if (p->out_end != 0 && p->out_end <= s->out_written)
			p->flags |= PF_WRITTEN;
		p->out_end = 0;
	}
	s->online = false;
	s->ready = false;
	s->out_total = s->out_written = 0;
	sbuf_reset(&s->out);
	if (!s->busy)
		sbuf_reset(&s->in);
	s->discarding = false;
	/* Written, unanswered and not safe to replay: fail them now, one at a
	 * time and off the list before the callback (it may submit; what it
	 * submits is not written, so it is never picked here). */
	for (;;) {
		struct slac_answer ans = {.body = NULL};
		struct slac_pending p;
		char verb[PROTO_VERB_MAX + 1];
		size_t i = 0;

		while (i < s->npend && (s->pend[i].flags & (PF_WRITTEN | PF_REPLAY)) != PF_WRITTEN)
			i++;
		if (i == s->npend)
			break;
		p = s->pend[i];
		pending_remove(s, i);
		s->stats.lost++;
		line_verb(&p, verb, sizeof verb);
		set_error(
		    &ans.err, SLAC_ERR_CONN, PROTO_ERR_UNAVAILABLE,
		    "connection lost before the answer (%s); %s is not re-sent, it may or may "
		    "not have been applied",
		    what, verb);
		if (p.done)
			p.done(p.arg, &ans);
		free(p.line);
	}
}

const char *slac_session_output(const struct slac_session *s, size_t *len)
{
	*len = s->out.len;
	return s->out.len ? s->out.data : NULL;
}

void slac_session_consume(struct slac_session *s, size_t n)
{
	if (n > s->out.len)
		n = s->out.len;
	sbuf_consume(&s->out, n);
	s->out_written += n;
}

/* A tag we issued: decimal digits, no leading zero. */
static bool tag_id(const char *tag, uint64_t *id)
{
	uint64_t v = 0;

	if (!tag[0] || tag[0] == '0')
		return false;
	for (const char *p = tag; *p; p++) {
		if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*id = v;
	return true;
}

/* Complete a pending request (taken off the list before the callback).
 * -1 only if the session cannot go on (out of memory after HELLO). */
static int complete(struct slac_session *s, size_t idx, const struct slac_answer *ans)
{
	struct slac_pending p = s->pend[idx];
	int rc = 0;

	pending_remove(s, idx);
	s->stats.answers++;
	if ((p.flags & PF_SUBSCRIBE) && p.id == s->sub_id && ans->err.status != SLAC_OK) {
		/* refused: do not re-send it on every reconnect */
		s->subscribed = false;
		s->sub_id = 0;
		json_object_put(s->sub);
		s->sub = NULL;
	}
	if (p.flags & PF_HELLO) {
		rc = hello_answered(s, ans);
		if (s->hello_done)
			s->hello_done(s->hello_arg, ans);
	} else if ((p.flags & PF_INTERNAL) && ans->err.status != SLAC_OK) {
		s->err = ans->err;
		s->stats.internal_errors++;
	}
	if (p.done)
		p.done(p.arg, ans);
	free(p.line);
	return rc;
}

static bool receipt_pending(const struct slac_session *s, uint64_t seq)
{
	for (size_t i = 0; i < s->npend; i++)
		if ((s->pend[i].flags & PF_RECEIPT) && s->pend[i].seq == seq)
			return true;
	return false;
}

static int handle_push(struct slac_session *s, struct proto_msg *m)
{
	json_object *body;
	uint64_t id;

	/* At-least-once on the wire, exactly once to the application:
	 * anything at or below the last number seen was handed over already
	 * (DESIGN.md "Delivery").  Its receipt is in flight, or the server
	 * lacks it (it answered ERR, or a restarted client restored its last
	 * seq): PROTOCOL.md asks for a receipt then, so that the push is not
	 * resent forever -- but never a second one while one is in flight. */
	if (m->seq <= s->last_seq) {
		s->stats.duplicates++;
		if (receipt_pending(s, m->seq))
			return 0;
	} else {
		s->last_seq = m->seq;
		s->stats.pushes++;
		if (s->push)
			s->push(s->push_arg, m->verb, m->seq, m->body);
	}
	/* The receipt says the line reached us; it stops nothing. */
	body = json_object_new_object();
	if (!body || json_object_object_add(body, "seq", json_object_new_uint64(m->seq)) ||
	    !(id = session_queue(s, "RECEIPT", body, NULL, NULL,
	                         PF_RECEIPT | PF_INTERNAL | PF_REPLAY))) {
		json_object_put(body);
		set_error(&s->err, SLAC_ERR_LOCAL, PROTO_OK,
		          "out of memory queueing RECEIPT %" PRIu64, m->seq);
		return -1;
	}
	json_object_put(body);
	s->pend[s->npend - 1].seq = m->seq; /* the entry just queued */
	s->stats.receipts++;
	return 0;
}

static int handle_line(struct slac_session *s, const char *line, size_t len)
{
	struct proto_limits lim = proto_limits_default();
	struct proto_msg m;
	struct proto_error perr;
	struct slac_answer ans = {.body = NULL};
	uint64_t id;
	size_t idx;
	int rc = 0;

	lim.max_line = s->max_line;
	if (proto_parse_line(line, len, PROTO_FROM_SERVER, &lim, &m, &perr) != PROTO_OK) {
		/* Blame the request it answers, if we can tell which. */
		if (tag_id(perr.tag, &id) && pending_find(s, id, &idx)) {
			set_error(&ans.err, SLAC_ERR_PROTOCOL, perr.code,
			          "unreadable answer: %s at byte %zu: %s",
			          proto_err_name(perr.code), perr.offset, perr.detail);
			return complete(s, idx, &ans);
		}
		set_error(&s->err, SLAC_ERR_PROTOCOL, perr.code,
		          "unreadable line from the server: %s at byte %zu: %s",
		          proto_err_name(perr.code), perr.offset, perr.detail);
		return -1;
	}
	/* FROM_SERVER parses only pushes and answers */
	if (m.kind == PROTO_MSG_PUSH) {
		rc = handle_push(s, &m);
	} else if (m.kind == PROTO_MSG_ERR && strcmp(m.tag, "*") == 0) {
		/* About no request of ours (SHUTTING_DOWN, TIMEOUT...): remember
		 * it, the close that follows will cite it. */
		set_error(&s->err, SLAC_ERR_SERVER, m.code, "%s", m.message);
	} else if (!tag_id(m.tag, &id) || !pending_find(s, id, &idx)) {
		set_error(&s->err, SLAC_ERR_PROTOCOL, PROTO_ERR_SYNTAX, "answer for unknown tag %s",
		          m.tag);
		rc = -1;
	} else {
		if (m.kind == PROTO_MSG_OK)
			ans.body = m.body;
		else
			set_error(&ans.err, SLAC_ERR_SERVER, m.code, "%s", m.message);
		rc = complete(s, idx, &ans);
	}
	proto_msg_clear(&m);
	return rc;
}

/* No terminator within the cap.  An answer we can attribute fails its
 * request and the rest of the line is skipped; anything else is fatal,
 * since a push we cannot read would come back on every reconnect. */
static int handle_too_long(struct slac_session *s, const char *buf, size_t len)
{
	char tag[PROTO_TAG_MAX + 1];
	const char *sp = memchr(buf, ' ', len < sizeof tag ? len : sizeof tag);
	struct slac_answer ans = {.body = NULL};
	uint64_t id;
	size_t idx;

	if (sp) {
		memcpy(tag, buf, (size_t)(sp - buf));
		tag[sp - buf] = '\0';
		if (tag_id(tag, &id) && pending_find(s, id, &idx)) {
			set_error(&ans.err, SLAC_ERR_PROTOCOL, PROTO_ERR_LINE_TOO_LONG,
			          "answer longer than the client's line cap of %zu bytes",
			          s->max_line);
			s->discarding = true;
			return complete(s, idx, &ans);
		}
	}
	set_error(&s->err, SLAC_ERR_PROTOCOL, PROTO_ERR_LINE_TOO_LONG,
	          "server line longer than the client's cap of %zu bytes", s->max_line);
	return -1;
}

/* Handle the complete lines in buf; *used: bytes done with. */
static int process(struct slac_session *s, const char *buf, size_t len, size_t *used)
{
	size_t off = 0;

	while (off < len && s->online) {
		size_t line_len = 0, consumed = 0;
		enum proto_frame fr;

		if (s->discarding) {
			const char *lf = memchr(buf + off, '\n', len - off);

			if (!lf) {
				off = len;
				break;
			}
			off = (size_t)(lf - buf) + 1;
			s->discarding = false;
			continue;
		}
		fr = proto_frame_next(buf + off, len - off, s->max_line, &line_len, &consumed);
		if (fr == PROTO_FRAME_NEED_MORE)
			break;
		if (fr == PROTO_FRAME_TOO_LONG) {
			if (handle_too_long(s, buf + off, len - off) < 0) {
				*used = off;
				return -1;
			}
			continue;
		}
		if (handle_line(s, buf + off, line_len) < 0) {
			*used = off + consumed;
			return -1;
		}
		off += consumed;
	}
	*used = off;
	return 0;
}

int slac_session_input(struct slac_session *s, const char *data, size_t len)
{
	size_t used = 0;
	int rc;

	if (!s->online)
		return 0;
	s->busy = true;
	if (s->in.len == 0) {
		/* the common case: whole lines straight from the read buffer */
		rc = process(s, data, len, &used);
		if (rc == 0 && s->online && used < len &&
		    sbuf_append(&s->in, data + used, len - used))
			goto nomem;
	} else {
		if (sbuf_append(&s->in, data, len) < 0)
			goto nomem;
		rc = process(s, s->in.data, s->in.len, &used);
		sbuf_consume(&s->in, used);
	}
	s->busy = false;
	if (!s->online)
		sbuf_reset(&s->in);
	return rc;
nomem:
	s->busy = false;
	set_error(&s->err, SLAC_ERR_LOCAL, PROTO_OK, "out of memory reading a line");
	return -1;
}

const struct slac_error *slac_session_error(const struct slac_session *s)
{
	return &s->err;
}

bool slac_session_ready(const struct slac_session *s)
{
	return s->ready;
}

json_object *slac_session_hello(const struct slac_session *s)
{
	return s->hello;
}

uint64_t slac_session_last_seq(const struct slac_session *s)
{
	return s->last_seq;
}

void slac_session_set_last_seq(struct slac_session *s, uint64_t seq)
{
	s->last_seq = seq;
}

size_t slac_session_pending(const struct slac_session *s)
{
	return s->npend;
}

struct slac_session_stats slac_session_stats(const struct slac_session *s)
{
	return s->stats;
}

/* ---------------------------------------------------------------------- */
/* TLS context                                                             */
/* ---------------------------------------------------------------------- */

struct slac_tls {
	SSL_CTX *ctx;
	BIO_METHOD *bio; /* sockets written with MSG_NOSIGNAL */
	int refs;
};

/* OpenSSL's queued errors as one line, e.g. "No such file or directory"
 * or "tlsv1 alert unknown ca (SSL alert number 48)": system errors as
 * strerror() text, wrappers ("system lib") and repeats left out. */
static void tls_reasons(char *out, size_t size)
{
	unsigned long e;
	const char *data, *last = NULL;
	int flags;
	size_t n = 0;

	out[0] = '\0';
	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		const char *r =
		    ERR_SYSTEM_ERROR(e) ? strerror(ERR_GET_REASON(e)) : ERR_reason_error_string(e);
		bool with_data = !ERR_SYSTEM_ERROR(e) && (flags & ERR_TXT_STRING) && data && *data;
		int k;

		if (!r || strcmp(r, "system lib") == 0 || (last && strcmp(r, last) == 0) ||
		    n + 1 >= size)
			continue; /* drain the rest */
		k = snprintf(out + n, size - n, "%s%s%s%s%s", n ? "; " : "", r,
		             with_data ? " (" : "", with_data ? data : "", with_data ? ")" : "");
		n += k > 0 ? (size_t)k : 0;
		last = r;
	}
	if (!out[0])
		snprintf(out, size, "unknown TLS error");
}

static void tls_fail(struct slac_error *err, const char *what, const char *file)
{
	char r[200];

	tls_reasons(r, sizeof r);
	set_error(err, SLAC_ERR_LOCAL, PROTO_OK, "%s %s: %s", what, file ? file : "", r);
}

static int bio_sock_write(BIO *b, const char *buf, int len)
{
	int fd = (int)(intptr_t)BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = send(fd, buf, (size_t)len, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		BIO_set_retry_write(b);
	return (int)n;
}

static int bio_sock_read(BIO *b, char *buf, int len)
{
	int fd = (int)(intptr_t)BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = recv(fd, buf, (size_t)len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		BIO_set_retry_read(b);
	return (int)n;
}

static long bio_sock_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1; /* nothing buffered here */
	default:
		return 0;
	}
}

struct slac_tls *slac_tls_new(const struct slac_profile *p, struct slac_error *err)
{
	struct slac_tls *t = calloc(1, sizeof *t);
	const char *key = p->key ? p->key : p->cert;
	struct slac_error local;

	if (!err)
		err = &local;

	if (!t) {
		set_error(err, SLAC_ERR_LOCAL, PROTO_OK, "out of memory");
		return NULL;
	}
	t->refs = 1;
	ERR_clear_error();
	if (!p->cert) {
		set_error(err, SLAC_ERR_LOCAL, PROTO_OK,
		          "no client certificate: slad requires mutual TLS (--cert)");
		goto fail;
	}
	t->ctx = SSL_CTX_new(TLS_client_method());
	t->bio = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
	                      "slac socket");
	if (!t->ctx || !t->bio || !BIO_meth_set_write(t->bio, bio_sock_write) ||
	    !BIO_meth_set_read(t->bio, bio_sock_read) ||
	    !BIO_meth_set_ctrl(t->bio, bio_sock_ctrl)) {
		tls_fail(err, "cannot create a TLS context", NULL);
		goto fail;
	}
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	/* A peer closing without close_notify is a plain close to us; no
	 * renegotiation; partial writes from a moving buffer since the
	 * output queue shifts; idle read/write buffers released so 10,000
	 * sessions stay small. */
	SSL_CTX_set_options(t->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	                             SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	                             SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	if (p->ca ? SSL_CTX_load_verify_locations(t->ctx, p->ca, NULL) != 1
	          : SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
		tls_fail(err, "cannot load the CA file", p->ca ? p->ca : "(system)");
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(t->ctx, p->cert) != 1) {
		tls_fail(err, "cannot load the client certificate", p->cert);
		goto fail;
	}
	/* this also checks that the key matches the certificate */
	if (SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) != 1) {
		tls_fail(err, "cannot load the private key", key);
		goto fail;
	}
	return t;
fail:
	SSL_CTX_free(t->ctx);
	BIO_meth_free(t->bio);
	free(t);
	return NULL;
}

static struct slac_tls *tls_ref(struct slac_tls *t)
{
	__atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
	return t;
}

void slac_tls_free(struct slac_tls *t)
{
	if (!t || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	SSL_CTX_free(t->ctx);
	BIO_meth_free(t->bio);
	free(t);
}

/* ---------------------------------------------------------------------- */
/* the transport                                                           */
/* ---------------------------------------------------------------------- */

struct slac_client {
	struct slac_session *s;
	struct slac_tls *tls;
	SSL *ssl;
	int fd;
	enum slac_client_state state;
	char *host, *port, *server_name;
	int timeout_ms;
	int64_t deadline; /* connect..HELLO; 0: none */
	struct addrinfo *ai, *ai_next;
	bool want_write;           /* TLS must write before it can go on */
	bool in_step, close_later; /* a close from a callback */
	bool hello_failed;
	struct slac_error err;
};

struct slac_client *slac_client_new(struct slac_tls *tls, const struct slac_profile *p)
{
	struct slac_client *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	c->fd = -1;
	c->tls = tls_ref(tls);
	c->host = strdup(p->host ? p->host : "localhost");
	c->port = strdup(p->port ? p->port : SLAC_PORT_DEFAULT);
	c->server_name = p->server_name ? strdup(p->server_name) : NULL;
	c->s = slac_session_new(0, p->client_name);
	if (!c->host || !c->port || (p->server_name && !c->server_name) || !c->s) {
		slac_client_free(c);
		return NULL;
	}
	c->timeout_ms = p->timeout_ms > 0 ? p->timeout_ms : SLAC_TIMEOUT_DEFAULT_MS;
	set_error(&c->err, SLAC_ERR_CONN, PROTO_OK, "not connected");
	return c;
}

struct slac_session *slac_client_session(struct slac_client *c)
{
	return c->s;
}

/* Tear the connection down; the session keeps what may be replayed. */
static void client_drop(struct slac_client *c, const char *why)
{
	if (c->ssl) {
		SSL_free(c->ssl); /* frees the BIO; no close_notify on a failure */
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->ai)
		freeaddrinfo(c->ai);
	c->ai = c->ai_next = NULL;
	c->want_write = false;
	c->deadline = 0;
	c->state = SLAC_CLOSED;
	slac_session_disconnected(c->s, why);
}

/* A close we chose: tell the server with a close_notify (one try, never
 * blocking), so it logs a goodbye rather than a reset. */
static void client_goodbye(struct slac_client *c)
{
	if (c->ssl && (c->state == SLAC_HELLO || c->state == SLAC_READY)) {
		ERR_clear_error();
		(void)SSL_shutdown(c->ssl);
		ERR_clear_error();
	}
}

void slac_client_free(struct slac_client *c)
{
	if (!c)
		return;
	client_goodbye(c);
	if (c->state != SLAC_CLOSED)
		client_drop(c, "client freed");
	slac_session_free(c->s);
	slac_tls_free(c->tls);
	free(c->host);
	free(c->port);
	free(c->server_name);
	free(c);
}

void slac_client_close(struct slac_client *c)
{
	if (c->in_step) {
		c->close_later = true;
		return;
	}
	client_goodbye(c);
	if (c->state != SLAC_CLOSED)
		client_drop(c, "closed by the client");
	set_error(&c->err, SLAC_ERR_CONN, PROTO_OK, "closed by the client");
}

static int client_fail(struct slac_client *c, enum slac_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int client_fail(struct slac_client *c, enum slac_status st, const char *fmt, ...)
{
	va_list ap;

	c->err.status = st;
	c->err.code = PROTO_OK;
	va_start(ap, fmt);
	vsnprintf(c->err.message, sizeof c->err.message, fmt, ap);
	va_end(ap);
	client_drop(c, c->err.message);
	return -1;
}

/* A TLS call failed: the reason from OpenSSL's queue, errno, or the
 * certificate check, so the user reads "certificate verify failed
 * (hostname mismatch)" rather than "error 1". */
static int tls_error(struct slac_client *c, const char *what, int e, int saved)
{
	char r[160];
	long vr;

	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 &&
	                                   (saved == 0 || saved == ECONNRESET || saved == EPIPE))) {
		ERR_clear_error();
		if (c->s->err.status == SLAC_ERR_SERVER && c->s->err.code != PROTO_OK)
			return client_fail(c, SLAC_ERR_CONN,
			                   "connection to %s:%s closed by the server after %s %s",
			                   c->host, c->port, proto_err_name(c->s->err.code),
			                   c->s->err.message);
		return client_fail(c, SLAC_ERR_CONN, "%s: connection to %s:%s closed by the server",
		                   what, c->host, c->port);
	}
	if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
		return client_fail(c, SLAC_ERR_CONN, "%s with %s:%s: %s", what, c->host, c->port,
		                   strerror(saved));
	if (e == SSL_ERROR_SSL && strcmp(what, "TLS handshake") != 0)
		what = "TLS"; /* an alert, not a socket error */
	tls_reasons(r, sizeof r);
	vr = SSL_get_verify_result(c->ssl);
	if (vr != X509_V_OK)
		return client_fail(c, SLAC_ERR_CONN, "%s with %s:%s: %s (%s)", what, c->host,
		                   c->port, r, X509_verify_cert_error_string(vr));
	return client_fail(c, SLAC_ERR_CONN, "%s with %s:%s: %s", what, c->host, c->port, r);
}

static void client_hello_done(void *arg, const struct slac_answer *ans)
{
	struct slac_client *c = arg;

	if (ans->err.status == SLAC_OK) {
		c->state = SLAC_READY;
		c->deadline = 0;
	} else {
		c->hello_failed = true;
		c->err = ans->err;
	}
}

static int tls_start(struct slac_client *c)
{
	const char *name = c->server_name ? c->server_name : c->host;
	unsigned char addr[sizeof(struct in6_addr)];
	BIO *bio;
	bool ok;

	ERR_clear_error();
	c->ssl = SSL_new(c->tls->ctx);
	bio = c->ssl ? BIO_new(c->tls->bio) : NULL;
	if (!bio) {
		char r[160];

		tls_reasons(r, sizeof r);
		return client_fail(c, SLAC_ERR_LOCAL, "cannot create a TLS session: %s", r);
	}
	BIO_set_data(bio, (void *)(intptr_t)c->fd);
	BIO_set_init(bio, 1);
	SSL_set_bio(c->ssl, bio, bio);
	/* The server's certificate must name what we dialled (or what the
	 * profile says it is called): an address checks the IP SAN. */
	if (inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1) {
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), name) == 1;
	} else {
		SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		ok =
		    SSL_set_tlsext_host_name(c->ssl, name) == 1 && SSL_set1_host(c->ssl, name) == 1;
	}
	if (!ok)
		return client_fail(c, SLAC_ERR_LOCAL, "bad server name %s", name);
	SSL_set_connect_state(c->ssl);
	c->state = SLAC_HANDSHAKE;
	c->want_write = true; /* the ClientHello goes first */
	return 0;
}

/* Try the addresses left until one connects or is in progress. */
static int tcp_next(struct slac_client *c, int last_errno)
{
	int saved = last_errno;

	while (c->ai_next) {
		struct addrinfo *a = c->ai_next;
		int one = 1;

		c->ai_next = a->ai_next;
		c->fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		               a->ai_protocol);
		if (c->fd < 0) {
			saved = errno;
			continue;
		}
		/* small pipelined lines: do not wait for Nagle */
		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (connect(c->fd, a->ai_addr, a->ai_addrlen) == 0) {
			freeaddrinfo(c->ai);
			c->ai = c->ai_next = NULL;
			return tls_start(c);
		}
		if (errno == EINPROGRESS) {
			c->state = SLAC_CONNECTING;
			return 0;
		}
		saved = errno;
		close(c->fd);
		c->fd = -1;
	}
	return client_fail(c, SLAC_ERR_CONN, "cannot connect to %s:%s: %s", c->host, c->port,
	                   strerror(saved));
}

static void client_reset(struct slac_client *c)
{
	if (c->state != SLAC_CLOSED)
		client_drop(c, "reconnecting");
	c->hello_failed = false;
	c->close_later = false;
	c->deadline = now_ms() + c->timeout_ms;
}

int slac_client_start(struct slac_client *c)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	int rc;

	client_reset(c);
	rc = getaddrinfo(c->host, c->port, &hints, &c->ai);
	if (rc != 0) {
		c->ai = NULL;
		return client_fail(c, SLAC_ERR_CONN, "cannot resolve %s:%s: %s", c->host, c->port,
		                   rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
	}
	c->ai_next = c->ai;
	return tcp_next(c, ENOENT);
}

int slac_client_attach_fd(struct slac_client *c, int fd)
{
	int fl;

	client_reset(c);
	c->fd = fd;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return client_fail(c, SLAC_ERR_LOCAL, "cannot use descriptor %d: %s", fd,
		                   strerror(errno));
	return tls_start(c);
}

int slac_client_fd(const struct slac_client *c)
{
	return c->fd;
}

short slac_client_events(const struct slac_client *c)
{
	size_t n;

	switch (c->state) {
	case SLAC_CONNECTING:
		return POLLOUT;
	case SLAC_HANDSHAKE:
		return c->want_write ? POLLOUT : POLLIN;
	case SLAC_HELLO:
	case SLAC_READY:
		/* always reading: pushes come unasked */
		(void)slac_session_output(c->s, &n);
		return (short)(POLLIN | (c->want_write || n ? POLLOUT : 0));
	case SLAC_CLOSED:
		break;
	}
	return 0;
}

int slac_client_timeout_ms(const struct slac_client *c)
{
	int64_t left;

	if (c->state == SLAC_CLOSED || c->deadline == 0)
		return -1;
	left = c->deadline - now_ms();
	if (left < 0)
		return 0;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

enum slac_client_state slac_client_state(const struct slac_client *c)
{
	return c->state;
}

const struct slac_error *slac_client_error(const struct slac_client *c)
{
	return &c->err;
}

uint64_t slac_client_submit(struct slac_client *c, const char *verb, const json_object *body,
                            slac_done_fn *done, void *arg)
{
	return slac_session_submit(c->s, verb, body, done, arg);
}

static int client_flush(struct slac_client *c)
{
	const char *out;
	size_t len, w;
	int r, e, saved;

	while ((out = slac_session_output(c->s, &len)) != NULL) {
		ERR_clear_error();
		r = SSL_write_ex(c->ssl, out, len, &w);
		if (r == 1) {
			slac_session_consume(c->s, w);
			continue;
		}
		saved = errno;
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_WRITE) {
			c->want_write = true;
			return 0;
		}
		if (e == SSL_ERROR_WANT_READ)
			return 0; /* we always poll for reading */
		if (e == SSL_ERROR_SYSCALL) {
			/* A server refusing our certificate (TLS 1.3: after the
			 * handshake) sends an alert and closes.  The failed write
			 * would hide the alert: read it. */
			char b[256];

			ERR_clear_error();
			r = SSL_read_ex(c->ssl, b, sizeof b, &w);
			if (r != 1 && SSL_get_error(c->ssl, r) == SSL_ERROR_SSL)
				return tls_error(c, "TLS", SSL_ERROR_SSL, 0);
		}
		return tls_error(c, "write", e, saved);
	}
	c->want_write = false;
	return 0;
}

/* Bytes waiting in OpenSSL (a record read but not consumed) or in the
 * kernel.  Reading only then matters for memory: an SSL_read() that finds
 * nothing leaves OpenSSL's 16 KiB record buffer allocated, and 10,000 idle
 * sessions would each keep one (SSL_MODE_RELEASE_BUFFERS frees it only once
 * a record is consumed). */
static bool input_waiting(const struct slac_client *c)
{
	int n = 0;

	return SSL_has_pending(c->ssl) || (ioctl(c->fd, FIONREAD, &n) == 0 && n > 0);
}

static int client_read(struct slac_client *c, short revents)
{
	char buf[16384];
	size_t n;
	int r, saved;

	if (!(revents & (POLLIN | POLLHUP | POLLERR)) && !input_waiting(c))
		return 0;
	/* Until nothing is left: a record decrypted but not read would not
	 * wake poll() again. */
	do {
		ERR_clear_error();
		r = SSL_read_ex(c->ssl, buf, sizeof buf, &n);
		if (r == 1) {
			if (slac_session_input(c->s, buf, n) < 0) {
				c->err = *slac_session_error(c->s);
				client_drop(c, c->err.message);
				return -1;
			}
			if (c->hello_failed || c->close_later)
				return 0;
			continue;
		}
		saved = errno;
		switch (SSL_get_error(c->ssl, r)) {
		case SSL_ERROR_WANT_READ:
			goto idle;
		case SSL_ERROR_WANT_WRITE:
			c->want_write = true;
			return 0;
		default:
			return tls_error(c, "read", SSL_get_error(c->ssl, r), saved);
		}
	} while (input_waiting(c));
idle:
	/* Nothing half-read: give the record buffer back (it fails, and
	 * changes nothing, while a record is incomplete). */
	(void)!SSL_free_buffers(c->ssl);
	return 0;
}

static int step_io(struct slac_client *c, short revents)
{
	int r;

	if (c->state == SLAC_CONNECTING) {
		int soerr = 0;
		socklen_t sl = sizeof soerr;

		if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
			return 0;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
		if (soerr != 0) {
			close(c->fd);
			c->fd = -1;
			return tcp_next(c, soerr);
		}
		freeaddrinfo(c->ai);
		c->ai = c->ai_next = NULL;
		if (tls_start(c) < 0)
			return -1;
	}
	if (c->state == SLAC_HANDSHAKE) {
		ERR_clear_error();
		r = SSL_connect(c->ssl);
		if (r != 1) {
			int saved = errno, e = SSL_get_error(c->ssl, r);

			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
				return tls_error(c, "TLS handshake", e, saved);
			c->want_write = e == SSL_ERROR_WANT_WRITE;
			return 0;
		}
		c->want_write = false;
		c->state = SLAC_HELLO;
		if (slac_session_connected(c->s, client_hello_done, c) < 0) {
			c->err = *slac_session_error(c->s);
			client_drop(c, c->err.message);
			return -1;
		}
	}
	/* SLAC_HELLO or SLAC_READY */
	if (client_flush(c) < 0 || client_read(c, revents) < 0)
		return -1;
	if (c->hello_failed) {
		struct slac_error e = c->err;

		client_drop(c, "HELLO refused");
		c->err = e;
		return -1;
	}
	return c->close_later ? 0 : client_flush(c);
}

int slac_client_step(struct slac_client *c, short revents)
{
	int rc;

	if (c->state == SLAC_CLOSED)
		return -1;
	if (c->deadline && now_ms() >= c->deadline) {
		const char *what = c->state == SLAC_CONNECTING  ? "TCP connect"
		                   : c->state == SLAC_HANDSHAKE ? "TLS handshake"
		                                                : "HELLO answer";

		return client_fail(c, SLAC_ERR_CONN, "%s to %s:%s timed out after %d ms", what,
		                   c->host, c->port, c->timeout_ms);
	}
	c->in_step = true;
	rc = step_io(c, revents);
	c->in_step = false;
	if (c->close_later) {
		c->close_later = false;
		slac_client_close(c);
		return -1;
	}
	return rc;
}

/* ---------------------------------------------------------------------- */
/* the blocking API                                                        */
/* ---------------------------------------------------------------------- */

/* Wait for the client's events up to `left` ms (-1: forever) and step. */
static int wait_step(struct slac_client *c, int64_t left)
{
	struct pollfd pfd = {.fd = c->fd, .events = slac_client_events(c)};
	int t = slac_client_timeout_ms(c);
	int n;

	if (left >= 0 && (t < 0 || left < t))
		t = left > INT32_MAX ? INT32_MAX : (int)left;
	n = poll(&pfd, 1, t);
	if (n < 0 && errno != EINTR)
		return client_fail(c, SLAC_ERR_LOCAL, "poll: %s", strerror(errno));
	return slac_client_step(c, n > 0 ? pfd.revents : 0);
}

enum slac_status slac_client_connect(struct slac_client *c, int timeout_ms, struct slac_error *err)
{
	int saved = c->timeout_ms;
	int rc;

	if (timeout_ms > 0)
		c->timeout_ms = timeout_ms;
	rc = slac_client_start(c);
	while (rc == 0 && c->state != SLAC_READY)
		rc = wait_step(c, -1);
	c->timeout_ms = saved;
	if (rc == 0)
		return SLAC_OK;
	if (err)
		*err = c->err;
	return c->err.status;
}

struct slac_client *slac_connect(const struct slac_profile *p, struct slac_error *err)
{
	struct slac_error local;
	struct slac_tls *tls;
	struct slac_client *c;

	if (!err)
		err = &local;
	tls = slac_tls_new(p, err);
	if (!tls)
		return NULL;
	c = slac_client_new(tls, p);
	slac_tls_free(tls); /* the client holds its own reference */
	if (!c) {
		set_error(err, SLAC_ERR_LOCAL, PROTO_OK, "out of memory");
		return NULL;
	}
	if (slac_client_connect(c, 0, err) != SLAC_OK) {
		slac_client_free(c);
		return NULL;
	}
	return c;
}

struct call_wait {
	bool done;
	struct slac_answer *ans;
};

static void call_done(void *arg, const struct slac_answer *ans)
{
	struct call_wait *w = arg;

	w->done = true;
	w->ans->err = ans->err;
	w->ans->body = json_object_get(ans->body);
}

enum slac_status slac_call(struct slac_client *c, const char *verb, const json_object *body,
                           struct slac_answer *ans, int timeout_ms)
{
	struct call_wait w = {.done = false, .ans = ans};
	int64_t deadline, left;
	bool reconnected = false;
	uint64_t id;

	memset(ans, 0, sizeof *ans);
	if (timeout_ms == 0)
		timeout_ms = c->timeout_ms;
	deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	id = slac_client_submit(c, verb, body, call_done, &w);
	if (!id) {
		ans->err = *slac_session_error(c->s);
		return ans->err.status;
	}
	while (!w.done) {
		left = deadline ? deadline - now_ms() : -1;
		if (deadline && left <= 0) {
			slac_session_cancel(c->s, id);
			set_error(&ans->err, SLAC_ERR_TIMEOUT, PROTO_ERR_TIMEOUT,
			          "no answer to %s within %d ms", verb, timeout_ms);
			return SLAC_ERR_TIMEOUT;
		}
		if (c->state == SLAC_CLOSED) {
			/* Once: a dead server should fail the call, not spin. */
			if (reconnected || slac_client_start(c) < 0) {
				slac_session_cancel(c->s, id);
				if (!w.done)
					ans->err = c->err;
				break;
			}
			reconnected = true;
			continue;
		}
		(void)wait_step(c, left);
	}
	return ans->err.status;
}

enum slac_status slac_watch(struct slac_client *c, const struct slac_watch_opts *o,
                            struct slac_error *err)
{
	int cap = o->reconnect_max_ms > 0 ? o->reconnect_max_ms : 30000;
	int backoff = cap < 250 ? cap : 250;
	bool extra = o->extra_fd >= 0 && o->on_extra, down = false;
	int64_t retry_at = 0;
	struct slac_error local;

	if (!err)
		err = &local;
	memset(err, 0, sizeof *err);
	if (o->on_push)
		slac_session_set_push_cb(c->s, o->on_push, o->arg);
	for (;;) {
		struct pollfd pfd[2];
		int nfds = 0, timeout, n, ci = -1, xi = -1;
		int64_t now = now_ms();

		if (o->stop && *o->stop)
			return SLAC_OK;
		if (c->state == SLAC_CLOSED) {
			if (!down) {
				down = true;
				if (o->on_link)
					o->on_link(o->arg, false, &c->err);
				if (o->reconnect_max_ms < 0) {
					*err = c->err;
					return err->status;
				}
				retry_at = now + backoff;
				backoff = backoff * 2 > cap ? cap : backoff * 2;
			}
			if (now >= retry_at) {
				if (slac_client_start(c) < 0) {
					retry_at = now + backoff;
					backoff = backoff * 2 > cap ? cap : backoff * 2;
					if (o->on_link)
						o->on_link(o->arg, false, &c->err);
				}
				continue;
			}
			timeout = (int)(retry_at - now);
		} else {
			pfd[nfds] = (struct pollfd){.fd = c->fd, .events = slac_client_events(c)};
			ci = nfds++;
			timeout = slac_client_timeout_ms(c);
		}
		if (extra) {
			pfd[nfds] = (struct pollfd){.fd = o->extra_fd, .events = POLLIN};
			xi = nfds++;
		}
		n = poll(pfd, (nfds_t)nfds, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			set_error(err, SLAC_ERR_LOCAL, PROTO_OK, "poll: %s", strerror(errno));
			return err->status;
		}
		if (xi >= 0 && (pfd[xi].revents & POLLNVAL)) {
			extra = false;
		} else if (xi >= 0 && (pfd[xi].revents & (POLLIN | POLLHUP | POLLERR))) {
			int r = o->on_extra(o->arg);

			if (r > 0)
				return SLAC_OK;
			if (r < 0)
				extra = false;
		}
		if (ci >= 0 && c->state != SLAC_CLOSED) {
			if (slac_client_step(c, n > 0 ? pfd[ci].revents : 0) < 0) {
				if (down) {
					/* a reconnect attempt failed: wait longer */
					retry_at = now_ms() + backoff;
					backoff = backoff * 2 > cap ? cap : backoff * 2;
					if (o->on_link)
						o->on_link(o->arg, false, &c->err);
				}
				continue;
			}
			if (down && c->state == SLAC_READY) {
				down = false;
				backoff = cap < 250 ? cap : 250;
				if (o->on_link)
					o->on_link(o->arg, true, NULL);
			}
		}
	}
}
