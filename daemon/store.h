/*
 * store.h - PostgreSQL, asynchronously, inside the libevent loop.
 *
 * A small pool of non-blocking libpq connections.  Queries wait in one FIFO
 * and go to whichever connection is idle.  Nothing here blocks the loop after
 * start-up (DESIGN.md).  While no connection is up, submissions fail at once
 * as "unavailable" (the caller answers UNAVAILABLE, retryable) and the pool
 * reconnects with exponential back-off.  A connection that stops answering
 * is detected by TCP keepalives, tcp_user_timeout, the server's
 * statement_timeout and a client-side watchdog, whichever fires first.
 */
#ifndef SLAD_STORE_H
#define SLAD_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>
#include <libpq-fe.h>

struct store;
struct slad_config;

#define STORE_MAX_PARAMS 16

enum store_status {
	STORE_DONE,        /* the statement ran; look at PQresultStatus */
	STORE_UNAVAILABLE, /* never sent, or the connection died: outcome unknown */
};

/*
 * Called once per query.  `res` is owned by the store and cleared after the
 * callback returns; it is NULL when status is STORE_UNAVAILABLE.
 */
typedef void (*store_cb)(void *arg, enum store_status status, PGresult *res);

/* Create the pool and start connecting (non-blocking). */
struct store *store_new(struct event_base *base, const struct slad_config *cfg);
void store_free(struct store *st);

/*
 * Queue a parameterised statement.  `values` are copied; NULL entries are SQL
 * NULLs.  Returns 0, or -1 when the store is unavailable or the queue is full
 * -- then cb is NOT called and the caller answers UNAVAILABLE itself.
 */
__attribute__((warn_unused_result)) int store_submit(struct store *st, const char *sql, int nparams,
                                                     const char *const *values, store_cb cb,
                                                     void *arg);

/*
 * A dedicated connection that LISTENs on `channels` (a NULL-terminated list)
 * and calls cb(arg, channel, payload) for each notification.  After every
 * (re)connect it calls cb(arg, NULL, NULL): notifications may have been
 * missed meanwhile, so the caller catches up (DESIGN.md: a notification is
 * a hint, never the only way news travels).  0 or -1.
 */
typedef void (*store_notify_cb)(void *arg, const char *channel, const char *payload);
__attribute__((warn_unused_result)) int store_listen(struct store *st, const char *const *channels,
                                                     store_notify_cb cb, void *arg);

/* Whether at least one connection is up (health, metrics). */
bool store_available(const struct store *st);

/* Queries waiting for a connection and queries under way. */
size_t store_pending(const struct store *st);

/* Build the keyword/value arrays for libpq from the configuration: the
 * user's conninfo plus keepalives, tcp_user_timeout, statement_timeout and
 * synchronous_commit=on.  Used by the start-up connection too. */
PGconn *store_connect_blocking(const struct slad_config *cfg, char *err, size_t errlen);

#endif /* SLAD_STORE_H */
