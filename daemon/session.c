/*
 * session.c - the TLS listener and line sessions (see session.h).
 *
 * Bad input is handled where it is read, once (OpenSMTPD's smtp_io()): an
 * over-long line gets LINE_TOO_LONG, the rest of it is discarded, and the
 * session carries on; a malformed line gets its specific code.
 *
 * Closing after a last line (an error that does not keep the connection, a
 * deadline, QUIT, shutdown) waits until the line has left: libevent 2.1's
 * bufferevent_flush() does nothing on OpenSSL bufferevents and their writes
 * are deferred to the loop, so freeing the bufferevent at once would drop
 * the line.  See session_finish().
 */
#include "session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <openssl/err.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "tls.h"
#include "verbs.h"

enum session_state {
	SESSION_HANDSHAKE, /* TLS handshake under way */
	SESSION_AUTH,      /* looking the principal up in PostgreSQL */
	SESSION_READY,
	SESSION_CLOSING, /* writing the last answer, then close (session_finish) */
	SESSION_CLOSED,  /* socket gone; waiting for the last reference */
};

#define ADDR_BUCKETS 1024
/* How long a closing session may take to write its last line and to see
 * the peer's end of the connection before it is closed regardless. */
#define SESSION_LINGER_MS 2000

struct addr_count {
	struct addr_count *next;
	char addr[INET6_ADDRSTRLEN];
	int count;
};

struct session {
	struct session *prev, *next;
	struct server *srv;
	struct bufferevent *bev;
	enum session_state state;
	struct principal who;
	char peer[INET6_ADDRSTRLEN + 8];
	char addr[INET6_ADDRSTRLEN];
	struct event *deadline;   /* handshake, line or idle, whichever applies */
	bool line_pending;        /* bytes of an unfinished line are buffered */
	bool discarding;          /* dropping the rest of an over-long line */
	bool reading_paused;      /* output over half the cap: back-pressure */
	bool hello_done;          /* PROTOCOL.md: HELLO first */
	bool subscribed;          /* SUBSCRIBE: pushes flow to this session */
	uint64_t last_pushed;     /* highest seq written here */
	bool lingering;           /* close_notify sent; waiting for the peer's end */
	const char *close_reason; /* SESSION_CLOSING: for the log (static) */
	struct request *quit;     /* the QUIT being answered, if any */
	char *final_line;         /* QUIT's answer, held until the others are out */
	size_t final_len;
	unsigned inflight; /* requests dispatched and not answered yet */
	int refs;
	uint64_t lines;
};

struct server {
	struct event_base *base;
	struct slad_config *cfg;
	SSL_CTX *ctx;
	struct store *store;
	struct evconnlistener *listener;
	struct session *sessions;
	size_t nsessions;
	struct addr_count *by_addr[ADDR_BUCKETS];
	void *app;
	bool draining;
	bool in_drain_check; /* server_check_drained() is finishing sessions */
	struct event *drain_timer;
	void (*drain_done)(void *arg);
	void *drain_arg;
};

static void session_close(struct session *s, const char *reason);
static void session_finish(struct session *s, const char *reason);
static void session_arm_deadline(struct session *s);
static void arm_ms(struct event *ev, int ms);

/* ---- per-address connection counts ---- */

static struct addr_count **addr_slot(struct server *srv, const char *addr)
{
	unsigned h = 5381;
	for (const char *p = addr; *p; p++)
		h = h * 33 + (unsigned char)*p;
	struct addr_count **slot = &srv->by_addr[h % ADDR_BUCKETS];
	while (*slot != NULL && strcmp((*slot)->addr, addr) != 0)
		slot = &(*slot)->next;
	return slot;
}

static int addr_count_add(struct server *srv, const char *addr, int delta)
{
	struct addr_count **slot = addr_slot(srv, addr);
	if (*slot == NULL) {
		if (delta <= 0)
			return 0;
		*slot = calloc(1, sizeof(**slot));
		if (*slot == NULL)
			return -1;
		snprintf((*slot)->addr, sizeof((*slot)->addr), "%s", addr);
	}
	(*slot)->count += delta;
	int now = (*slot)->count;
	if (now <= 0) {
		struct addr_count *gone = *slot;
		*slot = gone->next;
		free(gone);
	}
	return now;
}

/* ---- references ---- */

static void session_ref(struct session *s)
{
	s->refs++;
}

static void session_unref(struct session *s)
{
	if (--s->refs > 0)
		return;
	free(s);
}

/* ---- writing ---- */

static void session_write(struct session *s, const char *line, size_t len)
{
	/* After close_notify nothing more can be said. */
	if (s->state == SESSION_CLOSED || s->bev == NULL || s->lingering)
		return;
	struct evbuffer *out = bufferevent_get_output(s->bev);
	evbuffer_add(out, line, len);
	size_t queued = evbuffer_get_length(out);
	const struct slad_config *cfg = s->srv->cfg;
	if (queued > (size_t)cfg->output_cap_bytes) {
		/* A client that stops reading is cut off (DESIGN.md "Delivery");
		 * whatever it missed waits in PostgreSQL for its return. */
		session_close(s, "output_cap");
		return;
	}
	if (queued > (size_t)cfg->output_cap_bytes / 2 && !s->reading_paused &&
	    s->state == SESSION_READY) {
		/* Back-pressure: read no more requests until the client has taken
		 * its answers (write_cb resumes at a quarter of the cap).  The
		 * session deadline now measures the stall: a client that takes
		 * nothing for line_timeout_ms has stopped reading and is cut off
		 * as if it had reached the cap -- otherwise a client that sends
		 * requests and never reads would sit here for ever. */
		s->reading_paused = true;
		bufferevent_disable(s->bev, EV_READ);
		arm_ms(s->deadline, cfg->line_timeout_ms);
	}
}

static void session_send_err(struct session *s, const char *tag, enum proto_err code,
                             const char *message)
{
	size_t len;
	char *line = proto_format_err(tag, code, message, &len);
	if (line == NULL) {
		session_close(s, "out_of_memory");
		return;
	}
	session_write(s, line, len);
	free(line);
}

/* A request is answered: release it.  If a QUIT waits for the others
 * (PROTOCOL.md: QUIT is answered after every earlier request), the last of
 * them lets it out. */
static void request_release(struct request *req)
{
	struct session *s = req->sess;
	s->inflight--;
	if (s->final_line != NULL && s->inflight == 0) {
		session_write(s, s->final_line, s->final_len);
		free(s->final_line);
		s->final_line = NULL;
		session_finish(s, "quit");
	}
	proto_msg_clear(&req->msg);
	session_unref(s);
	free(req);
}

/* An internal request's answer goes to its callback, not to a session. */
static bool answer_internal(struct request *req, enum proto_err code, const json_object *body,
                            const char *message)
{
	if (req->sess != NULL)
		return false;
	req->on_answer(req->answer_arg, code, body, message);
	proto_msg_clear(&req->msg);
	free(req);
	return true;
}

struct request *request_new_internal(struct server *srv, const struct principal *who,
                                     const char *verb, json_object *body, request_answer_fn fn,
                                     void *arg)
{
	struct request *req = calloc(1, sizeof(*req));
	if (req == NULL) {
		json_object_put(body);
		return NULL;
	}
	req->srv = srv;
	req->who = *who;
	req->on_answer = fn;
	req->answer_arg = arg;
	snprintf(req->tag, sizeof(req->tag), "internal");
	req->msg.kind = PROTO_MSG_REQUEST;
	snprintf(req->msg.tag, sizeof(req->msg.tag), "internal");
	snprintf(req->msg.verb, sizeof(req->msg.verb), "%s", verb);
	req->msg.body = body;
	return req;
}

void request_answer_ok(struct request *req, const json_object *body)
{
	metrics_answered(req->msg.verb, PROTO_OK);
	if (answer_internal(req, PROTO_OK, body, NULL))
		return;
	struct session *s = req->sess;
	size_t len;
	char *line = proto_format_ok(req->tag, body, &len);
	if (line == NULL) {
		session_close(s, "out_of_memory");
	} else if (req == s->quit && s->inflight > 1) {
		s->final_line = line; /* written by the last other answer */
		s->final_len = len;
		line = NULL;
	} else {
		session_write(s, line, len);
		if (req == s->quit)
			session_finish(s, "quit");
	}
	free(line);
	request_release(req);
}

void request_answer_err(struct request *req, enum proto_err code, const char *fmt, ...)
{
	char message[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	metrics_answered(req->msg.verb, code);
	if (answer_internal(req, code, NULL, message))
		return;
	session_send_err(req->sess, req->tag, code, message);
	request_release(req);
}

const struct principal *request_principal(const struct request *req)
{
	return req->sess ? &req->sess->who : &req->who;
}

void request_set_subscribed(struct request *req, bool on)
{
	if (req->sess == NULL)
		return;
	req->sess->subscribed = on;
	if (on)
		req->sess->last_pushed = 0; /* a new SUBSCRIBE resends the backlog */
}

void server_push(struct server *srv, int64_t principal_id, uint64_t seq, const char *event,
                 const json_object *body)
{
	char *line = NULL;
	size_t len = 0;
	struct session *s = srv->sessions;
	while (s != NULL) {
		struct session *next = s->next; /* a cut-off client unlinks s */
		if (s->subscribed && s->state == SESSION_READY && s->who.id == principal_id &&
		    seq > s->last_pushed) {
			if (line == NULL)
				line = proto_format_push(event, seq, body, &len);
			if (line == NULL)
				break;
			s->last_pushed = seq;
			session_write(s, line, len);
		}
		s = next;
	}
	free(line);
}

int64_t server_subscriber_floor(const struct server *srv, int64_t principal_id)
{
	int64_t floor = -1;
	for (const struct session *s = srv->sessions; s != NULL; s = s->next)
		if (s->subscribed && s->state == SESSION_READY && s->who.id == principal_id &&
		    (floor < 0 || (int64_t)s->last_pushed < floor))
			floor = (int64_t)s->last_pushed;
	return floor;
}

size_t server_subscribed_principals(const struct server *srv, int64_t *out, size_t cap)
{
	size_t n = 0;
	for (const struct session *s = srv->sessions; s != NULL && n < cap; s = s->next) {
		if (!s->subscribed || s->state != SESSION_READY)
			continue;
		bool seen = false;
		for (size_t i = 0; i < n && !seen; i++)
			seen = out[i] == s->who.id;
		if (!seen)
			out[n++] = s->who.id;
	}
	return n;
}

bool request_hello_done(const struct request *req)
{
	return req->sess == NULL || req->sess->hello_done;
}

void request_set_hello_done(struct request *req)
{
	if (req->sess != NULL)
		req->sess->hello_done = true;
}

void request_close_after(struct request *req)
{
	/* Read no further line; request_answer_ok() writes the answer once the
	 * earlier requests are answered, then the session finishes. */
	struct session *s = req->sess;
	if (s == NULL)
		return;
	if (s->quit == NULL && s->state == SESSION_READY) {
		s->quit = req;
		bufferevent_disable(s->bev, EV_READ);
	}
}

/* ---- closing ---- */

static void server_check_drained(struct server *srv);

static void session_close(struct session *s, const char *reason)
{
	if (s->state == SESSION_CLOSED)
		return;
	struct server *srv = s->srv;
	log_info("event=session_close peer=%s principal=%s reason=%s lines=%llu", s->peer,
	         s->who.name[0] ? s->who.name : "-", reason, (unsigned long long)s->lines);
	s->state = SESSION_CLOSED;
	metrics_sessions_move(s->who.role, 0);
	if (s->deadline != NULL) {
		event_free(s->deadline);
		s->deadline = NULL;
	}
	if (s->bev != NULL) {
		/* Say goodbye properly (close_notify) where TLS is up and it was
		 * not said yet; a peer that is gone makes this a no-op, and we
		 * never wait for its reply.  Whatever is still queued is dropped:
		 * closing after a last line goes through session_finish(). */
		SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
		if (ssl != NULL && SSL_is_init_finished(ssl) &&
		    !(SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN))
			SSL_shutdown(ssl);
		bufferevent_free(s->bev);
		s->bev = NULL;
	}
	free(s->final_line);
	s->final_line = NULL;
	if (s->prev)
		s->prev->next = s->next;
	else
		srv->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	srv->nsessions--;
	addr_count_add(srv, s->addr, -1);
	/* Accepting may have stopped when descriptors ran out. */
	if (!srv->draining && srv->listener)
		evconnlistener_enable(srv->listener);
	session_unref(s);
	server_check_drained(srv);
}

/*
 * Everything queued has been handed to the kernel: say close_notify.  If
 * the peer sent bytes we never read, closing now would answer with a TCP
 * reset, which can destroy our last line on its way; so shut our side,
 * discard what comes until the peer closes too (or the linger deadline
 * passes), then close.  Otherwise close at once.
 */
static void session_linger(struct session *s)
{
	s->lingering = true;
	SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
	if (ssl != NULL && SSL_is_init_finished(ssl))
		SSL_shutdown(ssl);
	evutil_socket_t fd = bufferevent_getfd(s->bev);
	int unread = 0;
	if (fd < 0 || ioctl(fd, FIONREAD, &unread) != 0 || unread == 0) {
		session_close(s, s->close_reason);
		return;
	}
	shutdown(fd, SHUT_WR);
	bufferevent_enable(s->bev, EV_READ);
}

/* Close once what is queued (the last line) has been written, within
 * SESSION_LINGER_MS.  No further line is read. */
static void session_finish(struct session *s, const char *reason)
{
	if (s->state == SESSION_CLOSED || s->state == SESSION_CLOSING)
		return;
	if (s->bev == NULL || s->state == SESSION_HANDSHAKE) {
		session_close(s, reason);
		return;
	}
	s->state = SESSION_CLOSING;
	s->close_reason = reason;
	bufferevent_disable(s->bev, EV_READ);
	arm_ms(s->deadline, SESSION_LINGER_MS);
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
		session_linger(s);
	/* else session_write_cb() lingers once the output is written */
}

/* ---- lines ---- */

static void session_handle_line(struct session *s, const char *line, size_t len)
{
	s->lines++;
	if (len == 0)
		return; /* PROTOCOL.md: an empty line is ignored */
	struct proto_limits limits = proto_limits_default();
	limits.max_line = (size_t)s->srv->cfg->max_line_bytes;
	struct request *req = calloc(1, sizeof(*req));
	if (req == NULL) {
		session_close(s, "out_of_memory");
		return;
	}
	struct proto_error perr;
	memset(&perr, 0, sizeof(perr));
	enum proto_err rc =
	    proto_parse_line(line, len, PROTO_FROM_CLIENT, &limits, &req->msg, &perr);
	if (rc == PROTO_OK && req->msg.kind != PROTO_MSG_REQUEST)
		rc = PROTO_ERR_SYNTAX;
	if (rc != PROTO_OK) {
		const char *tag = perr.tag[0] ? perr.tag : "*";
		session_send_err(s, tag, rc, perr.detail[0] ? perr.detail : proto_err_name(rc));
		free(req);
		if (!proto_err_keeps_connection(rc))
			session_finish(s, proto_err_name(rc));
		return;
	}
	req->sess = s;
	req->srv = s->srv;
	snprintf(req->tag, sizeof(req->tag), "%s", req->msg.tag);
	session_ref(s);
	s->inflight++;
	if (s->srv->draining) {
		request_answer_err(req, PROTO_ERR_SHUTTING_DOWN, "server is shutting down");
		return;
	}
	verbs_dispatch(req);
}

static void session_read_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t max_line = (size_t)s->srv->cfg->max_line_bytes;
	if (s->state == SESSION_CLOSING) {
		/* Lingering (or a last read racing session_finish): nobody will
		 * answer these bytes. */
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	bool progress = false; /* a line (or a discarded one) was consumed */
	session_ref(s);        /* a verb may close the session under us */
	while (s->state == SESSION_READY && !s->reading_paused && s->quit == NULL) {
		size_t avail = evbuffer_get_length(in);
		if (avail == 0)
			break;
		struct evbuffer_ptr eol = evbuffer_search(in, "\n", 1, NULL);
		if (s->discarding) {
			if (eol.pos < 0) {
				evbuffer_drain(in, avail);
				break;
			}
			evbuffer_drain(in, (size_t)eol.pos + 1);
			s->discarding = false;
			progress = true;
			continue;
		}
		if (eol.pos < 0) {
			if (avail > max_line + 1) { /* +1: room for a CR */
				/* Redis-style: the limit sits next to the search. */
				session_send_err(s, "*", PROTO_ERR_LINE_TOO_LONG,
				                 "line exceeds the maximum length");
				s->discarding = true;
				evbuffer_drain(in, avail);
			}
			break;
		}
		size_t len = (size_t)eol.pos;
		if (len > max_line + 1) {
			session_send_err(s, "*", PROTO_ERR_LINE_TOO_LONG,
			                 "line exceeds the maximum length");
			evbuffer_drain(in, len + 1);
			progress = true;
			continue;
		}
		char *line = (char *)evbuffer_pullup(in, (ssize_t)len + 1);
		if (len > 0 && line[len - 1] == '\r')
			len--;
		session_handle_line(s, line, len);
		progress = true;
		if (s->state != SESSION_CLOSED && s->bev != NULL)
			evbuffer_drain(in, (size_t)eol.pos + 1);
	}
	if (s->state == SESSION_READY) {
		/* A completed line ends its deadline: what is buffered now is a
		 * new line, with a deadline of its own. */
		if (progress)
			s->line_pending = false;
		session_arm_deadline(s);
	}
	session_unref(s);
}

static void session_write_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	struct evbuffer *out = bufferevent_get_output(bev);
	size_t left = evbuffer_get_length(out);
	if (s->state == SESSION_CLOSING) {
		if (left == 0 && !s->lingering)
			session_linger(s);
		return;
	}
	if (s->reading_paused && s->state == SESSION_READY &&
	    left <= (size_t)s->srv->cfg->output_cap_bytes / 4) {
		s->reading_paused = false;
		if (s->quit == NULL)
			bufferevent_enable(bev, EV_READ);
		s->line_pending = false; /* the stall deadline is over */
		session_read_cb(bev, s); /* lines may already be waiting */
	}
}

/* ---- deadlines ---- */

static void session_deadline_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	struct session *s = arg;
	switch (s->state) {
	case SESSION_HANDSHAKE:
		session_close(s, "handshake_timeout");
		break;
	case SESSION_READY:
		if (s->reading_paused) {
			/* It took none of its answers for a whole deadline. */
			session_close(s, "output_cap");
		} else if (s->line_pending) {
			session_send_err(s, "*", PROTO_ERR_TIMEOUT, "line not completed in time");
			session_finish(s, "line_timeout");
		} else {
			session_send_err(s, "*", PROTO_ERR_TIMEOUT, "idle too long");
			session_finish(s, "idle_timeout");
		}
		break;
	case SESSION_CLOSING:
		session_close(s, s->close_reason);
		break;
	default:
		break;
	}
}

static void arm_ms(struct event *ev, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	evtimer_add(ev, &tv);
}

/*
 * Idle deadline while nothing is buffered; the line deadline from the first
 * byte of an unfinished line, NOT re-armed by each further byte, so a client
 * sending one byte every few seconds is cut off all the same.  An over-long
 * line being discarded is still an unfinished line.  While reading is
 * paused the stall deadline set by session_write() stands.
 */
static void session_arm_deadline(struct session *s)
{
	if (s->reading_paused)
		return;
	bool pending =
	    s->discarding || (s->bev && evbuffer_get_length(bufferevent_get_input(s->bev)) > 0);
	if (pending && s->line_pending)
		return;
	s->line_pending = pending;
	arm_ms(s->deadline, pending ? s->srv->cfg->line_timeout_ms : s->srv->cfg->idle_timeout_ms);
}

/* ---- authentication ---- */

static void session_auth_done(void *arg, enum store_status status, PGresult *res)
{
	struct session *s = arg;
	if (s->state != SESSION_AUTH) {
		session_unref(s);
		return;
	}
	if (status != STORE_DONE || PQresultStatus(res) != PGRES_TUPLES_OK) {
		session_send_err(s, "*", PROTO_ERR_UNAVAILABLE,
		                 "database unavailable, retry later");
		session_finish(s, "auth_store_unavailable");
	} else if (PQntuples(res) != 1) {
		log_warn("event=auth_refused peer=%s principal=%s reason=unknown_or_inactive",
		         s->peer, s->who.name);
		session_send_err(s, "*", PROTO_ERR_UNAUTHENTICATED,
		                 "certificate names no active principal");
		session_finish(s, "unknown_principal");
	} else {
		s->who.id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		s->who.role = proto_role_parse(PQgetvalue(res, 0, 1));
		snprintf(s->who.tier, sizeof(s->who.tier), "%s", PQgetvalue(res, 0, 2));
		snprintf(s->who.team, sizeof(s->who.team), "%s", PQgetvalue(res, 0, 3));
		snprintf(s->who.region, sizeof(s->who.region), "%s", PQgetvalue(res, 0, 4));
		s->state = SESSION_READY;
		metrics_sessions_move(0, s->who.role);
		log_info("event=session_ready peer=%s principal=%s role=%s", s->peer, s->who.name,
		         proto_role_name((enum proto_role)s->who.role));
		bufferevent_enable(s->bev, EV_READ);
		session_read_cb(s->bev, s); /* lines sent right after the handshake */
	}
	session_unref(s);
}

static void session_start_auth(struct session *s)
{
	SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
	if (tls_peer_principal(ssl, s->who.name, sizeof(s->who.name)) != 0) {
		log_warn("event=auth_refused peer=%s reason=no_usable_certificate_cn", s->peer);
		session_send_err(s, "*", PROTO_ERR_UNAUTHENTICATED, "client certificate has no CN");
		session_finish(s, "no_cn");
		return;
	}
	s->state = SESSION_AUTH;
	evtimer_del(s->deadline);
	bufferevent_disable(s->bev, EV_READ); /* lines wait until we know who */
	static const char sql[] = "SELECT id, role, coalesce(tier, ''), coalesce(team, ''), "
	                          "coalesce(region, '') FROM principals "
	                          "WHERE name = $1 AND active";
	const char *params[1] = {s->who.name};
	session_ref(s);
	if (store_submit(s->srv->store, sql, 1, params, session_auth_done, s) != 0) {
		session_unref(s);
		session_send_err(s, "*", PROTO_ERR_UNAVAILABLE,
		                 "database unavailable, retry later");
		session_finish(s, "auth_store_unavailable");
	}
}

static void session_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	if (what & BEV_EVENT_CONNECTED) {
		session_start_auth(s);
		return;
	}
	if (s->state == SESSION_CLOSING) {
		/* The peer's end while lingering: what we waited for. */
		session_close(s, s->close_reason);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		session_close(s, "peer_closed");
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		int sock_err = EVUTIL_SOCKET_ERROR();
		char why[512];
		tls_error_reason(bufferevent_openssl_get_ssl(bev), why, sizeof(why));
		/* libevent has already moved OpenSSL's error queue into its own
		 * list: the reason ("peer did not return a certificate",
		 * "unsupported protocol") is there. */
		unsigned long errs[8], e;
		size_t n = 0;
		while ((e = bufferevent_get_openssl_error(bev)) != 0)
			if (n < sizeof(errs) / sizeof(errs[0]))
				errs[n++] = e;
		while (n-- > 0) { /* handed back newest first */
			if (ERR_GET_LIB(errs[n]) == 0)
				continue; /* not an OpenSSL error code */
			size_t used = strlen(why);
			char one[256];
			ERR_error_string_n(errs[n], one, sizeof(one));
			snprintf(why + used, sizeof(why) - used, "%s%s", used ? "; " : "", one);
		}
		if (why[0] == '\0')
			snprintf(why, sizeof(why), "%s",
			         sock_err ? strerror(sock_err) : "connection closed");
		char q[600];
		log_warn("event=%s peer=%s reason=%s",
		         s->state == SESSION_HANDSHAKE ? "tls_handshake_failed" : "session_error",
		         s->peer, log_quote(q, sizeof(q), why));
		session_close(s, s->state == SESSION_HANDSHAKE ? "tls_handshake_failed" : "error");
	}
}

/* ---- accepting ---- */

static void accept_cb(struct evconnlistener *lst, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
	(void)lst;
	(void)salen;
	struct server *srv = arg;
	char addr[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr));
		port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr));
		port = ntohs(in6->sin6_port);
	}
	if (srv->draining || srv->nsessions >= (size_t)srv->cfg->max_connections) {
		log_warn("event=connection_refused peer=%s:%d reason=%s", addr, port,
		         srv->draining ? "draining" : "max_connections");
		evutil_closesocket(fd);
		return;
	}
	int per_addr = addr_count_add(srv, addr, 1);
	if (per_addr < 0 || per_addr > srv->cfg->max_connections_per_addr) {
		addr_count_add(srv, addr, -1);
		log_warn("event=connection_refused peer=%s:%d reason=max_connections_per_addr",
		         addr, port);
		evutil_closesocket(fd);
		return;
	}
	/* Answers are small and pipelined: do not let Nagle hold them back
	 * waiting for the client's delayed ACK. */
	int one = 1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct session *s = calloc(1, sizeof(*s));
	SSL *ssl = s ? SSL_new(srv->ctx) : NULL;
	if (ssl == NULL) {
		free(s);
		addr_count_add(srv, addr, -1);
		evutil_closesocket(fd);
		return;
	}
	s->srv = srv;
	s->refs = 1; /* the socket's own reference, dropped by session_close */
	snprintf(s->addr, sizeof(s->addr), "%s", addr);
	snprintf(s->peer, sizeof(s->peer), "%s:%d", addr, port);
	s->bev = bufferevent_openssl_socket_new(srv->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
	                                        BEV_OPT_CLOSE_ON_FREE);
	if (s->bev == NULL) {
		/* libevent 2.1 trap: the SSL is freed already, the socket is not. */
		evutil_closesocket(fd);
		addr_count_add(srv, addr, -1);
		free(s);
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(s->bev, 1);
	s->deadline = evtimer_new(srv->base, session_deadline_cb, s);
	bufferevent_setcb(s->bev, session_read_cb, session_write_cb, session_event_cb, s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	s->next = srv->sessions;
	if (srv->sessions)
		srv->sessions->prev = s;
	srv->sessions = s;
	srv->nsessions++;
	s->state = SESSION_HANDSHAKE;
	arm_ms(s->deadline, srv->cfg->handshake_timeout_ms);
	log_debug("event=session_open peer=%s", s->peer);
}

static void accept_error_cb(struct evconnlistener *lst, void *arg)
{
	struct server *srv = arg;
	int err = EVUTIL_SOCKET_ERROR();
	/* Out of descriptors: stop accepting until a session closes, rather
	 * than spin on a listener that is always readable. */
	log_warn("event=accept_failed reason=%s", evutil_socket_error_to_string(err));
	if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
		if (srv->nsessions > 0)
			evconnlistener_disable(lst);
	}
}

struct server *server_new(struct event_base *base, struct slad_config *cfg, SSL_CTX *ctx,
                          struct store *st, char *err, size_t errlen)
{
	char host[256];
	int port;
	if (config_split_hostport(cfg->listen, host, sizeof(host), &port) != 0) {
		snprintf(err, errlen, "listen: bad address '%s'", cfg->listen);
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
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		sslen = sizeof(*in6);
	} else {
		/* No DNS: resolving would block (DESIGN.md). */
		snprintf(err, errlen, "listen: '%s' is not a numeric address", host);
		return NULL;
	}
	struct server *srv = calloc(1, sizeof(*srv));
	if (srv == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	srv->base = base;
	srv->cfg = cfg;
	srv->ctx = ctx;
	srv->store = st;
	srv->listener = evconnlistener_new_bind(
	    base, accept_cb, srv, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    1024, (struct sockaddr *)&ss, (int)sslen);
	if (srv->listener == NULL) {
		snprintf(err, errlen, "listen %s: %s", cfg->listen, strerror(errno));
		free(srv);
		return NULL;
	}
	evconnlistener_set_error_cb(srv->listener, accept_error_cb);
	return srv;
}

void server_free(struct server *srv)
{
	if (srv == NULL)
		return;
	while (srv->sessions != NULL)
		session_close(srv->sessions, "shutdown");
	if (srv->listener)
		evconnlistener_free(srv->listener);
	if (srv->drain_timer)
		event_free(srv->drain_timer);
	for (int i = 0; i < ADDR_BUCKETS; i++) {
		while (srv->by_addr[i]) {
			struct addr_count *next = srv->by_addr[i]->next;
			free(srv->by_addr[i]);
			srv->by_addr[i] = next;
		}
	}
	free(srv);
}

void server_reload(struct server *srv, SSL_CTX *ctx, struct slad_config *cfg)
{
	srv->ctx = ctx; /* sessions hold their own SSL references */
	srv->cfg = cfg;
}

static void server_check_drained(struct server *srv)
{
	if (!srv->draining || srv->drain_done == NULL)
		return;
	if (store_pending(srv->store) > 0 || srv->in_drain_check)
		return;
	/* Nothing in flight: everyone who got OK has it committed.  Tell each
	 * session, then wait (the drain timer polls) until each has written
	 * it and gone; the caller bounds the wait.  Closing a session comes
	 * back here, hence the guard. */
	srv->in_drain_check = true;
	for (struct session *s = srv->sessions, *next; s != NULL; s = next) {
		next = s->next;
		if (s->state == SESSION_CLOSING)
			continue;
		session_ref(s);
		if (s->state == SESSION_READY || s->state == SESSION_AUTH)
			session_send_err(s, "*", PROTO_ERR_SHUTTING_DOWN,
			                 "server is shutting down; reconnect");
		session_finish(s, "shutdown");
		session_unref(s);
	}
	srv->in_drain_check = false;
	if (srv->sessions != NULL)
		return;
	void (*done)(void *) = srv->drain_done;
	srv->drain_done = NULL;
	done(srv->drain_arg);
}

static void drain_tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	server_check_drained(arg);
}

void server_drain(struct server *srv, void (*done)(void *arg), void *arg)
{
	if (srv->draining)
		return;
	srv->draining = true;
	srv->drain_done = done;
	srv->drain_arg = arg;
	evconnlistener_disable(srv->listener);
	log_info("event=draining sessions=%zu pending=%zu", srv->nsessions,
	         store_pending(srv->store));
	/* Poll every 10 ms for in-flight work to finish; the caller enforces
	 * the overall drain deadline. */
	srv->drain_timer = event_new(srv->base, -1, EV_PERSIST, drain_tick_cb, srv);
	struct timeval tv = {0, 10000};
	event_add(srv->drain_timer, &tv);
	server_check_drained(srv);
}

void server_principal_changed(struct server *srv, const char *name, const char *role,
                              const char *tier, const char *team, const char *region, bool active)
{
	struct session *s = srv->sessions;
	while (s != NULL) {
		struct session *next = s->next; /* closing unlinks s */
		if (s->state == SESSION_READY && strcmp(s->who.name, name) == 0) {
			if (!active) {
				session_send_err(s, "*", PROTO_ERR_UNAUTHENTICATED,
				                 "principal disabled");
				session_finish(s, "principal_disabled"); /* the line must leave */
			} else {
				metrics_sessions_move(s->who.role,
				                      proto_role_parse(role ? role : ""));
				s->who.role = proto_role_parse(role ? role : "");
				snprintf(s->who.tier, sizeof(s->who.tier), "%s", tier ? tier : "");
				snprintf(s->who.team, sizeof(s->who.team), "%s", team ? team : "");
				snprintf(s->who.region, sizeof(s->who.region), "%s",
				         region ? region : "");
			}
		}
		s = next;
	}
}

void server_set_app(struct server *srv, void *app)
{
	srv->app = app;
}

void *server_app(struct server *srv)
{
	return srv->app;
}

struct store *server_store(struct server *srv)
{
	return srv->store;
}

const struct slad_config *server_config(struct server *srv)
{
	return srv->cfg;
}

size_t server_session_count(const struct server *srv)
{
	return srv->nsessions;
}
