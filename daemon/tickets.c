/*
 * tickets.c - the ticket verbs (see tickets.h).
 *
 * Creating requests (REPORT, ALERT triggers) are group-committed: they queue
 * here while every database connection is busy and leave as one statement,
 * slad_report_batch(), whose transaction commits before any of them is
 * answered (DESIGN.md "Where truth lives").  State changes are optimistic:
 * load the ticket and its history, let libsla decide, write the event, the
 * projection and the clocks in one statement that checks the version, and
 * start over if someone else changed the ticket in between.
 */
#include "tickets.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "charges.h"
#include "config.h"
#include "deadline.h"
#include "domain.h"
#include "failpoint.h"
#include "log.h"
#include "metrics.h"
#include "records.h"
#include "session.h"
#include "scheduler.h"
#include "severity.h"
#include "store.h"
#include "ticket.h"
#include "util.h"
#include "verbs.h"

#define CHANGE_MAX_ATTEMPTS 5
#define TICKET_MAX_EVENTS   4096

struct batch_item {
	struct request *req;
	json_object *item;
	sla_time first_due; /* earliest step of its clocks: the scheduler's cue */
};

struct tickets {
	struct event_base *base;
	struct store *store;
	struct domain *domain;
	const struct slad_config *cfg;
	/* requests waiting to join the next batch */
	struct batch_item *queue;
	size_t queued, cap;
	int in_flight; /* batches sent, not yet answered */
	struct event *flush_timer;
	struct sched *sched; /* told when new clock rows fall due */
};

struct batch {
	struct tickets *t;
	double started; /* metrics_clock() when sent: commit latency */
	size_t n;
	struct batch_item items[];
};

/* ---- small pieces ---- */

/* Clock states as stored in the clocks table (the scheduler reads them). */
static const char *const clock_state_names[SLA_CS_COUNT] = {
    "inactive", "not_needed", "running", "overdue", "paused", "met", "breached", "stopped",
};
static const char *const step_kind_names[SLA_STEP_KIND_COUNT] = {"warning", "breach", "escalation"};

static bool sql_failed_transiently(PGresult *res)
{
	/* 40xxx: serialization failure, deadlock -- worth a retry.  08xxx and
	 * 57Pxx: the connection or server went away. */
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	return state == NULL || strncmp(state, "40", 2) == 0 || strncmp(state, "08", 2) == 0 ||
	       strncmp(state, "57P", 3) == 0;
}

static void answer_store_failure(struct request *req, enum store_status status, PGresult *res,
                                 const char *what)
{
	if (status == STORE_UNAVAILABLE || sql_failed_transiently(res)) {
		request_answer_err(req, PROTO_ERR_UNAVAILABLE, "database unavailable, retry later");
		return;
	}
	char q[600];
	log_error("event=sql_failed what=%s reason=%s", what,
	          log_quote(q, sizeof(q), PQresultErrorMessage(res)));
	request_answer_err(req, PROTO_ERR_INTERNAL, "internal error (logged)");
}

static void submit_or_unavailable(struct tickets *t, struct request *req, const char *sql, int n,
                                  const char *const *params, store_cb cb, void *arg)
{
	if (store_submit(t->store, sql, n, params, cb, arg) != 0)
		request_answer_err(req, PROTO_ERR_UNAVAILABLE, "database unavailable, retry later");
}

static const char *opt_int(const json_object *body, const char *key, char *buf, size_t len)
{
	if (!util_jhas(body, key))
		return NULL;
	snprintf(buf, len, "%" PRId64, util_jint(body, key, 0));
	return buf;
}

/* PROTOCOL.md "ticket object": clock states as the protocol names them. */
static const char *clock_state_wire(enum sla_clock_state st)
{
	switch (st) {
	case SLA_CS_RUNNING:
		return "running";
	case SLA_CS_PAUSED:
		return "paused";
	case SLA_CS_MET:
		return "met";
	case SLA_CS_OVERDUE:
	case SLA_CS_BREACHED:
		return "breached";
	default:
		return "not_running";
	}
}

static bool clock_has_deadline(const struct sla_clock_eval *ce)
{
	return ce->state > SLA_CS_NOT_NEEDED;
}

/* `due`: each clock's due instant, null for a clock this ticket does not
 * run (or an on-site clock no visit was agreed for, S5). */
static json_object *due_object(const struct sla_deadline_eval *ev)
{
	json_object *due = json_object_new_object();
	for (int c = 0; c < SLA_CLOCK_COUNT; c++) {
		const struct sla_clock_eval *ce = &ev->clocks[c];
		json_object_object_add(due, sla_clock_name((enum sla_clock)c),
		                       clock_has_deadline(ce) ? util_jtime(ce->due_at) : NULL);
	}
	return due;
}

/* SHOW's `clocks`: one object per clock the ticket's type runs. */
static json_object *clocks_array(const struct sla_deadline_eval *ev)
{
	json_object *clocks = json_object_new_array();
	for (int c = 0; c < SLA_CLOCK_COUNT; c++) {
		const struct sla_clock_eval *ce = &ev->clocks[c];
		if (ce->state == SLA_CS_INACTIVE)
			continue;
		bool timed = clock_has_deadline(ce);
		json_object *o = json_object_new_object();
		json_object_object_add(o, "clock", json_object_new_string(sla_clock_name(c)));
		json_object_object_add(o, "state",
		                       json_object_new_string(clock_state_wire(ce->state)));
		json_object_object_add(o, "started_at", timed ? util_jtime(ce->start_at) : NULL);
		json_object_object_add(o, "due_at", timed ? util_jtime(ce->due_at) : NULL);
		json_object_object_add(o, "stopped_at", timed ? util_jtime(ce->stopped_at) : NULL);
		json_object_object_add(
		    o, "consumed",
		    timed ? json_object_new_double((double)ce->consumed_permille / 1000.0) : NULL);
		json_object *next = NULL;
		if (ce->next.index >= 0) {
			next = json_object_new_object();
			json_object_object_add(
			    next, "kind", json_object_new_string(step_kind_names[ce->next.kind]));
			json_object_object_add(
			    next, "tier", json_object_new_string(sla_tier_name(ce->next.tier)));
			json_object_object_add(next, "at", util_jtime(ce->next.due_at));
		}
		json_object_object_add(o, "next_step", next);
		json_object_array_add(clocks, o);
	}
	return clocks;
}

/*
 * The clock rows to store: one per clock the ticket runs, each with the rest
 * of its step schedule (warnings, breach, ladder, with due instants) for the
 * scheduler to walk (deploy/sql/003_escalations.sql).  `prior` (may be NULL)
 * is the stored rows: within the same cycle the scheduler's position is
 * kept (DESIGN.md "Time"), so a step that already fired is not offered
 * again after a reschedule.
 */
static json_object *clocks_rows(const struct sla_deadline_eval *ev, const json_object *prior)
{
	json_object *rows = json_object_new_array();
	for (int c = 0; c < SLA_CLOCK_COUNT; c++) {
		const struct sla_clock_eval *ce = &ev->clocks[c];
		if (ce->state == SLA_CS_INACTIVE)
			continue;
		int after = -1;
		size_t n = prior ? json_object_array_length(prior) : 0;
		for (size_t i = 0; i < n; i++) {
			json_object *row = json_object_array_get_idx(prior, i);
			const char *name = util_jstr(row, "clock");
			if (name && strcmp(name, sla_clock_name((enum sla_clock)c)) == 0 &&
			    util_jint(row, "cycle", 0) == ev->cycle && util_jhas(row, "next_step"))
				after = (int)util_jint(row, "next_step", 0) - 1;
		}
		json_object *o = json_object_new_object();
		json_object_object_add(o, "clock", json_object_new_string(sla_clock_name(c)));
		json_object_object_add(o, "cycle", json_object_new_int(ev->cycle));
		json_object_object_add(o, "state",
		                       json_object_new_string(clock_state_names[ce->state]));
		if (ce->state > SLA_CS_NOT_NEEDED) {
			json_object_object_add(o, "started_at",
			                       json_object_new_int64(ce->start_at));
			json_object_object_add(o, "due_at", json_object_new_int64(ce->due_at));
		}
		json_object *steps = json_object_new_array();
		struct sla_step step;
		int from = after;
		while (sla_deadline_next_step(ev, (enum sla_clock)c, from, &step)) {
			json_object *s = json_object_new_object();
			json_object_object_add(s, "i", json_object_new_int(step.index));
			json_object_object_add(s, "kind",
			                       json_object_new_string(step_kind_names[step.kind]));
			json_object_object_add(s, "tier",
			                       json_object_new_string(sla_tier_name(step.tier)));
			json_object_object_add(s, "permille", json_object_new_int(step.permille));
			json_object_object_add(s, "at", json_object_new_int64(step.due_at));
			json_object_array_add(steps, s);
			from = step.index;
		}
		json_object_object_add(o, "steps", steps);
		/* Paused or stopped: nothing to fire, but keep the position. */
		json_object_object_add(o, "next_step", json_object_new_int(after + 1));
		json_object_array_add(rows, o);
	}
	return rows;
}

/* The earliest step instant among clock rows (SLA_TIME_NEVER: none). */
static sla_time rows_first_due(const json_object *rows)
{
	sla_time first = SLA_TIME_NEVER;
	for (size_t i = 0; rows && i < json_object_array_length(rows); i++) {
		json_object *steps = NULL;
		json_object_object_get_ex(json_object_array_get_idx(rows, i), "steps", &steps);
		if (steps && json_object_array_length(steps) > 0) {
			sla_time at =
			    util_jint(json_object_array_get_idx(steps, 0), "at", SLA_TIME_NEVER);
			if (at < first)
				first = at;
		}
	}
	return first;
}

static void poke_scheduler(struct tickets *t, sla_time due)
{
	if (t->sched != NULL && due != SLA_TIME_NEVER)
		sched_poke(t->sched, due);
}

void tickets_set_sched(struct tickets *t, struct sched *s)
{
	t->sched = s;
}

/* ---- REPORT and ALERT trigger: group commit ---- */

static void batch_flush(struct tickets *t);
static bool terms_retry(struct tickets *t, struct batch_item *bi, const json_object *r);

static void batch_done(void *arg, enum store_status status, PGresult *res)
{
	struct batch *b = arg;
	struct tickets *t = b->t;
	t->in_flight--;
	if (status == STORE_DONE)
		metrics_commit(METRICS_COMMIT_REPORT_BATCH, b->started);
	json_object *results = NULL;
	if (status == STORE_DONE && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		results = json_tokener_parse(PQgetvalue(res, 0, 0));
	if (results != NULL && json_object_array_length(results) == b->n) {
		failpoint("report_after_commit"); /* committed, nobody answered yet */
		sla_time first = SLA_TIME_NEVER;
		for (size_t i = 0; i < b->n; i++)
			if (b->items[i].first_due < first)
				first = b->items[i].first_due;
		poke_scheduler(t, first);
	}
	for (size_t i = 0; i < b->n; i++) {
		struct request *req = b->items[i].req;
		json_object *r = results ? json_object_array_get_idx(results, i) : NULL;
		json_object *ok = NULL;
		if (r != NULL && terms_retry(t, &b->items[i], r))
			continue; /* queued again under its contract's terms */
		json_object_put(b->items[i].item);
		if (r == NULL) {
			answer_store_failure(req, status, res, "report_batch");
		} else if (json_object_object_get_ex(r, "ok", &ok)) {
			if (util_jbool(r, "replay", false))
				json_object_object_add(ok, "replay", json_object_new_boolean(1));
			request_answer_ok(req, ok);
		} else {
			const char *code = util_jstr(r, "err");
			enum proto_err e = code ? proto_err_parse(code) : PROTO_ERR_INTERNAL;
			request_answer_err(req, e == PROTO_ERR_COUNT ? PROTO_ERR_INTERNAL : e, "%s",
			                   util_jstr(r, "message") ? util_jstr(r, "message")
			                                           : "failed");
		}
	}
	json_object_put(results);
	free(b);
	batch_flush(t); /* whatever queued meanwhile */
}

static void batch_flush(struct tickets *t)
{
	while (t->queued > 0 && t->in_flight < t->cfg->db_connections) {
		size_t n =
		    t->queued < (size_t)t->cfg->batch_max ? t->queued : (size_t)t->cfg->batch_max;
		struct batch *b = malloc(sizeof(*b) + n * sizeof(b->items[0]));
		json_object *items = json_object_new_array_ext((int)n);
		if (b == NULL || items == NULL) {
			free(b);
			json_object_put(items);
			return;
		}
		b->t = t;
		b->n = n;
		for (size_t i = 0; i < n; i++) {
			b->items[i] = t->queue[i];
			json_object_array_add(items, json_object_get(b->items[i].item));
		}
		memmove(t->queue, t->queue + n, (t->queued - n) * sizeof(t->queue[0]));
		t->queued -= n;
		const char *params[1] = {
		    json_object_to_json_string_ext(items, JSON_C_TO_STRING_PLAIN)};
		b->started = metrics_clock();
		int rc = store_submit(t->store, "SELECT slad_report_batch($1::jsonb)", 1, params,
		                      batch_done, b);
		json_object_put(items);
		if (rc != 0) {
			for (size_t i = 0; i < n; i++) {
				json_object_put(b->items[i].item);
				request_answer_err(b->items[i].req, PROTO_ERR_UNAVAILABLE,
				                   "database unavailable, retry later");
			}
			free(b);
			continue;
		}
		t->in_flight++;
	}
	if (t->queued > 0 && !evtimer_pending(t->flush_timer, NULL)) {
		/* All connections busy: the batch grows until one frees up,
		 * with a timer as the backstop. */
		struct timeval tv = {0, t->cfg->batch_delay_us};
		evtimer_add(t->flush_timer, &tv);
	}
}

static void flush_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	batch_flush(arg);
}

static void batch_enqueue(struct tickets *t, struct request *req, json_object *item)
{
	if (t->queued == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct batch_item *q = realloc(t->queue, cap * sizeof(*q));
		if (q == NULL) {
			json_object_put(item);
			request_answer_err(req, PROTO_ERR_UNAVAILABLE, "server busy, retry later");
			return;
		}
		t->queue = q;
		t->cap = cap;
	}
	json_object *rows = NULL;
	json_object_object_get_ex(item, "clocks", &rows);
	t->queue[t->queued++] = (struct batch_item){req, item, rows_first_due(rows)};
	batch_flush(t);
}

/* (Re)compute an item's clocks under `policy` (row `policy_id`) from
 * `start`: its clock rows, the policy it names and the due instants its
 * answer states.  0, or -1 (logged) when libsla refuses. */
static int item_compute(json_object *item, const struct sla_policy *policy, int64_t policy_id,
                        enum sla_ticket_type type, enum sla_level level, sla_time start,
                        sla_time now)
{
	struct sla_event reported = {SLA_EV_REPORTED, start, level};
	struct sla_deadline_eval *ev = malloc(sizeof(*ev));
	if (ev == NULL)
		return -1;
	if (sla_deadline_evaluate(policy, type, &reported, 1, now, ev) != SLA_DL_OK) {
		log_error("event=deadline_refused policy_id=%" PRId64 " reason=\"%s\"", policy_id,
		          ev->err_text);
		free(ev);
		return -1;
	}
	json_object_object_add(item, "policy_id", json_object_new_int64(policy_id));
	json_object_object_add(item, "clock_start", json_object_new_int64(start));
	json_object_object_add(item, "clocks", clocks_rows(ev, NULL));
	json_object *data = NULL, *answer = NULL;
	if (json_object_object_get_ex(item, "event_data", &data))
		json_object_object_add(data, "policy_id", json_object_new_int64(policy_id));
	if (json_object_object_get_ex(item, "answer", &answer))
		json_object_object_add(answer, "due", due_object(ev));
	free(ev);
	return 0;
}

/* 010_contract_terms.sql answered TERMS: the item was computed under other
 * terms than its contract's.  Compute it again under the policy the
 * database named and queue it once more (at most twice: the terms cannot
 * keep changing under a request).  True when queued (the item is owned by
 * the queue again); false to answer the result as it is. */
static bool terms_retry(struct tickets *t, struct batch_item *bi, const json_object *r)
{
	const char *code = util_jstr(r, "err");
	if (code == NULL || strcmp(code, "TERMS") != 0)
		return false;
	json_object *item = bi->item, *body = NULL;
	int64_t policy_id = util_jint(r, "policy_id", 0);
	json_object_object_get_ex(r, "policy", &body);
	const struct sla_policy *policy = domain_policy_for(t->domain, policy_id, body);
	enum sla_ticket_type type;
	int64_t round = util_jint(item, "terms_round", 0);
	if (policy == NULL || round >= 2 ||
	    sla_ticket_type_parse(util_jstr(item, "type"), &type) != 0 ||
	    item_compute(item, policy, policy_id, type,
	                 (enum sla_level)util_jint(item, "level", SLA_LEVEL_NONE),
	                 util_jint(item, "clock_start", 0),
	                 util_jint(item, "reported_at", 0)) != 0) {
		log_error("event=contract_terms_failed policy_id=%" PRId64 " round=%" PRId64,
		          policy_id, round);
		json_object_put(item);
		request_answer_err(bi->req, PROTO_ERR_INTERNAL, "internal error (logged)");
		return true;
	}
	json_object_object_add(item, "terms_round", json_object_new_int64(round + 1));
	batch_enqueue(t, bi->req, item);
	return true;
}

/* Classify, compute the first clocks from `start` (under the default
 * policy: 010_contract_terms.sql may send the item back for its
 * contract's), and describe the new ticket, recorded at `now`, for
 * slad_report_batch().  NULL after answering an error. */
static json_object *new_ticket_item(struct tickets *t, struct request *req,
                                    enum sla_ticket_type type, const struct sla_report_facts *facts,
                                    sla_time start, sla_time now)
{
	const struct principal *who = request_principal(req);
	int64_t rules_id, policy_id;
	const struct sla_severity_rules *rules = domain_current_rules(t->domain, &rules_id);
	const struct sla_policy *policy = domain_current_policy(t->domain, &policy_id);
	struct sla_severity_result sev;
	enum sla_level level = sla_severity_classify(rules, facts, &sev);

	char hash[65];
	util_body_hash(req->msg.body, hash);
	char classified_by[160];
	snprintf(classified_by, sizeof(classified_by), "%s%s%s",
	         sla_severity_decided_by_name(sev.decided_by), sev.pattern ? ":" : "",
	         sev.pattern ? sev.pattern : "");

	json_object *item = json_object_new_object();
	json_object_object_add(item, "principal_id", json_object_new_int64(who->id));
	json_object_object_add(item, "request_id",
	                       util_jstr_or_null(util_jstr(req->msg.body, "request_id")));
	json_object_object_add(item, "body_hash", json_object_new_string(hash));
	json_object_object_add(item, "type", json_object_new_string(sla_ticket_type_name(type)));
	json_object_object_add(item, "level", json_object_new_int(level));
	json_object_object_add(item, "classified_by", json_object_new_string(classified_by));
	json_object_object_add(item, "reported_at", json_object_new_int64(now));

	json_object *data = json_object_new_object();
	json_object_object_add(data, "classified_by", json_object_new_string(classified_by));
	json_object_object_add(data, "rules_id", json_object_new_int64(rules_id));
	json_object_object_add(item, "event_data", data);

	json_object *answer = json_object_new_object();
	json_object_object_add(answer, "type", json_object_new_string(sla_ticket_type_name(type)));
	json_object_object_add(answer, "level", json_object_new_int(level));
	json_object_object_add(answer, "classified_by", json_object_new_string(classified_by));
	json_object_object_add(answer, "state", json_object_new_string("reported"));
	json_object_object_add(answer, "reported_at", util_jtime(now));
	json_object_object_add(item, "answer", answer);
	if (item_compute(item, policy, policy_id, type, level, start, now) != 0) {
		json_object_put(item);
		request_answer_err(req, PROTO_ERR_INTERNAL, "internal error (logged)");
		return NULL;
	}
	return item;
}

static void copy_field(json_object *to, const json_object *from, const char *key)
{
	json_object *v = NULL;
	if (json_object_object_get_ex(from, key, &v) && v != NULL)
		json_object_object_add(to, key, json_object_get(v));
}

void tickets_report(struct tickets *t, struct request *req)
{
	const json_object *body = req->msg.body;
	enum sla_ticket_type type = SLA_TYPE_FAULT;
	const char *type_name = util_jstr(body, "type");
	if (type_name && sla_ticket_type_parse(type_name, &type) != 0) {
		request_answer_err(req, PROTO_ERR_INVALID_FIELD, "field 'type': unknown type '%s'",
		                   type_name);
		return;
	}
	enum sla_impact impact = SLA_IMPACT_NONE;
	const char *impact_name = util_jstr(body, "impact");
	if (impact_name && sla_impact_parse(impact_name, &impact) != 0) {
		request_answer_err(req, PROTO_ERR_INVALID_FIELD,
		                   "field 'impact': expected interrupted, at_risk, degraded or "
		                   "intermittent");
		return;
	}
	/* S3: a customer from the archive, or a caller by name and phone. */
	bool by_id = util_jhas(body, "customer_id");
	bool by_caller = util_jhas(body, "customer_name") || util_jhas(body, "customer_phone");
	if (by_id && by_caller) {
		request_answer_err(
		    req, PROTO_ERR_INVALID_FIELD,
		    "give customer_id or customer_name with customer_phone, not both");
		return;
	}
	if (!by_id) {
		const char *missing = !util_jhas(body, "customer_name")    ? "customer_name"
		                      : !util_jhas(body, "customer_phone") ? "customer_phone"
		                                                           : NULL;
		if (missing != NULL) {
			request_answer_err(req, PROTO_ERR_MISSING_FIELD,
			                   "field '%s' is required (or customer_id)", missing);
			return;
		}
	}
	sla_time now = util_now();
	sla_time requested_at = now;
	const char *requested = util_jstr(body, "requested_at");
	if (requested && util_parse_time(requested, &requested_at) != 0) {
		request_answer_err(req, PROTO_ERR_INVALID_FIELD,
		                   "field 'requested_at': not RFC 3339");
		return;
	}
	const char *symptoms = util_jstr(body, "symptoms");
	struct sla_report_facts facts = {
	    .explicit_level = (enum sla_level)util_jint(body, "level", SLA_LEVEL_NONE),
	    .impact = impact,
	    .symptoms = symptoms,
	    .symptoms_len = symptoms ? strlen(symptoms) : 0,
	};
	/* S3: the clocks run from when the customer asked, which the hotline
	 * may give (a call taken down on paper at 3 a.m.); never from the
	 * future. */
	sla_time start = requested_at < now ? requested_at : now;
	json_object *item = new_ticket_item(t, req, type, &facts, start, now);
	if (item == NULL)
		return;
	static const char *const fields[] = {
	    "customer_id", "customer_name", "customer_phone", "equipment_no",
	    "symptoms",    "details",       "contact_name",   "contact_phone",
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		copy_field(item, body, fields[i]);
	json_object_object_add(item, "requested_at", json_object_new_int64(requested_at));
	/* S9: an interruption is downtime from the moment service was asked
	 * for; the restore records its end. */
	if (impact == SLA_IMPACT_INTERRUPTED)
		json_object_object_add(item, "outage_started_at", json_object_new_int64(start));
	batch_enqueue(t, req, item);
}

/* ---- loading a ticket ---- */

struct loaded {
	json_object *root; /* owns everything below */
	int64_t id, version, policy_id;
	enum sla_ticket_type type;
	const char *team, *assigned_to;
	struct sla_event *events;
	size_t n_events;
	const struct sla_policy *policy;
	json_object *clock_rows;
};

static void loaded_clear(struct loaded *l)
{
	json_object_put(l->root);
	free(l->events);
	memset(l, 0, sizeof(*l));
}

/* Parse slad_ticket_load()'s document.  0, or -1 (logged: INTERNAL). */
static int loaded_parse(struct tickets *t, const char *text, struct loaded *l)
{
	memset(l, 0, sizeof(*l));
	l->root = json_tokener_parse(text);
	if (l->root == NULL)
		return -1;
	l->id = util_jint(l->root, "id", 0);
	l->version = util_jint(l->root, "version", 0);
	l->policy_id = util_jint(l->root, "policy_id", 0);
	l->team = util_jstr(l->root, "team");
	l->assigned_to = util_jstr(l->root, "assigned_to");
	if (sla_ticket_type_parse(util_jstr(l->root, "type"), &l->type) != 0)
		return -1;
	json_object *policy_body = NULL;
	json_object_object_get_ex(l->root, "policy", &policy_body);
	l->policy = domain_policy_for(t->domain, l->policy_id, policy_body);
	if (l->policy == NULL)
		return -1;
	json_object_object_get_ex(l->root, "clocks", &l->clock_rows);
	json_object *events = NULL;
	if (!json_object_object_get_ex(l->root, "events", &events))
		return -1;
	size_t n = json_object_array_length(events);
	if (n == 0 || n > TICKET_MAX_EVENTS)
		return -1;
	l->events = calloc(n + 1, sizeof(*l->events)); /* +1: room for the new one */
	if (l->events == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(events, i);
		/* Fired escalation steps are history for people, not facts the
		 * state machine or the clocks depend on. */
		if (util_jstr(e, "kind") && strcmp(util_jstr(e, "kind"), "escalated") == 0)
			continue;
		struct sla_event *ev = &l->events[l->n_events];
		if (sla_event_kind_parse(util_jstr(e, "kind"), &ev->kind) != 0)
			return -1;
		ev->at = util_jint(e, "at", 0);
		/* S3: a report's clocks run from when the customer asked; the
		 * event keeps when slad recorded it.  An alert's run from its
		 * receipt (PROTOCOL.md, REPORT and ALERT).  COMPLIANCE's events
		 * (008_compliance.sql) follow the same rule. */
		if (ev->kind == SLA_EV_REPORTED && util_jstr(l->root, "dedup_key") == NULL &&
		    util_jint(l->root, "requested_at", ev->at) < ev->at)
			ev->at = util_jint(l->root, "requested_at", ev->at);
		ev->level = (enum sla_level)util_jint(e, "level", SLA_LEVEL_NONE);
		/* Only REPORTED and RECLASSIFIED carry a level for libsla. */
		if (ev->kind != SLA_EV_REPORTED && ev->kind != SLA_EV_RECLASSIFIED)
			ev->level = SLA_LEVEL_NONE;
		l->n_events++;
	}
	return l->n_events > 0 ? 0 : -1;
}

/* ---- state changes ---- */

/* What a verb means for libsla, and what it records besides. */
struct verb_effect {
	const char *verb;
	enum sla_event_kind kind;
};
static const struct verb_effect verb_effects[] = {
    {"ACKNOWLEDGE", SLA_EV_ACKNOWLEDGED},
    {"DISPATCH", SLA_EV_DISPATCHED},
    {"ARRIVE", SLA_EV_ARRIVED},
    {"RESTORE", SLA_EV_RESTORED},
    {"RECLASSIFY", SLA_EV_RECLASSIFIED},
    {"PAUSE", SLA_EV_PAUSED},
    {"RESUME", SLA_EV_RESUMED},
    {"ASSIGN", SLA_EV_ASSIGNED},
    {"NOTE", SLA_EV_NOTE},
    {"CLOSE", SLA_EV_CLOSED},
    {"REOPEN", SLA_EV_REOPENED},
    {"CANCEL", SLA_EV_CANCELLED},
    {"SET_CAUSE", SLA_EV_NOTE},
};

static const struct verb_effect *effect_of(const char *verb)
{
	for (size_t i = 0; i < sizeof(verb_effects) / sizeof(verb_effects[0]); i++)
		if (strcmp(verb_effects[i].verb, verb) == 0)
			return &verb_effects[i];
	return NULL;
}

struct change {
	struct tickets *t;
	struct request *req;
	int64_t ticket_id;
	const struct verb_effect *fx;
	sla_time event_at; /* 0: now; ALERT resolve: the outage's end */
	int attempts;
	struct loaded l;
	json_object *answer;
	sla_time first_due;   /* earliest step of the rewritten clocks */
	double apply_started; /* metrics_clock() when the change was sent */
	/* ALERT reopening a flapping alert's ticket: the trigger's batch item,
	 * for the batch to take over if the ticket is open again meanwhile,
	 * and the new occurrence's start. */
	json_object *alert_item;
	sla_time alert_starts_at;
};

static void change_load(struct change *c);

static void change_finish(struct change *c)
{
	loaded_clear(&c->l);
	json_object_put(c->answer);
	json_object_put(c->alert_item);
	free(c);
}

static void change_applied(void *arg, enum store_status status, PGresult *res)
{
	struct change *c = arg;
	json_object *r = NULL;
	if (status == STORE_DONE)
		metrics_commit(METRICS_COMMIT_TICKET_APPLY, c->apply_started);
	if (status == STORE_DONE && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		r = json_tokener_parse(PQgetvalue(res, 0, 0));
	if (r == NULL) {
		answer_store_failure(c->req, status, res, "ticket_apply");
		change_finish(c);
		return;
	}
	if (util_jbool(r, "conflict", false)) {
		json_object_put(r);
		loaded_clear(&c->l);
		json_object_put(c->answer);
		c->answer = NULL;
		if (++c->attempts >= CHANGE_MAX_ATTEMPTS) {
			request_answer_err(c->req, PROTO_ERR_CONFLICT,
			                   "ticket changed concurrently; retry");
			change_finish(c);
			return;
		}
		change_load(c); /* somebody else won: decide again on fresh facts */
		return;
	}
	if (util_jstr(r, "err") != NULL) {
		enum proto_err e = proto_err_parse(util_jstr(r, "err"));
		request_answer_err(c->req, e == PROTO_ERR_COUNT ? PROTO_ERR_INTERNAL : e, "%s",
		                   util_jstr(r, "message") ? util_jstr(r, "message") : "failed");
		json_object_put(r);
		change_finish(c);
		return;
	}
	failpoint("change_after_commit");
	poke_scheduler(c->t, c->first_due);
	json_object_object_add(c->answer, "version",
	                       json_object_new_int64(util_jint(r, "version", 0)));
	json_object_put(r);
	request_answer_ok(c->req, c->answer);
	change_finish(c);
}

/* DESIGN.md: an engineer acts on tickets of their own team (or assigned to
 * them, or not yet routed to any team). */
static bool may_act_on(const struct principal *who, const struct loaded *l)
{
	if (who->role != PROTO_ROLE_ENGINEER)
		return true;
	if (l->team == NULL || l->team[0] == '\0')
		return true;
	if (l->assigned_to && strcmp(l->assigned_to, who->name) == 0)
		return true;
	return strcmp(l->team, who->team) == 0;
}

static bool cause_valid(const char *name)
{
	enum sla_cause cause;
	return name == NULL || sla_cause_parse(name, &cause) == 0;
}

static bool clock_met(const struct sla_deadline_eval *dl, enum sla_clock clock)
{
	return dl->clocks[clock].state == SLA_CS_MET;
}

/*
 * The answer PROTOCOL.md gives each verb.  Every change answers ticket_id,
 * state, level, cycle, paused, `at` (the event's instant) and `due`; each
 * verb adds its own fields.
 */
static json_object *change_answer(const struct change *c, const struct sla_ticket *proj,
                                  const struct sla_deadline_eval *dl, const struct sla_event *ev,
                                  const char *assignee)
{
	const struct loaded *l = &c->l;
	const json_object *body = c->req->msg.body;
	json_object *a = json_object_new_object();
	json_object_object_add(a, "ticket_id", json_object_new_int64(l->id));
	json_object_object_add(a, "state",
	                       json_object_new_string(sla_ticket_state_name(proj->state)));
	json_object_object_add(a, "level", json_object_new_int(proj->level));
	json_object_object_add(a, "cycle", json_object_new_int((int)proj->cycle));
	json_object_object_add(a, "paused", json_object_new_boolean(proj->paused));
	json_object_object_add(a, "at", util_jtime(ev->at));
	json_object_object_add(a, "due", due_object(dl));
	switch (ev->kind) {
	case SLA_EV_ACKNOWLEDGED:
		json_object_object_add(a, "acknowledged_at", util_jtime(ev->at));
		json_object_object_add(a, "response_met",
		                       json_object_new_boolean(clock_met(dl, SLA_CLOCK_RESPONSE)));
		break;
	case SLA_EV_DISPATCHED:
		json_object_object_add(a, "engineer", util_jstr_or_null(assignee));
		json_object_object_add(a, "onsite_due_at",
		                       clock_has_deadline(&dl->clocks[SLA_CLOCK_ONSITE])
		                           ? util_jtime(dl->clocks[SLA_CLOCK_ONSITE].due_at)
		                           : NULL);
		break;
	case SLA_EV_ARRIVED:
		json_object_object_add(a, "arrived_at", util_jtime(ev->at));
		json_object_object_add(a, "onsite_met",
		                       json_object_new_boolean(clock_met(dl, SLA_CLOCK_ONSITE)));
		break;
	case SLA_EV_RESTORED: {
		json_object_object_add(a, "restored_at", util_jtime(ev->at));
		json_object_object_add(a, "restore_met",
		                       json_object_new_boolean(clock_met(dl, SLA_CLOCK_RESTORE)));
		sla_time start = util_jint(l->root, "outage_started_at", 0);
		json_object *outage = NULL;
		if (start > 0) {
			sla_time end = c->event_at ? c->event_at : ev->at;
			outage = json_object_new_object();
			json_object_object_add(outage, "start", util_jtime(start));
			json_object_object_add(outage, "end", util_jtime(end));
			json_object_object_add(outage, "hours", records_hours_json(end - start));
			const char *cause = util_jstr(body, "cause");
			json_object_object_add(outage, "cause", util_jstr_or_null(cause));
			int64_t days = records_restore_extension_days(l->root, cause, end, ev->at);
			json_object_object_add(outage, "extension_days",
			                       days < 0 ? NULL : json_object_new_int64(days));
		}
		json_object_object_add(a, "outage", outage);
		break;
	}
	case SLA_EV_PAUSED:
		json_object_object_add(a, "paused_at", util_jtime(ev->at));
		break;
	case SLA_EV_RESUMED:
		json_object_object_add(a, "resumed_at", util_jtime(ev->at));
		break;
	case SLA_EV_ASSIGNED:
		json_object_object_add(a, "assignee", util_jstr_or_null(assignee));
		break;
	case SLA_EV_CLOSED:
		json_object_object_add(a, "closed_at", util_jtime(ev->at));
		break;
	default:
		break;
	}
	if (strcmp(c->req->verb->name, "ALERT") == 0) {
		/* A flapping alert reopens its ticket as one more occurrence. */
		bool reopened = ev->kind == SLA_EV_REOPENED;
		json_object_object_add(a, "effect",
		                       json_object_new_string(reopened ? "reopened" : "resolved"));
		json_object_object_add(a, "occurrence",
		                       json_object_new_int64(util_jint(l->root, "occurrences", 1) +
		                                             (reopened ? 1 : 0)));
	}
	if (strcmp(c->req->verb->name, "SET_CAUSE") == 0) {
		json_object_object_add(a, "cause", util_jstr_or_null(util_jstr(body, "cause")));
		json_object_object_add(a, "previous_cause",
		                       util_jstr_or_null(util_jstr(l->root, "cause")));
		/* S9: the ledger is revised when the corrected cause changes
		 * what a covering contract grants (records.c). */
		json_object_object_add(a, "warranty_revised",
		                       json_object_new_boolean(records_cause_revises_warranty(
		                           l->root, util_jstr(body, "cause"), util_now())));
	}
	return a;
}

/*
 * ACKNOWLEDGE on a ticket a person already took in this cycle changes
 * nothing and answers the first acknowledgement (PROTOCOL.md).  Returns
 * true when it answered.
 */
static bool change_answer_prior_ack(struct change *c)
{
	const struct loaded *l = &c->l;
	sla_time acked = 0;
	for (size_t i = 0; i < l->n_events; i++) {
		if (l->events[i].kind == SLA_EV_REOPENED)
			acked = 0;
		else if (l->events[i].kind == SLA_EV_ACKNOWLEDGED)
			acked = l->events[i].at;
	}
	if (acked == 0)
		return false;
	struct sla_deadline_eval *dl = malloc(sizeof(*dl));
	if (dl == NULL || sla_deadline_evaluate(l->policy, l->type, l->events, l->n_events,
	                                        util_now(), dl) != SLA_DL_OK) {
		free(dl);
		return false; /* let the normal path report it */
	}
	json_object *a = json_object_new_object();
	json_object_object_add(a, "ticket_id", json_object_new_int64(l->id));
	json_object_object_add(a, "state", util_jstr_or_null(util_jstr(l->root, "state")));
	json_object_object_add(a, "acknowledged_at", util_jtime(acked));
	json_object_object_add(a, "response_met",
	                       json_object_new_boolean(clock_met(dl, SLA_CLOCK_RESPONSE)));
	json_object_object_add(a, "unchanged", json_object_new_boolean(1));
	free(dl);
	request_answer_ok(c->req, a);
	json_object_put(a);
	change_finish(c);
	return true;
}

/* Decide and write.  Every path answers or hands over to change_applied. */
static void change_decide(struct change *c)
{
	struct request *req = c->req;
	const json_object *body = req->msg.body;
	const struct principal *who = request_principal(req);
	struct loaded *l = &c->l;
	const struct verb_effect *fx = c->fx;

	if (!may_act_on(who, l)) {
		verbs_audit_refusal(req, "forbidden", "team");
		request_answer_err(req, PROTO_ERR_FORBIDDEN,
		                   "ticket %" PRId64 " belongs to team %s", l->id, l->team);
		change_finish(c);
		return;
	}
	json_object *prior = NULL;
	if (req->verb->creating && json_object_object_get_ex(l->root, "prior", &prior) &&
	    prior != NULL) {
		char hash[65];
		util_body_hash(body, hash);
		const char *old = util_jstr(prior, "body_hash");
		json_object *ans = NULL;
		if (old && strcmp(old, hash) == 0 &&
		    json_object_object_get_ex(prior, "answer", &ans)) {
			json_object_object_add(ans, "replay", json_object_new_boolean(1));
			request_answer_ok(req, ans);
		} else {
			request_answer_err(req, PROTO_ERR_IDEMPOTENCY_MISMATCH,
			                   "request_id was used with a different body");
		}
		change_finish(c);
		return;
	}
	/* A flapping alert: the ticket was restored when the trigger looked.
	 * Open again now (another sender's trigger won the race), the batch
	 * takes the trigger as the repeat or new occurrence it now is. */
	if (c->alert_item != NULL && (util_jstr(l->root, "state") == NULL ||
	                              strcmp(util_jstr(l->root, "state"), "restored") != 0)) {
		json_object *item = c->alert_item;
		c->alert_item = NULL;
		struct tickets *t = c->t;
		change_finish(c);
		batch_enqueue(t, req, item);
		return;
	}
	const char *cause = util_jstr(body, "cause");
	if (!cause_valid(cause)) {
		request_answer_err(req, PROTO_ERR_INVALID_FIELD,
		                   "field 'cause': unknown cause '%s'", cause);
		change_finish(c);
		return;
	}
	const char *outcome = util_jstr(body, "remote_outcome");
	if (outcome && strcmp(outcome, "failed") != 0 && strcmp(outcome, "partial") != 0 &&
	    strcmp(outcome, "not_possible") != 0) {
		request_answer_err(
		    req, PROTO_ERR_INVALID_FIELD,
		    "field 'remote_outcome': expected failed, partial or not_possible");
		change_finish(c);
		return;
	}
	const char *state = util_jstr(l->root, "state") ? util_jstr(l->root, "state") : "?";
	bool finished = strcmp(state, "restored") == 0 || strcmp(state, "closed") == 0;
	if (strcmp(req->verb->name, "SET_CAUSE") == 0 && !finished) {
		request_answer_err(req, PROTO_ERR_INVALID_TRANSITION,
		                   "SET_CAUSE: the ticket is %s, not restored or closed", state);
		change_finish(c);
		return;
	}
	/* S9: an outage's cause decides the extension and the charge, so a
	 * ticket with an outage is not closed without one. */
	if (fx->kind == SLA_EV_CLOSED && cause == NULL && util_jstr(l->root, "cause") == NULL &&
	    util_jint(l->root, "outage_started_at", 0) > 0 && strcmp(state, "restored") == 0) {
		request_answer_err(req, PROTO_ERR_MISSING_FIELD,
		                   "field 'cause' is required: the ticket records an outage");
		change_finish(c);
		return;
	}
	/* ACKNOWLEDGE is idempotent within a cycle: the first one stands. */
	if (fx->kind == SLA_EV_ACKNOWLEDGED && strcmp(state, "closed") != 0 &&
	    strcmp(state, "cancelled") != 0 && change_answer_prior_ack(c))
		return;

	sla_time now = util_now();
	/* Events stay in order even if instances' clocks differ a little, or a
	 * monitor's resolve names an instant before the last event. */
	sla_time last = l->events[l->n_events - 1].at;
	sla_time at = c->event_at ? c->event_at : now;
	struct sla_event *ev = &l->events[l->n_events];
	ev->kind = fx->kind;
	ev->at = at > last ? at : last;
	ev->level = fx->kind == SLA_EV_RECLASSIFIED
	                ? (enum sla_level)util_jint(body, "level", SLA_LEVEL_NONE)
	                : SLA_LEVEL_NONE;

	struct sla_ticket proj;
	size_t failed_at;
	if (sla_ticket_replay(l->events, l->n_events, &proj, &failed_at) != SLA_TICKET_OK) {
		log_error("event=history_refused ticket=%" PRId64 " at=%zu", l->id, failed_at);
		request_answer_err(req, PROTO_ERR_INTERNAL, "internal error (logged)");
		change_finish(c);
		return;
	}
	enum sla_ticket_err terr = sla_ticket_apply(&proj, ev);
	if (terr != SLA_TICKET_OK) {
		/* PROTOCOL.md: pausing a paused ticket (or resuming a running one)
		 * conflicts with its state; every other refusal is the state
		 * machine's. */
		bool conflict =
		    terr == SLA_TICKET_ERR_ALREADY_PAUSED || terr == SLA_TICKET_ERR_NOT_PAUSED;
		request_answer_err(req,
		                   conflict ? PROTO_ERR_CONFLICT : PROTO_ERR_INVALID_TRANSITION,
		                   "%s refused (%s): the ticket is %s%s", req->verb->name,
		                   sla_ticket_err_name(terr), state, proj.paused ? ", paused" : "");
		change_finish(c);
		return;
	}
	struct sla_deadline_eval *dl = malloc(sizeof(*dl));
	if (dl == NULL || sla_deadline_evaluate(l->policy, l->type, l->events, l->n_events + 1, now,
	                                        dl) != SLA_DL_OK) {
		request_answer_err(req, PROTO_ERR_INVALID_TRANSITION, "%s refused: %s",
		                   req->verb->name, dl ? dl->err_text : "out of memory");
		free(dl);
		change_finish(c);
		return;
	}

	json_object *data = json_object_new_object();
	static const char *const recorded[] = {"note",      "reason",   "remote_outcome",
	                                       "agreed_by", "engineer", "principal",
	                                       "cause",     "text"};
	for (size_t i = 0; i < sizeof(recorded) / sizeof(recorded[0]); i++)
		copy_field(data, body, recorded[i]);
	if (strcmp(req->verb->name, "SET_CAUSE") == 0) {
		json_object_object_add(data, "cause_corrected", json_object_new_boolean(1));
		copy_field(data, l->root, "cause");
	}
	json_object_object_add(data, "verb", json_object_new_string(req->verb->name));
	if (c->alert_item != NULL) {
		json_object_object_add(
		    data, "reason",
		    json_object_new_string("the alert fired again within the flap window"));
		json_object_object_add(data, "occurrence",
		                       json_object_new_int64(c->alert_starts_at));
	}

	json_object *patch = json_object_new_object();
	json_object_object_add(patch, "state",
	                       json_object_new_string(sla_ticket_state_name(proj.state)));
	json_object_object_add(patch, "level", json_object_new_int(proj.level));
	json_object_object_add(patch, "paused", json_object_new_boolean(proj.paused));
	json_object_object_add(patch, "cycle", json_object_new_int((int)proj.cycle));
	if (cause != NULL)
		json_object_object_add(patch, "cause", json_object_new_string(cause));
	const char *assignee = util_jstr(body, "principal");
	if (fx->kind == SLA_EV_DISPATCHED)
		assignee = util_jstr(body, "engineer") ? util_jstr(body, "engineer") : who->name;
	bool strict = assignee != NULL; /* named in the request: must fit the team */
	if (fx->kind == SLA_EV_ACKNOWLEDGED && l->assigned_to == NULL &&
	    who->role == PROTO_ROLE_ENGINEER)
		assignee = who->name; /* whoever takes it owns it until reassigned */
	if (assignee != NULL) {
		json_object_object_add(patch, "assigned_to", json_object_new_string(assignee));
		json_object_object_add(patch, "assign_strict", json_object_new_boolean(strict));
	}
	/* S9: the outage ends when service came back: the monitor's own
	 * instant where it gave one, else when the engineer recorded it. */
	if (fx->kind == SLA_EV_RESTORED && util_jint(l->root, "outage_started_at", 0) > 0)
		json_object_object_add(patch, "outage_ended_at",
		                       json_object_new_int64(c->event_at ? c->event_at : ev->at));
	if (c->alert_item != NULL) {
		/* S9: a flapping outage is one outage: it lasts from its first
		 * start to the resolve after the last flap, so the end recorded
		 * by the resolve before is taken back. */
		json_object_object_add(patch, "alert_starts_at",
		                       json_object_new_int64(c->alert_starts_at));
		json_object_object_add(patch, "add_occurrences", json_object_new_int(1));
		json_object_object_add(patch, "outage_ended_at", NULL);
	}

	json_object *event = json_object_new_object();
	json_object_object_add(event, "kind",
	                       json_object_new_string(sla_event_kind_name(ev->kind)));
	json_object_object_add(event, "at", json_object_new_int64(ev->at));
	if (ev->level != SLA_LEVEL_NONE)
		json_object_object_add(event, "level", json_object_new_int(ev->level));
	json_object_object_add(event, "actor_id", json_object_new_int64(who->id));
	json_object_object_add(event, "data", data);

	c->answer = change_answer(c, &proj, dl, ev, assignee);

	json_object *change = json_object_new_object();
	json_object_object_add(change, "ticket_id", json_object_new_int64(l->id));
	json_object_object_add(change, "version", json_object_new_int64(l->version));
	json_object_object_add(change, "event", event);
	json_object_object_add(change, "patch", patch);
	json_object *rows = clocks_rows(dl, l->clock_rows);
	c->first_due = rows_first_due(rows);
	json_object_object_add(change, "clocks", rows);
	if (req->verb->creating) {
		char hash[65];
		util_body_hash(body, hash);
		json_object *r = json_object_new_object();
		json_object_object_add(r, "principal_id", json_object_new_int64(who->id));
		copy_field(r, body, "request_id");
		json_object_object_add(r, "body_hash", json_object_new_string(hash));
		json_object_object_add(change, "request", r);
		json_object_object_add(change, "answer", json_object_get(c->answer));
	}
	free(dl);
	const char *params[1] = {json_object_to_json_string_ext(change, JSON_C_TO_STRING_PLAIN)};
	c->apply_started = metrics_clock();
	int rc = store_submit(c->t->store, "SELECT slad_ticket_apply($1::jsonb)", 1, params,
	                      change_applied, c);
	json_object_put(change);
	if (rc != 0) {
		request_answer_err(req, PROTO_ERR_UNAVAILABLE, "database unavailable, retry later");
		change_finish(c);
	}
}

static void change_loaded(void *arg, enum store_status status, PGresult *res)
{
	struct change *c = arg;
	if (status != STORE_DONE || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		answer_store_failure(c->req, status, res, "ticket_load");
		change_finish(c);
		return;
	}
	if (PQgetisnull(res, 0, 0)) {
		request_answer_err(c->req, PROTO_ERR_NOT_FOUND, "no ticket %" PRId64, c->ticket_id);
		change_finish(c);
		return;
	}
	if (loaded_parse(c->t, PQgetvalue(res, 0, 0), &c->l) != 0) {
		log_error("event=ticket_unreadable ticket=%" PRId64, c->ticket_id);
		request_answer_err(c->req, PROTO_ERR_INTERNAL, "internal error (logged)");
		change_finish(c);
		return;
	}
	change_decide(c);
}

static void change_load(struct change *c)
{
	const struct principal *who = request_principal(c->req);
	char id[24], pid[24];
	snprintf(id, sizeof(id), "%" PRId64, c->ticket_id);
	snprintf(pid, sizeof(pid), "%" PRId64, who->id);
	/* A restore states the days its outage adds to the maintenance
	 * period: it needs the warranty view (009_restore_warranty.sql). */
	const char *ending = c->fx->kind == SLA_EV_RESTORED ? "true" : "false";
	const char *params[4] = {id, pid, util_jstr(c->req->msg.body, "request_id"), ending};
	if (store_submit(c->t->store,
	                 "SELECT slad_ticket_load($1::bigint, $2::bigint, $3, $4::boolean)", 4,
	                 params, change_loaded, c) != 0) {
		request_answer_err(c->req, PROTO_ERR_UNAVAILABLE,
		                   "database unavailable, retry later");
		change_finish(c);
	}
}

static void change_start(struct tickets *t, struct request *req, int64_t ticket_id,
                         const struct verb_effect *fx, sla_time event_at)
{
	struct change *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		request_answer_err(req, PROTO_ERR_UNAVAILABLE, "server busy, retry later");
		return;
	}
	c->t = t;
	c->req = req;
	c->ticket_id = ticket_id;
	c->fx = fx;
	c->event_at = event_at;
	change_load(c);
}

void tickets_change(struct tickets *t, struct request *req)
{
	const struct verb_effect *fx = effect_of(req->verb->name);
	if (fx == NULL) {
		request_answer_err(req, PROTO_ERR_INTERNAL, "no effect for %s", req->verb->name);
		return;
	}
	change_start(t, req, util_jint(req->msg.body, "ticket_id", 0), fx, 0);
}

/* ---- ALERT ---- */

static const struct verb_effect alert_resolve_effect = {"ALERT", SLA_EV_RESTORED};
static const struct verb_effect alert_reopen_effect = {"ALERT", SLA_EV_REOPENED};

/* An ALERT waiting for slad_alert_lookup() (deploy/sql/004_monitoring.sql):
 * a resolve, or a trigger with its batch item. */
struct alert_lookup {
	struct tickets *t;
	struct request *req;
	sla_time at;        /* resolve: the outage's end; trigger: the occurrence's start */
	sla_time starts_at; /* resolve: the occurrence it ends, if given (else 0) */
	json_object *item;  /* trigger: what goes to the batch */
};

static bool alert_state_open(const char *state)
{
	return state && strcmp(state, "restored") != 0 && strcmp(state, "closed") != 0 &&
	       strcmp(state, "cancelled") != 0;
}

/* Monitors repeat themselves: the answer that changes nothing. */
static void alert_unchanged(struct request *req, const json_object *ticket)
{
	json_object *a = json_object_new_object();
	json_object_object_add(a, "ticket_id",
	                       json_object_new_int64(util_jint(ticket, "ticket_id", 0)));
	json_object_object_add(a, "state", util_jstr_or_null(util_jstr(ticket, "state")));
	json_object_object_add(a, "level", json_object_new_int64(util_jint(ticket, "level", 0)));
	json_object_object_add(a, "effect", json_object_new_string("unchanged"));
	json_object_object_add(a, "occurrence",
	                       json_object_new_int64(util_jint(ticket, "occurrence", 1)));
	request_answer_ok(req, a);
	json_object_put(a);
}

static void alert_resolve_decide(struct alert_lookup *a, const json_object *ticket, bool claimed)
{
	struct request *req = a->req;
	if (ticket == NULL) {
		request_answer_err(req, PROTO_ERR_NOT_FOUND, "no ticket for dedup_key %s",
		                   util_jstr(req->msg.body, "dedup_key"));
		return;
	}
	int64_t id = util_jint(ticket, "ticket_id", 0);
	/* A replay is answered where its first answer is kept (the change
	 * path replays it).  A resolve of an older occurrence than the
	 * ticket's -- a late repeat after the alert flapped -- changes
	 * nothing, nor does resolving a resolved ticket (PROTOCOL.md). */
	bool stale = a->starts_at > 0 && util_jint(ticket, "alert_starts_at", 0) > a->starts_at;
	if (claimed || (alert_state_open(util_jstr(ticket, "state")) && !stale))
		change_start(a->t, req, id, &alert_resolve_effect, a->at);
	else
		alert_unchanged(req, ticket);
}

static void alert_trigger_decide(struct alert_lookup *a, const json_object *ticket, bool claimed)
{
	struct tickets *t = a->t;
	json_object *item = a->item;
	a->item = NULL;
	const char *state = ticket ? util_jstr(ticket, "state") : NULL;
	sla_time current = ticket ? util_jint(ticket, "alert_starts_at", 0) : 0;
	/* A trigger for an occurrence older than the ticket's -- or, once the
	 * ticket is finished, for the very occurrence it finished -- is a late
	 * repeat (the other replica of an HA pair, a retry that crossed a
	 * resolve): nothing changes, and no second ticket. */
	bool open = alert_state_open(state);
	if (!claimed && ticket != NULL && (current > a->at || (!open && current == a->at))) {
		json_object_put(item);
		alert_unchanged(a->req, ticket);
		return;
	}
	/* A replay, a new key or an open ticket: the batch decides (created,
	 * unchanged, new_occurrence, or the first answer again). */
	if (claimed || ticket == NULL || open) {
		batch_enqueue(t, a->req, item);
		return;
	}
	/* Flapping: fired again soon after the resolve -- the same ticket,
	 * reopened, rather than a new one. */
	int window = t->cfg->alert_flap_window_s;
	if (strcmp(state, "restored") == 0 && window > 0 &&
	    a->at - util_jint(ticket, "ended_at", 0) <= window) {
		struct change *c = calloc(1, sizeof(*c));
		if (c == NULL) {
			json_object_put(item);
			request_answer_err(a->req, PROTO_ERR_UNAVAILABLE,
			                   "server busy, retry later");
			return;
		}
		c->t = t;
		c->req = a->req;
		c->ticket_id = util_jint(ticket, "ticket_id", 0);
		c->fx = &alert_reopen_effect;
		c->alert_item = item;
		c->alert_starts_at = a->at;
		change_load(c);
		return;
	}
	batch_enqueue(t, a->req, item); /* a new ticket */
}

static void alert_looked_up(void *arg, enum store_status status, PGresult *res)
{
	struct alert_lookup *a = arg;
	json_object *r = NULL;
	if (status != STORE_DONE || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		answer_store_failure(a->req, status, res, "alert_lookup");
	} else if ((r = json_tokener_parse(PQgetvalue(res, 0, 0))) == NULL) {
		request_answer_err(a->req, PROTO_ERR_INTERNAL, "internal error (logged)");
	} else {
		json_object *ticket = NULL;
		json_object_object_get_ex(r, "ticket", &ticket);
		bool claimed = util_jbool(r, "claimed", false);
		if (a->item != NULL)
			alert_trigger_decide(a, ticket, claimed);
		else
			alert_resolve_decide(a, ticket, claimed);
	}
	json_object_put(r);
	json_object_put(a->item);
	free(a);
}

/* Look the key's ticket up, then decide (takes `item`, may be NULL). */
static void alert_lookup(struct tickets *t, struct request *req, sla_time at, sla_time starts_at,
                         json_object *item)
{
	struct alert_lookup *a = malloc(sizeof(*a));
	if (a == NULL) {
		json_object_put(item);
		request_answer_err(req, PROTO_ERR_UNAVAILABLE, "server busy, retry later");
		return;
	}
	*a = (struct alert_lookup){t, req, at, starts_at, item};
	const json_object *body = req->msg.body;
	char cust[24], pid[24];
	snprintf(pid, sizeof(pid), "%" PRId64, request_principal(req)->id);
	const char *params[5] = {opt_int(body, "customer_id", cust, sizeof(cust)),
	                         util_jstr(body, "equipment_no"), pid, util_jstr(body, "dedup_key"),
	                         util_jstr(body, "request_id")};
	if (store_submit(t->store, "SELECT slad_alert_lookup($1::bigint, $2, $3::bigint, $4, $5)",
	                 5, params, alert_looked_up, a) != 0) {
		json_object_put(item);
		free(a);
		request_answer_err(req, PROTO_ERR_UNAVAILABLE, "database unavailable, retry later");
	}
}

void tickets_alert(struct tickets *t, struct request *req)
{
	const json_object *body = req->msg.body;
	const char *action = util_jstr(body, "action");
	bool resolve = action && strcmp(action, "resolve") == 0;
	if (!resolve && (action == NULL || strcmp(action, "trigger") != 0)) {
		request_answer_err(req, PROTO_ERR_INVALID_FIELD,
		                   "field 'action': expected trigger or resolve");
		return;
	}
	sla_time now = util_now();
	if (!resolve && util_jhas(body, "ends_at")) {
		request_answer_err(req, PROTO_ERR_INVALID_FIELD, "field 'ends_at': resolve only");
		return;
	}
	const char *when = util_jstr(body, resolve ? "ends_at" : "starts_at");
	sla_time at = now;
	if (when && util_parse_time(when, &at) != 0) {
		request_answer_err(req, PROTO_ERR_INVALID_FIELD, "field '%s': not RFC 3339",
		                   resolve ? "ends_at" : "starts_at");
		return;
	}
	sla_time started;
	if (resolve && util_jstr(body, "starts_at") &&
	    util_parse_time(util_jstr(body, "starts_at"), &started) == 0 && at < started) {
		request_answer_err(req, PROTO_ERR_INVALID_FIELD,
		                   "field 'ends_at': before starts_at");
		return;
	}
	if (at > now)
		at = now; /* a monitor's clock ahead of ours does not end outages early */
	if (resolve) {
		sla_time occurrence = 0;
		if (util_jstr(body, "starts_at") &&
		    util_parse_time(util_jstr(body, "starts_at"), &occurrence) != 0)
			occurrence = 0;
		alert_lookup(t, req, at, occurrence, NULL);
		return;
	}
	const char *severity = util_jstr(body, "severity");
	const char *summary = util_jstr(body, "summary");
	if (when == NULL || severity == NULL || summary == NULL) {
		request_answer_err(req, PROTO_ERR_MISSING_FIELD,
		                   "trigger needs starts_at, severity and summary");
		return;
	}
	/* S1: the monitor's severity through the same rules as everything;
	 * the summary is matched as symptoms when the severity is unknown. */
	struct sla_report_facts facts = {
	    .monitor_severity = severity,
	    .monitor_severity_len = strlen(severity),
	    .symptoms = summary,
	    .symptoms_len = strlen(summary),
	};
	/* An alert's clocks run from its receipt: the vendor learns of the
	 * fault now, whenever the monitor saw it begin (the outage starts at
	 * starts_at, S9). */
	json_object *item = new_ticket_item(t, req, SLA_TYPE_FAULT, &facts, now, now);
	if (item == NULL)
		return;
	copy_field(item, body, "customer_id");
	copy_field(item, body, "equipment_no");
	copy_field(item, body, "dedup_key");
	json_object_object_add(item, "symptoms", json_object_new_string(summary));
	json_object *details = json_object_new_object();
	copy_field(details, body, "source");
	copy_field(details, body, "severity");
	copy_field(details, body, "labels");
	json_object_object_add(item, "details",
	                       json_object_new_string(json_object_to_json_string_ext(
	                           details, JSON_C_TO_STRING_PLAIN)));
	json_object_put(details);
	json_object_object_add(item, "requested_at", json_object_new_int64(at));
	json_object_object_add(item, "alert_starts_at", json_object_new_int64(at));
	json_object *answer = NULL;
	if (json_object_object_get_ex(item, "answer", &answer)) {
		json_object_object_add(answer, "effect", json_object_new_string("created"));
		json_object_object_add(answer, "occurrence", json_object_new_int(1));
	}
	/* S9: monitoring saw the outage begin at starts_at. */
	json_object_object_add(item, "outage_started_at", json_object_new_int64(at));
	alert_lookup(t, req, at, 0, item);
}

/* ---- SHOW ---- */

struct show {
	struct tickets *t;
	struct request *req;
};

static void copy_as(json_object *to, const char *to_key, const json_object *from,
                    const char *from_key)
{
	json_object *v = NULL;
	json_object_object_get_ex(from, from_key, &v);
	json_object_object_add(to, to_key, json_object_get(v));
}

static void copy_time(json_object *to, const char *to_key, const json_object *from,
                      const char *from_key)
{
	json_object_object_add(to, to_key, util_jtime(util_jint(from, from_key, 0)));
}

/* PROTOCOL.md "The ticket object". */
static json_object *ticket_object(const struct loaded *l, const struct sla_deadline_eval *dl,
                                  bool with_history)
{
	const json_object *r = l->root;
	json_object *t = json_object_new_object();
	json_object_object_add(t, "ticket_id", json_object_new_int64(l->id));
	copy_as(t, "type", r, "type");
	copy_as(t, "level", r, "level");
	copy_as(t, "state", r, "state");
	sla_time outage_start = util_jint(r, "outage_started_at", 0);
	json_object_object_add(t, "impact",
	                       outage_start > 0 ? json_object_new_string("interrupted") : NULL);
	copy_as(t, "cycle", r, "cycle");
	json_object_object_add(t, "paused",
	                       json_object_new_boolean(util_jbool(r, "paused", false)));
	json_object *customer = json_object_new_object();
	copy_as(customer, "customer_id", r, "customer_id");
	copy_as(customer, "name", r, "customer");
	copy_as(customer, "provisional", r, "customer_provisional");
	json_object_object_add(t, "customer", customer);
	static const char *const same[] = {"equipment_no", "symptoms",      "details",
	                                   "contact_name", "contact_phone", "team",
	                                   "dedup_key",    "classified_by"};
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		copy_as(t, same[i], r, same[i]);
	copy_time(t, "requested_at", r, "requested_at");
	copy_time(t, "reported_at", r, "reported_at");
	copy_as(t, "source", r, "source");
	copy_as(t, "assignee", r, "assigned_to");
	copy_as(t, "cause", r, "cause");
	json_object_object_add(t, "clocks", clocks_array(dl));
	json_object_object_add(t, "due", due_object(dl));

	const char *cause_name = util_jstr(r, "cause");
	json_object *outage = NULL;
	if (outage_start > 0) {
		sla_time end = util_jint(r, "outage_ended_at", 0);
		outage = json_object_new_object();
		json_object_object_add(outage, "start", util_jtime(outage_start));
		json_object_object_add(outage, "end", util_jtime(end));
		json_object_object_add(
		    outage, "hours",
		    end > 0 ? json_object_new_double((double)(end - outage_start) / 3600.0) : NULL);
		json_object_object_add(outage, "cause", util_jstr_or_null(cause_name));
	}
	json_object_object_add(t, "outage", outage);

	/* S16: free or billable, and why, by libsla. */
	struct sla_charge_facts facts = {.type = l->type,
	                                 .cause = SLA_CAUSE_UNKNOWN,
	                                 /* S8-S10: the period with its extensions (records.c) */
	                                 .in_warranty = records_ticket_in_warranty(r, util_now())};
	if (cause_name && sla_cause_parse(cause_name, &facts.cause) != 0)
		facts.cause = SLA_CAUSE_UNKNOWN;
	struct sla_charge_decision charge;
	json_object *ch = json_object_new_object();
	if (sla_charges_decide(&facts, &charge) == 0) {
		json_object_object_add(ch, "billable",
		                       json_object_new_boolean(charge.work_billable));
		json_object_object_add(ch, "reason", json_object_new_string(charge.sentence));
		json_object_object_add(ch, "provisional",
		                       json_object_new_boolean(charge.provisional));
	}
	json_object_object_add(t, "charge", ch);
	/* Fired steps; `undelivered`: one reached nobody or was never
	 * receipted -- the ladder climbs regardless (DESIGN.md "Delivery"). */
	json_object *fired = NULL, *escalations = json_object_new_array();
	bool undelivered = false;
	json_object_object_get_ex(r, "escalations", &fired);
	for (size_t i = 0; fired && i < json_object_array_length(fired); i++) {
		json_object *e = json_object_array_get_idx(fired, i);
		json_object *o = json_object_new_object();
		copy_as(o, "step", e, "step");
		copy_as(o, "clock", e, "clock");
		copy_as(o, "tier", e, "tier");
		copy_as(o, "reached", e, "reached");
		copy_as(o, "cycle", e, "cycle");
		copy_time(o, "fired_at", e, "fired_at");
		copy_as(o, "late", e, "late");
		copy_as(o, "delivered_to", e, "delivered_to");
		copy_as(o, "receipted", e, "receipted");
		undelivered |= !util_jbool(e, "receipted", false);
		json_object_array_add(escalations, o);
	}
	json_object_object_add(t, "escalations", escalations);
	json_object_object_add(t, "undelivered", json_object_new_boolean(undelivered));

	if (with_history) {
		json_object *events = NULL, *hist = json_object_new_array();
		json_object_object_get_ex(r, "events", &events);
		for (size_t i = 0; i < json_object_array_length(events); i++) {
			json_object *e = json_object_array_get_idx(events, i);
			json_object *h = json_object_new_object();
			copy_time(h, "at", e, "at");
			copy_as(h, "kind", e, "kind");
			copy_as(h, "by", e, "by");
			if (util_jhas(e, "level"))
				copy_as(h, "level", e, "level");
			/* What the event carried (reason, text, cause, policy...). */
			json_object *data = NULL;
			if (json_object_object_get_ex(e, "data", &data) && data != NULL) {
				json_object_object_foreach(data, key, val)
				{
					if (strcmp(key, "policy_id") == 0)
						json_object_object_add(h, "policy_version",
						                       json_object_get(val));
					else if (strcmp(key, "verb") != 0)
						json_object_object_add(h, key,
						                       json_object_get(val));
				}
			}
			json_object_array_add(hist, h);
		}
		json_object_object_add(t, "history", hist);
	}
	return t;
}

static void show_loaded(void *arg, enum store_status status, PGresult *res)
{
	struct show *s = arg;
	struct request *req = s->req;
	struct loaded l;
	memset(&l, 0, sizeof(l));
	struct sla_deadline_eval *dl = NULL;
	if (status != STORE_DONE || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		answer_store_failure(req, status, res, "ticket_load");
	} else if (PQgetisnull(res, 0, 0)) {
		request_answer_err(req, PROTO_ERR_NOT_FOUND, "no ticket %" PRId64,
		                   util_jint(req->msg.body, "ticket_id", 0));
	} else if (loaded_parse(s->t, PQgetvalue(res, 0, 0), &l) != 0 ||
	           (dl = malloc(sizeof(*dl))) == NULL ||
	           sla_deadline_evaluate(l.policy, l.type, l.events, l.n_events, util_now(), dl) !=
	               SLA_DL_OK) {
		log_error("event=ticket_unreadable ticket=%" PRId64 " reason=\"%s\"", l.id,
		          dl ? dl->err_text : "parse");
		request_answer_err(req, PROTO_ERR_INTERNAL, "internal error (logged)");
	} else {
		json_object *out = json_object_new_object();
		json_object_object_add(
		    out, "ticket",
		    ticket_object(&l, dl, util_jbool(req->msg.body, "history", true)));
		request_answer_ok(req, out);
		json_object_put(out);
	}
	free(dl);
	loaded_clear(&l);
	free(s);
}

void tickets_show(struct tickets *t, struct request *req)
{
	struct show *s = malloc(sizeof(*s));
	if (s == NULL) {
		request_answer_err(req, PROTO_ERR_UNAVAILABLE, "server busy, retry later");
		return;
	}
	s->t = t;
	s->req = req;
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, util_jint(req->msg.body, "ticket_id", 0));
	const char *params[1] = {id};
	if (store_submit(t->store, "SELECT slad_ticket_load($1::bigint)", 1, params, show_loaded,
	                 s) != 0) {
		free(s);
		request_answer_err(req, PROTO_ERR_UNAVAILABLE, "database unavailable, retry later");
	}
}

/* ---- LIST and FIND_CUSTOMER: one query each, JSON built by PostgreSQL ---- */

static void rows_answered(void *arg, enum store_status status, PGresult *res)
{
	struct request *req = arg;
	if (status != STORE_DONE || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		answer_store_failure(req, status, res, req->verb->name);
		return;
	}
	json_object *out = json_tokener_parse(PQgetvalue(res, 0, 0));
	if (out == NULL) {
		request_answer_err(req, PROTO_ERR_INTERNAL, "internal error (logged)");
		return;
	}
	request_answer_ok(req, out);
	json_object_put(out);
}

void tickets_list(struct tickets *t, struct request *req)
{
	/* One page in ticket_id order; without a state filter the finished
	 * (closed, cancelled) are left out (PROTOCOL.md LIST). */
	static const char sql[] =
	    "WITH hits AS ("
	    " SELECT t.id, t.type, t.level, t.state, t.team, t.customer_id, c.name AS customer,"
	    "  t.reported_at,"
	    "  (SELECT min(k.due_at) FROM clocks k WHERE k.ticket_id = t.id"
	    "    AND k.state IN ('running', 'overdue')) AS next_due,"
	    "  EXISTS (SELECT 1 FROM clocks k WHERE k.ticket_id = t.id AND (k.state IN"
	    "    ('overdue', 'breached') OR (k.state = 'running' AND k.due_at <= now())))"
	    "    AS breached"
	    " FROM tickets t JOIN customers c ON c.id = t.customer_id"
	    " WHERE ($1::bigint IS NULL OR t.customer_id = $1::bigint)"
	    "  AND ($2::int IS NULL OR t.level = $2::int)"
	    "  AND (CASE WHEN $3::text IS NULL THEN t.state NOT IN ('closed', 'cancelled')"
	    "       ELSE t.state = $3::text END)"
	    "  AND ($4::text IS NULL OR t.team = $4::text)"
	    "  AND ($6::bigint IS NULL OR t.id > $6::bigint)),"
	    " page AS (SELECT * FROM hits WHERE ($5::bool IS NULL OR breached = $5::bool)"
	    "  ORDER BY id LIMIT $7::int + 1)"
	    " SELECT jsonb_build_object('tickets', coalesce(jsonb_agg(jsonb_build_object("
	    "  'ticket_id', id, 'type', type, 'level', level, 'state', state,"
	    "  'customer_id', customer_id, 'customer_name', customer, 'team', team,"
	    "  'reported_at', to_char(reported_at AT TIME ZONE 'UTC',"
	    "    'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
	    "  'next_due_at', to_char(next_due AT TIME ZONE 'UTC',"
	    "    'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
	    "  'breached', breached) ORDER BY id) FILTER (WHERE rn <= $7::int), '[]'),"
	    "  'next_after_id', CASE WHEN count(*) > $7::int"
	    "    THEN max(id) FILTER (WHERE rn <= $7::int) END)"
	    " FROM (SELECT *, row_number() OVER (ORDER BY id) AS rn FROM page) p";
	const json_object *b = req->msg.body;
	char customer[24], level[24], after[24], limit[24];
	int64_t lim = util_jint(b, "limit", 100);
	if (lim < 1 || lim > 1000) {
		request_answer_err(req, PROTO_ERR_INVALID_FIELD, "field 'limit': expected 1..1000");
		return;
	}
	enum sla_ticket_state st;
	if (util_jstr(b, "state") && sla_ticket_state_parse(util_jstr(b, "state"), &st) != 0) {
		request_answer_err(req, PROTO_ERR_INVALID_FIELD,
		                   "field 'state': unknown state '%s'", util_jstr(b, "state"));
		return;
	}
	snprintf(limit, sizeof(limit), "%" PRId64, lim);
	const char *breached =
	    util_jhas(b, "breached") ? (util_jbool(b, "breached", false) ? "true" : "false") : NULL;
	const char *params[7] = {opt_int(b, "customer_id", customer, sizeof(customer)),
	                         opt_int(b, "level", level, sizeof(level)),
	                         util_jstr(b, "state"),
	                         util_jstr(b, "team"),
	                         breached,
	                         opt_int(b, "after_id", after, sizeof(after)),
	                         limit};
	submit_or_unavailable(t, req, sql, 7, params, rows_answered, req);
}

void tickets_find_customer(struct tickets *t, struct request *req)
{
	/* Phones match on their digits alone: "+86 21 5555-0100" is
	 * "8621555501 00" however the caller reads it out (S3). */
	static const char sql[] =
	    "SELECT jsonb_build_object('customers', coalesce(jsonb_agg(jsonb_build_object("
	    " 'customer_id', c.id, 'name', c.name, 'phone', c.phone, 'address', c.address,"
	    " 'region', c.region, 'team', c.team, 'provisional', c.provisional,"
	    " 'equipment', coalesce((SELECT jsonb_agg(jsonb_build_object('equipment_no',"
	    "   e.equipment_no, 'model', e.model) ORDER BY e.equipment_no) FROM equipment e"
	    "   WHERE e.customer_id = c.id), '[]')) ORDER BY c.id), '[]'))"
	    " FROM (SELECT * FROM customers c"
	    " WHERE ($1::text IS NULL OR regexp_replace(c.phone, '[^0-9]', '', 'g')"
	    "        = regexp_replace($1::text, '[^0-9]', '', 'g')"
	    "     OR EXISTS (SELECT 1 FROM jsonb_array_elements(c.contacts) ct"
	    "        WHERE regexp_replace(ct->>'phone', '[^0-9]', '', 'g')"
	    "            = regexp_replace($1::text, '[^0-9]', '', 'g')))"
	    "   AND ($2::text IS NULL OR c.name ILIKE '%' || $2::text || '%')"
	    "   AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM equipment e"
	    "        WHERE e.customer_id = c.id AND e.equipment_no = $3::text))"
	    " ORDER BY c.id LIMIT $4::int) c";
	const json_object *b = req->msg.body;
	const char *phone = util_jstr(b, "phone"), *name = util_jstr(b, "name"),
	           *eq = util_jstr(b, "equipment_no");
	if (phone == NULL && name == NULL && eq == NULL) {
		request_answer_err(req, PROTO_ERR_MISSING_FIELD,
		                   "give phone, name or equipment_no");
		return;
	}
	int64_t lim = util_jint(b, "limit", 20);
	if (lim < 1 || lim > 1000) {
		request_answer_err(req, PROTO_ERR_INVALID_FIELD, "field 'limit': expected 1..1000");
		return;
	}
	char limit[24];
	snprintf(limit, sizeof(limit), "%" PRId64, lim);
	const char *params[4] = {phone, name, eq, limit};
	submit_or_unavailable(t, req, sql, 4, params, rows_answered, req);
}

/* ---- lifetime ---- */

struct tickets *tickets_new(struct event_base *base, struct store *st, struct domain *dom,
                            const struct slad_config *cfg)
{
	struct tickets *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->base = base;
	t->store = st;
	t->domain = dom;
	t->cfg = cfg;
	t->flush_timer = evtimer_new(base, flush_timer_cb, t);
	return t;
}

void tickets_reload(struct tickets *t, const struct slad_config *cfg)
{
	t->cfg = cfg;
}

void tickets_free(struct tickets *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->queued; i++) {
		json_object_put(t->queue[i].item);
		request_answer_err(t->queue[i].req, PROTO_ERR_SHUTTING_DOWN, "server is stopping");
	}
	free(t->queue);
	if (t->flush_timer)
		event_free(t->flush_timer);
	free(t);
}
