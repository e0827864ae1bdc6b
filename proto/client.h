/*
 * client.h - the slad client library (proto/PROTOCOL.md): mutual TLS,
 * pipelined requests, numbered pushes with delivery receipts, and resume
 * after a reconnect.  slactl, the benchmark and the integration tests all
 * speak through it.
 *
 * Three layers, each usable on its own:
 *
 *   slac_session  the protocol state over byte buffers, no sockets: tags,
 *                 pending requests matched in any order, pushes with
 *                 duplicate dropping and automatic receipts, replay after a
 *                 reconnect.  Feed it bytes, take bytes from it.
 *   slac_client   one connection: TCP + OpenSSL 3, non-blocking.  The caller
 *                 polls slac_client_fd() for slac_client_events() and calls
 *                 slac_client_step(); thousands fit in one process.
 *   blocking      slac_connect(), slac_call(), slac_watch() for scripts and
 *                 slactl, built on the two layers above.
 *
 * Ownership: json bodies passed in are not consumed; bodies handed to
 * callbacks are borrowed for the duration of the call (json_object_get() to
 * keep one).  Callbacks may submit requests; they must not free the session
 * or client that called them (slac_client_close() from a callback is
 * deferred until the step returns).  Objects are not thread-safe: use each
 * from one thread at a time; a slac_tls may be shared by clients in any
 * thread.
 *
 * HELLO first (PROTOCOL.md): on every connection the session sends HELLO
 * alone and holds every other request until it is answered OK.
 *
 * Replay after a reconnect (DESIGN.md "Delivery"): a request the transport
 * never finished writing is always sent on the next connection.  A request
 * that was written but not answered is re-sent (same tag, same bytes) only
 * when a replay is safe: creating verbs (they carry a request_id -- the
 * library adds one if the body lacks it -- so the server answers a replay
 * with the original answer), PING, RECEIPT, SUBSCRIBE, UNSUBSCRIBE,
 * ACKNOWLEDGE (a second one "answers the first acknowledgement") and the
 * read-only queries (SHOW, LIST, FIND_CUSTOMER, CUSTOMER_SHOW, POLICY_SHOW,
 * RULES_SHOW, WARRANTY, COMPLIANCE, TASKS, STATS).  Every other written but
 * unanswered request (DISPATCH, ARRIVE, PAUSE, CLOSE...) fails at once with
 * SLAC_ERR_CONN and code PROTO_ERR_UNAVAILABLE: it may or may not have been
 * applied (a replay could answer INVALID_TRANSITION or CONFLICT for a change
 * that in fact succeeded), so only the caller can decide.
 *
 * Pushes: the highest sequence number seen is kept across reconnects; a
 * push at or below it is a duplicate and never reaches the callback.  Each
 * new push is receipted (RECEIPT {"seq":N}) right after the callback
 * returns.  A duplicate is receipted again only when no receipt for it is
 * in flight (the server evidently lacks it: PROTOCOL.md asks for this), so
 * no sequence number ever has two receipts outstanding.  An active
 * SUBSCRIBE is re-sent after every reconnect, since pushes start on a
 * session only with one.
 *
 * Memory: buffers grow on demand and are released when drained, and
 * OpenSSL's 16 KiB record buffer is given back whenever a session is idle;
 * an idle connected client costs about 28 KiB, nearly all of it OpenSSL's
 * (SSL object, keys, the peer's certificate).
 */
#ifndef SLAD_CLIENT_H
#define SLAD_CLIENT_H

#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "proto.h"

/* Where slad listens unless told otherwise. */
#define SLAC_PORT_DEFAULT "7443"
/* Incoming line cap: answers (a LIST) may be longer than the requests the
 * server accepts, so the client reads up to 16 times the request cap. */
#define SLAC_MAX_LINE_DEFAULT   (16 * PROTO_MAX_LINE_DEFAULT)
#define SLAC_TIMEOUT_DEFAULT_MS 10000
#define SLAC_MESSAGE_MAX        256
#define SLAC_REQUEST_ID_LEN     36 /* a UUID in text: 8-4-4-4-12 */

/* What became of a request or a connection. */
enum slac_status {
	SLAC_OK = 0,       /* the server answered OK */
	SLAC_ERR_SERVER,   /* the server answered ERR: code and message are its own */
	SLAC_ERR_CONN,     /* connection or TLS failure; message has OpenSSL's reason */
	SLAC_ERR_PROTOCOL, /* the server sent a line we cannot read */
	SLAC_ERR_TIMEOUT,  /* no answer in time (blocking API) */
	SLAC_ERR_LOCAL,    /* bad argument, bad configuration, out of memory */
};
const char *slac_status_name(enum slac_status status);

struct slac_error {
	enum slac_status status;
	/* SLAC_ERR_SERVER: the server's code.  SLAC_ERR_CONN for a request lost
	 * with its connection: PROTO_ERR_UNAVAILABLE.  Otherwise PROTO_OK. */
	enum proto_err code;
	char message[SLAC_MESSAGE_MAX];
};

/* The outcome of one request. */
struct slac_answer {
	struct slac_error err; /* err.status == SLAC_OK: body holds the answer */
	json_object *body;     /* OK payload; NULL otherwise */
};
/* Release an answer filled by slac_call() (drops the body reference). */
void slac_answer_clear(struct slac_answer *ans);

/* A request finished: answered, failed, or lost with its connection.  The
 * answer and its body are borrowed for the duration of the call. */
typedef void slac_done_fn(void *arg, const struct slac_answer *ans);
/* A push with a sequence number above every one seen before (duplicates
 * never get here).  Its delivery receipt is queued when this returns.
 * Unknown events come here too: show or ignore them. */
typedef void slac_push_fn(void *arg, const char *event, uint64_t seq, json_object *body);

/* Write a fresh random request_id (UUID v4) and its NUL into out. */
PROTO_MUSTCHECK int slac_request_id_new(char out[SLAC_REQUEST_ID_LEN + 1]);

/* ---------------------------------------------------------------------- */
/* The session layer: protocol state over byte buffers, no I/O.           */
/* ---------------------------------------------------------------------- */

struct slac_session;

struct slac_session_stats {
	uint64_t requests;        /* lines queued, internal ones included */
	uint64_t answers;         /* OK and ERR answers matched to a request */
	uint64_t pushes;          /* new pushes handed to the callback */
	uint64_t duplicates;      /* pushes dropped: seq <= the last one seen */
	uint64_t receipts;        /* RECEIPT requests queued */
	uint64_t replayed;        /* requests re-sent after a reconnect */
	uint64_t lost;            /* requests failed with UNAVAILABLE on a drop */
	uint64_t internal_errors; /* ERR answers to internal requests */
};

/* max_line caps incoming lines (0: SLAC_MAX_LINE_DEFAULT); client_name goes
 * into HELLO (may be NULL).  NULL on allocation failure. */
struct slac_session *slac_session_new(size_t max_line, const char *client_name);
/* Fails every pending request (SLAC_ERR_CONN, "session closed") -- those
 * callbacks must not submit -- then frees.  NULL is a no-op. */
void slac_session_free(struct slac_session *s);
/* Where new pushes go.  Set it before SUBSCRIBE: without one, pushes are
 * still receipted (PROTOCOL.md asks it of every client), so they are gone. */
void slac_session_set_push_cb(struct slac_session *s, slac_push_fn *fn, void *arg);

/*
 * Queue a request.  Returns its id (> 0; the tag on the wire is its decimal
 * text) or 0 with slac_session_error() saying why (unknown verb, line over
 * the server's cap, out of memory); done is not called then.  done may be
 * NULL.  A creating verb whose body has no request_id gets a fresh one.  A
 * SUBSCRIBE is remembered and re-sent after every reconnect until an
 * UNSUBSCRIBE or an ERR answer to it.  While offline the request waits for
 * slac_session_connected().
 */
PROTO_MUSTCHECK uint64_t slac_session_submit(struct slac_session *s, const char *verb,
                                             const json_object *body, slac_done_fn *done,
                                             void *arg);
/* Forget a request's callback (a caller that gave up waiting).  Its answer,
 * if one comes, is swallowed; if it was never written it is never sent. */
void slac_session_cancel(struct slac_session *s, uint64_t id);

/*
 * A new connection is up (TLS done).  Queues HELLO alone; when it is
 * answered OK, the remembered SUBSCRIBE follows, then every pending request
 * in submission order (see "Replay" above).  hello_done (may be NULL) gets
 * the HELLO answer.  0 or -1 (out of memory).
 */
PROTO_MUSTCHECK int slac_session_connected(struct slac_session *s, slac_done_fn *hello_done,
                                           void *arg);
/* The connection is gone.  Drops both buffers and fails the written,
 * unanswered requests that are not safe to replay; `why` goes into their
 * message.  The last push sequence number is kept. */
void slac_session_disconnected(struct slac_session *s, const char *why);
/* Fail every pending request with *why (giving up for good). */
void slac_session_fail_pending(struct slac_session *s, const struct slac_error *why);

/* Bytes to write: pointer and length (NULL/0 when nothing); after writing
 * n of them, consume n. */
const char *slac_session_output(const struct slac_session *s, size_t *len);
void slac_session_consume(struct slac_session *s, size_t n);
/*
 * Bytes read from the server, any split.  Complete lines are handled at
 * once: answers call their done callbacks, pushes the push callback.  An
 * unreadable or over-long answer fails its own request and the session goes
 * on; an unreadable line that names no pending request is fatal: -1, the
 * caller drops the connection (slac_session_error() says why).
 */
PROTO_MUSTCHECK int slac_session_input(struct slac_session *s, const char *data, size_t len);

/* The last error: a fatal input error, a refused submit, an ERR answer to
 * an internal request, or an untagged `* ERR` line from the server. */
const struct slac_error *slac_session_error(const struct slac_session *s);
/* True once HELLO was answered OK on the current connection. */
bool slac_session_ready(const struct slac_session *s);
/* The last HELLO answer (borrowed), NULL before the first. */
json_object *slac_session_hello(const struct slac_session *s);
/* Highest push sequence number seen; kept across reconnects.  A process
 * that saved it may restore it before connecting. */
uint64_t slac_session_last_seq(const struct slac_session *s);
void slac_session_set_last_seq(struct slac_session *s, uint64_t seq);
/* Requests waiting for an answer (internal ones included). */
size_t slac_session_pending(const struct slac_session *s);
struct slac_session_stats slac_session_stats(const struct slac_session *s);

/* ---------------------------------------------------------------------- */
/* The transport: TCP + TLS, non-blocking.                                 */
/* ---------------------------------------------------------------------- */

/* Connection settings.  Strings are borrowed by the call they are given to. */
struct slac_profile {
	const char *host;        /* name or address; NULL: "localhost" */
	const char *port;        /* NULL: SLAC_PORT_DEFAULT */
	const char *cert;        /* client certificate chain, PEM (required) */
	const char *key;         /* its private key, PEM; NULL: in the cert file */
	const char *ca;          /* CA file for the server; NULL: system store */
	const char *server_name; /* name (or address) the server's certificate
	                          * must carry; NULL: host */
	int timeout_ms;          /* connect + handshake + HELLO; 0: default */
	const char *client_name; /* sent in HELLO; NULL: "libslac" */
};

/* A TLS client context (an SSL_CTX with the certificates loaded, TLS >= 1.2,
 * the server verified against p->ca), shared by any number of clients;
 * reference-counted, so it may be freed while clients still use it.  NULL
 * with *err (may be NULL) filled: SLAC_ERR_LOCAL and OpenSSL's reason. */
struct slac_tls;
struct slac_tls *slac_tls_new(const struct slac_profile *p, struct slac_error *err);
void slac_tls_free(struct slac_tls *tls);

enum slac_client_state {
	SLAC_CLOSED,     /* no connection; slac_client_error() says why */
	SLAC_CONNECTING, /* TCP connect in progress */
	SLAC_HANDSHAKE,  /* TLS handshake in progress */
	SLAC_HELLO,      /* TLS up, HELLO sent, not answered yet */
	SLAC_READY,      /* HELLO answered OK */
};

struct slac_client;
/* A client on tls with p's host, port, server name, timeout and client
 * name (copied).  Starts closed.  NULL on allocation failure. */
struct slac_client *slac_client_new(struct slac_tls *tls, const struct slac_profile *p);
/* Closes the connection, then as slac_session_free().  NULL is a no-op. */
void slac_client_free(struct slac_client *c);
struct slac_session *slac_client_session(struct slac_client *c);

/*
 * Start (or restart) connecting: resolve (getaddrinfo, which blocks for a
 * DNS name -- use an address at scale), then a non-blocking connect.  The
 * session keeps its pending requests and last sequence number.  0, or -1
 * with slac_client_error() set (the state is then SLAC_CLOSED).
 */
PROTO_MUSTCHECK int slac_client_start(struct slac_client *c);
/* As slac_client_start() over an already connected stream socket (a
 * socketpair, an inherited fd), which the client now owns. */
PROTO_MUSTCHECK int slac_client_attach_fd(struct slac_client *c, int fd);
/* The descriptor to poll (-1 when closed) and the events wanted. */
int slac_client_fd(const struct slac_client *c);
short slac_client_events(const struct slac_client *c);
/* Milliseconds until the connect/handshake/HELLO deadline, -1 if none;
 * call slac_client_step(c, 0) when it passes. */
int slac_client_timeout_ms(const struct slac_client *c);
/*
 * Make progress: revents is what poll() reported (0 on a timeout).  Writes
 * queued requests, reads answers and pushes (running the callbacks).  0, or
 * -1 when the connection failed or closed (state SLAC_CLOSED,
 * slac_client_error() says why); pending requests stay for the next
 * slac_client_start() as documented under "Replay".
 */
PROTO_MUSTCHECK int slac_client_step(struct slac_client *c, short revents);
enum slac_client_state slac_client_state(const struct slac_client *c);
const struct slac_error *slac_client_error(const struct slac_client *c);
/* Close now, without QUIT; as a dropped connection for the session. */
void slac_client_close(struct slac_client *c);
/* slac_session_submit() on the client's session; poll for
 * slac_client_events() afterwards, it now wants to write. */
PROTO_MUSTCHECK uint64_t slac_client_submit(struct slac_client *c, const char *verb,
                                            const json_object *body, slac_done_fn *done, void *arg);

/* ---------------------------------------------------------------------- */
/* The blocking API.                                                       */
/* ---------------------------------------------------------------------- */

/* A client with its own TLS context, connected and past HELLO.  NULL with
 * *err (may be NULL) filled on failure: SLAC_ERR_LOCAL (certificates),
 * SLAC_ERR_CONN (TCP or TLS, with OpenSSL's reason) or, when HELLO was
 * refused, SLAC_ERR_SERVER with the server's code. */
struct slac_client *slac_connect(const struct slac_profile *p, struct slac_error *err);
/* (Re)connect c (closing an open connection first) and wait for HELLO's
 * answer, up to timeout_ms (0: the profile's). */
PROTO_MUSTCHECK enum slac_status slac_client_connect(struct slac_client *c, int timeout_ms,
                                                     struct slac_error *err);
/*
 * Send one request and wait for its answer, up to timeout_ms (0: the
 * profile's; < 0: forever).  A closed client is reconnected first, and a
 * connection lost while waiting is re-established once if the request is
 * safe to replay.  Returns ans->err.status; release ans with
 * slac_answer_clear().  Pushes arriving meanwhile go to the push callback.
 */
PROTO_MUSTCHECK enum slac_status slac_call(struct slac_client *c, const char *verb,
                                           const json_object *body, struct slac_answer *ans,
                                           int timeout_ms);

struct slac_watch_opts {
	slac_push_fn *on_push; /* installed as the push callback; NULL: keep */
	void *arg;             /* for every callback here */
	int extra_fd;          /* also polled for reading (e.g. stdin); -1: none */
	/* extra_fd is readable: return 0 to go on, 1 to end the watch, -1 to
	 * stop polling extra_fd (its end of file). */
	int (*on_extra)(void *arg);
	/* The connection went down or a reconnect attempt failed (up false,
	 * why set), or it came back past HELLO (up true, why NULL). */
	void (*on_link)(void *arg, bool up, const struct slac_error *why);
	int reconnect_max_ms;              /* backoff cap: 0 = 30 s; < 0 = do not reconnect */
	const volatile sig_atomic_t *stop; /* set by a signal handler: return */
};
/*
 * Stream pushes until on_extra ends it, *stop is set, or (reconnect_max_ms
 * < 0) the connection fails.  Reconnects with a doubling backoff; the
 * session re-sends HELLO and the SUBSCRIBE, and receipts go out as pushes
 * arrive.  SLAC_OK, or the failure with *err filled.
 */
PROTO_MUSTCHECK enum slac_status slac_watch(struct slac_client *c, const struct slac_watch_opts *o,
                                            struct slac_error *err);

#endif /* SLAD_CLIENT_H */
