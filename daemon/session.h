/*
 * session.h - TLS line sessions: the listener, per-connection deadlines and
 * caps, line framing, and the hand-off of each parsed request to its verb.
 *
 * A session is referenced by every request still waiting on the store; it is
 * freed when it is closed AND the last reference is gone, so an answer that
 * arrives after the client left is dropped, never written to freed memory.
 */
#ifndef SLAD_SESSION_H
#define SLAD_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <json-c/json.h>
#include <openssl/ssl.h>

#include "proto.h"

struct slad_config;
struct store;
struct server;
struct session;

/* Who is on the other end, as PostgreSQL says (never as the request says). */
struct principal {
	int64_t id;
	char name[64];
	unsigned role; /* one PROTO_ROLE_* bit */
	char tier[32];
	char team[64];
	char region[64];
};

/* A request handed to a verb: the session it came from (referenced), the
 * tag to answer with, and the parsed message (owned). */
/* How an internal request (no session: the HTTPS webhooks) learns its
 * answer: code PROTO_OK with the body, or an error code with a message. */
typedef void (*request_answer_fn)(void *arg, enum proto_err code, const json_object *body,
                                  const char *message);

struct request {
	struct session *sess; /* NULL for an internal request */
	struct server *srv;
	char tag[PROTO_TAG_MAX + 1];
	struct proto_msg msg;
	const struct proto_verb *verb;
	/* internal requests only */
	struct principal who;
	request_answer_fn on_answer;
	void *answer_arg;
};

/*
 * A request that did not come over a session -- a webhook turned into ALERT
 * -- for verbs_dispatch().  Takes `body` (a json-c reference); `who` is
 * copied.  The answer goes to fn(arg, ...), exactly once.  NULL on
 * allocation failure (body released).
 */
struct request *request_new_internal(struct server *srv, const struct principal *who,
                                     const char *verb, json_object *body, request_answer_fn fn,
                                     void *arg);

/* Start listening.  NULL with the reason in err. */
struct server *server_new(struct event_base *base, struct slad_config *cfg, SSL_CTX *ctx,
                          struct store *st, char *err, size_t errlen);
void server_free(struct server *srv);

/* SIGHUP: swap in a new TLS context for new sessions (old sessions keep
 * theirs) and a new configuration (caps and deadlines for new events). */
void server_reload(struct server *srv, SSL_CTX *ctx, struct slad_config *cfg);

/* SIGTERM: stop accepting, finish what is in flight, then close everyone.
 * `done` is called once when the last session is gone or the deadline hit. */
void server_drain(struct server *srv, void (*done)(void *arg), void *arg);

/* PRINCIPAL_UPDATE committed: sessions of `name` on this instance take the
 * new role, tier, team and region at once; a disabled principal's sessions
 * are closed with UNAUTHENTICATED. */
void server_principal_changed(struct server *srv, const char *name, const char *role,
                              const char *tier, const char *team, const char *region, bool active);
struct store *server_store(struct server *srv);
/* The verbs' context (struct app in verbs.h), set once at start. */
void server_set_app(struct server *srv, void *app);
void *server_app(struct server *srv);
const struct slad_config *server_config(struct server *srv);
size_t server_session_count(const struct server *srv);

/* Answer a request and release it.  The body is not consumed. */
void request_answer_ok(struct request *req, const json_object *body);
void request_answer_err(struct request *req, enum proto_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const struct principal *request_principal(const struct request *req);
/* Pushes (PROTOCOL.md "Pushes"): a subscribed session receives the
 * principal's pushes in seq order; `last_pushed` dedups resends. */
void request_set_subscribed(struct request *req, bool on);
/* Write `* EVENT seq body` to every subscribed session of the principal
 * that has not had this seq yet. */
void server_push(struct server *srv, int64_t principal_id, uint64_t seq, const char *event,
                 const json_object *body);
/* The lowest seq pushed to a subscribed session of the principal (the point
 * a catch-up must start after), or -1 if it has no subscribed session. */
int64_t server_subscriber_floor(const struct server *srv, int64_t principal_id);
/* Principals with a subscribed session here; up to cap ids into out. */
size_t server_subscribed_principals(const struct server *srv, int64_t *out, size_t cap);

/* PROTOCOL.md "HELLO first": whether this session has said HELLO. */
bool request_hello_done(const struct request *req);
void request_set_hello_done(struct request *req);
/* Close the session after this answer has been written (QUIT). */
void request_close_after(struct request *req);

#endif /* SLAD_SESSION_H */
