/*
 * test_tasks.c - follow-up work as clocks of its own (issue: records,
 * "Follow-up work"; S7, S11, S12, S14; 006_tasks.sql).  Tasks are planned
 * and fired by the scheduler with slad's clock, which libfaketime freezes
 * at the instants the tests choose; the timer cap is 100 ms of real time.
 * Waits are bounded polls for an asynchronous effect, never sleeps that
 * move time.
 */
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

#define HOUR ((int64_t)3600)
#define DAY  (24 * HOUR)
#define CONF "sched_cap_ms = 100\nsatisfaction_call_days = 2\ntask_remind_days = 7"

static struct slac_client *admin, *hotline, *engineer, *engineer2;

static int64_t add_customer(const char *name, const char *more)
{
	json_object *a = h_okf(admin, "CUSTOMER_ADD",
	                       "{\"request_id\":\"%s\",\"name\":\"%s\",\"phone\":\"+86 10 %u\","
	                       "\"team\":\"north\",\"region\":\"east\","
	                       "\"tracking_agent\":\"engineer\"%s%s}",
	                       h_request_id(), name, (unsigned)strlen(name) * 7919u,
	                       more ? "," : "", more ? more : "");
	int64_t id = h_jint(a, "customer_id");
	json_object_put(a);
	return id;
}

/* The customer's tasks of `kind` once there are `want` of them (the
 * scheduler plans them after the change that implies them is answered).
 * The answer of TASKS; the caller puts it. */
static json_object *tasks_of(int64_t customer, const char *kind, size_t want)
{
	for (int round = 0; round < 100; round++) {
		json_object *a = h_okf(admin, "TASKS", "{\"customer_id\":%lld,\"kind\":\"%s\"}",
		                       (long long)customer, kind);
		if (json_object_array_length(h_jget(a, "tasks")) == want)
			return a;
		json_object_put(a);
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	fail_msg("customer %lld never had %zu %s tasks", (long long)customer, want, kind);
	return NULL;
}

static json_object *task_at(json_object *answer, size_t i)
{
	return json_object_array_get_idx(h_jget(answer, "tasks"), i);
}

/* Wait until task `id` is at `stage` (1 reminded, 2 lapsed) in the
 * database; the pushes it made are then committed. */
static void wait_stage(int64_t id, int stage)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT stage FROM tasks WHERE id = %lld", (long long)id);
	for (int round = 0; round < 100 && h_sql_int(sql) != stage; round++) {
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	assert_int_equal(h_sql_int(sql), stage);
}

/* The keys of task `id` in the watcher's inbox, joined by '|', after
 * pumping until there are `want` of them and three caps more. */
static const char *pushes_of(struct push_watcher *w, int64_t id, int want)
{
	static char joined[1024];
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "%lld ", (long long)id);
	int have = 0;
	for (int round = 0; round < 100 + 6; round++) {
		have = 0;
		joined[0] = '\0';
		for (int i = 0; i < w->in.count; i++) {
			if (strncmp(w->in.keys[i], prefix, strlen(prefix)) != 0)
				continue;
			have++;
			size_t n = strlen(joined);
			snprintf(joined + n, sizeof(joined) - n, "%s%s", n ? "|" : "",
			         w->in.keys[i] + strlen(prefix));
		}
		if (have > want)
			break;
		if (have == want && round >= 100)
			break;
		if (have == want)
			round = 99; /* three caps more: an extra push would show */
		if (!pushes_try_pump(w, 50))
			pushes_reconnect(w);
	}
	return joined;
}

/* S12: an added customer's incomplete archive is a task for its tracking
 * agent, told at once, due two days later; undone, it lapses to the
 * agent's team lead; completing the archive closes it. */
static void archive_reminder_lapse_and_completion(void **state)
{
	(void)state;
	int64_t t0 = h_utc(2027, 1, 4, 2, 0);
	h_set_time(t0);
	struct push_watcher owner, lead;
	pushes_subscribe(&owner, "engineer", 0, PUSHES_TASKS | PUSHES_DRAIN);
	pushes_subscribe(&lead, "engineer3", 0, PUSHES_TASKS | PUSHES_DRAIN);
	int64_t cust = add_customer("Archive Works", NULL);

	json_object *a = tasks_of(cust, "archive", 1);
	json_object *tk = task_at(a, 0);
	int64_t id = h_jint(tk, "task_id");
	assert_string_equal(h_jstr(tk, "status"), "open");
	assert_string_equal(h_jstr(tk, "owner"), "engineer");
	assert_string_equal(h_jstr(tk, "remind_at"), "2027-01-04T02:00:00Z");
	assert_string_equal(h_jstr(tk, "due_at"), "2027-01-06T02:00:00Z");
	assert_non_null(strstr(h_jstr(tk, "summary"), "missing: address"));
	json_object_put(a);
	assert_string_equal(pushes_of(&owner, id, 1), "archive reminder");
	assert_string_equal(pushes_of(&lead, id, 0), "");

	/* It closes itself; nobody ticks it off by hand. */
	h_errf(engineer, "TASK_DONE", "INVALID_TRANSITION", "{\"task_id\":%lld}", (long long)id);

	h_set_time(t0 + 2 * DAY - 1);
	assert_string_equal(pushes_of(&owner, id, 1), "archive reminder");
	assert_string_equal(pushes_of(&lead, id, 0), "");
	h_set_time(t0 + 2 * DAY);
	assert_string_equal(pushes_of(&owner, id, 2), "archive reminder|archive lapse");
	assert_string_equal(pushes_of(&lead, id, 1), "archive lapse");
	wait_stage(id, 2);
	a = tasks_of(cust, "archive", 1);
	tk = task_at(a, 0);
	assert_string_equal(h_jstr(tk, "status"), "lapsed");
	assert_string_equal(h_jstr(tk, "lapsed_at"), "2027-01-06T02:00:00Z");
	json_object *pushes = h_jget(tk, "pushes");
	assert_int_equal(json_object_array_length(pushes), 2);
	assert_string_equal(h_jstr(json_object_array_get_idx(pushes, 0), "reached"), "owner");
	json_object *lapse = json_object_array_get_idx(pushes, 1);
	assert_string_equal(h_jstr(lapse, "stage"), "lapse");
	assert_string_equal(h_jstr(lapse, "reached"), "team_lead");
	assert_string_equal(json_object_to_json_string(h_jget(lapse, "to")),
	                    "[ \"engineer\", \"engineer3\" ]");
	json_object_put(a);

	/* Completed late, it is done all the same. */
	h_set_time(t0 + 3 * DAY);
	json_object_put(h_okf(admin, "CUSTOMER_UPDATE",
	                      "{\"customer_id\":%lld,\"address\":\"9 Mill Lane\","
	                      "\"maintenance_cycle_months\":6,"
	                      "\"next_maintenance_date\":\"2027-06-01\","
	                      "\"wanted_service\":\"inspections\"}",
	                      (long long)cust));
	json_object_put(h_okf(admin, "EQUIPMENT_ADD",
	                      "{\"request_id\":\"%s\",\"equipment_no\":\"AW-1\","
	                      "\"customer_id\":%lld,\"model\":\"Pump\"}",
	                      h_request_id(), (long long)cust));
	a = tasks_of(cust, "archive", 1);
	assert_string_equal(h_jstr(task_at(a, 0), "status"), "done");
	assert_string_equal(h_jstr(task_at(a, 0), "done_at"), "2027-01-07T02:00:00Z");
	json_object_put(a);
	/* The maintenance cycle it now has plans the next visit (S14). */
	a = tasks_of(cust, "maintenance", 1);
	assert_string_equal(h_jstr(task_at(a, 0), "due_date"), "2027-06-01");
	json_object_put(a);
	slac_client_free(owner.c);
	slac_client_free(lead.c);
}

/* S12 for a customer the hotline created at 3 a.m.: due two days after
 * that first report; nobody owns it yet, so the reminder reaches nobody
 * and says so. */
static void provisional_archive(void **state)
{
	(void)state;
	int64_t t0 = h_utc(2027, 1, 10, 19, 0); /* 03:00 in Shanghai */
	h_set_time(t0);
	json_object *a = h_okf(hotline, "REPORT",
	                       "{\"request_id\":\"%s\",\"customer_name\":\"Night Caller\","
	                       "\"customer_phone\":\"+86 139 0000 7777\","
	                       "\"contact_name\":\"Night Caller\","
	                       "\"contact_phone\":\"+86 139 0000 7777\","
	                       "\"symptoms\":\"pump station alarm\"}",
	                       h_request_id());
	assert_true(json_object_get_boolean(h_jget(a, "provisional_customer")));
	int64_t cust = h_jint(a, "customer_id");
	json_object_put(a);
	a = tasks_of(cust, "archive", 1);
	json_object *tk = task_at(a, 0);
	int64_t id = h_jint(tk, "task_id");
	assert_null(h_jget(tk, "owner"));
	assert_string_equal(h_jstr(tk, "remind_at"), "2027-01-10T19:00:00Z");
	assert_string_equal(h_jstr(tk, "due_at"), "2027-01-12T19:00:00Z");
	json_object_put(a);
	wait_stage(id, 1);
	a = tasks_of(cust, "archive", 1);
	json_object *first = json_object_array_get_idx(h_jget(task_at(a, 0), "pushes"), 0);
	assert_null(h_jget(first, "reached"));
	assert_string_equal(json_object_to_json_string(h_jget(first, "to")), "[ ]");
	json_object_put(a);
}

/* S14: a restore makes a satisfaction call due `satisfaction_call_days`
 * later for the tracking agent; FEEDBACK or TASK_DONE ends it; engineers
 * of another team may not; a repeat changes nothing. */
static void satisfaction_calls(void **state)
{
	(void)state;
	int64_t t0 = h_utc(2027, 1, 14, 1, 0);
	h_set_time(t0);
	struct push_watcher owner;
	pushes_subscribe(&owner, "engineer", 0, PUSHES_TASKS | PUSHES_DRAIN);
	int64_t cust = add_customer("Call Back Ltd", NULL);
	int64_t ids[2];
	for (int i = 0; i < 2; i++) {
		h_set_time(t0 + i * HOUR);
		json_object *a = h_okf(hotline, "REPORT",
		                       "{\"request_id\":\"%s\",\"customer_id\":%lld,"
		                       "\"symptoms\":\"meter %d offline\",\"contact_name\":\"Wang "
		                       "Fang\",\"contact_phone\":\"138\",\"level\":2}",
		                       h_request_id(), (long long)cust, i);
		ids[i] = h_jint(a, "ticket_id");
		json_object_put(a);
	}
	h_set_time(t0 + 3 * HOUR);
	for (int i = 0; i < 2; i++)
		json_object_put(h_okf(engineer, "RESTORE",
		                      "{\"ticket_id\":%lld,\"cause\":\"software_quality\"}",
		                      (long long)ids[i]));
	json_object *a = tasks_of(cust, "satisfaction_call", 2);
	int64_t call[2];
	for (int i = 0; i < 2; i++) {
		json_object *tk = task_at(a, (size_t)i);
		call[i] = h_jint(tk, "task_id");
		assert_int_equal(h_jint(tk, "ticket_id"), ids[i]);
		assert_string_equal(h_jstr(tk, "owner"), "engineer");
		assert_string_equal(h_jstr(tk, "remind_at"), "2027-01-14T04:00:00Z");
		assert_string_equal(h_jstr(tk, "due_at"), "2027-01-16T04:00:00Z");
	}
	char want[96];
	snprintf(want, sizeof(want), "call Wang Fang (138) about ticket %lld", (long long)ids[0]);
	assert_string_equal(h_jstr(task_at(a, 0), "summary"), want);
	json_object_put(a);
	assert_string_equal(pushes_of(&owner, call[0], 1), "satisfaction_call reminder");
	assert_string_equal(pushes_of(&owner, call[1], 1), "satisfaction_call reminder");

	/* The first call got through: FEEDBACK with the task closes it. */
	h_set_time(t0 + DAY);
	json_object_put(h_okf(hotline, "FEEDBACK",
	                      "{\"request_id\":\"%s\",\"ticket_id\":%lld,\"score\":5,"
	                      "\"task_id\":%lld}",
	                      h_request_id(), (long long)ids[0], (long long)call[0]));
	/* The second did not: the owner says so. */
	h_errf(engineer2, "TASK_DONE", "FORBIDDEN", "{\"task_id\":%lld}", (long long)call[1]);
	h_errf(engineer, "TASK_DONE", "NOT_FOUND", "{\"task_id\":999999}");
	h_errf(engineer, "TASK_DONE", "MISSING_FIELD", "{\"note\":\"x\"}");
	a = h_okf(engineer, "TASK_DONE", "{\"task_id\":%lld,\"note\":\"no answer, twice\"}",
	          (long long)call[1]);
	assert_string_equal(h_jstr(a, "effect"), "done");
	json_object *tk = h_jget(a, "task");
	assert_string_equal(h_jstr(tk, "status"), "done");
	assert_string_equal(h_jstr(tk, "done_by"), "engineer");
	assert_string_equal(h_jstr(tk, "note"), "no answer, twice");
	assert_string_equal(h_jstr(tk, "done_at"), "2027-01-15T01:00:00Z");
	json_object_put(a);
	h_set_time(t0 + DAY + HOUR);
	a = h_okf(engineer, "TASK_DONE", "{\"task_id\":%lld,\"note\":\"again\"}",
	          (long long)call[1]);
	assert_string_equal(h_jstr(a, "effect"), "unchanged");
	assert_string_equal(h_jstr(h_jget(a, "task"), "note"), "no answer, twice");
	json_object_put(a);

	/* Both done: nothing lapses at the due instant. */
	h_set_time(t0 + 3 * DAY);
	assert_string_equal(pushes_of(&owner, call[0], 1), "satisfaction_call reminder");
	assert_string_equal(pushes_of(&owner, call[1], 1), "satisfaction_call reminder");
	a = h_okf(admin, "TASKS", "{\"customer_id\":%lld,\"status\":\"done\"}", (long long)cust);
	assert_int_equal(json_object_array_length(h_jget(a, "tasks")), 2);
	json_object_put(a);
	slac_client_free(owner.c);
}

/* S11: a contract's quarters are inspection tasks due by each quarter's
 * last day (customer's zone), announced task_remind_days before; a changed
 * contract replans the ones nobody was told of. */
static void quarterly_inspections(void **state)
{
	(void)state;
	h_set_time(h_utc(2027, 1, 20, 2, 0));
	struct push_watcher owner;
	pushes_subscribe(&owner, "engineer", 0, PUSHES_TASKS | PUSHES_DRAIN);
	int64_t cust = add_customer("Quarterly Co", NULL);
	json_object *a =
	    h_okf(admin, "CONTRACT_ADD",
	          "{\"request_id\":\"%s\",\"customer_id\":%lld,\"accepted_date\":\"2026-12-15\","
	          "\"free_months\":12}",
	          h_request_id(), (long long)cust);
	int64_t k = h_jint(a, "contract_id");
	json_object_put(a);
	a = tasks_of(cust, "inspection", 4);
	static const char *const dates[4] = {"2027-03-14", "2027-06-14", "2027-09-14",
	                                     "2027-12-14"};
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(h_jstr(task_at(a, i), "due_date"), dates[i]);
	/* 00:00 in Shanghai a week before, and the end of the date. */
	assert_string_equal(h_jstr(task_at(a, 0), "remind_at"), "2027-03-06T16:00:00Z");
	assert_string_equal(h_jstr(task_at(a, 0), "due_at"), "2027-03-14T16:00:00Z");
	json_object_put(a);

	/* Accepted two weeks earlier: the quarters move. */
	json_object_put(h_okf(admin, "CONTRACT_UPDATE",
	                      "{\"contract_id\":%lld,\"accepted_date\":\"2026-12-01\"}",
	                      (long long)k));
	static const char *const moved[4] = {"2027-02-28", "2027-05-31", "2027-08-31",
	                                     "2027-11-30"};
	for (int round = 0;; round++) {
		a = tasks_of(cust, "inspection", 4);
		if (strcmp(h_jstr(task_at(a, 0), "due_date"), moved[0]) == 0 || round == 100)
			break;
		json_object_put(a);
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(h_jstr(task_at(a, i), "due_date"), moved[i]);
	int64_t first = h_jint(task_at(a, 0), "task_id");
	json_object_put(a);

	h_set_time(h_utc(2027, 2, 20, 16, 0) - 1);
	assert_string_equal(pushes_of(&owner, first, 0), "");
	h_set_time(h_utc(2027, 2, 20, 16, 0));
	assert_string_equal(pushes_of(&owner, first, 1), "inspection reminder");
	a = h_okf(engineer, "TASK_DONE", "{\"task_id\":%lld,\"note\":\"all four pumps fine\"}",
	          (long long)first);
	assert_string_equal(h_jstr(h_jget(a, "task"), "status"), "done");
	json_object_put(a);

	/* Six months: the done visit stays, the second is still planned, the
	 * rest are gone. */
	json_object_put(h_okf(admin, "CONTRACT_UPDATE", "{\"contract_id\":%lld,\"free_months\":6}",
	                      (long long)k));
	a = tasks_of(cust, "inspection", 2);
	assert_string_equal(h_jstr(task_at(a, 0), "status"), "done");
	assert_string_equal(h_jstr(task_at(a, 1), "due_date"), "2027-05-31");
	assert_string_equal(h_jstr(task_at(a, 1), "status"), "open");
	json_object_put(a);
	slac_client_free(owner.c);
}

/* S14: the next maintenance date of a customer with a cycle is a task; done,
 * the date moves on by the cycle and the next one is planned.  And slad
 * down across a task's reminder and due instant: both fire once, in order,
 * late, after the restart. */
static void maintenance_and_downtime(void **state)
{
	(void)state;
	h_set_time(h_utc(2027, 2, 25, 2, 0));
	int64_t cust =
	    add_customer("Service Cycle Inc", "\"maintenance_cycle_months\":6,"
	                                      "\"next_maintenance_date\":\"2027-03-10\"");
	json_object *a = tasks_of(cust, "maintenance", 1);
	int64_t id = h_jint(task_at(a, 0), "task_id");
	assert_string_equal(h_jstr(task_at(a, 0), "due_date"), "2027-03-10");
	assert_string_equal(h_jstr(task_at(a, 0), "remind_at"), "2027-03-02T16:00:00Z");
	json_object_put(a);
	/* A date already inside the reminder window is told now, not late. */
	int64_t soon = add_customer("Soon Service", "\"maintenance_cycle_months\":12,"
	                                            "\"next_maintenance_date\":\"2027-02-28\"");
	a = tasks_of(soon, "maintenance", 1);
	assert_string_equal(h_jstr(task_at(a, 0), "remind_at"), "2027-02-25T02:00:00Z");
	int64_t soon_id = h_jint(task_at(a, 0), "task_id");
	json_object_put(a);
	wait_stage(soon_id, 1);
	a = tasks_of(soon, "maintenance", 1);
	json_object *told = json_object_array_get_idx(h_jget(task_at(a, 0), "pushes"), 0);
	assert_false(json_object_get_boolean(h_jget(told, "late")));
	json_object_put(a);
	a = h_okf(engineer, "TASK_DONE", "{\"task_id\":%lld}", (long long)id);
	json_object_put(a);
	a = h_okf(admin, "CUSTOMER_SHOW", "{\"customer_id\":%lld}", (long long)cust);
	assert_string_equal(h_jstr(h_jget(a, "customer"), "next_maintenance_date"), "2027-09-10");
	json_object_put(a);
	a = tasks_of(cust, "maintenance", 2);
	assert_string_equal(h_jstr(task_at(a, 1), "due_date"), "2027-09-10");
	assert_string_equal(h_jstr(task_at(a, 1), "status"), "open");
	int64_t next = h_jint(task_at(a, 1), "task_id");
	json_object_put(a);

	/* slad is down from before the reminder until after the due date. */
	struct push_watcher owner;
	pushes_subscribe(&owner, "engineer", 0, PUSHES_TASKS | PUSHES_DRAIN | PUSHES_RECONNECT);
	slac_client_free(admin);
	slac_client_free(hotline);
	slac_client_free(engineer);
	slac_client_free(engineer2);
	int status = h_slad_stop(SIGTERM);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	h_set_time(h_utc(2027, 9, 20, 2, 0));
	h_slad_start(CONF, h_fake_time_env());
	admin = h_must_connect("admin");
	hotline = h_must_connect("hotline");
	engineer = h_must_connect("engineer");
	engineer2 = h_must_connect("engineer2");
	assert_string_equal(pushes_of(&owner, next, 2),
	                    "maintenance reminder late|maintenance lapse late");
	wait_stage(next, 2);
	a = tasks_of(cust, "maintenance", 2);
	assert_string_equal(h_jstr(task_at(a, 1), "status"), "lapsed");
	json_object_put(a);
	slac_client_free(owner.c);
}

/* TASKS: filters, paging, bad input. */
static void listing(void **state)
{
	(void)state;
	json_object *a = h_okf(admin, "TASKS", "{\"limit\":2}");
	json_object *tasks = h_jget(a, "tasks");
	assert_int_equal(json_object_array_length(tasks), 2);
	int64_t second = h_jint(json_object_array_get_idx(tasks, 1), "task_id");
	assert_int_equal(h_jint(a, "next_after_id"), second);
	json_object_put(a);
	a = h_okf(admin, "TASKS", "{\"limit\":2,\"after_id\":%lld}", (long long)second);
	assert_true(h_jint(json_object_array_get_idx(h_jget(a, "tasks"), 0), "task_id") > second);
	json_object_put(a);
	a = h_okf(admin, "TASKS", "{\"status\":\"lapsed\",\"kind\":\"archive\"}");
	tasks = h_jget(a, "tasks");
	assert_true(json_object_array_length(tasks) >= 1);
	for (size_t i = 0; i < json_object_array_length(tasks); i++) {
		assert_string_equal(h_jstr(json_object_array_get_idx(tasks, i), "status"),
		                    "lapsed");
		assert_string_equal(h_jstr(json_object_array_get_idx(tasks, i), "kind"), "archive");
	}
	json_object_put(a);
	a = h_okf(admin, "TASKS", "{\"due_before\":\"2027-01-01T00:00:00Z\"}");
	assert_int_equal(json_object_array_length(h_jget(a, "tasks")), 0);
	assert_null(h_jget(a, "next_after_id"));
	json_object_put(a);
	h_errf(admin, "TASKS", "INVALID_FIELD", "{\"kind\":\"picnic\"}");
	h_errf(admin, "TASKS", "INVALID_FIELD", "{\"status\":\"maybe\"}");
	h_errf(admin, "TASKS", "INVALID_FIELD", "{\"limit\":0}");
	h_errf(admin, "TASKS", "NOT_FOUND", "{\"customer_id\":999999}");
	h_errf(engineer, "TASKS", "FORBIDDEN", "{}");
	h_errf(hotline, "TASK_DONE", "FORBIDDEN", "{\"task_id\":1}");
}

static int setup(void **state)
{
	(void)state;
	h_init();
	h_set_time(h_utc(2027, 1, 4, 0, 0));
	h_slad_start(CONF, h_fake_time_env());
	admin = h_must_connect("admin");
	hotline = h_must_connect("hotline");
	engineer = h_must_connect("engineer");
	engineer2 = h_must_connect("engineer2");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	slac_client_free(admin);
	slac_client_free(hotline);
	slac_client_free(engineer);
	slac_client_free(engineer2);
	int status = h_slad_stop(SIGTERM);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(archive_reminder_lapse_and_completion),
	    cmocka_unit_test(provisional_archive),
	    cmocka_unit_test(satisfaction_calls),
	    cmocka_unit_test(quarterly_inspections),
	    cmocka_unit_test(maintenance_and_downtime),
	    cmocka_unit_test(listing),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
