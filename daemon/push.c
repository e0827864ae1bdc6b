/*
 * push.c - see push.h.
 */
#include "push.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failpoint.h"
#include "log.h"
#include "session.h"
#include "store.h"
#include "util.h"

/* Pushes fetched per catch-up query; a longer backlog takes more rounds. */
#define CATCH_UP_PAGE 500

struct push {
	struct store *store;
	struct server *srv;
};

struct push *push_new(struct store *st, struct server *srv)
{
	struct push *p = calloc(1, sizeof(*p));
	if (p != NULL) {
		p->store = st;
		p->srv = srv;
	}
	return p;
}

void push_free(struct push *p)
{
	free(p);
}

/* ---- catch-up ---- */

struct catch_up {
	struct push *p;
	int64_t principal;
};

static void catch_up_one(struct push *p, int64_t principal);

static void catch_up_done(void *arg, enum store_status status, PGresult *res)
{
	struct catch_up *cu = arg;
	if (status != STORE_DONE || PQresultStatus(res) != PGRES_TUPLES_OK) {
		/* The pushes wait in the database; the next announcement or
		 * SUBSCRIBE brings them. */
		log_warn("event=push_catch_up_failed principal_id=%" PRId64, cu->principal);
		free(cu);
		return;
	}
	int rows = PQntuples(res);
	for (int i = 0; i < rows; i++) {
		json_object *body = json_tokener_parse(PQgetvalue(res, i, 2));
		if (body == NULL)
			continue;
		server_push(cu->p->srv, cu->principal, strtoull(PQgetvalue(res, i, 0), NULL, 10),
		            PQgetvalue(res, i, 1), body);
		json_object_put(body);
	}
	if (rows == CATCH_UP_PAGE)
		catch_up_one(cu->p, cu->principal);
	free(cu);
}

static void catch_up_one(struct push *p, int64_t principal)
{
	int64_t floor = server_subscriber_floor(p->srv, principal);
	if (floor < 0)
		return; /* nobody of this principal listens here */
	struct catch_up *cu = malloc(sizeof(*cu));
	if (cu == NULL)
		return;
	*cu = (struct catch_up){p, principal};
	char pid[24], after[24], page[16];
	snprintf(pid, sizeof(pid), "%" PRId64, principal);
	snprintf(after, sizeof(after), "%" PRId64, floor);
	snprintf(page, sizeof(page), "%d", CATCH_UP_PAGE);
	const char *params[3] = {pid, after, page};
	if (store_submit(p->store,
	                 "SELECT seq, event, body FROM deliveries"
	                 " WHERE principal_id = $1::bigint AND seq > $2::bigint"
	                 " AND receipted_at IS NULL ORDER BY seq LIMIT $3::int",
	                 3, params, catch_up_done, cu) != 0)
		free(cu);
}

void push_catch_up(struct push *p, const int64_t *ids, size_t n)
{
	int64_t local[1024];
	if (ids == NULL) {
		n = server_subscribed_principals(p->srv, local, sizeof(local) / sizeof(local[0]));
		ids = local;
	}
	for (size_t i = 0; i < n; i++)
		catch_up_one(p, ids[i]);
}

/* ---- verbs ---- */

struct push_op {
	struct push *p;
	struct request *req;
	int64_t principal;
};

static bool op_ok(struct push_op *op, enum store_status status, PGresult *res)
{
	if (status != STORE_DONE) {
		request_answer_err(op->req, PROTO_ERR_UNAVAILABLE,
		                   "database unavailable, retry later");
		return false;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		char q[600];
		log_error("event=sql_failed what=%s reason=%s", op->req->verb->name,
		          log_quote(q, sizeof(q), PQresultErrorMessage(res)));
		request_answer_err(op->req, PROTO_ERR_INTERNAL, "internal error (logged)");
		return false;
	}
	return true;
}

static void subscribed(void *arg, enum store_status status, PGresult *res)
{
	struct push_op *op = arg;
	if (op_ok(op, status, res)) {
		json_object *ans = json_tokener_parse(PQgetvalue(res, 0, 0));
		if (ans == NULL) {
			request_answer_err(op->req, PROTO_ERR_INTERNAL, "internal error (logged)");
		} else if (util_jstr(ans, "err") != NULL) {
			request_answer_err(op->req, PROTO_ERR_NOT_FOUND, "%s",
			                   util_jstr(ans, "message"));
		} else {
			/* OK first, then the backlog (PROTOCOL.md SUBSCRIBE). */
			request_set_subscribed(op->req, true);
			request_answer_ok(op->req, ans);
			catch_up_one(op->p, op->principal);
		}
		json_object_put(ans);
	}
	free(op);
}

static void receipted(void *arg, enum store_status status, PGresult *res)
{
	struct push_op *op = arg;
	if (op_ok(op, status, res)) {
		if (PQntuples(res) == 0) {
			request_answer_err(op->req, PROTO_ERR_NOT_FOUND,
			                   "no push %" PRId64 " for you",
			                   util_jint(op->req->msg.body, "seq", 0));
		} else {
			json_object *ans = json_object_new_object();
			json_object_object_add(
			    ans, "seq",
			    json_object_new_int64(util_jint(op->req->msg.body, "seq", 0)));
			request_answer_ok(op->req, ans);
			json_object_put(ans);
		}
	}
	free(op);
}

static void rota_added(void *arg, enum store_status status, PGresult *res)
{
	struct push_op *op = arg;
	if (op_ok(op, status, res)) {
		json_object *ans = json_tokener_parse(PQgetvalue(res, 0, 0));
		const char *err = ans ? util_jstr(ans, "err") : "INTERNAL";
		if (err != NULL) {
			enum proto_err code = proto_err_parse(err);
			request_answer_err(
			    op->req, code == PROTO_ERR_COUNT ? PROTO_ERR_INTERNAL : code, "%s",
			    ans && util_jstr(ans, "message") ? util_jstr(ans, "message")
			                                     : "failed");
		} else {
			request_answer_ok(op->req, ans);
		}
		json_object_put(ans);
	}
	free(op);
}

void push_dispatch(struct push *p, struct request *req)
{
	const char *verb = req->verb->name;
	const json_object *b = req->msg.body;
	const struct principal *who = request_principal(req);
	if (strcmp(verb, "UNSUBSCRIBE") == 0) {
		/* The filters stay; pushes wait for the next subscribed session. */
		request_set_subscribed(req, false);
		json_object *ans = json_object_new_object();
		request_answer_ok(req, ans);
		json_object_put(ans);
		return;
	}
	struct push_op *op = malloc(sizeof(*op));
	if (op == NULL) {
		request_answer_err(req, PROTO_ERR_UNAVAILABLE, "server busy, retry later");
		return;
	}
	*op = (struct push_op){p, req, who->id};
	char pid[24], num[24];
	snprintf(pid, sizeof(pid), "%" PRId64, who->id);
	int rc;
	if (strcmp(verb, "SUBSCRIBE") == 0) {
		const char *body =
		    b ? json_object_to_json_string_ext((json_object *)b, JSON_C_TO_STRING_PLAIN)
		      : "{}";
		const char *params[2] = {pid, body};
		rc = store_submit(p->store, "SELECT slad_subscribe($1::bigint, $2::jsonb)", 2,
		                  params, subscribed, op);
	} else if (strcmp(verb, "RECEIPT") == 0) {
		/* The push reached the client; its receipt is not recorded yet. */
		failpoint("receipt_before_commit");
		snprintf(num, sizeof(num), "%" PRId64, util_jint(b, "seq", 0));
		const char *params[2] = {pid, num};
		/* Receipting twice is fine; it stops nothing but the resending. */
		rc = store_submit(
		    p->store,
		    "UPDATE deliveries SET receipted_at = coalesce(receipted_at, now())"
		    " WHERE principal_id = $1::bigint AND seq = $2::bigint RETURNING seq",
		    2, params, receipted, op);
	} else if (strcmp(verb, "ROTA_ADD") == 0) {
		char hash[65];
		util_body_hash(b, hash);
		const char *params[4] = {
		    pid, util_jstr(b, "request_id"), hash,
		    json_object_to_json_string_ext((json_object *)b, JSON_C_TO_STRING_PLAIN)};
		rc = store_submit(p->store, "SELECT slad_rota_add($1::bigint, $2, $3, $4::jsonb)",
		                  4, params, rota_added, op);
	} else {
		request_answer_err(req, PROTO_ERR_INTERNAL, "push verb %s unknown", verb);
		free(op);
		return;
	}
	if (rc != 0) {
		request_answer_err(req, PROTO_ERR_UNAVAILABLE, "database unavailable, retry later");
		free(op);
	}
}
