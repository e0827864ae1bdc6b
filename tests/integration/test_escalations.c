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
#include "pushes.h"

/* 2026-11-28T10:00:00Z: after the test certificates' notBefore. */
#define T0   ((int64_t)1795860000)
#define HOUR 3600
#define CONF "sched_cap_ms = 100\nsched_late_s = 5"

/* What the deliveries were, printed when a count is wrong. */
#define DUMP_SQL                                                                                   \
	"SELECT p.name, d.seq, d.body->>'clock', d.body->>'step',"                                 \
	" d.receipted_at IS NOT NULL FROM deliveries d"                                            \
	" JOIN principals p ON p.id = d.principal_id ORDER BY 1, 2"

static void subscribe(struct push_watcher *w, const char *who)
{
	pushes_subscribe(w, who, 0, PUSHES_STEP_KEYS);
}

/* Wait (bounded) until the inbox holds `want` pushes; then watch a little
 * longer so that an extra, unwanted push would be seen too. */
static void expect_pushes(struct push_watcher *w, int want)
{
	pushes_expect(w, want, 100, DUMP_SQL);
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

static int setup(void **state)
{
	(void)state;
	h_init();
	h_set_time(T0);
	h_slad_start(CONF, h_fake_time_env());
	pushes_put_on_duty("engineer");
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
	struct push_watcher w;
	subscribe(&w, "engineer");
	int64_t id = pushes_report_level(hotline, 4, "weekly report job slow");

	h_set_time(T0 + 12 * HOUR - 1);
	expect_pushes(&w, 0);
	h_set_time(T0 + 12 * HOUR); /* 50 % of both 24 h clocks */
	expect_pushes(&w, 2);
	assert_string_equal(w.in.keys[0], "response warning engineer");
	assert_string_equal(w.in.keys[1], "restore warning engineer");
	h_set_time(T0 + 21 * HOUR + 36 * 60); /* 75 % and 90 % both due */
	expect_pushes(&w, 6);

	h_set_time(T0 + 24 * HOUR - 1);
	expect_pushes(&w, 6); /* the boundary: nothing at 23:59:59 */
	h_set_time(T0 + 24 * HOUR);
	expect_pushes(&w, 8);
	assert_string_equal(w.in.keys[6], "response breach engineer");
	assert_string_equal(w.in.keys[7], "restore breach engineer");

	/* Receipted by the client library: they stop nothing. */
	char sql[256];
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM deliveries d JOIN escalations e ON e.id = d.escalation_id"
	         " WHERE e.ticket_id = %lld AND d.receipted_at IS NOT NULL",
	         (long long)id);
	for (int i = 0; i < 100 && h_sql_int(sql) < 8; i++)
		pushes_pump_one(&w, 20);
	assert_int_equal(h_sql_int(sql), 8);

	/* A person takes the ticket: the response ladder stops. */
	struct slac_client *eng = h_must_connect("engineer");
	char body[64];
	snprintf(body, sizeof(body), "{\"ticket_id\":%lld}", (long long)id);
	json_object_put(h_ok(eng, "ACKNOWLEDGE", body));
	/* +30 min after the breach: team lead step -- for restore only. The
	 * team lead is engineer3 (tier team_lead, team north), not the
	 * engineer: the engineer's inbox stays as it is. */
	struct push_watcher lead;
	subscribe(&lead, "engineer3");
	h_set_time(T0 + 24 * HOUR + 30 * 60);
	expect_pushes(&lead, 1);
	assert_string_equal(lead.in.keys[0], "restore escalation team_lead");
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
	struct push_watcher w;
	subscribe(&w, "engineer");
	int64_t id = pushes_report_level(hotline, 3, "label printer misfeeds"); /* response 8 h */
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
	assert_string_equal(w.in.keys[0], "response warning engineer");

	/* 3 -> 1 at running time 4 h: the 30 min response deadline is long
	 * past, so its breach fires now (late) and its warnings, due before
	 * the new level took effect, are skipped; the new 8 h restore window
	 * is exactly half used, so its 50 % warning is due now as well. */
	snprintf(body, sizeof(body), "{\"ticket_id\":%lld,\"level\":1,\"reason\":\"ward down\"}",
	         (long long)id);
	json_object_put(h_ok(eng, "RECLASSIFY", body));
	expect_pushes(&w, 3);
	assert_string_equal(w.in.keys[1], "response breach engineer late");
	assert_string_equal(w.in.keys[2], "restore warning engineer");
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
	int64_t id = pushes_report_level(hotline, 1, "HIS outage"); /* response 30 min */
	slac_client_free(hotline);
	assert_int_equal(h_slad_stop(SIGTERM), 0);
	/* 15, 22.5 and 27 min: the three response warnings come due. */
	h_set_time(t + 28 * 60);
	h_slad_start(CONF, h_fake_time_env());
	struct push_watcher w;
	subscribe(&w, "engineer");
	expect_pushes(&w, 3);
	assert_string_equal(w.in.keys[0], "response warning engineer late");
	assert_string_equal(w.in.keys[1], "response warning engineer late");
	assert_string_equal(w.in.keys[2], "response warning engineer late");
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
	struct push_watcher w;
	subscribe(&w, "engineer");
	int64_t id = pushes_report_level(hotline, 2, "backup job failing"); /* response 2 h */
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
	int64_t id = pushes_report_level(hotline, 1, "core switch down");
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
