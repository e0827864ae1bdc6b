/*
 * compliance.c - COMPLIANCE (see compliance.h).
 *
 * One request is a small state machine over asynchronous statements:
 *
 *   customer_next -> customer_read -> page_next -> page_read -+-> page_next
 *        ^                                                    |
 *        +------------------ customer_done <------------------+
 *
 * customer_read computes, once per customer, what its tickets' outages
 * contribute (downtime, and the extension days its contracts' ledgers
 * credit to each ticket); page_read folds a page of tickets into the
 * customer's groups; customer_done appends the customer's rows (month,
 * then level) to the answer.  Customers come in id order, so the rows are
 * ordered by customer_id, month, level (PROTOCOL.md).
 */
#include "compliance.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libsla's compliance.h shares this module's name; a quoted include finds
 * the daemon's own first, so libsla's is named by its path. */
#include "../libsla/compliance.h"
#include "calendar.h"
#include "deadline.h"
#include "domain.h"
#include "log.h"
#include "records.h"
#include "session.h"
#include "store.h"
#include "tzdb.h"
#include "util.h"
#include "verbs.h"
#include "warranty.h"

/* Tickets per statement: small enough that folding a page is a short turn
 * of the event loop, large enough that round trips do not dominate. */
#define PAGE_TICKETS 500
/* As tickets.c: a history longer than this is not a ticket slad wrote. */
#define MAX_EVENTS 4096

static const char *const clock_names[SLA_CLOCK_COUNT] = {"response", "onsite", "restore"};

/* ---- what a customer's outages give its tickets (S9) ---- */

struct fact {
	int64_t ticket_id;
	sla_duration downtime; /* its outages, ongoing ones up to now */
	int64_t days;          /* extension days credited to it */
};

struct outage {
	int64_t ticket_id, outage_no, fault, contract;
	const char *dedup_key;
	sla_time start, end;
	enum sla_cause cause;
};

/* ---- the groups of the customer being read ---- */

struct times {
	sla_duration *v;
	size_t n, cap;
};

struct group {
	struct sla_month month;
	int level;
	int64_t tickets;
	int64_t met[SLA_CLOCK_COUNT], breached[SLA_CLOCK_COUNT];
	struct times times[SLA_CLOCK_COUNT];
	sla_duration downtime;
	int64_t extension_days;
};

struct comp_op {
	struct request *req;
	struct store *store;
	struct domain *domain;
	sla_time now; /* one instant for the whole report */
	/* the filters */
	int64_t only; /* customer_id, 0: every customer */
	int level;    /* 0: every level */
	bool has_from, has_to;
	struct sla_month from, to;
	/* the customer being read */
	int64_t customer_id;
	char *customer_name;
	struct sla_tz tz;
	char lo[24], hi[24]; /* its months' bounds, epoch seconds; "" none */
	struct fact *facts;  /* by ticket_id */
	size_t n_facts;
	int64_t after_ticket;
	struct group *groups;
	size_t n_groups, cap_groups;
	/* scratch */
	struct sla_deadline_eval *ev;
	struct sla_event *events;
	size_t cap_events;
	json_object *rows; /* the answer so far */
};

static void groups_clear(struct comp_op *op)
{
	for (size_t i = 0; i < op->n_groups; i++)
		for (int c = 0; c < SLA_CLOCK_COUNT; c++)
			free(op->groups[i].times[c].v);
	op->n_groups = 0;
}

static void customer_clear(struct comp_op *op)
{
	groups_clear(op);
	free(op->customer_name);
	op->customer_name = NULL;
	free(op->facts);
	op->facts = NULL;
	op->n_facts = 0;
	op->after_ticket = 0;
}

static void op_free(struct comp_op *op)
{
	customer_clear(op);
	free(op->groups);
	free(op->ev);
	free(op->events);
	json_object_put(op->rows);
	free(op);
}

static void op_fail(struct comp_op *op, enum proto_err code, const char *message)
{
	request_answer_err(op->req, code, "%s", message);
	op_free(op);
}

static void op_busy(struct comp_op *op)
{
	op_fail(op, PROTO_ERR_UNAVAILABLE, "server busy, retry later");
}

static void op_internal(struct comp_op *op)
{
	op_fail(op, PROTO_ERR_INTERNAL, "internal error (logged)");
}

/* The one JSON document a statement answers, or NULL after answering the
 * request (op freed).  *absent: the statement answered SQL NULL. */
static json_object *op_document(struct comp_op *op, enum store_status status, PGresult *res,
                                const char *what, bool *absent)
{
	*absent = false;
	if (status != STORE_DONE) {
		op_fail(op, PROTO_ERR_UNAVAILABLE, "database unavailable, retry later");
		return NULL;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		/* 40xxx, 08xxx, 57Pxx: the server or the connection, retry later. */
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (state == NULL || strncmp(state, "40", 2) == 0 || strncmp(state, "08", 2) == 0 ||
		    strncmp(state, "57P", 3) == 0) {
			op_fail(op, PROTO_ERR_UNAVAILABLE, "database unavailable, retry later");
			return NULL;
		}
		char q[600];
		log_error("event=sql_failed what=%s reason=%s", what,
		          log_quote(q, sizeof(q), PQresultErrorMessage(res)));
		op_internal(op);
		return NULL;
	}
	if (PQgetisnull(res, 0, 0)) {
		*absent = true;
		return NULL;
	}
	json_object *doc = json_tokener_parse(PQgetvalue(res, 0, 0));
	if (doc == NULL) {
		log_error("event=compliance_unreadable what=%s", what);
		op_internal(op);
	}
	return doc;
}

static void op_submit(struct comp_op *op, const char *sql, int n, const char *const *params,
                      store_cb cb)
{
	if (store_submit(op->store, sql, n, params, cb, op) != 0)
		op_fail(op, PROTO_ERR_UNAVAILABLE, "database unavailable, retry later");
}

static void epoch_text(char *buf, size_t len, sla_time t)
{
	snprintf(buf, len, "%" PRId64, t);
}

/* ---- downtime and extension days per ticket (S9) ---- */

static int by_ticket_then_outage(const void *a, const void *b)
{
	const struct outage *x = a, *y = b;
	if (x->ticket_id != y->ticket_id)
		return x->ticket_id < y->ticket_id ? -1 : 1;
	return x->outage_no < y->outage_no ? -1 : x->outage_no > y->outage_no;
}

static int by_key_then_ticket(const void *a, const void *b)
{
	const struct outage *x = *(const struct outage *const *)a,
	                    *y = *(const struct outage *const *)b;
	int c = strcmp(x->dedup_key, y->dedup_key);
	if (c != 0)
		return c;
	return x->ticket_id < y->ticket_id ? -1 : x->ticket_id > y->ticket_id;
}

/* The outages of slad_outages_of() (strings borrowed from doc), sorted by
 * ticket and outage; a monitoring alert's tickets are one fault, whose id
 * is its lowest ticket -- the ledger WARRANTY states merges them the same
 * way (records.c, faults_by_key).  NULL with *n 0 when there are none;
 * *n = SIZE_MAX on allocation failure. */
static struct outage *outages_read(const json_object *doc, size_t *n)
{
	json_object *arr = NULL;
	*n = 0;
	if (!json_object_object_get_ex(doc, "outages", &arr) || arr == NULL ||
	    json_object_array_length(arr) == 0)
		return NULL;
	size_t count = json_object_array_length(arr);
	struct outage *v = calloc(count, sizeof(*v));
	struct outage **keyed = calloc(count, sizeof(*keyed));
	if (v == NULL || keyed == NULL) {
		free(v);
		free(keyed);
		*n = SIZE_MAX;
		return NULL;
	}
	for (size_t i = 0; i < count; i++) {
		const json_object *o = json_object_array_get_idx(arr, i);
		struct outage *x = &v[i];
		x->ticket_id = util_jint(o, "ticket_id", 0);
		x->outage_no = util_jint(o, "outage_no", 1);
		x->fault = x->ticket_id;
		x->contract = util_jint(o, "contract", 0);
		x->dedup_key = util_jstr(o, "dedup_key");
		x->start = util_jint(o, "start", 0);
		x->end = util_jhas(o, "end") ? util_jint(o, "end", 0) : SLA_TIME_NEVER;
		if (x->end < x->start)
			x->end = x->start; /* clocks of two instances a little apart */
		const char *cause = util_jstr(o, "cause");
		if (cause == NULL || sla_cause_parse(cause, &x->cause) != 0)
			x->cause = SLA_CAUSE_UNKNOWN;
	}
	qsort(v, count, sizeof(*v), by_ticket_then_outage);
	size_t k = 0;
	for (size_t i = 0; i < count; i++)
		if (v[i].dedup_key != NULL)
			keyed[k++] = &v[i];
	qsort(keyed, k, sizeof(keyed[0]), by_key_then_ticket);
	for (size_t i = 0; i < k; i++)
		keyed[i]->fault = i > 0 && strcmp(keyed[i]->dedup_key, keyed[i - 1]->dedup_key) == 0
		                      ? keyed[i - 1]->fault
		                      : keyed[i]->ticket_id;
	free(keyed);
	*n = count;
	return v;
}

/* An outage's place in order of start; ties keep the outages' order. */
struct by_start {
	sla_time start;
	size_t src;
};

static int by_start_cmp(const void *a, const void *b)
{
	const struct by_start *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->src < y->src ? -1 : x->src > y->src;
}

/*
 * Contract k's ledger over the outages that apply to it (those naming it or
 * no contract), as WARRANTY computes it, and the days it credits to each
 * outage added to days_of[fact_of[i]].  0, or -1 (logged).
 */
static int contract_credit(const struct comp_op *op, const json_object *k, const struct outage *o,
                           size_t n, const size_t *fact_of, int64_t *days_of)
{
	struct sla_warranty_terms terms;
	int64_t kid = util_jint(k, "contract_id", 0);
	if (records_contract_terms(k, op->tz, &terms) != 0) {
		log_error("event=compliance_unreadable what=contract contract=%" PRId64, kid);
		return -1;
	}
	size_t cap = n ? n : 1;
	struct sla_downtime *dt = calloc(cap, sizeof(*dt));
	struct sla_warranty_line *lines = calloc(cap, sizeof(*lines));
	int64_t *credit = calloc(cap, sizeof(*credit));
	size_t *src = calloc(cap, sizeof(*src));
	struct by_start *order = calloc(cap, sizeof(*order));
	int rc = -1;
	if (dt == NULL || lines == NULL || credit == NULL || src == NULL || order == NULL)
		goto out;
	/* The outages that apply, in order of start (ties: ticket, outage --
	 * o's order), as sla_compliance_credit_days() wants them. */
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (o[i].contract == 0 || o[i].contract == kid)
			order[m++] = (struct by_start){o[i].start, i};
	if (m > 1)
		qsort(order, m, sizeof(*order), by_start_cmp);
	for (size_t j = 0; j < m; j++) {
		const struct outage *x = &o[order[j].src];
		dt[j] = (struct sla_downtime){x->fault, x->start, x->end, x->cause};
		src[j] = order[j].src;
	}
	struct sla_warranty_result r;
	enum sla_warranty_error e = sla_warranty_compute(&terms, dt, m, op->now, lines, cap, &r);
	if (e != SLA_WARRANTY_OK) {
		log_error("event=warranty_refused contract=%" PRId64 " reason=%s index=%zu", kid,
		          sla_warranty_error_name(e), r.error_index);
		goto out;
	}
	if (sla_compliance_credit_days(&r, dt, m, credit) != 0) {
		log_error("event=warranty_credit_failed contract=%" PRId64, kid);
		goto out;
	}
	for (size_t j = 0; j < m; j++)
		days_of[fact_of[src[j]]] += credit[j];
	rc = 0;
out:
	free(dt);
	free(lines);
	free(credit);
	free(src);
	free(order);
	return rc;
}

/*
 * op->facts from the customer's document: per ticket with an outage, its
 * downtime and the extension days credited to it.  A ticket that extends
 * the periods of several contracts earned its days once: it is credited the
 * most any one ledger gives it.  0, or -1 (logged, or out of memory).
 */
static int facts_compute(struct comp_op *op, const json_object *doc)
{
	size_t n;
	struct outage *o = outages_read(doc, &n);
	if (n == SIZE_MAX)
		return -1;
	if (n == 0)
		return 0;
	size_t *fact_of = calloc(n, sizeof(*fact_of));
	int64_t *days = calloc(n, sizeof(*days));
	op->facts = calloc(n, sizeof(*op->facts));
	int rc = -1;
	if (fact_of == NULL || days == NULL || op->facts == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (op->n_facts == 0 || op->facts[op->n_facts - 1].ticket_id != o[i].ticket_id)
			op->facts[op->n_facts++] = (struct fact){o[i].ticket_id, 0, 0};
		fact_of[i] = op->n_facts - 1;
		op->facts[fact_of[i]].downtime +=
		    sla_compliance_outage_length(o[i].start, o[i].end, op->now);
	}
	json_object *contracts = NULL;
	json_object_object_get_ex(doc, "contracts", &contracts);
	size_t nk = contracts ? json_object_array_length(contracts) : 0;
	for (size_t k = 0; k < nk; k++) {
		memset(days, 0, n * sizeof(*days));
		if (contract_credit(op, json_object_array_get_idx(contracts, k), o, n, fact_of,
		                    days) != 0)
			goto out;
		for (size_t f = 0; f < op->n_facts; f++)
			if (days[f] > op->facts[f].days)
				op->facts[f].days = days[f];
	}
	rc = 0;
out:
	free(fact_of);
	free(days);
	free(o);
	return rc;
}

static const struct fact *fact_find(const struct comp_op *op, int64_t ticket_id)
{
	size_t lo = 0, hi = op->n_facts;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (op->facts[mid].ticket_id == ticket_id)
			return &op->facts[mid];
		if (op->facts[mid].ticket_id < ticket_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- folding tickets into groups ---- */

static struct group *group_of(struct comp_op *op, struct sla_month month, int level)
{
	for (size_t i = op->n_groups; i > 0; i--) /* the latest first: pages run by id */
		if (op->groups[i - 1].level == level &&
		    sla_month_cmp(op->groups[i - 1].month, month) == 0)
			return &op->groups[i - 1];
	if (op->n_groups == op->cap_groups) {
		size_t cap = op->cap_groups ? op->cap_groups * 2 : 16;
		struct group *v = realloc(op->groups, cap * sizeof(*v));
		if (v == NULL)
			return NULL;
		op->groups = v;
		op->cap_groups = cap;
	}
	struct group *g = &op->groups[op->n_groups++];
	memset(g, 0, sizeof(*g));
	g->month = month;
	g->level = level;
	return g;
}

static int times_push(struct times *t, sla_duration d)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		sla_duration *v = realloc(t->v, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = d;
	return 0;
}

/* A ticket's events ([kind, at, level] each) into op->events.  The count,
 * or -1 when the history is unreadable or too long, -2 out of memory. */
static long events_read(struct comp_op *op, const json_object *arr)
{
	size_t n = arr ? json_object_array_length(arr) : 0;
	if (n == 0 || n > MAX_EVENTS)
		return -1;
	if (n > op->cap_events) {
		struct sla_event *v = realloc(op->events, n * sizeof(*v));
		if (v == NULL)
			return -2;
		op->events = v;
		op->cap_events = n;
	}
	for (size_t i = 0; i < n; i++) {
		const json_object *e = json_object_array_get_idx(arr, i);
		struct sla_event *ev = &op->events[i];
		if (!json_object_is_type(e, json_type_array) || json_object_array_length(e) != 3 ||
		    sla_event_kind_parse(json_object_get_string(json_object_array_get_idx(e, 0)),
		                         &ev->kind) != 0)
			return -1;
		ev->at = json_object_get_int64(json_object_array_get_idx(e, 1));
		ev->level = (enum sla_level)json_object_get_int(json_object_array_get_idx(e, 2));
		/* Only REPORTED and RECLASSIFIED carry a level for libsla (as
		 * tickets.c reads a history for SHOW). */
		if (ev->kind != SLA_EV_REPORTED && ev->kind != SLA_EV_RECLASSIFIED)
			ev->level = SLA_LEVEL_NONE;
	}
	return (long)n;
}

/* One ticket of a page into its group.  0, -1 unreadable (logged), -2 out
 * of memory. */
static int ticket_fold(struct comp_op *op, const json_object *t, const json_object *policies)
{
	int64_t id = util_jint(t, "id", 0);
	int level = (int)util_jint(t, "level", 0);
	sla_time reported = util_jint(t, "reported_at", 0);
	struct sla_month month;
	if (sla_month_of(&op->tz, reported, &month) != 0) {
		log_error("event=compliance_unreadable what=ticket ticket=%" PRId64 " reason=month",
		          id);
		return -1;
	}
	/* The statement's bounds are the months' exact instants; this only
	 * guards against a zone whose offsets changed in between. */
	if ((op->has_from && sla_month_cmp(month, op->from) < 0) ||
	    (op->has_to && sla_month_cmp(month, op->to) > 0))
		return 0;
	enum sla_ticket_type type;
	if (sla_ticket_type_parse(util_jstr(t, "type"), &type) != 0) {
		log_error("event=compliance_unreadable what=ticket ticket=%" PRId64 " reason=type",
		          id);
		return -1;
	}
	int64_t policy_id = util_jint(t, "policy_id", 0);
	char key[24];
	snprintf(key, sizeof(key), "%" PRId64, policy_id);
	json_object *body = NULL;
	json_object_object_get_ex(policies, key, &body);
	const struct sla_policy *policy = domain_policy_for(op->domain, policy_id, body);
	if (policy == NULL)
		return -1; /* logged by domain.c */
	json_object *arr = NULL;
	json_object_object_get_ex(t, "events", &arr);
	long n = events_read(op, arr);
	if (n == -2)
		return -2;
	struct sla_compliance_clock clocks[SLA_CLOCK_COUNT];
	if (n < 0 ||
	    sla_deadline_evaluate(policy, type, op->events, (size_t)n, op->now, op->ev) !=
	        SLA_DL_OK ||
	    sla_compliance_clocks(op->ev, op->events, (size_t)n, clocks) != 0) {
		log_error("event=ticket_unreadable ticket=%" PRId64 " reason=\"%s\"", id,
		          n < 0 ? "events" : op->ev->err_text);
		return -1;
	}
	struct group *g = group_of(op, month, level);
	if (g == NULL)
		return -2;
	g->tickets++;
	for (int c = 0; c < SLA_CLOCK_COUNT; c++) {
		g->met[c] += clocks[c].met;
		g->breached[c] += clocks[c].breached;
		if (clocks[c].timed && times_push(&g->times[c], clocks[c].running) != 0)
			return -2;
	}
	const struct fact *f = fact_find(op, id);
	if (f != NULL) {
		g->downtime += f->downtime;
		g->extension_days += f->days;
	}
	return 0;
}

/* ---- a customer's rows ---- */

static int by_month_then_level(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	int c = sla_month_cmp(x->month, y->month);
	if (c != 0)
		return c;
	return x->level < y->level ? -1 : x->level > y->level;
}

static json_object *minutes_json(struct times *t, int p)
{
	sla_duration v;
	if (sla_percentile_nearest_rank(t->v, t->n, p, &v) != 0)
		return NULL; /* no time in the group: null */
	return json_object_new_int64(sla_compliance_minutes(v));
}

/* Hours to one decimal, written as people read them (30.0, 7.3). */
static json_object *hours_json(sla_duration seconds)
{
	int64_t tenths = sla_compliance_tenth_hours(seconds);
	char text[32];
	snprintf(text, sizeof(text), "%" PRId64 ".%" PRId64, tenths / 10, tenths % 10);
	return json_object_new_double_s((double)tenths / 10.0, text);
}

static json_object *row_json(const struct comp_op *op, struct group *g)
{
	char month[SLA_MONTH_STRLEN];
	if (sla_month_format(g->month, month, sizeof(month)) != 0)
		return NULL;
	json_object *row = json_object_new_object();
	json_object_object_add(row, "customer_id", json_object_new_int64(op->customer_id));
	json_object_object_add(row, "customer_name", util_jstr_or_null(op->customer_name));
	json_object_object_add(row, "level", json_object_new_int(g->level));
	json_object_object_add(row, "month", json_object_new_string(month));
	json_object_object_add(row, "tickets", json_object_new_int64(g->tickets));
	for (int c = 0; c < SLA_CLOCK_COUNT; c++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "met", json_object_new_int64(g->met[c]));
		json_object_object_add(o, "breached", json_object_new_int64(g->breached[c]));
		json_object_object_add(o, "median_minutes", minutes_json(&g->times[c], 50));
		json_object_object_add(o, "p90_minutes", minutes_json(&g->times[c], 90));
		json_object_object_add(row, clock_names[c], o);
	}
	json_object_object_add(row, "downtime_hours", hours_json(g->downtime));
	json_object_object_add(row, "extension_days", json_object_new_int64(g->extension_days));
	return row;
}

static void customer_next(struct comp_op *op);

static void customer_done(struct comp_op *op)
{
	if (op->n_groups > 1)
		qsort(op->groups, op->n_groups, sizeof(op->groups[0]), by_month_then_level);
	for (size_t i = 0; i < op->n_groups; i++) {
		json_object *row = row_json(op, &op->groups[i]);
		if (row == NULL) {
			op_internal(op);
			return;
		}
		json_object_array_add(op->rows, row);
	}
	bool last = op->only != 0;
	customer_clear(op);
	if (!last) {
		customer_next(op);
		return;
	}
	json_object *out = json_object_new_object();
	json_object_object_add(out, "rows", json_object_get(op->rows));
	request_answer_ok(op->req, out);
	json_object_put(out);
	op_free(op);
}

/* ---- the statements ---- */

static void page_next(struct comp_op *op);

static void page_read(void *arg, enum store_status status, PGresult *res)
{
	struct comp_op *op = arg;
	bool absent;
	json_object *doc = op_document(op, status, res, "compliance_tickets", &absent);
	if (doc == NULL) {
		if (absent) {
			log_error("event=compliance_unreadable what=page");
			op_internal(op);
		}
		return;
	}
	json_object *tickets = NULL, *policies = NULL;
	json_object_object_get_ex(doc, "tickets", &tickets);
	json_object_object_get_ex(doc, "policies", &policies);
	size_t n = tickets ? json_object_array_length(tickets) : 0;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const json_object *t = json_object_array_get_idx(tickets, i);
		rc = ticket_fold(op, t, policies);
		op->after_ticket = util_jint(t, "id", op->after_ticket);
	}
	json_object_put(doc);
	if (rc == -2)
		op_busy(op);
	else if (rc != 0)
		op_internal(op);
	else if (n == PAGE_TICKETS)
		page_next(op);
	else
		customer_done(op);
}

static void page_next(struct comp_op *op)
{
	char cust[24], after[24], level[16], limit[16];
	epoch_text(cust, sizeof(cust), op->customer_id);
	epoch_text(after, sizeof(after), op->after_ticket);
	snprintf(level, sizeof(level), "%d", op->level);
	snprintf(limit, sizeof(limit), "%d", PAGE_TICKETS);
	const char *params[6] = {cust,
	                         after,
	                         op->level ? level : NULL,
	                         op->lo[0] ? op->lo : NULL,
	                         op->hi[0] ? op->hi : NULL,
	                         limit};
	op_submit(op,
	          "SELECT slad_compliance_tickets($1::bigint, $2::bigint, $3::integer, $4::bigint, "
	          "$5::bigint, $6::integer)",
	          6, params, page_read);
}

/* The customer's months as instants in its own zone. */
static int bounds_compute(struct comp_op *op)
{
	sla_time t;
	struct sla_month after;
	op->lo[0] = op->hi[0] = '\0';
	if (op->has_from) {
		if (sla_month_start(&op->tz, op->from, &t) != 0)
			return -1;
		epoch_text(op->lo, sizeof(op->lo), t);
	}
	/* to_month 9999-12 has no month after it: no upper bound. */
	if (op->has_to && sla_month_next(op->to, &after) == 0) {
		if (sla_month_start(&op->tz, after, &t) != 0)
			return -1;
		epoch_text(op->hi, sizeof(op->hi), t);
	}
	return 0;
}

static void customer_read(void *arg, enum store_status status, PGresult *res)
{
	struct comp_op *op = arg;
	bool absent;
	json_object *doc = op_document(op, status, res, "compliance_customer", &absent);
	if (doc == NULL) {
		if (!absent)
			return;
		if (op->only != 0) {
			char why[64];
			snprintf(why, sizeof(why), "no customer %" PRId64, op->only);
			op_fail(op, PROTO_ERR_NOT_FOUND, why);
			return;
		}
		/* No further customer: the report is complete. */
		json_object *out = json_object_new_object();
		json_object_object_add(out, "rows", json_object_get(op->rows));
		request_answer_ok(op->req, out);
		json_object_put(out);
		op_free(op);
		return;
	}
	op->customer_id = util_jint(doc, "customer_id", 0);
	const char *name = util_jstr(doc, "name");
	op->customer_name = name ? strdup(name) : NULL;
	op->tz = records_zone_of(util_jstr(doc, "timezone"));
	int rc = (name != NULL && op->customer_name == NULL) ? -2 : 0;
	if (rc == 0 && bounds_compute(op) != 0) {
		log_error("event=compliance_unreadable what=bounds customer=%" PRId64,
		          op->customer_id);
		rc = -1;
	}
	if (rc == 0 && facts_compute(op, doc) != 0)
		rc = -1;
	json_object_put(doc);
	if (rc == -2)
		op_busy(op);
	else if (rc != 0)
		op_internal(op);
	else
		page_next(op);
}

/* Coarse bounds for finding customers: the months in UTC, a day wider on
 * each side, which holds them in every zone (offsets are within +-18 h). */
static void customer_next(struct comp_op *op)
{
	struct sla_tz utc = sla_tz_fixed(0);
	struct sla_month after;
	sla_time t;
	char prev[24], only[24], lo[24] = "", hi[24] = "";
	if (op->has_from && sla_month_start(&utc, op->from, &t) == 0)
		epoch_text(lo, sizeof(lo), t - SLA_DAY);
	if (op->has_to && sla_month_next(op->to, &after) == 0 &&
	    sla_month_start(&utc, after, &t) == 0)
		epoch_text(hi, sizeof(hi), t + SLA_DAY);
	epoch_text(prev, sizeof(prev), op->customer_id);
	epoch_text(only, sizeof(only), op->only);
	const char *params[4] = {prev, op->only ? only : NULL, lo[0] ? lo : NULL,
	                         hi[0] ? hi : NULL};
	op_submit(op,
	          "SELECT slad_compliance_customer($1::bigint, $2::bigint, $3::bigint, $4::bigint)",
	          4, params, customer_read);
}

/* ---- the verb ---- */

void compliance_dispatch(struct request *req)
{
	const json_object *b = req->msg.body;
	struct comp_op *op = calloc(1, sizeof(*op));
	if (op == NULL) {
		request_answer_err(req, PROTO_ERR_UNAVAILABLE, "server busy, retry later");
		return;
	}
	op->req = req;
	op->store = server_store(req->srv);
	op->domain = ((struct app *)server_app(req->srv))->domain;
	op->now = util_now();
	op->rows = json_object_new_array();
	op->ev = malloc(sizeof(*op->ev));
	if (op->rows == NULL || op->ev == NULL) {
		op_busy(op);
		return;
	}
	/* The verb table checked the fields' types and forms, level 1..4 and
	 * from_month <= to_month (proto/verbs.c); the months are parsed again
	 * here because they are used, and refused the same way should the
	 * table ever let one through. */
	op->only = util_jint(b, "customer_id", 0);
	op->level = (int)util_jint(b, "level", 0);
	const char *from = util_jstr(b, "from_month"), *to = util_jstr(b, "to_month");
	op->has_from = from != NULL;
	op->has_to = to != NULL;
	if (from != NULL && sla_month_parse(from, &op->from) != 0) {
		op_fail(op, PROTO_ERR_INVALID_FIELD,
		        "field 'from_month': expected a month YYYY-MM");
		return;
	}
	if (to != NULL && sla_month_parse(to, &op->to) != 0) {
		op_fail(op, PROTO_ERR_INVALID_FIELD, "field 'to_month': expected a month YYYY-MM");
		return;
	}
	if (op->has_from && op->has_to && sla_month_cmp(op->from, op->to) > 0) {
		op_fail(op, PROTO_ERR_INVALID_FIELD, "field 'to_month': before from_month");
		return;
	}
	if (op->level != 0 && !sla_level_valid(op->level)) {
		op_fail(op, PROTO_ERR_INVALID_FIELD, "field 'level': expected 1..4");
		return;
	}
	customer_next(op);
}
