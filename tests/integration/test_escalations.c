/*
 * test_escalations.c - SLA clocks that fire on time and escalations that
 * reach a person exactly once (issue: escalations; DESIGN.md "Time",
 * "Delivery").  slad's wall clock is moved with libfaketime, frozen at the
 * instants the tests choose; the scheduler's timer cap is 100 ms of real
 * (monotonic) time, so a moved clock is seen within it.  "Nothing fires"
 * is checked by watching for several caps, never by sleeping to move time.
 */
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "harness.h"

/* 2026-11-28T10:00:00Z: after the test certificates' notBefore. */
#define T0   ((int64_t)1795860000)
#define HOUR 3600
#define CONF "sched_cap_ms = 100\nsched_late_s = 5"

struct inbox {
	int count;
	char steps[256][96]; /* "clock step tier late" per push, in arrival order */
	uint64_t seqs[256];
	int64_t tickets[256];
};

static void on_push(void *arg, const char *event, uint64_t seq, json_object *body)
{
	struct inbox *in = arg;
	if (strcmp(event, "ESCALATION") != 0 || in->count >= 256)
		return;
	json_object *v;
	const char *clock = "", *step = "", *tier = "";
	bool late = false;
	if (json_object_object_get_ex(body, "clock", &v))
		clock = json_object_get_string(v);
	if (json_object_object_get_ex(body, "step", &v))
		step = json_object_get_string(v);
	if (json_object_object_get_ex(body, "tier", &v))
		tier = json_object_get_string(v);
	if (json_object_object_get_ex(body, "late", &v))
		late = json_object_get_boolean(v);
	if (json_object_object_get_ex(body, "ticket_id", &v))
		in->tickets[in->count] = json_object_get_int64(v);
	snprintf(in->steps[in->count], sizeof(in->steps[0]), "%s %s %s%s", clock, step, tier,
	         late ? " late" : "");
	in->seqs[in->count] = seq;
	in->count++;
}

struct watcher {
	struct slac_client *c;
	struct inbox in;
};

static void pump(struct watcher *w, int ms)
{
	struct pollfd p = {slac_client_fd(w->c), slac_client_events(w->c), 0};
	int n = poll(&p, 1, ms);
	assert_int_equal(slac_client_step(w->c, n > 0 ? p.revents : 0), 0);
}

/* Wait (bounded) until the inbox holds `want` pushes; then watch a little
 * longer so that an extra, unwanted push would be seen too. */
static void expect_pushes(struct watcher *w, int want)
{
	for (int i = 0; i < 100 && w->in.count < want; i++)
		pump(w, 50);
	for (int i = 0; i < 6; i++) /* 300 ms = three scheduler caps */
		pump(w, 50);
	if (w->in.count != want) {
		for (int i = 0; i < w->in.count; i++)
			fprintf(stderr, "  push %llu: %s\n", (unsigned long long)w->in.seqs[i],
			        w->in.steps[i]);
		PGresult *res =
		    PQexec(h_db(), "SELECT p.name, d.seq, d.body->>'clock', d.body->>'step',"
		                   " d.receipted_at IS NOT NULL FROM deliveries d"
		                   " JOIN principals p ON p.id = d.principal_id ORDER BY 1, 2");
		for (int i = 0; i < PQntuples(res); i++)
			fprintf(stderr, "  db: %s %s %s %s %s\n", PQgetvalue(res, i, 0),
			        PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
			        PQgetvalue(res, i, 4));
		PQclear(res);
		fail_msg("expected %d pushes, got %d", want, w->in.count);
	}
}

static void subscribe(struct watcher *w, const char *who)
{
	memset(&w->in, 0, sizeof(w->in));
	w->c = h_must_connect(who);
	slac_session_set_push_cb(slac_client_session(w->c), on_push, &w->in);
	struct slac_answer ans;
	json_object *body = json_object_new_object();
	assert_int_equal(slac_call(w->c, "SUBSCRIBE", body, &ans, 10000), SLAC_OK);
	json_object_put(body);
	slac_answer_clear(&ans);
}

static int64_t report_level(struct slac_client *hotline, int level, const char *what)
{
	char body[512];
	snprintf(body, sizeof(body),
	         "{\"request_id\":\"%s\",\"customer_id\":1,\"contact_name\":\"a\","
	         "\"contact_phone\":\"1\",\"symptoms\":\"%s\",\"level\":%d}",
	         h_request_id(), what, level);
	json_object *a = h_ok(hotline, "REPORT", body);
	json_object *v;
	assert_true(json_object_object_get_ex(a, "ticket_id", &v));
	int64_t id = json_object_get_int64(v);
	json_object_put(a);
	return id;
}

/* End a test's ticket so its later steps do not fire into the next test. */
static void cancel(int64_t id)
{
	struct slac_client *eng = h_must_connect("engineer");
	char body[128];
	snprintf(body, sizeof(body), "{\"ticket_id\":%lld,\"reason\":\"test done\"}",
	         (long long)id);
	struct slac_answer ans;
	json_object *j = json_tokener_parse(body);
	enum slac_status st = slac_call(eng, "CANCEL", j, &ans, 10000);
	json_object_put(j);
	/* Restored tickets cannot be cancelled; close them instead. */
	if (st != SLAC_OK) {
		slac_answer_clear(&ans);
		j = json_tokener_parse(body);
		json_object_object_del(j, "reason");
		json_object_object_add(j, "cause", json_object_new_string("unknown"));
		assert_int_equal(slac_call(eng, "CLOSE", j, &ans, 10000), SLAC_OK);
		json_object_put(j);
	}
	slac_answer_clear(&ans);
	slac_client_free(eng);
}

static void put_on_duty(const char *who)
{
	struct slac_client *admin = h_must_connect("admin");
	char body[512];
	snprintf(body, sizeof(body),
	         "{\"request_id\":\"rota-%s\",\"team\":\"north\",\"principal\":\"%s\","
	         "\"from\":\"2026-11-01T00:00:00Z\",\"to\":\"2027-01-01T00:00:00Z\"}",
	         who, who);
	json_object_put(h_ok(admin, "ROTA_ADD", body));
	slac_client_free(admin);
}

static int setup(void **state)
{
	(void)state;
	h_init();
	h_set_time(T0);
	h_slad_start(CONF, h_fake_time_env());
	put_on_duty("engineer");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	int status = h_slad_stop(SIGTERM);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Level 4: 24 h windows.  Warnings at 50/75/90 %; nothing at 23:59:59,
 * exactly one breach per clock right after 24:00:00; a receipt stops
 * nothing, the ladder climbs to the team lead; ACKNOWLEDGE stops the
 * response clock's ladder but not the restore clock's. */
static void warnings_breach_and_ladder(void **state)
{
	(void)state;
	h_set_time(T0);
	struct slac_client *hotline = h_must_connect("hotline");
	struct watcher w;
	subscribe(&w, "engineer");
	int64_t id = report_level(hotline, 4, "weekly report job slow");

	h_set_time(T0 + 12 * HOUR - 1);
	expect_pushes(&w, 0);
	h_set_time(T0 + 12 * HOUR); /* 50 % of both 24 h clocks */
	expect_pushes(&w, 2);
	assert_string_equal(w.in.steps[0], "response warning engineer");
	assert_string_equal(w.in.steps[1], "restore warning engineer");
	h_set_time(T0 + 21 * HOUR + 36 * 60); /* 75 % and 90 % both due */
	expect_pushes(&w, 6);

	h_set_time(T0 + 24 * HOUR - 1);
	expect_pushes(&w, 6); /* the boundary: nothing at 23:59:59 */
	h_set_time(T0 + 24 * HOUR);
	expect_pushes(&w, 8);
	assert_string_equal(w.in.steps[6], "response breach engineer");
	assert_string_equal(w.in.steps[7], "restore breach engineer");

	/* Receipted by the client library: they stop nothing. */
	char sql[256];
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM deliveries d JOIN escalations e ON e.id = d.escalation_id"
	         " WHERE e.ticket_id = %lld AND d.receipted_at IS NOT NULL",
	         (long long)id);
	for (int i = 0; i < 100 && h_sql_int(sql) < 8; i++)
		pump(&w, 20);
	assert_int_equal(h_sql_int(sql), 8);

	/* A person takes the ticket: the response ladder stops. */
	struct slac_client *eng = h_must_connect("engineer");
	char body[64];
	snprintf(body, sizeof(body), "{\"ticket_id\":%lld}", (long long)id);
	json_object_put(h_ok(eng, "ACKNOWLEDGE", body));
	/* +30 min after the breach: team lead step -- for restore only. The
	 * team lead is engineer3 (tier team_lead, team north), not the
	 * engineer: the engineer's inbox stays as it is. */
	struct watcher lead;
	subscribe(&lead, "engineer3");
	h_set_time(T0 + 24 * HOUR + 30 * 60);
	expect_pushes(&lead, 1);
	assert_string_equal(lead.in.steps[0], "restore escalation team_lead");
	expect_pushes(&w, 8);

	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM escalations WHERE ticket_id = %lld AND clock = 'response'",
	         (long long)id);
	assert_int_equal(h_sql_int(sql), 4); /* 3 warnings + breach, no ladder */
	cancel(id);
	slac_client_free(eng);
	slac_client_free(lead.c);
	slac_client_free(w.c);
	slac_client_free(hotline);
}

/* Pause/resume moves the steps by the paused span; reclassification from
 * 3 to 1 reschedules at once (the breach is already due). */
static void pause_and_reclassify_reschedule(void **state)
{
	(void)state;
	h_set_time(T0 + 10 * 24 * HOUR);
	const int64_t t = T0 + 10 * 24 * HOUR;
	struct slac_client *hotline = h_must_connect("hotline");
	struct slac_client *eng = h_must_connect("engineer");
	struct watcher w;
	subscribe(&w, "engineer");
	int64_t id = report_level(hotline, 3, "label printer misfeeds"); /* response 8 h */
	char body[128];
	h_set_time(t + HOUR);
	snprintf(body, sizeof(body), "{\"ticket_id\":%lld,\"reason\":\"customer away\"}",
	         (long long)id);
	json_object_put(h_ok(eng, "PAUSE", body));
	h_set_time(t + 3 * HOUR);
	json_object_put(h_ok(eng, "RESUME", body));
	/* 50 % of 8 h is 4 h of running time: t + 6 h after a 2 h pause. */
	h_set_time(t + 6 * HOUR - 1);
	expect_pushes(&w, 0);
	h_set_time(t + 6 * HOUR);
	expect_pushes(&w, 1);
	assert_string_equal(w.in.steps[0], "response warning engineer");

	/* 3 -> 1 at running time 4 h: the 30 min response deadline is long
	 * past, so its breach fires now (late) and its warnings, due before
	 * the new level took effect, are skipped; the new 8 h restore window
	 * is exactly half used, so its 50 % warning is due now as well. */
	snprintf(body, sizeof(body), "{\"ticket_id\":%lld,\"level\":1,\"reason\":\"ward down\"}",
	         (long long)id);
	json_object_put(h_ok(eng, "RECLASSIFY", body));
	expect_pushes(&w, 3);
	assert_string_equal(w.in.steps[1], "response breach engineer late");
	assert_string_equal(w.in.steps[2], "restore warning engineer");
	cancel(id);
	slac_client_free(w.c);
	slac_client_free(eng);
	slac_client_free(hotline);
}

/* slad down across three deadlines: each fires once, in order, late. */
static void down_across_deadlines(void **state)
{
	(void)state;
	const int64_t t = T0 + 20 * 24 * HOUR;
	h_set_time(t);
	struct slac_client *hotline = h_must_connect("hotline");
	int64_t id = report_level(hotline, 1, "HIS outage"); /* response 30 min */
	slac_client_free(hotline);
	assert_int_equal(h_slad_stop(SIGTERM), 0);
	/* 15, 22.5 and 27 min: the three response warnings come due. */
	h_set_time(t + 28 * 60);
	h_slad_start(CONF, h_fake_time_env());
	struct watcher w;
	subscribe(&w, "engineer");
	expect_pushes(&w, 3);
	assert_string_equal(w.in.steps[0], "response warning engineer late");
	assert_string_equal(w.in.steps[1], "response warning engineer late");
	assert_string_equal(w.in.steps[2], "response warning engineer late");
	for (int i = 1; i < 3; i++)
		assert_true(w.in.seqs[i] > w.in.seqs[i - 1]);
	char sql[256];
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM escalations WHERE ticket_id = %lld AND late", (long long)id);
	assert_int_equal(h_sql_int(sql), 3);
	cancel(id);
	slac_client_free(w.c);
}

/* Wall-clock steps with the monotonic clock untouched: nothing early,
 * nothing twice, the overdue fire promptly. */
static void wall_clock_steps(void **state)
{
	(void)state;
	const int64_t t = T0 + 30 * 24 * HOUR;
	h_set_time(t);
	struct slac_client *hotline = h_must_connect("hotline");
	struct watcher w;
	subscribe(&w, "engineer");
	int64_t id = report_level(hotline, 2, "backup job failing"); /* response 2 h */
	h_set_time(t + 50 * 60);
	expect_pushes(&w, 0);          /* nothing early: the first warning is at 1 h */
	h_set_time(t + 2 * HOUR + 60); /* a +2 h step: 1 h, 1.5 h, 1.8 h and 2 h are due */
	expect_pushes(&w, 4);
	h_set_time(t + HOUR); /* back by more than an hour */
	expect_pushes(&w, 4); /* nothing twice */
	h_set_time(t + 2 * HOUR + 120);
	expect_pushes(&w, 4);
	cancel(id);
	slac_client_free(w.c);
	slac_client_free(hotline);
}

/* No one on duty at the engineer tier: the step climbs at once, says so,
 * and the escalation is visible as undelivered in SHOW. */
static void nobody_on_duty_climbs(void **state)
{
	(void)state;
	const int64_t t = T0 + 40 * 24 * HOUR;
	h_set_time(t);
	h_sql_exec("UPDATE duty_rota SET to_at = from_at + interval '1 second'");
	struct slac_client *hotline = h_must_connect("hotline");
	int64_t id = report_level(hotline, 1, "core switch down");
	h_set_time(t + 15 * 60);
	char sql[256];
	snprintf(
	    sql, sizeof(sql),
	    "SELECT count(*) FROM escalations WHERE ticket_id = %lld AND reached = 'team_lead'",
	    (long long)id);
	for (int i = 0; i < 100 && h_sql_int(sql) < 1; i++) {
		struct timespec ts = {0, 20 * 1000000L};
		nanosleep(&ts, NULL); /* waiting for slad, not moving time */
	}
	assert_int_equal(h_sql_int(sql), 1);
	struct slac_client *eng = h_must_connect("engineer");
	char body[64];
	snprintf(body, sizeof(body), "{\"ticket_id\":%lld}", (long long)id);
	json_object *ans = h_ok(eng, "SHOW", body);
	json_object *ticket, *v;
	assert_true(json_object_object_get_ex(ans, "ticket", &ticket));
	assert_true(json_object_object_get_ex(ticket, "undelivered", &v));
	assert_true(json_object_get_boolean(v)); /* engineer3 never subscribed */
	json_object_put(ans);
	cancel(id);
	slac_client_free(eng);
	slac_client_free(hotline);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(warnings_breach_and_ladder),
	    cmocka_unit_test(pause_and_reclassify_reschedule),
	    cmocka_unit_test(down_across_deadlines),
	    cmocka_unit_test(wall_clock_steps),
	    cmocka_unit_test(nobody_on_duty_climbs),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
