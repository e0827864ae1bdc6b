/*
 * store.c - the asynchronous libpq pool (see store.h).
 *
 * Each connection is a small state machine driven by one libevent event on
 * its socket: CONNECTING (PQconnectPoll), IDLE, BUSY (a query sent, results
 * being read), DOWN (waiting for the back-off timer).  Results are handed to
 * the callback after the connection has left BUSY, so a callback may submit
 * more work (PgBouncer's pgsocket hands results over the same way).
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "metrics.h"

#define STORE_QUEUE_MAX 100000

enum conn_state { CONN_DOWN, CONN_CONNECTING, CONN_IDLE, CONN_BUSY };

struct store_query {
	struct store_query *next;
	char *sql;
	int nparams;
	char *values[STORE_MAX_PARAMS];
	store_cb cb;
	void *arg;
};

struct store_conn {
	struct store *st;
	int index;
	enum conn_state state;
	PGconn *pg;
	struct event *io; /* on the socket: read/write as the state needs */
	short io_what;
	evutil_socket_t io_fd;
	struct event *timer; /* reconnect back-off, and the query watchdog */
	int backoff_ms;
	struct store_query *query; /* under way while BUSY */
	PGresult *result;          /* first result of the query under way */
	bool flushing;
	bool listener;       /* the LISTEN connection, not part of the pool */
	bool listen_pending; /* LISTEN sent, not yet in effect */
};

struct store {
	struct event_base *base;
	const struct slad_config *cfg;
	int nconns;
	struct store_conn *conns;
	struct store_query *head, *tail;
	size_t queued;
	size_t busy;
	struct store_conn *listen_conn;
	char listen_sql[512];
	store_notify_cb notify_cb;
	void *notify_arg;
};

static void conn_start(struct store_conn *c);
static void conn_dispatch(struct store *st);
static void conn_io_cb(evutil_socket_t fd, short ev, void *arg);

/* libpq connection keywords: the user's conninfo is expanded from dbname. */
#define CONN_KEYWORDS 10
#define CONN_SCRATCH  128
static void conn_params(const struct slad_config *cfg, const char **keys, const char **vals,
                        char (*scratch)[CONN_SCRATCH])
{
	int i = 0;
	snprintf(scratch[0], CONN_SCRATCH, "%d", (cfg->db_connect_timeout_ms + 999) / 1000);
	snprintf(scratch[1], CONN_SCRATCH, "%d", cfg->db_tcp_user_timeout_ms);
	/* jit off: slad's statements are short and many; a JIT compile costs
	 * hundreds of milliseconds whenever a set-based statement's estimate
	 * passes jit_above_cost (measured: an empty slad_fire_due() took
	 * 380 ms with it, 1.7 ms without). */
	snprintf(scratch[2], CONN_SCRATCH,
	         "-c statement_timeout=%d -c synchronous_commit=on -c jit=off",
	         cfg->statement_timeout_ms);
	keys[i] = "dbname", vals[i++] = cfg->database;
	keys[i] = "connect_timeout", vals[i++] = scratch[0];
	keys[i] = "keepalives", vals[i++] = "1";
	keys[i] = "keepalives_idle", vals[i++] = "5";
	keys[i] = "keepalives_interval", vals[i++] = "2";
	keys[i] = "keepalives_count", vals[i++] = "3";
	keys[i] = "tcp_user_timeout", vals[i++] = scratch[1];
	keys[i] = "options", vals[i++] = scratch[2];
	keys[i] = "application_name", vals[i++] = "slad";
	keys[i] = NULL, vals[i] = NULL;
}

/* Server NOTICEs go to our log, not raw onto stderr. */
static void notice_to_log(void *arg, const char *message)
{
	(void)arg;
	char q[600];
	log_debug("event=db_notice message=%s", log_quote(q, sizeof(q), message));
}

PGconn *store_connect_blocking(const struct slad_config *cfg, char *err, size_t errlen)
{
	const char *keys[CONN_KEYWORDS + 1], *vals[CONN_KEYWORDS + 1];
	char scratch[3][CONN_SCRATCH];
	conn_params(cfg, keys, vals, scratch);
	PGconn *pg = PQconnectdbParams(keys, vals, 1);
	if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
		/* PQerrorMessage never contains the password. */
		snprintf(err, errlen, "%s", pg ? PQerrorMessage(pg) : "out of memory");
		char *nl = strchr(err, '\n');
		if (nl)
			*nl = '\0';
		PQfinish(pg);
		return NULL;
	}
	PQsetNoticeProcessor(pg, notice_to_log, NULL);
	return pg;
}

static void query_free(struct store_query *q)
{
	if (q == NULL)
		return;
	free(q->sql);
	for (int i = 0; i < q->nparams; i++)
		free(q->values[i]);
	free(q);
}

static void query_finish(struct store_query *q, enum store_status status, PGresult *res)
{
	q->cb(q->arg, status, res);
	query_free(q);
}

bool store_available(const struct store *st)
{
	for (int i = 0; i < st->nconns; i++)
		if (st->conns[i].state == CONN_IDLE || st->conns[i].state == CONN_BUSY)
			return true;
	return false;
}

size_t store_pending(const struct store *st)
{
	return st->queued + st->busy;
}

/* Watch the connection's socket for `what` (0: stop watching).  libpq may
 * change the socket while connecting, so the event follows PQsocket(). */
static void conn_set_io(struct store_conn *c, short what)
{
	evutil_socket_t fd = c->pg ? PQsocket(c->pg) : -1;
	if (c->io != NULL && what == c->io_what && fd == c->io_fd)
		return;
	if (c->io != NULL) {
		event_free(c->io);
		c->io = NULL;
	}
	c->io_what = what;
	c->io_fd = fd;
	if (what == 0 || fd < 0)
		return;
	c->io = event_new(c->st->base, fd, what | EV_PERSIST, conn_io_cb, c);
	event_add(c->io, NULL);
}

/* The connection failed: fail its query, drop it, retry after back-off. */
static void conn_down(struct store_conn *c, const char *why)
{
	struct store *st = c->st;
	char reason[256];
	snprintf(reason, sizeof(reason), "%s", why ? why : "connection lost");
	char *nl = strchr(reason, '\n');
	if (nl)
		*nl = '\0';
	char q[300];
	log_warn("event=db_down conn=%d reason=%s retry_ms=%d", c->index,
	         log_quote(q, sizeof(q), reason), c->backoff_ms);
	conn_set_io(c, 0);
	evtimer_del(c->timer);
	PQfinish(c->pg);
	c->pg = NULL;
	if (c->result != NULL)
		PQclear(c->result);
	c->result = NULL;
	struct store_query *lost = c->query;
	c->query = NULL;
	if (c->state == CONN_BUSY)
		st->busy--;
	c->state = CONN_DOWN;
	struct timeval tv = {c->backoff_ms / 1000, (c->backoff_ms % 1000) * 1000};
	evtimer_add(c->timer, &tv);
	c->backoff_ms *= 2;
	if (c->backoff_ms > st->cfg->db_reconnect_max_ms)
		c->backoff_ms = st->cfg->db_reconnect_max_ms;
	/* Outcome unknown: the caller answers UNAVAILABLE and the client
	 * retries with the same request_id, which is safe by design. */
	if (lost != NULL)
		query_finish(lost, STORE_UNAVAILABLE, NULL);
	/* With no connection left, nothing queued can run soon: fail it now
	 * rather than let hotline staff wait on a dead database. */
	if (!c->listener && !store_available(st)) {
		while (st->head != NULL) {
			struct store_query *next = st->head->next;
			st->queued--;
			query_finish(st->head, STORE_UNAVAILABLE, NULL);
			st->head = next;
		}
		st->tail = NULL;
	}
}

static void conn_send(struct store_conn *c, struct store_query *q)
{
	c->query = q;
	c->state = CONN_BUSY;
	c->st->busy++;
	metrics_db_sent(c->index);
	if (!PQsendQueryParams(c->pg, q->sql, q->nparams, NULL, (const char *const *)q->values,
	                       NULL, NULL, 0)) {
		conn_down(c, PQerrorMessage(c->pg));
		return;
	}
	int f = PQflush(c->pg);
	if (f < 0) {
		conn_down(c, PQerrorMessage(c->pg));
		return;
	}
	c->flushing = (f == 1);
	conn_set_io(c, EV_READ | (c->flushing ? EV_WRITE : 0));
	/* Watchdog: the server's statement_timeout plus slack.  Past it the
	 * connection is treated as dead even if TCP has not noticed yet. */
	int ms = c->st->cfg->statement_timeout_ms + 2000;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	evtimer_add(c->timer, &tv);
}

static void conn_dispatch(struct store *st)
{
	for (int i = 0; i < st->nconns && st->head != NULL; i++) {
		struct store_conn *c = &st->conns[i];
		if (c->state != CONN_IDLE)
			continue;
		struct store_query *q = st->head;
		st->head = q->next;
		if (st->head == NULL)
			st->tail = NULL;
		st->queued--;
		q->next = NULL;
		conn_send(c, q);
	}
}

static void conn_read_results(struct store_conn *c)
{
	if (!PQconsumeInput(c->pg)) {
		conn_down(c, PQerrorMessage(c->pg));
		return;
	}
	while (!PQisBusy(c->pg)) {
		PGresult *res = PQgetResult(c->pg);
		if (res == NULL) {
			/* Query complete: leave BUSY first, then call back. */
			struct store_query *q = c->query;
			PGresult *first = c->result;
			c->query = NULL;
			c->result = NULL;
			c->state = CONN_IDLE;
			c->st->busy--;
			metrics_db_done(c->index);
			evtimer_del(c->timer);
			conn_set_io(c, EV_READ); /* notice a server-side close while idle */
			query_finish(q, STORE_DONE, first);
			PQclear(first);
			conn_dispatch(c->st);
			return;
		}
		if (c->result == NULL)
			c->result = res;
		else
			PQclear(res); /* one statement per query: later results are noise */
	}
}

static void conn_io_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	struct store_conn *c = arg;
	if (c->state == CONN_CONNECTING) {
		PostgresPollingStatusType s = PQconnectPoll(c->pg);
		switch (s) {
		case PGRES_POLLING_READING:
			conn_set_io(c, EV_READ); /* the socket may have changed */
			return;
		case PGRES_POLLING_WRITING:
			conn_set_io(c, EV_WRITE);
			return;
		case PGRES_POLLING_OK:
			PQsetNoticeProcessor(c->pg, notice_to_log, NULL);
			if (PQsetnonblocking(c->pg, 1) != 0) {
				conn_down(c, "cannot set non-blocking");
				return;
			}
			evtimer_del(c->timer);
			c->state = CONN_IDLE;
			c->backoff_ms = c->st->cfg->db_reconnect_min_ms;
			log_info("event=db_up conn=%d server_version=%d", c->index,
			         PQserverVersion(c->pg));
			if (c->listener) {
				if (!PQsendQuery(c->pg, c->st->listen_sql) || PQflush(c->pg) < 0) {
					conn_down(c, PQerrorMessage(c->pg));
					return;
				}
				conn_set_io(c, EV_READ);
				/* The catch-up waits for the LISTEN to take effect:
				 * a push committed in between would otherwise be
				 * announced to nobody here. */
				c->listen_pending = true;
				return;
			}
			conn_set_io(c, EV_READ);
			conn_dispatch(c->st);
			return;
		default:
			conn_down(c, PQerrorMessage(c->pg));
			return;
		}
	}
	if (c->state == CONN_IDLE) {
		/* Unsolicited input while idle: a NOTICE, a notification, or the
		 * server closed. */
		if (!PQconsumeInput(c->pg) || PQstatus(c->pg) == CONNECTION_BAD) {
			conn_down(c, PQerrorMessage(c->pg));
			return;
		}
		if (c->listener) {
			PGresult *res;
			bool listening = false;
			while (!PQisBusy(c->pg) && (res = PQgetResult(c->pg)) != NULL) {
				listening |= PQresultStatus(res) == PGRES_COMMAND_OK;
				PQclear(res); /* the LISTEN's own answers */
			}
			if (listening && c->listen_pending) {
				/* Whatever was announced while we were away is lost:
				 * tell the owner to catch up, now that nothing more
				 * can slip past. */
				c->listen_pending = false;
				c->st->notify_cb(c->st->notify_arg, NULL, NULL);
			}
		}
		PGnotify *n;
		while ((n = PQnotifies(c->pg)) != NULL) {
			if (c->listener)
				c->st->notify_cb(c->st->notify_arg, n->relname, n->extra);
			PQfreemem(n);
		}
		return;
	}
	if (c->state != CONN_BUSY)
		return;
	if ((ev & EV_WRITE) && c->flushing) {
		int f = PQflush(c->pg);
		if (f < 0) {
			conn_down(c, PQerrorMessage(c->pg));
			return;
		}
		if (f == 0) {
			c->flushing = false;
			conn_set_io(c, EV_READ);
		}
	}
	if (ev & EV_READ)
		conn_read_results(c);
}

static void conn_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	struct store_conn *c = arg;
	switch (c->state) {
	case CONN_DOWN:
		conn_start(c);
		break;
	case CONN_CONNECTING:
		conn_down(c, "connect timed out");
		break;
	case CONN_BUSY:
		conn_down(c, "query watchdog expired: server not answering");
		break;
	case CONN_IDLE:
		break;
	}
}

static void conn_start(struct store_conn *c)
{
	const char *keys[CONN_KEYWORDS + 1], *vals[CONN_KEYWORDS + 1];
	char scratch[3][CONN_SCRATCH];
	conn_params(c->st->cfg, keys, vals, scratch);
	c->pg = PQconnectStartParams(keys, vals, 1);
	if (c->pg == NULL || PQstatus(c->pg) == CONNECTION_BAD || PQsocket(c->pg) < 0) {
		c->state = CONN_CONNECTING; /* so conn_down accounts it as a failed try */
		conn_down(c, c->pg ? PQerrorMessage(c->pg) : "out of memory");
		return;
	}
	c->state = CONN_CONNECTING;
	conn_set_io(c, EV_WRITE);
	int ms = c->st->cfg->db_connect_timeout_ms;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	evtimer_add(c->timer, &tv);
}

struct store *store_new(struct event_base *base, const struct slad_config *cfg)
{
	struct store *st = calloc(1, sizeof(*st));
	if (st == NULL)
		return NULL;
	st->base = base;
	st->cfg = cfg;
	st->nconns = cfg->db_connections;
	st->conns = calloc((size_t)st->nconns, sizeof(*st->conns));
	if (st->conns == NULL) {
		free(st);
		return NULL;
	}
	for (int i = 0; i < st->nconns; i++) {
		struct store_conn *c = &st->conns[i];
		c->st = st;
		c->index = i;
		c->backoff_ms = cfg->db_reconnect_min_ms;
		c->timer = evtimer_new(base, conn_timer_cb, c);
		conn_start(c);
	}
	return st;
}

void store_free(struct store *st)
{
	if (st == NULL)
		return;
	for (int i = 0; i < st->nconns; i++) {
		struct store_conn *c = &st->conns[i];
		if (c->io)
			event_free(c->io);
		if (c->timer)
			event_free(c->timer);
		if (c->result)
			PQclear(c->result);
		if (c->query)
			query_finish(c->query, STORE_UNAVAILABLE, NULL);
		PQfinish(c->pg);
	}
	while (st->head != NULL) {
		struct store_query *next = st->head->next;
		query_finish(st->head, STORE_UNAVAILABLE, NULL);
		st->head = next;
	}
	if (st->listen_conn != NULL) {
		struct store_conn *c = st->listen_conn;
		if (c->io)
			event_free(c->io);
		if (c->timer)
			event_free(c->timer);
		PQfinish(c->pg);
		free(c);
	}
	free(st->conns);
	free(st);
}

int store_listen(struct store *st, const char *const *channels, store_notify_cb cb, void *arg)
{
	if (st->listen_conn != NULL)
		return -1;
	size_t used = 0;
	st->listen_sql[0] = '\0';
	for (const char *const *ch = channels; *ch != NULL; ch++) {
		/* Channel names are our own constants, never input: quoted as
		 * identifiers all the same. */
		int n = snprintf(st->listen_sql + used, sizeof(st->listen_sql) - used,
		                 "LISTEN \"%s\";", *ch);
		if (n < 0 || (size_t)n >= sizeof(st->listen_sql) - used || strchr(*ch, '"'))
			return -1;
		used += (size_t)n;
	}
	struct store_conn *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -1;
	c->st = st;
	c->index = -1;
	c->listener = true;
	c->backoff_ms = st->cfg->db_reconnect_min_ms;
	c->timer = evtimer_new(st->base, conn_timer_cb, c);
	st->listen_conn = c;
	st->notify_cb = cb;
	st->notify_arg = arg;
	conn_start(c);
	return 0;
}

int store_submit(struct store *st, const char *sql, int nparams, const char *const *values,
                 store_cb cb, void *arg)
{
	if (!store_available(st) || st->queued >= STORE_QUEUE_MAX || nparams > STORE_MAX_PARAMS)
		return -1;
	struct store_query *q = calloc(1, sizeof(*q));
	if (q == NULL)
		return -1;
	q->sql = strdup(sql);
	q->nparams = nparams;
	q->cb = cb;
	q->arg = arg;
	bool oom = (q->sql == NULL);
	for (int i = 0; i < nparams; i++) {
		if (values[i] != NULL) {
			q->values[i] = strdup(values[i]);
			oom |= (q->values[i] == NULL);
		}
	}
	if (oom) {
		query_free(q);
		return -1;
	}
	if (st->tail)
		st->tail->next = q;
	else
		st->head = q;
	st->tail = q;
	st->queued++;
	conn_dispatch(st);
	return 0;
}
