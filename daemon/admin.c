/*
 * admin.c - see admin.h.
 */
#include "admin.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "log.h"
#include "session.h"
#include "sla_json.h"
#include "store.h"
#include "util.h"

struct admin_op {
	struct request *req;
	struct domain *dom;
	struct sla_policy policy; /* POLICY_SET: the parsed document */
	json_object *rules_doc;   /* RULES_SET: the stored document */
	bool is_default;
};

static void op_free(struct admin_op *op)
{
	json_object_put(op->rules_doc);
	free(op);
}

/* Every admin query answers one jsonb cell, NULL meaning "not found". */
static json_object *single_json(struct request *req, enum store_status status, PGresult *res)
{
	if (status != STORE_DONE) {
		request_answer_err(req, PROTO_ERR_UNAVAILABLE, "database unavailable, retry later");
		return NULL;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (state && strcmp(state, "23505") == 0) {
			request_answer_err(req, PROTO_ERR_CONFLICT, "already exists");
			return NULL;
		}
		char q[600];
		log_error("event=sql_failed what=%s reason=%s", req->verb->name,
		          log_quote(q, sizeof(q), PQresultErrorMessage(res)));
		request_answer_err(req, PROTO_ERR_INTERNAL, "internal error (logged)");
		return NULL;
	}
	if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
		request_answer_err(req, PROTO_ERR_NOT_FOUND, "no such %s",
		                   strstr(req->verb->name, "PRINCIPAL") ? "principal"
		                   : strstr(req->verb->name, "POLICY")  ? "policy version"
		                                                        : "rules version");
		return NULL;
	}
	json_object *j = json_tokener_parse(PQgetvalue(res, 0, 0));
	if (j == NULL)
		request_answer_err(req, PROTO_ERR_INTERNAL, "internal error (logged)");
	return j;
}

static void answered(void *arg, enum store_status status, PGresult *res)
{
	struct admin_op *op = arg;
	json_object *j = single_json(op->req, status, res);
	if (j == NULL) {
		op_free(op);
		return;
	}
	const char *err = util_jstr(j, "err");
	if (err != NULL) {
		enum proto_err code = proto_err_parse(err);
		request_answer_err(op->req, code == PROTO_ERR_COUNT ? PROTO_ERR_INTERNAL : code,
		                   "%s", util_jstr(j, "message") ? util_jstr(j, "message") : err);
	} else {
		const char *verb = op->req->verb->name;
		/* In force the moment it committed (on this instance; other
		 * instances pick versions up as they load tickets). */
		if (strcmp(verb, "POLICY_SET") == 0 && op->is_default)
			domain_set_policy(op->dom, util_jint(j, "policy_id", 0), &op->policy);
		if (strcmp(verb, "PRINCIPAL_UPDATE") == 0)
			server_principal_changed(op->req->srv, util_jstr(j, "name"),
			                         util_jstr(j, "role"), util_jstr(j, "tier"),
			                         util_jstr(j, "team"), util_jstr(j, "region"),
			                         util_jbool(j, "active", true));
		if (strcmp(verb, "RULES_SET") == 0) {
			char why[256];
			if (domain_set_rules(op->dom, util_jint(j, "rules_id", 0), op->rules_doc,
			                     why, sizeof(why)) != 0)
				log_error("event=rules_not_applied reason=\"%s\"", why);
		}
		request_answer_ok(op->req, j);
	}
	json_object_put(j);
	op_free(op);
}

static void submit(struct store *st, struct admin_op *op, const char *sql, int n,
                   const char *const *params)
{
	if (store_submit(st, sql, n, params, answered, op) != 0) {
		request_answer_err(op->req, PROTO_ERR_UNAVAILABLE,
		                   "database unavailable, retry later");
		op_free(op);
	}
}

static bool name_ok(const char *value, int (*parse)(const char *, void *))
{
	return value == NULL || parse(value, NULL) == 0;
}

static int role_parse(const char *name, void *unused)
{
	(void)unused;
	return proto_role_parse(name) ? 0 : -1;
}

static int tier_parse(const char *name, void *unused)
{
	(void)unused;
	enum sla_tier t;
	return sla_tier_parse(name, &t);
}

static void principal_write(struct store *st, struct admin_op *op, bool add)
{
	struct request *req = op->req;
	const json_object *b = req->msg.body;
	if (!name_ok(util_jstr(b, "role"), role_parse)) {
		request_answer_err(req, PROTO_ERR_INVALID_FIELD,
		                   "field 'role': expected hotline, engineer, monitor or admin");
		op_free(op);
		return;
	}
	if (!name_ok(util_jstr(b, "tier"), tier_parse)) {
		request_answer_err(
		    req, PROTO_ERR_INVALID_FIELD,
		    "field 'tier': expected engineer, team_lead, regional_manager or "
		    "director");
		op_free(op);
		return;
	}
	static const char add_sql[] = "SELECT slad_principal_add($1::bigint, $2, $3, $4::jsonb)";
	static const char update_sql[] =
	    "UPDATE principals SET role = coalesce($2, role), tier = coalesce($3, tier),"
	    " team = coalesce($4, team), region = coalesce($5, region),"
	    " display_name = coalesce($6, display_name), phone = coalesce($7, phone),"
	    " active = coalesce(NOT $8::boolean, active), updated_at = now()"
	    " WHERE name = $1 RETURNING jsonb_build_object('name', name, 'role', role,"
	    " 'tier', tier, 'team', team, 'region', region, 'active', active)";
	if (add) {
		char pid[24], hash[65];
		snprintf(pid, sizeof(pid), "%" PRId64, request_principal(req)->id);
		util_body_hash(b, hash);
		const char *params[4] = {
		    pid, util_jstr(b, "request_id"), hash,
		    json_object_to_json_string_ext((json_object *)b, JSON_C_TO_STRING_PLAIN)};
		submit(st, op, add_sql, 4, params);
	} else {
		const char *disabled = util_jhas(b, "disabled")
		                           ? (util_jbool(b, "disabled", false) ? "true" : "false")
		                           : NULL;
		const char *params[8] = {util_jstr(b, "name"),   util_jstr(b, "role"),
		                         util_jstr(b, "tier"),   util_jstr(b, "team"),
		                         util_jstr(b, "region"), util_jstr(b, "display_name"),
		                         util_jstr(b, "phone"),  disabled};
		submit(st, op, update_sql, 8, params);
	}
}

static void policy_set(struct store *st, struct admin_op *op)
{
	struct request *req = op->req;
	json_object *doc = NULL;
	json_object_object_get_ex(req->msg.body, "policy", &doc);
	char why[512];
	if (sla_json_to_policy(doc, &op->policy, why, sizeof(why)) != 0) {
		request_answer_err(req, PROTO_ERR_INVALID_FIELD, "field 'policy': %s", why);
		op_free(op);
		return;
	}
	const char *name = util_jstr(req->msg.body, "name");
	op->is_default = strcmp(name, "default") == 0;
	/* Store the canonical form: what SHOW returns is what is in force. */
	json_object *canonical = sla_json_from_policy(&op->policy);
	char pid[24];
	snprintf(pid, sizeof(pid), "%" PRId64, request_principal(req)->id);
	const char *params[3] = {
	    name, json_object_to_json_string_ext(canonical, JSON_C_TO_STRING_PLAIN), pid};
	submit(st, op,
	       "INSERT INTO policies (name, version, body, created_by)"
	       " SELECT $1, coalesce(max(version), 0) + 1, $2::jsonb, $3::bigint"
	       " FROM policies WHERE name = $1"
	       " RETURNING jsonb_build_object('name', name, 'version', version, 'policy_id', id)",
	       3, params);
	json_object_put(canonical);
}

static void rules_set(struct store *st, struct admin_op *op)
{
	struct request *req = op->req;
	json_object *rules = NULL;
	json_object_object_get_ex(req->msg.body, "rules", &rules);
	int64_t current_id;
	const struct sla_severity_rules *current = domain_current_rules(op->dom, &current_id);
	op->rules_doc = json_object_new_object();
	/* RULES_SET carries the rules; the default level stays as it is. */
	json_object_object_add(op->rules_doc, "default_level",
	                       json_object_new_int((int)current->default_level));
	json_object_object_add(op->rules_doc, "rules", json_object_get(rules));
	char why[512];
	struct sla_json_rules *parsed = sla_json_rules_parse(op->rules_doc, why, sizeof(why));
	if (parsed == NULL) {
		request_answer_err(req, PROTO_ERR_INVALID_FIELD, "field 'rules': %s", why);
		op_free(op);
		return;
	}
	sla_json_rules_free(parsed);
	char pid[24];
	snprintf(pid, sizeof(pid), "%" PRId64, request_principal(req)->id);
	const char *params[2] = {
	    json_object_to_json_string_ext(op->rules_doc, JSON_C_TO_STRING_PLAIN), pid};
	submit(st, op,
	       "INSERT INTO classification_rules (body, created_by) VALUES ($1::jsonb, $2::bigint)"
	       " RETURNING jsonb_build_object('rules_id', id, 'version', id)",
	       2, params);
}

void admin_dispatch(struct store *st, struct domain *dom, struct request *req)
{
	struct admin_op *op = calloc(1, sizeof(*op));
	if (op == NULL) {
		request_answer_err(req, PROTO_ERR_UNAVAILABLE, "server busy, retry later");
		return;
	}
	op->req = req;
	op->dom = dom;
	const char *verb = req->verb->name;
	const json_object *b = req->msg.body;
	char version[24];
	if (strcmp(verb, "PRINCIPAL_ADD") == 0) {
		principal_write(st, op, true);
	} else if (strcmp(verb, "PRINCIPAL_UPDATE") == 0) {
		principal_write(st, op, false);
	} else if (strcmp(verb, "POLICY_SET") == 0) {
		policy_set(st, op);
	} else if (strcmp(verb, "RULES_SET") == 0) {
		rules_set(st, op);
	} else if (strcmp(verb, "POLICY_SHOW") == 0) {
		const char *params[2] = {util_jstr(b, "name") ? util_jstr(b, "name") : "default",
		                         util_jhas(b, "version")
		                             ? (snprintf(version, sizeof(version), "%" PRId64,
		                                         util_jint(b, "version", 0)),
		                                version)
		                             : NULL};
		submit(
		    st, op,
		    "SELECT jsonb_build_object('name', name, 'version', version, 'policy_id', id,"
		    " 'created_at', to_char(created_at AT TIME ZONE 'UTC',"
		    " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'policy', body)"
		    " FROM policies WHERE name = $1 AND ($2::int IS NULL OR version = $2::int)"
		    " ORDER BY version DESC LIMIT 1",
		    2, params);
	} else if (strcmp(verb, "RULES_SHOW") == 0) {
		const char *params[1] = {util_jhas(b, "version")
		                             ? (snprintf(version, sizeof(version), "%" PRId64,
		                                         util_jint(b, "version", 0)),
		                                version)
		                             : NULL};
		submit(st, op,
		       "SELECT jsonb_build_object('version', id, 'rules_id', id) || body"
		       " FROM classification_rules WHERE ($1::bigint IS NULL OR id = $1::bigint)"
		       " ORDER BY id DESC LIMIT 1",
		       1, params);
	} else {
		request_answer_err(req, PROTO_ERR_INTERNAL, "admin verb %s unknown", verb);
		op_free(op);
	}
}
