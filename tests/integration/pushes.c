/*
 * pushes.c - the escalation tests' subscribers and fixtures (pushes.h).
 */
#include "pushes.h"

#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "harness.h"

void pushes_on_push(void *arg, const char *event, uint64_t seq, json_object *body)
{
	struct push_watcher *w = arg;
	struct push_inbox *in = &w->in;
	bool step_keys = (w->flags & PUSHES_STEP_KEYS) != 0;
	bool tasks = (w->flags & PUSHES_TASKS) != 0;
	if (strcmp(event, tasks ? "TASK" : "ESCALATION") != 0)
		return;
	if (step_keys) {
		if (in->count >= PUSHES_MAX)
			return;
	} else {
		assert_true(in->count < PUSHES_MAX);
	}
	json_object *v;
	int64_t ticket = 0;
	const char *clock = "", *step = "", *tier = "", *fraction = "-";
	bool late = false;
	if (json_object_object_get_ex(body, "ticket_id", &v))
		ticket = json_object_get_int64(v);
	if (json_object_object_get_ex(body, "clock", &v))
		clock = json_object_get_string(v);
	if (json_object_object_get_ex(body, "step", &v))
		step = json_object_get_string(v);
	if (json_object_object_get_ex(body, "tier", &v))
		tier = json_object_get_string(v);
	if (json_object_object_get_ex(body, "late", &v))
		late = json_object_get_boolean(v);
	if (json_object_object_get_ex(body, "fraction", &v) && v != NULL)
		fraction = json_object_get_string(v);
	if (tasks) {
		const char *kind = "";
		int64_t task = 0;
		bool lapsed = false;
		if (json_object_object_get_ex(body, "task_id", &v))
			task = json_object_get_int64(v);
		if (json_object_object_get_ex(body, "kind", &v))
			kind = json_object_get_string(v);
		if (json_object_object_get_ex(body, "lapsed", &v))
			lapsed = json_object_get_boolean(v);
		snprintf(in->keys[in->count], sizeof(in->keys[0]), "%lld %s %s%s", (long long)task,
		         kind, lapsed ? "lapse" : "reminder", late ? " late" : "");
	} else if (step_keys)
		snprintf(in->keys[in->count], sizeof(in->keys[0]), "%s %s %s%s", clock, step, tier,
		         late ? " late" : "");
	else
		snprintf(in->keys[in->count], sizeof(in->keys[0]), "%lld %s %s %s",
		         (long long)ticket, clock, step, fraction);
	in->seqs[in->count] = seq;
	in->count++;
}

void pushes_pump(struct push_watcher *const *ws, int n, int ms)
{
	struct pollfd p[8];
	assert_true(n <= 8);
	for (int i = 0; i < n; i++)
		p[i] = (struct pollfd){slac_client_fd(ws[i]->c), slac_client_events(ws[i]->c), 0};
	int r = poll(p, (nfds_t)n, ms);
	for (int i = 0; i < n; i++)
		assert_int_equal(slac_client_step(ws[i]->c, r > 0 ? p[i].revents : 0), 0);
}

void pushes_pump_one(struct push_watcher *w, int ms)
{
	pushes_pump(&w, 1, ms);
}

bool pushes_try_pump(struct push_watcher *w, int ms)
{
	if (slac_client_state(w->c) == SLAC_CLOSED)
		return false;
	struct pollfd p = {slac_client_fd(w->c), slac_client_events(w->c), 0};
	int t = slac_client_timeout_ms(w->c);
	if (t < 0 || t > ms)
		t = ms;
	int n = poll(&p, 1, t);
	return slac_client_step(w->c, n > 0 ? p.revents : 0) == 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL); /* waiting for a process, never moving time */
}

void pushes_reconnect(struct push_watcher *w)
{
	slac_client_close(w->c);
	for (int attempt = 0; attempt < 100; attempt++) {
		if (slac_client_start(w->c) == 0) {
			while (slac_client_state(w->c) != SLAC_READY &&
			       slac_client_state(w->c) != SLAC_CLOSED)
				pushes_try_pump(w, 100);
			if (slac_client_state(w->c) == SLAC_READY)
				return;
		}
		sleep_ms(50);
	}
	fail_msg("could not reconnect: %s", slac_client_error(w->c)->message);
}

/* See PUSHES_DRAIN. */
static void drain(struct push_watcher *w)
{
	char sql[256];
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM deliveries d JOIN principals p ON p.id = d.principal_id"
	         " WHERE p.name = '%s' AND d.receipted_at IS NULL",
	         w->who);
	for (int i = 0; i < 100 && h_sql_int(sql) > 0; i++) {
		if (w->flags & PUSHES_RECONNECT)
			pushes_try_pump(w, 20);
		else
			pushes_pump_one(w, 20);
	}
	memset(&w->in, 0, sizeof(w->in));
}

void pushes_subscribe(struct push_watcher *w, const char *who, int instance, unsigned flags)
{
	memset(w, 0, sizeof(*w));
	w->who = who;
	w->instance = instance;
	w->flags = flags;
	w->c = h_inst_must_connect(instance, who);
	slac_session_set_push_cb(slac_client_session(w->c), pushes_on_push, w);
	struct slac_answer ans;
	json_object *body = json_object_new_object();
	assert_int_equal(slac_call(w->c, "SUBSCRIBE", body, &ans, 10000), SLAC_OK);
	json_object_put(body);
	slac_answer_clear(&ans);
	if (flags & PUSHES_DRAIN)
		drain(w);
}

/* One 50 ms round of pushes_expect. */
static void expect_round(struct push_watcher *w)
{
	if (!(w->flags & PUSHES_RECONNECT))
		pushes_pump_one(w, 50);
	else if (!pushes_try_pump(w, 50))
		pushes_reconnect(w);
}

void pushes_expect(struct push_watcher *w, int want, int rounds, const char *dump_sql)
{
	for (int i = 0; i < rounds && w->in.count < want; i++)
		expect_round(w);
	for (int i = 0; i < 6; i++) /* 300 ms = three scheduler caps */
		expect_round(w);
	if (w->in.count != want) {
		for (int i = 0; i < w->in.count; i++)
			fprintf(stderr, "  push %llu: %s\n", (unsigned long long)w->in.seqs[i],
			        w->in.keys[i]);
		pushes_dump_db("db", dump_sql);
		fail_msg("expected %d pushes, got %d", want, w->in.count);
	}
}

void pushes_dump_db(const char *label, const char *sql)
{
	PGresult *res = PQexec(h_db(), sql);
	for (int i = 0; i < PQntuples(res); i++) {
		fprintf(stderr, "  %s:", label);
		for (int j = 0; j < PQnfields(res); j++)
			fprintf(stderr, " %s", PQgetvalue(res, i, j));
		fprintf(stderr, "\n");
	}
	PQclear(res);
}

void pushes_put_on_duty(const char *who)
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

int64_t pushes_report_level(struct slac_client *hotline, int level, const char *what)
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

void pushes_cancel_all(const int64_t *ids, int n)
{
	struct slac_client *eng = h_must_connect("engineer");
	for (int i = 0; i < n; i++) {
		char body[128];
		snprintf(body, sizeof(body), "{\"ticket_id\":%lld,\"reason\":\"test done\"}",
		         (long long)ids[i]);
		json_object_put(h_ok(eng, "CANCEL", body));
	}
	slac_client_free(eng);
}
