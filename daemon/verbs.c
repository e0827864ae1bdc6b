/*
 * verbs.c - request dispatch (see verbs.h).
 *
 * The allowed roles of each verb come from proto_verbs[] (proto/verbs.c),
 * the same table PROTOCOL.md documents; tests compare the server's behaviour
 * with PROTOCOL.md's role table, so the two cannot drift apart unseen.
 */
#include "verbs.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "session.h"
#include "store.h"
#include "admin.h"
#include "compliance.h"
#include "push.h"
#include "records.h"
#include "tickets.h"
#include "util.h"

typedef void (*verb_handler)(struct request *req);

static void verb_hello(struct request *req);
static void verb_ping(struct request *req);
static void verb_quit(struct request *req);
static void verb_stats(struct request *req);

static struct tickets *tickets_of(struct request *req)
{
	return ((struct app *)server_app(req->srv))->tickets;
}

#define TICKETS_VERB(fn)                                                                           \
	static void verb_##fn(struct request *req)                                                 \
	{                                                                                          \
		tickets_##fn(tickets_of(req), req);                                                \
	}
TICKETS_VERB(report)
TICKETS_VERB(alert)
TICKETS_VERB(change)
TICKETS_VERB(show)
TICKETS_VERB(list)
TICKETS_VERB(find_customer)

static void verb_push(struct request *req)
{
	push_dispatch(((struct app *)server_app(req->srv))->push, req);
}

static void verb_admin(struct request *req)
{
	struct app *app = server_app(req->srv);
	admin_dispatch(server_store(req->srv), app->domain, req);
}

/* Every verb of proto_verbs has a handler (test_roles fails on a
 * NOT_IMPLEMENTED); one without would answer it, as PROTOCOL.md allows. */
static const struct {
	const char *name;
	verb_handler handler;
} handlers[] = {
    {"HELLO", verb_hello},
    {"PING", verb_ping},
    {"QUIT", verb_quit},
    {"REPORT", verb_report},
    {"ALERT", verb_alert},
    {"FIND_CUSTOMER", verb_find_customer},
    {"SHOW", verb_show},
    {"LIST", verb_list},
    {"NOTE", verb_change},
    {"ACKNOWLEDGE", verb_change},
    {"DISPATCH", verb_change},
    {"ARRIVE", verb_change},
    {"RESTORE", verb_change},
    {"RECLASSIFY", verb_change},
    {"PAUSE", verb_change},
    {"RESUME", verb_change},
    {"ASSIGN", verb_change},
    {"CLOSE", verb_change},
    {"REOPEN", verb_change},
    {"CANCEL", verb_change},
    {"SET_CAUSE", verb_change},
    {"PRINCIPAL_ADD", verb_admin},
    {"PRINCIPAL_UPDATE", verb_admin},
    {"POLICY_SET", verb_admin},
    {"POLICY_SHOW", verb_admin},
    {"RULES_SET", verb_admin},
    {"RULES_SHOW", verb_admin},
    {"SUBSCRIBE", verb_push},
    {"UNSUBSCRIBE", verb_push},
    {"RECEIPT", verb_push},
    {"ROTA_ADD", verb_push},
    {"STATS", verb_stats},
    {"CUSTOMER_ADD", records_dispatch},
    {"CUSTOMER_UPDATE", records_dispatch},
    {"CUSTOMER_SHOW", records_dispatch},
    {"CONTRACT_ADD", records_dispatch},
    {"CONTRACT_UPDATE", records_dispatch},
    {"EQUIPMENT_ADD", records_dispatch},
    {"EQUIPMENT_UPDATE", records_dispatch},
    {"WARRANTY", records_dispatch},
    {"FEEDBACK", records_dispatch},
    {"COMPLIANCE", compliance_dispatch},
    {"TASKS", records_dispatch},
    {"TASK_DONE", records_dispatch},
};

static void audit_done(void *arg, enum store_status status, PGresult *res)
{
	(void)arg;
	if (status != STORE_DONE || PQresultStatus(res) != PGRES_COMMAND_OK)
		log_warn("event=audit_write_failed");
}

/* A refusal is an error line and an audit row (DESIGN.md). */
void verbs_audit_refusal(struct request *req, const char *outcome, const char *why)
{
	static const char sql[] = "INSERT INTO audit (principal, verb, outcome, detail) "
	                          "VALUES ($1, $2, $3, jsonb_build_object('why', $4::text))";
	const struct principal *who = request_principal(req);
	const char *params[4] = {who->name, req->msg.verb, outcome, why};
	if (store_submit(server_store(req->srv), sql, 4, params, audit_done, NULL) != 0)
		log_warn("event=audit_write_failed principal=%s verb=%s reason=store_unavailable",
		         who->name, req->msg.verb);
}

void verbs_dispatch(struct request *req)
{
	const struct principal *who = request_principal(req);
	const struct proto_verb *verb = proto_verb_find(req->msg.verb);
	if (verb == NULL) {
		request_answer_err(req, PROTO_ERR_UNKNOWN_VERB, "unknown verb %s", req->msg.verb);
		return;
	}
	req->verb = verb;
	/* PROTOCOL.md "The session: HELLO first". */
	bool session_verb = strcmp(verb->name, "HELLO") == 0 || strcmp(verb->name, "PING") == 0 ||
	                    strcmp(verb->name, "QUIT") == 0;
	if (!session_verb && !request_hello_done(req)) {
		request_answer_err(req, PROTO_ERR_CONFLICT, "send HELLO first");
		return;
	}
	if (strcmp(verb->name, "HELLO") == 0 && request_hello_done(req)) {
		request_answer_err(req, PROTO_ERR_CONFLICT, "HELLO was already said");
		return;
	}
	if ((verb->roles & who->role) == 0) {
		log_info("event=forbidden principal=%s verb=%s", who->name, verb->name);
		verbs_audit_refusal(req, "forbidden", "role");
		request_answer_err(req, PROTO_ERR_FORBIDDEN, "role %s may not call %s",
		                   proto_role_name((enum proto_role)who->role), verb->name);
		return;
	}
	struct proto_error perr;
	memset(&perr, 0, sizeof(perr));
	enum proto_err rc = proto_validate_request(&req->msg, &perr);
	if (rc != PROTO_OK) {
		request_answer_err(req, rc, "%s",
		                   perr.detail[0] ? perr.detail : proto_err_name(rc));
		return;
	}
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
		if (strcmp(handlers[i].name, verb->name) == 0) {
			handlers[i].handler(req);
			return;
		}
	}
	/* PROTOCOL.md: a documented verb that a later issue builds. */
	request_answer_err(req, PROTO_ERR_NOT_IMPLEMENTED, "%s is not implemented yet", verb->name);
}

static void verb_hello(struct request *req)
{
	const struct principal *who = request_principal(req);
	const struct slad_config *cfg = server_config(req->srv);
	char q[200];
	log_info("event=hello principal=%s client=%s", who->name,
	         log_quote(q, sizeof(q), util_jstr(req->msg.body, "client")));
	request_set_hello_done(req);
	json_object *body = json_object_new_object();
	/* Version 1 is all there is: every client speaking >= 1 gets 1. */
	json_object_object_add(body, "version", json_object_new_int(PROTO_VERSION));
	json_object_object_add(body, "server", json_object_new_string("slad/" SLAD_VERSION));
	json_object_object_add(body, "max_line", json_object_new_int(cfg->max_line_bytes));
	json_object_object_add(body, "max_json_depth", json_object_new_int(PROTO_MAX_JSON_DEPTH));
	json_object_object_add(body, "principal", json_object_new_string(who->name));
	json_object_object_add(body, "role",
	                       json_object_new_string(proto_role_name((enum proto_role)who->role)));
	json_object_object_add(body, "team", util_jstr_or_null(who->team[0] ? who->team : NULL));
	json_object *caps = json_object_new_array();
	json_object_array_add(caps, json_object_new_string("pipelining"));
	json_object_array_add(caps, json_object_new_string("idempotency"));
	json_object_array_add(caps, json_object_new_string("push"));
	json_object_object_add(body, "capabilities", caps);
	/* Which verbs this server carries out today (PROTOCOL.md NOT_IMPLEMENTED). */
	json_object *verbs = json_object_new_array();
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		json_object_array_add(verbs, json_object_new_string(handlers[i].name));
	json_object_object_add(body, "verbs", verbs);
	json_object_object_add(body, "time", util_jtime(util_now()));
	request_answer_ok(req, body);
	json_object_put(body);
}

static void verb_ping(struct request *req)
{
	json_object *body = json_object_new_object();
	json_object_object_add(body, "time", util_jtime(util_now()));
	request_answer_ok(req, body);
	json_object_put(body);
}

static void verb_quit(struct request *req)
{
	json_object *body = json_object_new_object();
	request_close_after(req);
	request_answer_ok(req, body);
	json_object_put(body);
}

/* STATS: the figures of /metrics (PROTOCOL.md), PostgreSQL's part read
 * asynchronously like a scrape. */
static void stats_read(void *arg, const json_object *db)
{
	struct request *req = arg;
	if (db == NULL) {
		request_answer_err(req, PROTO_ERR_UNAVAILABLE, "database unavailable, retry later");
		return;
	}
	json_object *body = metrics_stats(db);
	request_answer_ok(req, body);
	json_object_put(body);
}

static void verb_stats(struct request *req)
{
	if (metrics_query(server_store(req->srv), stats_read, req) != 0)
		request_answer_err(req, PROTO_ERR_UNAVAILABLE, "database unavailable, retry later");
}
