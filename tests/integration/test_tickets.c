/*
 * test_tickets.c - tickets end to end over real TLS and PostgreSQL: report,
 * show, restart, replays, the engineer's state changes, monitoring alerts,
 * and the administrator's policies and rules (issue 4).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "harness.h"

static struct slac_client *hotline, *engineer, *admin, *monitor;

static int64_t jint(json_object *o, const char *key)
{
	json_object *v = NULL;
	assert_true(json_object_object_get_ex(o, key, &v));
	return json_object_get_int64(v);
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

static json_object *jpath(json_object *o, const char *a, const char *b)
{
	json_object *x = NULL, *y = NULL;
	assert_true(json_object_object_get_ex(o, a, &x));
	if (b == NULL)
		return x;
	assert_true(json_object_object_get_ex(x, b, &y));
	return y;
}

/* "2026-11-27T10:00:00Z" -> seconds since the epoch. */
static int64_t epoch_of(const char *rfc3339)
{
	assert_non_null(rfc3339);
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	assert_non_null(strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ", &tm));
	return (int64_t)timegm(&tm);
}

/* The clock object named `clock` in SHOW's ticket. */
static json_object *clock_of(json_object *ticket, const char *clock)
{
	json_object *clocks = jpath(ticket, "clocks", NULL);
	for (size_t i = 0; i < json_object_array_length(clocks); i++) {
		json_object *c = json_object_array_get_idx(clocks, i);
		if (strcmp(jstr(c, "clock"), clock) == 0)
			return c;
	}
	fail_msg("no clock %s", clock);
	return NULL;
}

/* Window of a clock as SHOW tells it: due_at - started_at (no pauses). */
static int64_t window_of(json_object *ticket, const char *clock)
{
	json_object *c = clock_of(ticket, clock);
	return epoch_of(jstr(c, "due_at")) - epoch_of(jstr(c, "started_at"));
}

static int64_t report(struct slac_client *c, const char *rid, const char *fields)
{
	char body[2048];
	snprintf(
	    body, sizeof(body),
	    "{\"request_id\":\"%s\",\"contact_name\":\"Li Wei\",\"contact_phone\":\"13800000000\","
	    "%s}",
	    rid, fields);
	json_object *ans = h_ok(c, "REPORT", body);
	int64_t id = jint(ans, "ticket_id");
	json_object_put(ans);
	return id;
}

/* SHOW's ticket object (a new reference). */
static json_object *show(int64_t id)
{
	char body[64];
	snprintf(body, sizeof(body), "{\"ticket_id\":%lld}", (long long)id);
	json_object *ans = h_ok(engineer, "SHOW", body);
	json_object *t = json_object_get(jpath(ans, "ticket", NULL));
	json_object_put(ans);
	return t;
}

static json_object *change(const char *verb, int64_t id, const char *more)
{
	char body[1024];
	snprintf(body, sizeof(body), "{\"ticket_id\":%lld%s%s}", (long long)id, more ? "," : "",
	         more ? more : "");
	return h_ok(engineer, verb, body);
}

static void connect_all(void)
{
	hotline = h_must_connect("hotline");
	engineer = h_must_connect("engineer");
	admin = h_must_connect("admin");
	monitor = h_must_connect("monitor");
}

static void disconnect_all(void)
{
	slac_client_free(hotline);
	slac_client_free(engineer);
	slac_client_free(admin);
	slac_client_free(monitor);
}

static int setup(void **state)
{
	(void)state;
	h_init();
	h_slad_start(NULL, NULL);
	connect_all();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	disconnect_all();
	h_slad_stop(SIGTERM);
	return 0;
}

/* Report, show, restart slad, show again: the ticket and its history are
 * there (acknowledged means committed). */
static void report_survives_restart(void **state)
{
	(void)state;
	int64_t id = report(hotline, h_request_id(),
	                    "\"customer_id\":1,\"symptoms\":\"HIS 系统宕机, all wards down\"");
	json_object *before = show(id);
	assert_int_equal(jint(before, "level"), 1);
	assert_string_equal(jstr(before, "state"), "reported");
	assert_string_equal(jstr(before, "classified_by"), "keyword:宕机");
	assert_int_equal(json_object_array_length(jpath(before, "history", NULL)), 1);
	/* S4 default policy, level 1: response within 30 minutes. */
	assert_int_equal(window_of(before, "response"), 1800);
	assert_string_equal(jstr(clock_of(before, "response"), "state"), "running");
	assert_string_equal(jstr(clock_of(before, "onsite"), "state"), "not_running");

	disconnect_all();
	int status = h_slad_stop(SIGTERM);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	h_slad_start(NULL, NULL);
	connect_all();

	json_object *after = show(id);
	assert_string_equal(jstr(after, "symptoms"), jstr(before, "symptoms"));
	assert_string_equal(jstr(clock_of(after, "response"), "due_at"),
	                    jstr(clock_of(before, "response"), "due_at"));
	assert_int_equal(json_object_array_length(jpath(after, "history", NULL)), 1);
	json_object_put(before);
	json_object_put(after);
}

/* The same request_id and body: the original answer, no second ticket.  The
 * same id with another body: IDEMPOTENCY_MISMATCH, nothing written. */
static void replays(void **state)
{
	(void)state;
	char rid[64];
	snprintf(rid, sizeof(rid), "%s", h_request_id());
	const char *fields = "\"customer_id\":1,\"symptoms\":\"printer slow\"";
	int64_t first = report(hotline, rid, fields);
	int64_t tickets = h_sql_int("SELECT count(*) FROM tickets");
	char body[512];
	snprintf(
	    body, sizeof(body),
	    "{\"request_id\":\"%s\",\"contact_name\":\"Li Wei\",\"contact_phone\":\"13800000000\","
	    "%s}",
	    rid, fields);
	json_object *again = h_ok(hotline, "REPORT", body);
	assert_int_equal(jint(again, "ticket_id"), first);
	assert_true(json_object_get_boolean(jpath(again, "replay", NULL)));
	json_object_put(again);
	snprintf(
	    body, sizeof(body),
	    "{\"request_id\":\"%s\",\"contact_name\":\"Li Wei\",\"contact_phone\":\"13800000000\","
	    "\"customer_id\":1,\"symptoms\":\"something else\"}",
	    rid);
	h_err(hotline, "REPORT", body, "IDEMPOTENCY_MISMATCH");
	assert_int_equal(h_sql_int("SELECT count(*) FROM tickets"), tickets);
	/* Request ids are per principal: the engineer may use the same one. */
	int64_t other = report(engineer, rid, fields);
	assert_int_not_equal(other, first);
}

/* S3: a caller not yet in the archive becomes a provisional customer that
 * the hotline then finds by phone; a second call reuses it. */
static void provisional_customer(void **state)
{
	(void)state;
	const char *fields = "\"customer_name\":\"Green Valley Clinic\","
	                     "\"customer_phone\":\"+86-10-6666-1234\",\"symptoms\":\"X-ray viewer "
	                     "intermittent\"";
	char body[1024];
	snprintf(
	    body, sizeof(body),
	    "{\"request_id\":\"%s\",\"contact_name\":\"Dr Zhao\",\"contact_phone\":\"139\",%s}",
	    h_request_id(), fields);
	json_object *a = h_ok(hotline, "REPORT", body);
	assert_true(json_object_get_boolean(jpath(a, "provisional_customer", NULL)));
	assert_int_equal(jint(a, "level"), 4); /* "intermittent" (S1) */
	int64_t customer = jint(a, "customer_id");
	json_object_put(a);

	json_object *found = h_ok(hotline, "FIND_CUSTOMER", "{\"phone\":\"+86 10 6666 1234\"}");
	json_object *list = jpath(found, "customers", NULL);
	assert_int_equal(json_object_array_length(list), 1);
	assert_int_equal(jint(json_object_array_get_idx(list, 0), "customer_id"), customer);
	json_object_put(found);

	snprintf(
	    body, sizeof(body),
	    "{\"request_id\":\"%s\",\"contact_name\":\"Dr Zhao\",\"contact_phone\":\"139\",%s}",
	    h_request_id(), fields);
	json_object *b = h_ok(hotline, "REPORT", body);
	assert_int_equal(jint(b, "customer_id"), customer);
	assert_false(json_object_get_boolean(jpath(b, "provisional_customer", NULL)));
	json_object_put(b);
	h_err(hotline, "REPORT",
	      "{\"request_id\":\"x-no-customer\",\"contact_name\":\"a\",\"contact_phone\":\"1\","
	      "\"symptoms\":\"s\"}",
	      "MISSING_FIELD");
	h_err(hotline, "REPORT",
	      "{\"request_id\":\"x-both\",\"contact_name\":\"a\",\"contact_phone\":\"1\","
	      "\"symptoms\":\"s\",\"customer_id\":1,\"customer_name\":\"b\"}",
	      "INVALID_FIELD");
	h_err(hotline, "REPORT",
	      "{\"request_id\":\"x-bad-customer\",\"contact_name\":\"a\",\"contact_phone\":\"1\","
	      "\"symptoms\":\"s\",\"customer_id\":999999}",
	      "NOT_FOUND");
}

/* S5, S15: the whole life of a fault, each step an event in the history. */
static void lifecycle(void **state)
{
	(void)state;
	int64_t id = report(hotline, h_request_id(),
	                    "\"customer_id\":1,\"symptoms\":\"CT scanner degraded, slow images\"");
	json_object *r = NULL;
	/* Arriving before a dispatch is refused, and changes nothing. */
	{
		char body[64];
		snprintf(body, sizeof(body), "{\"ticket_id\":%lld}", (long long)id);
		h_err(engineer, "ARRIVE", body, "INVALID_TRANSITION");
	}
	r = change("ACKNOWLEDGE", id, NULL);
	assert_string_equal(jstr(r, "state"), "acknowledged");
	assert_true(json_object_get_boolean(jpath(r, "response_met", NULL)));
	char first_ack[32];
	snprintf(first_ack, sizeof(first_ack), "%s", jstr(r, "acknowledged_at"));
	json_object_put(r);
	/* A second acknowledgement changes nothing and answers the first. */
	r = change("ACKNOWLEDGE", id, NULL);
	assert_string_equal(jstr(r, "acknowledged_at"), first_ack);
	json_object_put(r);
	h_err(engineer, "DISPATCH",
	      "{\"ticket_id\":1,\"remote_outcome\":\"bored\",\"agreed_by\":\"x\"}",
	      "INVALID_FIELD");
	r = change("DISPATCH", id, "\"remote_outcome\":\"failed\",\"agreed_by\":\"Dr Wu\"");
	assert_string_equal(jstr(r, "state"), "onsite_dispatched");
	assert_string_equal(jstr(r, "engineer"), "engineer");
	assert_non_null(jstr(r, "onsite_due_at"));
	json_object_put(r);
	r = change("ARRIVE", id, NULL);
	assert_true(json_object_get_boolean(jpath(r, "onsite_met", NULL)));
	json_object_put(r);
	r = change("RESTORE", id, "\"cause\":\"software_quality\"");
	assert_string_equal(jstr(r, "state"), "restored");
	assert_true(json_object_get_boolean(jpath(r, "restore_met", NULL)));
	json_object_put(r);
	r = change("CLOSE", id, NULL);
	assert_string_equal(jstr(r, "state"), "closed");
	json_object_put(r);
	r = change("REOPEN", id, "\"reason\":\"fault is back\"");
	assert_string_equal(jstr(r, "state"), "reported");
	assert_int_equal(jint(r, "cycle"), 2);
	assert_non_null(jstr(jpath(r, "due", NULL), "response"));
	json_object_put(r);

	json_object *s = show(id);
	json_object *hist = jpath(s, "history", NULL);
	static const char *const kinds[] = {"reported", "acknowledged", "dispatched", "arrived",
	                                    "restored", "closed",       "reopened"};
	assert_int_equal(json_object_array_length(hist), 7);
	for (size_t i = 0; i < 7; i++)
		assert_string_equal(jstr(json_object_array_get_idx(hist, i), "kind"), kinds[i]);
	assert_string_equal(jstr(s, "cause"), "software_quality");
	json_object_put(s);
	assert_int_equal(
	    h_sql_int("SELECT count(*) FROM ticket_events WHERE ticket_id = "
	              "(SELECT max(id) FROM tickets WHERE symptoms LIKE 'CT scanner%')"),
	    7);
}

/* S3: the clocks run from when the customer asked (requested_at), which
 * the hotline may give; reported_at and the history's reported event stay
 * when slad recorded it.  A future requested_at is now. */
static void requested_at_starts_the_clocks(void **state)
{
	(void)state;
	time_t asked = time(NULL) - 3600;
	char when[32], fields[256];
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&asked));
	snprintf(fields, sizeof(fields),
	         "\"customer_id\":1,\"level\":1,\"symptoms\":\"lab system down since the night "
	         "shift\",\"requested_at\":\"%s\"",
	         when);
	int64_t id = report(hotline, h_request_id(), fields);
	json_object *s = show(id);
	json_object *response = clock_of(s, "response");
	assert_string_equal(jstr(response, "started_at"), when);
	assert_int_equal(epoch_of(jstr(response, "due_at")), (int64_t)asked + 30 * 60);
	assert_string_equal(jstr(s, "requested_at"), when);
	assert_true(epoch_of(jstr(s, "reported_at")) >= (int64_t)asked + 3600);
	assert_string_equal(jstr(json_object_array_get_idx(jpath(s, "history", NULL), 0), "at"),
	                    jstr(s, "reported_at"));
	json_object_put(s);
	/* Half an hour after the request has long passed: late. */
	json_object *r = change("ACKNOWLEDGE", id, NULL);
	assert_false(json_object_get_boolean(jpath(r, "response_met", NULL)));
	json_object_put(r);

	time_t later = time(NULL) + 3600;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&later));
	snprintf(fields, sizeof(fields),
	         "\"customer_id\":1,\"level\":1,\"symptoms\":\"printer queue stuck\","
	         "\"requested_at\":\"%s\"",
	         when);
	id = report(hotline, h_request_id(), fields);
	s = show(id);
	assert_string_equal(jstr(clock_of(s, "response"), "started_at"), jstr(s, "reported_at"));
	json_object_put(s);
}

/* Pause and resume keep the history; a paused ticket refuses progress until
 * resumed (S5); reclassification 3 -> 1 recomputes from the report time. */
static void pause_and_reclassify(void **state)
{
	(void)state;
	int64_t id = report(hotline, h_request_id(),
	                    "\"customer_id\":1,\"symptoms\":\"report module slow\",\"level\":3");
	json_object *r = change("PAUSE", id, "\"reason\":\"waiting for the customer's logs\"");
	assert_true(json_object_get_boolean(jpath(r, "paused", NULL)));
	assert_non_null(jstr(r, "paused_at"));
	json_object_put(r);
	json_object *paused = show(id);
	assert_string_equal(jstr(clock_of(paused, "response"), "state"), "paused");
	json_object_put(paused);
	char body[128];
	snprintf(body, sizeof(body), "{\"ticket_id\":%lld,\"reason\":\"again\"}", (long long)id);
	h_err(engineer, "PAUSE", body, "CONFLICT");
	snprintf(body, sizeof(body), "{\"ticket_id\":%lld}", (long long)id);
	h_err(engineer, "ACKNOWLEDGE", body, "INVALID_TRANSITION");
	r = change("RESUME", id, "\"reason\":\"logs received\"");
	assert_false(json_object_get_boolean(jpath(r, "paused", NULL)));
	json_object_put(r);

	json_object *s = show(id);
	int64_t reported = epoch_of(jstr(s, "reported_at"));
	int64_t due3 = epoch_of(jstr(clock_of(s, "response"), "due_at"));
	/* Level 3: 8 hours, shifted by the (whole-second) pause. */
	assert_in_range(due3 - reported, 8 * 3600, 8 * 3600 + 5);
	json_object_put(s);

	r = change("RECLASSIFY", id, "\"level\":1,\"reason\":\"whole ward affected\"");
	assert_int_equal(jint(r, "level"), 1);
	/* From the original report time under the new level: 30 minutes. */
	assert_int_equal(epoch_of(jstr(jpath(r, "due", NULL), "response")) - reported,
	                 due3 - reported - 8 * 3600 + 1800);
	json_object_put(r);
	snprintf(body, sizeof(body), "{\"ticket_id\":%lld,\"level\":7,\"reason\":\"x\"}",
	         (long long)id);
	h_err(engineer, "RECLASSIFY", body, "INVALID_FIELD");
}

/* Monitoring: one ticket per dedup key; an identical repeat changes nothing
 * (counters included); a new start time is a new occurrence; resolve
 * records the end of the outage and stops the clocks. */
static void alerts(void **state)
{
	(void)state;
#define trigger                                                                                    \
	"{\"request_id\":\"%s\",\"action\":\"trigger\",\"dedup_key\":\"fp-42\",\"customer_id\":1," \
	"\"severity\":\"%s\",\"summary\":\"PACS unreachable\",\"starts_at\":\"%s\"}"
	char body[512];
	snprintf(body, sizeof(body), trigger, h_request_id(), "critical", "2026-11-27T02:00:00Z");
	json_object *a = h_ok(monitor, "ALERT", body);
	int64_t id = jint(a, "ticket_id");
	assert_int_equal(jint(a, "level"), 1);
	assert_string_equal(jstr(a, "effect"), "created");
	assert_int_equal(jint(a, "occurrence"), 1);
	json_object_put(a);
	int64_t events = h_sql_int("SELECT count(*) FROM ticket_events");

	snprintf(body, sizeof(body), trigger, h_request_id(), "critical", "2026-11-27T02:00:00Z");
	a = h_ok(monitor, "ALERT", body);
	assert_int_equal(jint(a, "ticket_id"), id);
	assert_string_equal(jstr(a, "effect"), "unchanged");
	assert_int_equal(jint(a, "occurrence"), 1);
	json_object_put(a);
	assert_int_equal(h_sql_int("SELECT count(*) FROM ticket_events"), events);
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT occurrences FROM tickets WHERE id = %lld",
	         (long long)id);
	assert_int_equal(h_sql_int(sql), 1);

	snprintf(body, sizeof(body), trigger, h_request_id(), "critical", "2026-11-27T02:30:00Z");
	a = h_ok(monitor, "ALERT", body);
	assert_int_equal(jint(a, "ticket_id"), id);
	assert_string_equal(jstr(a, "effect"), "new_occurrence");
	assert_int_equal(jint(a, "occurrence"), 2);
	json_object_put(a);
	assert_int_equal(h_sql_int(sql), 2);

	snprintf(body, sizeof(body),
	         "{\"request_id\":\"%s\",\"action\":\"resolve\",\"dedup_key\":\"fp-42\","
	         "\"customer_id\":1,\"ends_at\":\"2026-11-27T03:00:00Z\"}",
	         h_request_id());
	a = h_ok(monitor, "ALERT", body);
	assert_string_equal(jstr(a, "state"), "restored");
	assert_string_equal(jstr(a, "effect"), "resolved");
	json_object_put(a);
	snprintf(sql, sizeof(sql),
	         "SELECT extract(epoch FROM outage_ended_at - outage_started_at)::bigint"
	         " FROM tickets WHERE id = %lld",
	         (long long)id);
	assert_int_equal(h_sql_int(sql), 3600); /* 02:00 to 03:00 (S9) */
	snprintf(body, sizeof(body),
	         "{\"request_id\":\"%s\",\"action\":\"resolve\",\"dedup_key\":\"fp-42\","
	         "\"customer_id\":1}",
	         h_request_id());
	a = h_ok(monitor, "ALERT", body);
	assert_string_equal(jstr(a, "effect"), "unchanged");
	assert_int_equal(jint(a, "ticket_id"), id);
	json_object_put(a);
	h_err(monitor, "ALERT",
	      "{\"request_id\":\"m-unknown\",\"action\":\"resolve\",\"dedup_key\":\"never\","
	      "\"customer_id\":1}",
	      "NOT_FOUND");
	h_err(monitor, "ALERT",
	      "{\"request_id\":\"m-bad\",\"action\":\"explode\",\"dedup_key\":\"k\"}",
	      "INVALID_FIELD");
	h_err(monitor, "ALERT",
	      "{\"request_id\":\"m-nosev\",\"action\":\"trigger\",\"dedup_key\":\"k\","
	      "\"customer_id\":1,\"starts_at\":\"2026-11-27T02:00:00Z\"}",
	      "MISSING_FIELD");
#undef trigger
}

/* LIST filters; NOTE is a creating verb with replay rules. */
static void list_and_notes(void **state)
{
	(void)state;
	int64_t id = report(hotline, h_request_id(),
	                    "\"customer_id\":1,\"symptoms\":\"badge reader fails\",\"level\":2");
	json_object *l = h_ok(engineer, "LIST", "{\"level\":2,\"state\":\"reported\"}");
	json_object *tickets = jpath(l, "tickets", NULL);
	bool seen = false;
	for (size_t i = 0; i < json_object_array_length(tickets); i++) {
		json_object *t = json_object_array_get_idx(tickets, i);
		assert_int_equal(jint(t, "level"), 2);
		assert_string_equal(jstr(t, "state"), "reported");
		seen |= jint(t, "ticket_id") == id;
	}
	assert_true(seen);
	json_object_put(l);

	char body[256];
	snprintf(body, sizeof(body),
	         "{\"request_id\":\"note-%lld\",\"ticket_id\":%lld,\"text\":\"customer called "
	         "back\"}",
	         (long long)id, (long long)id);
	json_object *n1 = h_ok(hotline, "NOTE", body);
	json_object *n2 = h_ok(hotline, "NOTE", body);
	assert_true(json_object_get_boolean(jpath(n2, "replay", NULL)));
	json_object_put(n1);
	json_object_put(n2);
	char sql[128];
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM ticket_events WHERE ticket_id = %lld AND kind = 'note'",
	         (long long)id);
	assert_int_equal(h_sql_int(sql), 1);
}

/* Policies and rules live in PostgreSQL, versioned, in force at once. */
static void policies_and_rules(void **state)
{
	(void)state;
	json_object *cur = h_ok(admin, "POLICY_SHOW", "{}");
	int64_t version = jint(cur, "version");
	json_object *doc = json_object_get(jpath(cur, "policy", NULL));
	json_object_put(cur);
	/* Tighten level-1 response to 20 minutes. */
	json_object *resp =
	    jpath(jpath(jpath(doc, "types", "fault"), "clocks", NULL), "response", NULL);
	json_object_object_add(resp, "1", json_object_new_string("20m"));
	json_object *set = json_object_new_object();
	json_object_object_add(set, "name", json_object_new_string("default"));
	json_object_object_add(set, "policy", doc);
	struct slac_answer ans;
	assert_int_equal(slac_call(admin, "POLICY_SET", set, &ans, 10000), SLAC_OK);
	assert_int_equal(jint(ans.body, "version"), version + 1);
	slac_answer_clear(&ans);
	/* A 30-hour fault window breaks S4: refused, with the path named. */
	json_object_object_add(resp, "1", json_object_new_string("30h"));
	assert_int_equal(slac_call(admin, "POLICY_SET", set, &ans, 10000), SLAC_ERR_SERVER);
	assert_int_equal(ans.err.code, PROTO_ERR_INVALID_FIELD);
	assert_non_null(strstr(ans.err.message, "fault"));
	slac_answer_clear(&ans);
	json_object_put(set);

	int64_t id =
	    report(hotline, h_request_id(), "\"customer_id\":1,\"symptoms\":\"network outage\"");
	json_object *s = show(id);
	assert_int_equal(window_of(s, "response"), 1200);
	json_object_put(s);

	json_object_put(h_ok(admin, "RULES_SET",
	                     "{\"rules\":[{\"kind\":\"keyword\",\"pattern\":\"冒烟\",\"level\":1},"
	                     "{\"kind\":\"monitor\",\"pattern\":\"critical\",\"level\":1}]}"));
	json_object *a =
	    h_ok(hotline, "REPORT",
	         "{\"request_id\":\"rules-1\",\"contact_name\":\"a\",\"contact_phone\":"
	         "\"1\",\"customer_id\":1,\"symptoms\":\"电源冒烟\"}");
	assert_int_equal(jint(a, "level"), 1);
	json_object_put(a);
	h_err(admin, "RULES_SET",
	      "{\"rules\":[{\"kind\":\"keyword\",\"pattern\":\"\",\"level\":1}]}", "INVALID_FIELD");
}

/* Principals are maintained by the administrator; roles come from the
 * database, never from the request. */
static void principals(void **state)
{
	(void)state;
	char body[256];
	snprintf(body, sizeof(body),
	         "{\"request_id\":\"%s\",\"name\":\"zhang.san\",\"role\":\"engineer\","
	         "\"team\":\"north\",\"tier\":\"team_lead\"}",
	         h_request_id());
	json_object *a = h_ok(admin, "PRINCIPAL_ADD", body);
	assert_string_equal(jstr(a, "role"), "engineer");
	json_object_put(a);
	json_object *b = h_ok(admin, "PRINCIPAL_ADD", body);
	assert_true(json_object_get_boolean(jpath(b, "replay", NULL)));
	json_object_put(b);
	snprintf(body, sizeof(body),
	         "{\"request_id\":\"%s\",\"name\":\"zhang.san\",\"role\":\"engineer\"}",
	         h_request_id());
	h_err(admin, "PRINCIPAL_ADD", body, "CONFLICT");
	json_object *u =
	    h_ok(admin, "PRINCIPAL_UPDATE", "{\"name\":\"zhang.san\",\"team\":\"south\"}");
	assert_string_equal(jstr(u, "team"), "south");
	json_object_put(u);
	h_err(admin, "PRINCIPAL_UPDATE", "{\"name\":\"nobody\",\"team\":\"south\"}", "NOT_FOUND");
	h_err(admin, "PRINCIPAL_UPDATE", "{\"name\":\"zhang.san\",\"role\":\"root\"}",
	      "INVALID_FIELD");
}

/* While PostgreSQL is unreachable, writes are answered UNAVAILABLE -- never
 * OK, never a crash -- and slad reconnects by itself. */
static void database_outage(void **state)
{
	(void)state;
	int64_t before = h_sql_int("SELECT count(*) FROM tickets");
	h_pg_stop("immediate");
	const char *body = "{\"request_id\":\"outage-1\",\"contact_name\":\"a\",\"contact_phone\":"
	                   "\"1\",\"customer_id\":1,\"symptoms\":\"down\"}";
	struct slac_answer ans;
	enum slac_status st = h_call(hotline, "REPORT", body, &ans);
	assert_int_equal(st, SLAC_ERR_SERVER);
	assert_int_equal(ans.err.code, PROTO_ERR_UNAVAILABLE);
	slac_answer_clear(&ans);
	h_pg_start();
	/* Back-off is 50..500 ms in the test configuration; poll, bounded. */
	for (int i = 0; i < 200; i++) {
		st = h_call(hotline, "REPORT", body, &ans);
		if (st == SLAC_OK)
			break;
		assert_int_equal(ans.err.code, PROTO_ERR_UNAVAILABLE);
		slac_answer_clear(&ans);
		struct timespec ts = {0, 50 * 1000000L};
		nanosleep(&ts, NULL);
	}
	assert_int_equal(st, SLAC_OK);
	slac_answer_clear(&ans);
	assert_int_equal(h_sql_int("SELECT count(*) FROM tickets"), before + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(report_survives_restart),
	    cmocka_unit_test(replays),
	    cmocka_unit_test(provisional_customer),
	    cmocka_unit_test(lifecycle),
	    cmocka_unit_test(requested_at_starts_the_clocks),
	    cmocka_unit_test(pause_and_reclassify),
	    cmocka_unit_test(alerts),
	    cmocka_unit_test(list_and_notes),
	    cmocka_unit_test(policies_and_rules),
	    cmocka_unit_test(principals),
	    cmocka_unit_test(database_outage),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
