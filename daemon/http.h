/*
 * http.h - monitoring systems in, health and figures out (issue 7), on
 * libevent's evhttp:
 *
 *   HTTPS (http_listen; the line protocol's TLS settings, client
 *   certificates optional):
 *     POST /v1/alertmanager   Alertmanager webhook, payload version 4
 *     POST /v2/enqueue        PagerDuty Events API v2
 *     GET  /healthz           process and database reachability
 *     GET  /metrics           Prometheus text format (monitor or admin only)
 *   plain HTTP on loopback (metrics_listen): GET /healthz and /metrics.
 *
 * Every webhook alert becomes one internal ALERT request (verbs.c does the
 * role check and validation, tickets.c the work), so a webhook and a line
 * ALERT are the same thing to the store.  The sender is a monitor
 * principal named by a bearer token (or the PagerDuty routing key), stored
 * hashed in principals.token_hash, or by a verified client certificate.
 *
 * Answers follow what senders retry on: 2xx only after every alert of the
 * request committed, 5xx while PostgreSQL is unavailable, 4xx for bad
 * input with a JSON body that says what is wrong, 429 over the rate.
 * Request ids are derived from the payload, so a sender's retry is a
 * replay and never a second ticket.
 */
#ifndef SLAD_HTTP_H
#define SLAD_HTTP_H

#include <stddef.h>

#include <event2/event.h>
#include <openssl/ssl.h>

struct http;
struct server;
struct store;
struct slad_config;

/*
 * Bind the listeners the configuration names (none when http_listen and
 * metrics_listen are empty: the object then does nothing).  `ctx` is the
 * server's TLS context (borrowed; http_reload swaps it).  NULL with the
 * reason in err.
 */
struct http *http_new(struct event_base *base, const struct slad_config *cfg, SSL_CTX *ctx,
                      struct server *srv, struct store *st, char *err, size_t errlen);

/* SIGHUP: new connections take the new TLS context; caps, timeouts, rates
 * and label names come from the new configuration.  Addresses stay bound. */
void http_reload(struct http *h, SSL_CTX *ctx, const struct slad_config *cfg);

/* SIGTERM: stop accepting; requests under way finish, new requests on open
 * connections are answered 503 so the sender retries elsewhere. */
void http_drain(struct http *h);

/* Close everything.  Requests still waiting on the store are detached:
 * their late answers are dropped.  NULL is a no-op. */
void http_free(struct http *h);

#endif /* SLAD_HTTP_H */
