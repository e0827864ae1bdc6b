/*
 * records.c - see records.h.
 *
 * Each verb is one SQL function call (deploy/sql/005_records.sql) whose
 * transaction holds the whole change, request_id claim included; the verbs
 * that state a period's end (CUSTOMER_SHOW, CONTRACT_ADD, CONTRACT_UPDATE,
 * WARRANTY) compute it here with libsla from what the statement returned.
 * CONTRACT_ADD is the one two-step verb: its stored answer (replayed byte
 * for byte) carries the current end, so the ledger is computed from a read
 * before the insert that stores it.
 *
 * Rounding (S9).  The protocol's names map onto libsla's:
 *   started_day -> SLA_WARRANTY_ROUND_CEIL  (each started 24 h counts a day; the default)
 *   full_day    -> SLA_WARRANTY_ROUND_FLOOR (only whole 24 h count)
 *   nearest_day -> none: libsla has no rounding to the nearest day (its
 *                  third mode, EXACT, grants the exact seconds), so the
 *                  server refuses it with INVALID_FIELD rather than guess.
 */
#include "records.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "log.h"
#include "scheduler.h"
#include "session.h"
#include "store.h"
#include "tzdb.h"
#include "util.h"
#include "verbs.h"
#include "warranty.h"

/* ---- rounding names ---- */

static const struct {
	const char *wire; /* PROTOCOL.md */
	const char *db;   /* contracts.rounding, libsla's names */
} roundings[] = {
    {"started_day", "ceil"},
    {"full_day", "floor"},
};

static const char *rounding_db(const char *wire)
{
	for (size_t i = 0; i < sizeof(roundings) / sizeof(roundings[0]); i++)
		if (wire != NULL && strcmp(roundings[i].wire, wire) == 0)
			return roundings[i].db;
	return NULL;
}

static const char *rounding_wire(const char *db)
{
	for (size_t i = 0; i < sizeof(roundings) / sizeof(roundings[0]); i++)
		if (db != NULL && strcmp(roundings[i].db, db) == 0)
			return roundings[i].wire;
	return db; /* "exact": only set by hand in SQL; shown as it is */
}

/* ---- the ledger's inputs ---- */

/* One outage revision as slad_outages_of() describes it. */
struct outage_in {
	int64_t rev, ticket_id, outage_no; /* an outage is (ticket_id, outage_no) */
	int64_t fault;                     /* flaps of one fault merge (S9): see outages_parse() */
	const char *dedup_key;             /* monitoring alert's key, or NULL */
	int64_t contract;                  /* 0: any of the customer's contracts */
	sla_time start, end;               /* end SLA_TIME_NEVER: still down */
	enum sla_cause cause;
	bool correction; /* replaced a finished outage with a known cause */
	sla_time at;     /* when the change happened (0: unknown) */
	const char *reason;
};

struct outages {
	struct outage_in *v; /* in revision order */
	size_t n;
};

static void outages_clear(struct outages *o)
{
	free(o->v);
	memset(o, 0, sizeof(*o));
}

static int by_key_then_ticket(const void *a, const void *b)
{
	const struct outage_in *x = *(const struct outage_in *const *)a,
	                       *y = *(const struct outage_in *const *)b;
	int c = strcmp(x->dedup_key, y->dedup_key);
	if (c != 0)
		return c;
	return x->ticket_id < y->ticket_id ? -1 : x->ticket_id > y->ticket_id;
}

/*
 * S9 merges the flaps of one fault.  A ticket is one fault (a reopened
 * ticket's outages merge when they are close); so are the tickets of one
 * monitoring alert key, since an alert that resolves and fires again after
 * the reopen window opens a new ticket each time.  The fault id is the
 * lowest ticket of the key (any shared value would do).  0 or -1.
 */
static int faults_by_key(struct outages *o)
{
	struct outage_in **keyed = calloc(o->n ? o->n : 1, sizeof(*keyed));
	if (keyed == NULL)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < o->n; i++)
		if (o->v[i].dedup_key != NULL)
			keyed[k++] = &o->v[i];
	qsort(keyed, k, sizeof(keyed[0]), by_key_then_ticket);
	for (size_t i = 0; i < k; i++)
		keyed[i]->fault = i > 0 && strcmp(keyed[i]->dedup_key, keyed[i - 1]->dedup_key) == 0
		                      ? keyed[i - 1]->fault
		                      : keyed[i]->ticket_id;
	free(keyed);
	return 0;
}

/* doc["outages"] into *out (strings borrowed from doc).  0, or -1 with
 * *out empty. */
static int outages_parse(const json_object *doc, struct outages *out)
{
	memset(out, 0, sizeof(*out));
	json_object *arr = NULL;
	if (!json_object_object_get_ex(doc, "outages", &arr) || arr == NULL ||
	    !json_object_is_type(arr, json_type_array) || json_object_array_length(arr) == 0)
		return 0;
	size_t n = json_object_array_length(arr);
	out->v = calloc(n, sizeof(*out->v));
	if (out->v == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const json_object *o = json_object_array_get_idx(arr, i);
		struct outage_in *x = &out->v[out->n++];
		x->rev = util_jint(o, "rev", 0);
		x->ticket_id = util_jint(o, "ticket_id", 0);
		x->outage_no = util_jint(o, "outage_no", 1);
		x->fault = x->ticket_id;
		x->dedup_key = util_jstr(o, "dedup_key");
		x->contract = util_jint(o, "contract", 0);
		x->start = util_jint(o, "start", 0);
		x->end = util_jhas(o, "end") ? util_jint(o, "end", 0) : SLA_TIME_NEVER;
		if (x->end < x->start)
			x->end = x->start; /* clocks of two instances a little apart */
		x->cause = SLA_CAUSE_UNKNOWN;
		const char *cause = util_jstr(o, "cause");
		if (cause != NULL && sla_cause_parse(cause, &x->cause) != 0)
			x->cause = SLA_CAUSE_UNKNOWN;
		x->correction = util_jbool(o, "correction", false);
		x->at = util_jint(o, "at", 0);
		x->reason = util_jstr(o, "reason");
	}
	if (faults_by_key(out) != 0) {
		outages_clear(out);
		return -1;
	}
	return 0;
}

static int by_outage_newest_first(const void *a, const void *b)
{
	const struct outage_in *x = *(const struct outage_in *const *)a,
	                       *y = *(const struct outage_in *const *)b;
	if (x->ticket_id != y->ticket_id)
		return x->ticket_id < y->ticket_id ? -1 : 1;
	if (x->outage_no != y->outage_no)
		return x->outage_no < y->outage_no ? -1 : 1;
	return x->rev > y->rev ? -1 : x->rev < y->rev;
}

/*
 * The outages as they stood before revision `before` (INT64_MAX: as they
 * stand): for each outage (ticket, outage_no) its latest revision older
 * than `before`.  out[] needs room for all->n pointers; returns how many.
 */
static size_t outages_state(const struct outages *all, int64_t before, const struct outage_in **out)
{
	size_t n = 0, k = 0;
	for (size_t i = 0; i < all->n; i++)
		if (all->v[i].rev < before)
			out[n++] = &all->v[i];
	qsort(out, n, sizeof(out[0]), by_outage_newest_first);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || out[k - 1]->ticket_id != out[i]->ticket_id ||
		    out[k - 1]->outage_no != out[i]->outage_no)
			out[k++] = out[i];
	return k;
}

struct contract_in {
	int64_t id; /* 0: a contract not stored yet (CONTRACT_ADD) */
	struct sla_warranty_terms terms;
};

int records_contract_terms(const json_object *t, struct sla_tz tz, struct sla_warranty_terms *out)
{
	struct sla_date accepted;
	const char *date = util_jstr(t, "accepted_date");
	if (date == NULL || sla_date_parse(date, &accepted) != 0)
		return -1;
	sla_warranty_terms_init(out, accepted, (int)util_jint(t, "free_months", 0));
	out->tz = tz;
	const char *rounding = util_jstr(t, "rounding");
	if (rounding != NULL && sla_warranty_rounding_parse(rounding, &out->rounding) != 0)
		return -1;
	return 0;
}

static int terms_parse(const json_object *t, struct sla_tz tz, struct contract_in *out)
{
	if (records_contract_terms(t, tz, &out->terms) != 0)
		return -1;
	out->id = util_jint(t, "contract_id", 0);
	return 0;
}

struct sla_tz records_zone_of(const char *name)
{
	const struct tzdb_zone *z = name ? tzdb_zone_get(name) : NULL;
	if (z == NULL) {
		char q[80];
		log_warn("event=unknown_timezone zone=%s fallback=%s",
		         log_quote(q, sizeof(q), name), TZDB_DEFAULT_ZONE);
		z = tzdb_zone_get(TZDB_DEFAULT_ZONE);
	}
	return z ? tzdb_sla_tz(z) : sla_tz_fixed(SLA_TZ_SHANGHAI_OFFSET);
}

/* ---- the ledger ---- */

struct ledger {
	struct sla_warranty_result r;
	struct sla_warranty_line *lines;
	struct sla_downtime *dt;
	const struct outage_in **src; /* dt[i] came from src[i] */
	size_t n;
	sla_time now;
};

static void ledger_clear(struct ledger *L)
{
	free(L->lines);
	free(L->dt);
	free(L->src);
	memset(L, 0, sizeof(*L));
}

/*
 * Contract k's ledger over those of outs[0..n) that apply to it (the ones
 * naming it or no contract), ongoing outages measured up to `now`.  0, or
 * -1 (logged; L cleared).
 */
static int ledger_compute(struct ledger *L, const struct contract_in *k,
                          const struct outage_in *const *outs, size_t n, sla_time now)
{
	memset(L, 0, sizeof(*L));
	L->now = now;
	size_t cap = n > 0 ? n : 1;
	L->lines = calloc(cap, sizeof(*L->lines));
	L->dt = calloc(cap, sizeof(*L->dt));
	L->src = calloc(cap, sizeof(*L->src));
	if (L->lines == NULL || L->dt == NULL || L->src == NULL) {
		ledger_clear(L);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct outage_in *o = outs[i];
		if (o->contract != 0 && o->contract != k->id)
			continue;
		L->dt[L->n] = (struct sla_downtime){o->fault, o->start, o->end, o->cause};
		L->src[L->n++] = o;
	}
	enum sla_warranty_error e =
	    sla_warranty_compute(&k->terms, L->dt, L->n, now, L->lines, cap, &L->r);
	if (e != SLA_WARRANTY_OK) {
		log_error("event=warranty_refused contract=%" PRId64 " reason=%s index=%zu", k->id,
		          sla_warranty_error_name(e), L->r.error_index);
		ledger_clear(L);
		return -1;
	}
	return 0;
}

static bool vendor_cause(enum sla_cause c)
{
	return c == SLA_CAUSE_SOFTWARE_QUALITY || c == SLA_CAUSE_VENDOR_SERVICE;
}

/* Whether input o went into ledger line l.  Lines do not name their
 * inputs, only faults: an excluded line is one interval (same fault and
 * start); a vendor line is the union of the vendor intervals of its
 * faults that it spans. */
static bool line_has(const struct sla_warranty_line *l, const struct outage_in *o)
{
	bool excluded =
	    l->verdict == SLA_WARRANTY_EXCLUDED_CAUSE || l->verdict == SLA_WARRANTY_UNKNOWN_CAUSE;
	if (excluded == vendor_cause(o->cause))
		return false;
	bool fault = l->faults_truncated;
	for (size_t i = 0; i < l->fault_count && !fault; i++)
		fault = l->fault_ids[i] == o->fault;
	if (!fault)
		return false;
	if (excluded)
		return o->start == l->outage_start;
	return o->start >= l->outage_start && o->start <= l->end;
}

static json_object *date_json(struct sla_date d)
{
	char buf[SLA_DATE_STRLEN];
	return sla_date_format(d, buf, sizeof(buf)) == 0 ? json_object_new_string(buf) : NULL;
}

/* PROTOCOL.md's end dates are the first day no longer covered: 48 months
 * from 2024-03-01 end on 2028-03-01 (the last free day is 2028-02-29). */
static json_object *end_date_json(struct sla_date last_free)
{
	struct sla_date end;
	return sla_date_add_days(last_free, 1, &end) == 0 ? date_json(end) : NULL;
}

/* The period's dates in a contract's (or a WARRANTY's) answer. */
static void ledger_dates(json_object *o, const struct ledger *L)
{
	json_object_object_add(o, "base_end_date", end_date_json(L->r.base_last_day));
	json_object_object_add(o, "current_end_date", end_date_json(L->r.last_day));
	json_object_object_add(o, "last_free_date", date_json(L->r.last_day));
	json_object_object_add(o, "extension_days", json_object_new_int64(L->r.extension_days));
}

/* Downtime in hours to the hundredth (36 s), written as people read it
 * (30.0, 30.04, 7.5) rather than as the nearest binary fraction prints. */
json_object *records_hours_json(sla_duration seconds)
{
	int64_t hundredths = (seconds + 18) / 36;
	char text[32];
	int n = snprintf(text, sizeof(text), "%" PRId64 ".%02" PRId64, hundredths / 100,
	                 hundredths % 100);
	if (n > 0 && text[n - 1] == '0')
		text[n - 1] = '\0'; /* 30.00 -> 30.0, 7.50 -> 7.5 */
	return json_object_new_double_s((double)hundredths / 100.0, text);
}

/* One ledger line as WARRANTY's `extensions` show it: its ticket (the
 * earliest of the line) and all its tickets, cause, interval, hours, days
 * granted, and whether and why it counted (S9). */
static json_object *line_json(const struct ledger *L, const struct sla_warranty_line *l)
{
	json_object *o = json_object_new_object();
	json_object *tickets = json_object_new_array();
	int64_t first = 0;
	sla_time first_start = SLA_TIME_NEVER;
	for (size_t i = 0; i < L->n; i++) {
		const struct outage_in *src = L->src[i];
		if (!line_has(l, src))
			continue;
		bool listed = false;
		for (size_t j = 0; j < json_object_array_length(tickets) && !listed; j++)
			listed = json_object_get_int64(json_object_array_get_idx(tickets, j)) ==
			         src->ticket_id;
		if (!listed)
			json_object_array_add(tickets, json_object_new_int64(src->ticket_id));
		if (src->start < first_start) {
			first_start = src->start;
			first = src->ticket_id;
		}
	}
	bool ongoing = (l->flags & SLA_WARRANTY_FLAG_ONGOING) != 0;
	json_object_object_add(o, "ticket_id", first ? json_object_new_int64(first) : NULL);
	json_object_object_add(o, "tickets", tickets);
	json_object_object_add(o, "cause", json_object_new_string(sla_cause_name(l->cause)));
	json_object_object_add(o, "outage_start", util_jtime(l->outage_start));
	json_object_object_add(o, "outage_end", ongoing ? NULL : util_jtime(l->end));
	json_object_object_add(o, "ongoing", json_object_new_boolean(ongoing));
	json_object_object_add(o, "hours", records_hours_json(l->downtime));
	json_object_object_add(o, "days", json_object_new_int64(l->days));
	json_object_object_add(o, "counted",
	                       json_object_new_boolean(l->verdict == SLA_WARRANTY_COUNTED));
	json_object_object_add(o, "verdict",
	                       json_object_new_string(sla_warranty_verdict_name(l->verdict)));
	json_object_object_add(o, "why", json_object_new_string(l->why));
	json_object_object_add(o, "revised", json_object_new_boolean(0));
	return o;
}

/* Whether two ledgers grant the same: ends, and each line's verdict, days
 * and interval (a vendor cause renamed to the other vendor cause is not a
 * revision of the period). */
static bool ledgers_equal(const struct ledger *a, const struct ledger *b)
{
	if (a->r.end != b->r.end || a->r.extension != b->r.extension ||
	    a->r.line_count != b->r.line_count)
		return false;
	for (size_t i = 0; i < a->r.line_count; i++) {
		const struct sla_warranty_line *x = &a->lines[i], *y = &b->lines[i];
		if (x->verdict != y->verdict || x->granted != y->granted || x->days != y->days ||
		    x->start != y->start || x->end != y->end)
			return false;
	}
	return true;
}

/* ---- ledgers seen from a ticket (slad_ticket_warranty()) ---- */

struct ticket_view {
	struct sla_tz tz;
	sla_time fault_at;
	struct contract_in *contracts;
	size_t n_contracts;
	struct outages outages;
	const struct outage_in **current;
	size_t n_current;
};

static void ticket_view_clear(struct ticket_view *v)
{
	free(v->contracts);
	free(v->current);
	outages_clear(&v->outages);
	memset(v, 0, sizeof(*v));
}

/* 0, 1 when the document carries no warranty view, -1 on a bad one. */
static int ticket_view_parse(const json_object *ticket, sla_time now, struct ticket_view *v)
{
	memset(v, 0, sizeof(*v));
	json_object *w = NULL, *contracts = NULL;
	if (!json_object_object_get_ex(ticket, "warranty", &w) || w == NULL)
		return 1;
	v->tz = records_zone_of(util_jstr(w, "timezone"));
	v->fault_at = util_jint(w, "fault_at", now);
	json_object_object_get_ex(w, "contracts", &contracts);
	size_t n = contracts ? json_object_array_length(contracts) : 0;
	v->contracts = calloc(n ? n : 1, sizeof(*v->contracts));
	if (v->contracts == NULL || outages_parse(w, &v->outages) != 0)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (terms_parse(json_object_array_get_idx(contracts, i), v->tz,
		                &v->contracts[v->n_contracts]) == 0)
			v->n_contracts++;
	v->current = calloc(v->outages.n ? v->outages.n : 1, sizeof(*v->current));
	if (v->current == NULL)
		goto fail;
	v->n_current = outages_state(&v->outages, INT64_MAX, v->current);
	return 0;
fail:
	ticket_view_clear(v);
	return -1;
}

bool records_ticket_in_warranty(const json_object *ticket, sla_time now)
{
	struct ticket_view v;
	int rc = ticket_view_parse(ticket, now, &v);
	if (rc != 0) /* no view: the base period as slad_ticket_load_base says */
		return rc > 0 && util_jbool(ticket, "in_warranty", false);
	bool in = false;
	for (size_t i = 0; i < v.n_contracts && !in; i++) {
		struct ledger L;
		if (ledger_compute(&L, &v.contracts[i], v.current, v.n_current, now) != 0)
			continue;
		in = sla_warranty_is_free_on(&L.r, v.fault_at);
		ledger_clear(&L);
	}
	ticket_view_clear(&v);
	return in;
}

/* The ticket's outages with its latest one (the one its row describes)
 * changed: given `cause` (when not NULL) and ending at `end` (when not
 * SLA_TIME_NEVER).  The array to free, or NULL; *changed_out points at the
 * changed copy in `changed`, or is NULL when nothing differs. */
static const struct outage_in **with_latest_changed(const struct ticket_view *v, int64_t id,
                                                    const enum sla_cause *cause, sla_time end,
                                                    struct outage_in *changed,
                                                    const struct outage_in **changed_out)
{
	*changed_out = NULL;
	size_t latest = v->n_current;
	for (size_t i = 0; i < v->n_current; i++)
		if (v->current[i]->ticket_id == id &&
		    (latest == v->n_current ||
		     v->current[i]->outage_no > v->current[latest]->outage_no))
			latest = i;
	const struct outage_in **after = calloc(v->n_current ? v->n_current : 1, sizeof(*after));
	for (size_t i = 0; after != NULL && i < v->n_current; i++) {
		after[i] = v->current[i];
		if (i != latest)
			continue;
		*changed = *v->current[i];
		if (cause != NULL)
			changed->cause = *cause;
		if (end != SLA_TIME_NEVER)
			changed->end = end;
		if (changed->cause != v->current[i]->cause || changed->end != v->current[i]->end) {
			after[i] = changed;
			*changed_out = changed;
		}
	}
	return after;
}

bool records_cause_revises_warranty(const json_object *ticket, const char *cause, sla_time now)
{
	enum sla_cause to;
	if (cause == NULL || sla_cause_parse(cause, &to) != 0)
		return false;
	struct ticket_view v;
	if (ticket_view_parse(ticket, now, &v) != 0)
		return false;
	bool revised = false;
	struct outage_in changed;
	const struct outage_in *mine = NULL;
	const struct outage_in **after = with_latest_changed(&v, util_jint(ticket, "id", 0), &to,
	                                                     SLA_TIME_NEVER, &changed, &mine);
	for (size_t i = 0; after != NULL && mine != NULL && i < v.n_contracts && !revised; i++) {
		struct ledger before, later;
		if (ledger_compute(&before, &v.contracts[i], v.current, v.n_current, now) != 0)
			continue;
		if (ledger_compute(&later, &v.contracts[i], after, v.n_current, now) == 0) {
			revised = !ledgers_equal(&before, &later);
			ledger_clear(&later);
		}
		ledger_clear(&before);
	}
	free(after);
	ticket_view_clear(&v);
	return revised;
}

int64_t records_restore_extension_days(const json_object *ticket, const char *cause, sla_time end,
                                       sla_time now)
{
	enum sla_cause parsed, *with = NULL;
	if (cause != NULL) {
		if (sla_cause_parse(cause, &parsed) != 0)
			return -1;
		with = &parsed;
	}
	struct ticket_view v;
	if (ticket_view_parse(ticket, now, &v) != 0)
		return -1;
	struct outage_in changed;
	const struct outage_in *mine = NULL;
	const struct outage_in **after =
	    with_latest_changed(&v, util_jint(ticket, "id", 0), with, end, &changed, &mine);
	int64_t days = -1;
	if (after != NULL && mine != NULL) {
		days = 0;
		/* The days of the ledger line this outage ends up in, under the
		 * first contract that counts it (S9: merged flaps make one line). */
		for (size_t i = 0; i < v.n_contracts && days == 0; i++) {
			struct ledger L;
			if (ledger_compute(&L, &v.contracts[i], after, v.n_current, now) != 0)
				continue;
			for (size_t j = 0; j < L.r.line_count; j++)
				if (L.lines[j].verdict == SLA_WARRANTY_COUNTED &&
				    line_has(&L.lines[j], mine))
					days = L.lines[j].days;
			ledger_clear(&L);
		}
	}
	free(after);
	ticket_view_clear(&v);
	return days;
}

/* ---- requests ---- */

struct rec_op;
/* What to do with a statement's document (not an error, not NULL); it
 * answers the request or submits the next statement, and owns op. */
typedef void (*rec_then)(struct rec_op *op, json_object *doc);

struct rec_op {
	struct request *req;
	sla_time now;
	rec_then then;       /* NULL: the document is the answer */
	const char *missing; /* what a NULL document means ("customer 7") */
	char missing_buf[64];
	char rounding[16]; /* CONTRACT_ADD: contracts.rounding for the insert */
	bool plans_tasks;  /* a success may create follow-up tasks: wake the scheduler */
};

static void op_free(struct rec_op *op)
{
	free(op);
}

static void sql_error(struct request *req, PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (state == NULL || strncmp(state, "40", 2) == 0 || strncmp(state, "08", 2) == 0 ||
	    strncmp(state, "57P", 3) == 0) {
		request_answer_err(req, PROTO_ERR_UNAVAILABLE, "database unavailable, retry later");
		return;
	}
	if (strcmp(state, "23505") == 0) {
		request_answer_err(req, PROTO_ERR_CONFLICT, "already exists");
		return;
	}
	/* A check constraint or a value PostgreSQL cannot hold (a period
	 * ending after year 9989, a date out of range). */
	if (strcmp(state, "23514") == 0 || strncmp(state, "22", 2) == 0) {
		request_answer_err(req, PROTO_ERR_INVALID_FIELD, "value out of range");
		return;
	}
	char q[600];
	log_error("event=sql_failed what=%s reason=%s", req->verb->name,
	          log_quote(q, sizeof(q), PQresultErrorMessage(res)));
	request_answer_err(req, PROTO_ERR_INTERNAL, "internal error (logged)");
}

/* Committed: the tasks it implies (an archive, inspections, the next
 * maintenance, a satisfaction call) are planned by the scheduler's next run
 * (006_tasks.sql); run it now rather than within sched_cap_ms. */
static void wake_planner(const struct rec_op *op)
{
	struct app *app = server_app(op->req->srv);
	if (op->plans_tasks && app != NULL && app->sched != NULL)
		sched_poke(app->sched, util_now());
}

static void op_answered(void *arg, enum store_status status, PGresult *res)
{
	struct rec_op *op = arg;
	struct request *req = op->req;
	json_object *doc = NULL;
	if (status != STORE_DONE) {
		request_answer_err(req, PROTO_ERR_UNAVAILABLE, "database unavailable, retry later");
	} else if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		sql_error(req, res);
	} else if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		request_answer_err(req, PROTO_ERR_NOT_FOUND, "no %s",
		                   op->missing ? op->missing : "such object");
	} else if ((doc = json_tokener_parse(PQgetvalue(res, 0, 0))) == NULL) {
		request_answer_err(req, PROTO_ERR_INTERNAL, "internal error (logged)");
	} else if (util_jstr(doc, "err") != NULL) {
		enum proto_err code = proto_err_parse(util_jstr(doc, "err"));
		if (code == PROTO_ERR_FORBIDDEN)
			verbs_audit_refusal(req, "forbidden", "team");
		request_answer_err(req, code == PROTO_ERR_COUNT ? PROTO_ERR_INTERNAL : code, "%s",
		                   util_jstr(doc, "message") ? util_jstr(doc, "message")
		                                             : "failed");
	} else if (op->then != NULL) {
		wake_planner(op);
		rec_then then = op->then;
		op->then = NULL;
		then(op, doc); /* owns op from here */
		json_object_put(doc);
		return;
	} else {
		wake_planner(op);
		request_answer_ok(req, doc);
	}
	json_object_put(doc);
	op_free(op);
}

static void op_submit(struct rec_op *op, const char *sql, int n, const char *const *params)
{
	if (store_submit(server_store(op->req->srv), sql, n, params, op_answered, op) != 0) {
		request_answer_err(op->req, PROTO_ERR_UNAVAILABLE,
		                   "database unavailable, retry later");
		op_free(op);
	}
}

static void op_fail(struct rec_op *op, enum proto_err code, const char *message)
{
	request_answer_err(op->req, code, "%s", message);
	op_free(op);
}

static const char *body_text(const struct request *req)
{
	return json_object_to_json_string_ext((json_object *)req->msg.body, JSON_C_TO_STRING_PLAIN);
}

/* A key given with JSON null (an _UPDATE's "clear this"). */
static bool given_null(const json_object *body, const char *key)
{
	json_object *v = NULL;
	return json_object_object_get_ex(body, key, &v) && v == NULL;
}

/* ---- field checks the verb table cannot express ---- */

/* contacts / sites: objects with only `keys` as members, each a non-empty
 * string, `required` among them.  true if fine; else *why is set. */
static bool list_ok(const json_object *body, const char *field, const char *const *keys,
                    const char *required, char *why, size_t len)
{
	json_object *arr = NULL;
	if (!json_object_object_get_ex(body, field, &arr) || arr == NULL)
		return true;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(e, json_type_object)) {
			snprintf(why, len, "field '%s': element %zu is not an object", field, i);
			return false;
		}
		json_object_object_foreach(e, key, val)
		{
			bool known = false;
			for (const char *const *k = keys; *k != NULL && !known; k++)
				known = strcmp(*k, key) == 0;
			if (!known) {
				snprintf(why, len,
				         "field '%s': element %zu: unknown member '%.32s'", field,
				         i, key);
				return false;
			}
			if (!json_object_is_type(val, json_type_string) ||
			    json_object_get_string_len(val) == 0) {
				snprintf(why, len,
				         "field '%s': element %zu: '%s' must be a non-empty string",
				         field, i, key);
				return false;
			}
		}
		if (!json_object_object_get_ex(e, required, NULL)) {
			snprintf(why, len, "field '%s': element %zu needs '%s'", field, i,
			         required);
			return false;
		}
	}
	return true;
}

/* The checks CUSTOMER_ADD and CUSTOMER_UPDATE share.  true if fine. */
static bool customer_fields_ok(struct rec_op *op)
{
	const json_object *b = op->req->msg.body;
	static const char *const contact_keys[] = {"name", "phone", "role", NULL};
	static const char *const site_keys[] = {"name", "address", NULL};
	char why[160];
	const char *zone = util_jstr(b, "timezone");
	if (zone != NULL && tzdb_zone_get(zone) == NULL) {
		op_fail(op, PROTO_ERR_INVALID_FIELD,
		        "field 'timezone': not a known IANA time zone");
		return false;
	}
	if (given_null(b, "name")) {
		op_fail(op, PROTO_ERR_INVALID_FIELD, "field 'name': a customer keeps a name");
		return false;
	}
	if (!list_ok(b, "contacts", contact_keys, "name", why, sizeof(why)) ||
	    !list_ok(b, "sites", site_keys, "name", why, sizeof(why))) {
		op_fail(op, PROTO_ERR_INVALID_FIELD, why);
		return false;
	}
	return true;
}

/* ---- customers (S12) ---- */

static void creating_call(struct rec_op *op, const char *sql)
{
	const struct principal *who = request_principal(op->req);
	char pid[24], now[24], hash[65];
	snprintf(pid, sizeof(pid), "%" PRId64, who->id);
	snprintf(now, sizeof(now), "%" PRId64, op->now);
	util_body_hash(op->req->msg.body, hash);
	const char *params[5] = {pid, util_jstr(op->req->msg.body, "request_id"), hash,
	                         body_text(op->req), now};
	op_submit(op, sql, 5, params);
}

static void customer_add(struct rec_op *op)
{
	if (!customer_fields_ok(op))
		return;
	creating_call(op, "SELECT slad_customer_add($1::bigint, $2, $3, $4::jsonb, $5::bigint)");
}

static void customer_update(struct rec_op *op)
{
	if (!customer_fields_ok(op))
		return;
	char now[24];
	snprintf(now, sizeof(now), "%" PRId64, op->now);
	const char *params[3] = {body_text(op->req), request_principal(op->req)->name, now};
	op_submit(op, "SELECT slad_customer_update($1::jsonb, $2, $3::bigint)", 3, params);
}

/* A contract object of CUSTOMER_SHOW: its terms with the protocol's
 * rounding name, and the ends its ledger gives. */
static void contract_show(json_object *k, struct sla_tz tz, const struct outage_in *const *cur,
                          size_t n, sla_time now)
{
	struct contract_in c;
	struct ledger L;
	if (terms_parse(k, tz, &c) == 0 && ledger_compute(&L, &c, cur, n, now) == 0) {
		ledger_dates(k, &L);
		ledger_clear(&L);
	}
	const char *rounding = util_jstr(k, "rounding");
	if (rounding != NULL)
		json_object_object_add(k, "rounding",
		                       json_object_new_string(rounding_wire(rounding)));
	json_object_object_del(k, "customer_id");
}

static void customer_shown(struct rec_op *op, json_object *doc)
{
	struct outages all;
	const struct outage_in **cur = NULL;
	if (outages_parse(doc, &all) != 0 ||
	    (cur = calloc(all.n ? all.n : 1, sizeof(*cur))) == NULL) {
		outages_clear(&all);
		op_fail(op, PROTO_ERR_UNAVAILABLE, "server busy, retry later");
		return;
	}
	size_t n = outages_state(&all, INT64_MAX, cur);
	struct sla_tz tz = records_zone_of(util_jstr(doc, "timezone"));
	json_object *contracts = NULL;
	json_object_object_get_ex(doc, "contracts", &contracts);
	for (size_t i = 0; contracts && i < json_object_array_length(contracts); i++)
		contract_show(json_object_array_get_idx(contracts, i), tz, cur, n, op->now);
	free(cur);
	outages_clear(&all);
	json_object_object_del(doc, "outages");
	json_object *out = json_object_new_object();
	json_object_object_add(out, "customer", json_object_get(doc));
	request_answer_ok(op->req, out);
	json_object_put(out);
	op_free(op);
}

static void customer_show(struct rec_op *op)
{
	char id[24];
	int64_t cid = util_jint(op->req->msg.body, "customer_id", 0);
	snprintf(id, sizeof(id), "%" PRId64, cid);
	snprintf(op->missing_buf, sizeof(op->missing_buf), "customer %" PRId64, cid);
	op->missing = op->missing_buf;
	op->then = customer_shown;
	const char *params[1] = {id};
	op_submit(op, "SELECT slad_customer_show($1::bigint)", 1, params);
}

/* ---- contracts (S7, S8) ---- */

/* The rounding asked for, as stored, in *out (`dflt` when absent or
 * null).  false after answering INVALID_FIELD (op freed): nearest_day,
 * which libsla cannot do. */
static bool rounding_asked(struct rec_op *op, const char *dflt, const char **out)
{
	const char *wire = util_jstr(op->req->msg.body, "rounding");
	*out = wire ? rounding_db(wire) : dflt;
	if (wire != NULL && *out == NULL) {
		op_fail(op, PROTO_ERR_INVALID_FIELD,
		        "field 'rounding': nearest_day is not supported (libsla counts started "
		        "or full days: started_day, full_day)");
		return false;
	}
	return true;
}

/* CONTRACT_ADD, second step: the new contract's ledger over the
 * customer's outages not tied to another contract, then the insert that
 * stores the answer. */
static void contract_inputs_read(struct rec_op *op, json_object *doc)
{
	const json_object *b = op->req->msg.body;
	struct sla_tz tz = records_zone_of(util_jstr(doc, "timezone"));
	json_object *terms = json_object_new_object();
	json_object_object_add(terms, "accepted_date",
	                       util_jstr_or_null(util_jstr(b, "accepted_date")));
	json_object_object_add(terms, "free_months",
	                       json_object_new_int64(util_jint(b, "free_months", 0)));
	json_object_object_add(terms, "rounding", json_object_new_string(op->rounding));
	struct contract_in k;
	struct outages all;
	const struct outage_in **cur = NULL;
	struct ledger L;
	memset(&L, 0, sizeof(L));
	int rc = terms_parse(terms, tz, &k);
	json_object_put(terms);
	if (outages_parse(doc, &all) != 0 ||
	    (cur = calloc(all.n ? all.n : 1, sizeof(*cur))) == NULL) {
		rc = -1;
	} else if (rc == 0) {
		k.id = 0;
		rc = ledger_compute(&L, &k, cur, outages_state(&all, INT64_MAX, cur), op->now);
	}
	free(cur);
	outages_clear(&all);
	if (rc != 0) {
		op_fail(op, PROTO_ERR_INTERNAL, "internal error (logged)");
		return;
	}
	json_object *computed = json_object_new_object();
	ledger_dates(computed, &L);
	ledger_clear(&L);
	const struct principal *who = request_principal(op->req);
	char pid[24], hash[65];
	snprintf(pid, sizeof(pid), "%" PRId64, who->id);
	util_body_hash(b, hash);
	const char *params[6] = {
	    pid,          util_jstr(b, "request_id"),
	    hash,         body_text(op->req),
	    op->rounding, json_object_to_json_string_ext(computed, JSON_C_TO_STRING_PLAIN)};
	op->missing = NULL;
	op_submit(op, "SELECT slad_contract_add($1::bigint, $2, $3, $4::jsonb, $5, $6::jsonb)", 6,
	          params);
	json_object_put(computed);
}

static void contract_add(struct rec_op *op)
{
	const json_object *b = op->req->msg.body;
	const char *rounding;
	if (!rounding_asked(op, "ceil", &rounding))
		return;
	snprintf(op->rounding, sizeof(op->rounding), "%s", rounding);
	/* S8: the period must fit the calendar (and the table's check). */
	struct sla_date accepted;
	struct sla_warranty_result r;
	struct sla_warranty_line line;
	struct sla_warranty_terms terms;
	if (sla_date_parse(util_jstr(b, "accepted_date"), &accepted) != 0) {
		op_fail(op, PROTO_ERR_INVALID_FIELD, "field 'accepted_date': not a date");
		return;
	}
	sla_warranty_terms_init(&terms, accepted, (int)util_jint(b, "free_months", 0));
	if (sla_warranty_compute(&terms, NULL, 0, op->now, &line, 1, &r) != SLA_WARRANTY_OK ||
	    r.base_last_day.year >= 9989) {
		op_fail(op, PROTO_ERR_INVALID_FIELD,
		        "field 'free_months': the period would end after 9988");
		return;
	}
	char id[24];
	int64_t cid = util_jint(b, "customer_id", 0);
	snprintf(id, sizeof(id), "%" PRId64, cid);
	snprintf(op->missing_buf, sizeof(op->missing_buf), "customer %" PRId64, cid);
	op->missing = op->missing_buf;
	op->then = contract_inputs_read;
	const char *params[1] = {id};
	op_submit(op, "SELECT slad_customer_ledger_inputs($1::bigint)", 1, params);
}

/* CONTRACT_UPDATE committed: the end its ledger now gives. */
static void contract_updated(struct rec_op *op, json_object *doc)
{
	struct sla_tz tz = records_zone_of(util_jstr(doc, "timezone"));
	json_object *terms = NULL;
	json_object_object_get_ex(doc, "terms", &terms);
	json_object *out = json_object_new_object();
	json_object_object_add(out, "contract_id",
	                       json_object_new_int64(util_jint(doc, "contract_id", 0)));
	struct contract_in k;
	struct outages all;
	const struct outage_in **cur = NULL;
	struct ledger L;
	if (terms != NULL && terms_parse(terms, tz, &k) == 0 && outages_parse(doc, &all) == 0) {
		cur = calloc(all.n ? all.n : 1, sizeof(*cur));
		if (cur != NULL && ledger_compute(&L, &k, cur, outages_state(&all, INT64_MAX, cur),
		                                  op->now) == 0) {
			ledger_dates(out, &L);
			ledger_clear(&L);
		}
		free(cur);
		outages_clear(&all);
	}
	if (!json_object_object_get_ex(out, "current_end_date", NULL))
		json_object_object_add(out, "current_end_date", NULL);
	json_object_object_add(
	    out, "task_id",
	    util_jhas(doc, "task_id") ? json_object_new_int64(util_jint(doc, "task_id", 0)) : NULL);
	request_answer_ok(op->req, out);
	json_object_put(out);
	op_free(op);
}

static void contract_update(struct rec_op *op)
{
	const char *rounding;
	if (!rounding_asked(op, NULL, &rounding))
		return;
	char now[24];
	snprintf(now, sizeof(now), "%" PRId64, op->now);
	snprintf(op->missing_buf, sizeof(op->missing_buf), "contract %" PRId64,
	         util_jint(op->req->msg.body, "contract_id", 0));
	op->missing = op->missing_buf;
	op->then = contract_updated;
	const char *params[4] = {body_text(op->req), rounding, request_principal(op->req)->name,
	                         now};
	op_submit(op, "SELECT slad_contract_update($1::jsonb, $2, $3, $4::bigint)", 4, params);
}

/* ---- WARRANTY (S8-S10) ---- */

struct entry {
	json_object *o;
	sla_time start;
	bool revised;
	sla_time revised_at;
	size_t seq;
};

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->revised != y->revised) /* what a ledger said before, then what it says */
		return x->revised ? -1 : 1;
	if (x->revised_at != y->revised_at)
		return x->revised_at < y->revised_at ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

struct entries {
	struct entry *v;
	size_t n, cap;
};

static int entries_push(struct entries *e, json_object *o, sla_time start, bool revised,
                        sla_time at)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 16;
		struct entry *v = realloc(e->v, cap * sizeof(*v));
		if (v == NULL) {
			json_object_put(o);
			return -1;
		}
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n] = (struct entry){o, start, revised, at, e->n};
	e->n++;
	return 0;
}

/*
 * The lines a correction superseded (S9): the ledger as it stood just before
 * revision `fix` -- every outage at its latest earlier revision, measured
 * up to the correction's instant -- and of it the lines holding the
 * corrected ticket.  The contract's terms are today's: a change of terms is
 * not an outage correction (CONTRACT_UPDATE audits the terms before it).
 */
static int revised_lines(struct entries *e, const struct contract_in *k, const struct outages *all,
                         const struct outage_in *fix, const struct outage_in **scratch,
                         sla_time now)
{
	sla_time at = fix->at ? fix->at : now;
	size_t n = outages_state(all, fix->rev, scratch);
	struct ledger L;
	if (ledger_compute(&L, k, scratch, n, at) != 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < L.r.line_count && rc == 0; i++) {
		bool holds = false;
		for (size_t j = 0; j < L.n && !holds; j++)
			holds = L.src[j]->ticket_id == fix->ticket_id &&
			        line_has(&L.lines[i], L.src[j]);
		if (!holds)
			continue;
		json_object *o = line_json(&L, &L.lines[i]);
		json_object_object_add(o, "revised", json_object_new_boolean(1));
		json_object_object_add(o, "revised_at", util_jtime(at));
		if (fix->reason != NULL)
			json_object_object_add(o, "revision_reason",
			                       json_object_new_string(fix->reason));
		rc = entries_push(e, o, L.lines[i].outage_start, true, at);
	}
	ledger_clear(&L);
	return rc;
}

static void warranty_read(struct rec_op *op, json_object *doc)
{
	const json_object *b = op->req->msg.body;
	const char *zone = util_jstr(doc, "timezone");
	struct sla_tz tz = records_zone_of(zone);
	json_object *terms = NULL;
	json_object_object_get_ex(doc, "terms", &terms);
	struct contract_in k;
	struct outages all;
	memset(&all, 0, sizeof(all));
	const struct outage_in **cur = NULL;
	struct entries e = {NULL, 0, 0};
	struct ledger L;
	memset(&L, 0, sizeof(L));
	struct sla_date on;
	sla_time on_start = 0;
	int64_t days_left = 0;
	bool ok = terms != NULL && terms_parse(terms, tz, &k) == 0 &&
	          outages_parse(doc, &all) == 0 &&
	          (cur = calloc(all.n ? all.n : 1, sizeof(*cur))) != NULL;
	if (ok && util_jstr(b, "on_date") != NULL)
		ok = sla_date_parse(util_jstr(b, "on_date"), &on) == 0;
	else if (ok) /* today, in the customer's zone */
		ok = sla_tz_local_date(&tz, op->now, &on) == 0;
	ok = ok && sla_tz_day_start(&tz, on, &on_start) == 0 &&
	     ledger_compute(&L, &k, cur, outages_state(&all, INT64_MAX, cur), op->now) == 0 &&
	     sla_warranty_days_left(&L.r, &tz, on_start, &days_left) == 0;
	for (size_t i = 0; ok && i < L.r.line_count; i++)
		ok = entries_push(&e, line_json(&L, &L.lines[i]), L.lines[i].outage_start, false,
		                  0) == 0;
	for (size_t i = 0; ok && i < all.n; i++) {
		const struct outage_in *fix = &all.v[i];
		if (fix->correction && (fix->contract == 0 || fix->contract == k.id))
			ok = revised_lines(&e, &k, &all, fix, cur, op->now) == 0;
	}
	if (!ok) {
		op_fail(op, PROTO_ERR_INTERNAL, "internal error (logged)");
	} else {
		qsort(e.v, e.n, sizeof(e.v[0]), entry_cmp);
		json_object *ext = json_object_new_array();
		for (size_t i = 0; i < e.n; i++) {
			json_object_array_add(ext, e.v[i].o);
			e.v[i].o = NULL;
		}
		json_object *out = json_object_new_object();
		json_object_object_add(out, "contract_id", json_object_new_int64(k.id));
		json_object_object_add(out, "customer_id",
		                       json_object_new_int64(util_jint(doc, "customer_id", 0)));
		json_object_object_add(out, "timezone", util_jstr_or_null(zone));
		json_object_object_add(out, "accepted_date", date_json(k.terms.acceptance));
		json_object_object_add(out, "free_months", json_object_new_int(k.terms.months));
		json_object_object_add(out, "rounding",
		                       json_object_new_string(rounding_wire(
		                           sla_warranty_rounding_name(k.terms.rounding))));
		ledger_dates(out, &L);
		json_object_object_add(out, "extensions", ext);
		json_object_object_add(out, "on_date", date_json(on));
		json_object_object_add(out, "days_left", json_object_new_int64(days_left));
		/* S10: quality faults on that day are repaired free. */
		json_object_object_add(
		    out, "free", json_object_new_boolean(sla_warranty_is_free_on(&L.r, on_start)));
		request_answer_ok(op->req, out);
		json_object_put(out);
		op_free(op);
	}
	for (size_t i = 0; i < e.n; i++)
		json_object_put(e.v[i].o);
	free(e.v);
	ledger_clear(&L);
	free(cur);
	outages_clear(&all);
}

static void warranty(struct rec_op *op)
{
	char id[24];
	int64_t kid = util_jint(op->req->msg.body, "contract_id", 0);
	snprintf(id, sizeof(id), "%" PRId64, kid);
	snprintf(op->missing_buf, sizeof(op->missing_buf), "contract %" PRId64, kid);
	op->missing = op->missing_buf;
	op->then = warranty_read;
	const char *params[1] = {id};
	op_submit(op, "SELECT slad_contract_ledger_inputs($1::bigint)", 1, params);
}

/* ---- equipment (S13) ---- */

static void equipment_update(struct rec_op *op)
{
	const json_object *b = op->req->msg.body;
	if (given_null(b, "customer_id") || given_null(b, "model")) {
		op_fail(op, PROTO_ERR_INVALID_FIELD,
		        given_null(b, "model") ? "field 'model': equipment keeps a model"
		                               : "field 'customer_id': equipment keeps an owner");
		return;
	}
	char now[24];
	snprintf(now, sizeof(now), "%" PRId64, op->now);
	const char *params[3] = {body_text(op->req), request_principal(op->req)->name, now};
	op_submit(op, "SELECT slad_equipment_update($1::jsonb, $2, $3::bigint)", 3, params);
}

/* ---- FEEDBACK (S14, S15) ---- */

static void feedback(struct rec_op *op)
{
	const struct principal *who = request_principal(op->req);
	char pid[24], now[24], hash[65];
	snprintf(pid, sizeof(pid), "%" PRId64, who->id);
	snprintf(now, sizeof(now), "%" PRId64, op->now);
	util_body_hash(op->req->msg.body, hash);
	const char *params[8] = {pid,
	                         util_jstr(op->req->msg.body, "request_id"),
	                         hash,
	                         body_text(op->req),
	                         now,
	                         proto_role_name((enum proto_role)who->role),
	                         who->team[0] ? who->team : NULL,
	                         who->name};
	op_submit(op, "SELECT slad_feedback($1::bigint, $2, $3, $4::jsonb, $5::bigint, $6, $7, $8)",
	          8, params);
}

/* ---- follow-up tasks (S7, S11, S12, S14; 006_tasks.sql) ---- */

static void tasks_list(struct rec_op *op)
{
	const char *params[1] = {body_text(op->req)};
	op_submit(op, "SELECT slad_tasks($1::jsonb)", 1, params);
}

static void task_done(struct rec_op *op)
{
	const struct principal *who = request_principal(op->req);
	char pid[24], now[24];
	snprintf(pid, sizeof(pid), "%" PRId64, who->id);
	snprintf(now, sizeof(now), "%" PRId64, op->now);
	const char *params[6] = {body_text(op->req),
	                         now,
	                         pid,
	                         who->name,
	                         proto_role_name((enum proto_role)who->role),
	                         who->team[0] ? who->team : NULL};
	op_submit(op, "SELECT slad_task_done($1::jsonb, $2::bigint, $3::bigint, $4, $5, $6)", 6,
	          params);
}

/* ---- dispatch ---- */

void records_dispatch(struct request *req)
{
	struct rec_op *op = calloc(1, sizeof(*op));
	if (op == NULL) {
		request_answer_err(req, PROTO_ERR_UNAVAILABLE, "server busy, retry later");
		return;
	}
	op->req = req;
	op->now = util_now();
	const char *verb = req->verb->name;
	/* The verbs whose success can plan tasks: a new customer (archive),
	 * contracts (inspections), maintenance dates, equipment (completes an
	 * archive), a done maintenance (the next one). */
	op->plans_tasks = strcmp(verb, "CUSTOMER_SHOW") != 0 && strcmp(verb, "WARRANTY") != 0 &&
	                  strcmp(verb, "TASKS") != 0 && strcmp(verb, "FEEDBACK") != 0;
	if (strcmp(verb, "CUSTOMER_ADD") == 0)
		customer_add(op);
	else if (strcmp(verb, "CUSTOMER_UPDATE") == 0)
		customer_update(op);
	else if (strcmp(verb, "CUSTOMER_SHOW") == 0)
		customer_show(op);
	else if (strcmp(verb, "CONTRACT_ADD") == 0)
		contract_add(op);
	else if (strcmp(verb, "CONTRACT_UPDATE") == 0)
		contract_update(op);
	else if (strcmp(verb, "EQUIPMENT_ADD") == 0)
		creating_call(
		    op, "SELECT slad_equipment_add($1::bigint, $2, $3, $4::jsonb, $5::bigint)");
	else if (strcmp(verb, "EQUIPMENT_UPDATE") == 0)
		equipment_update(op);
	else if (strcmp(verb, "WARRANTY") == 0)
		warranty(op);
	else if (strcmp(verb, "FEEDBACK") == 0)
		feedback(op);
	else if (strcmp(verb, "TASKS") == 0)
		tasks_list(op);
	else if (strcmp(verb, "TASK_DONE") == 0)
		task_done(op);
	else
		op_fail(op, PROTO_ERR_INTERNAL, "records: verb not handled here");
}
