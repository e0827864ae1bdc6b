/*
 * test_crash_ingest.c - acknowledged means committed (DESIGN.md "Where truth
 * lives"), under crashes (issue 4 "Crash safety").
 *
 * 2,000 reports with unique request ids, pipelined 64 at a time through
 * the client library's non-blocking mode.  In the first test slad kills
 * itself with SIGKILL five times exactly between a batch's COMMIT and its
 * answers (the report_after_commit failpoint, not luck of timing); in the
 * second PostgreSQL is stopped with `pg_ctl stop -m immediate` and started
 * again mid-run.  The client re-sends what went unanswered, as any client
 * must; at the end every request id that got OK names exactly one ticket,
 * and no request id has two.
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

#define REPORTS 2000
#define WINDOW  64

struct run {
	const char *prefix;
	int64_t ticket[REPORTS]; /* 0: not yet answered OK */
	bool in_flight[REPORTS];
	int next; /* next index never submitted */
	int ok;
	int unavailable;
	int resubmit[REPORTS]; /* indexes to send again */
	int n_resubmit;
	struct slac_client *client;
};

struct pending {
	struct run *run;
	int index;
};

static void on_done(void *arg, const struct slac_answer *ans)
{
	struct pending *p = arg;
	struct run *r = p->run;
	r->in_flight[p->index] = false;
	if (ans->err.status == SLAC_OK) {
		json_object *id = NULL;
		assert_true(json_object_object_get_ex(ans->body, "ticket_id", &id));
		int64_t t = json_object_get_int64(id);
		/* A replay must name the ticket the first answer named. */
		assert_true(r->ticket[p->index] == 0 || r->ticket[p->index] == t);
		if (r->ticket[p->index] == 0)
			r->ok++;
		r->ticket[p->index] = t;
	} else {
		/* Only "try again" is acceptable: never a second ticket. */
		assert_true(ans->err.code == PROTO_ERR_UNAVAILABLE ||
		            ans->err.code == PROTO_ERR_SHUTTING_DOWN);
		r->unavailable++;
		r->resubmit[r->n_resubmit++] = p->index;
	}
	free(p);
}

static void submit(struct run *r, int index)
{
	char body[256];
	snprintf(body, sizeof(body),
	         "{\"request_id\":\"%s-%d\",\"customer_id\":1,\"contact_name\":\"load\","
	         "\"contact_phone\":\"1\",\"symptoms\":\"%s report %d\"}",
	         r->prefix, index, r->prefix, index);
	json_object *j = json_tokener_parse(body);
	struct pending *p = malloc(sizeof(*p));
	assert_non_null(p);
	*p = (struct pending){r, index};
	r->in_flight[index] = true;
	uint64_t id = slac_client_submit(r->client, "REPORT", j, on_done, p);
	json_object_put(j);
	assert_true(id != 0);
}

static int in_flight(const struct run *r)
{
	int n = 0;
	for (int i = 0; i < r->next; i++)
		n += r->in_flight[i];
	return n;
}

static void fill_window(struct run *r)
{
	while (r->n_resubmit > 0 && in_flight(r) < WINDOW)
		submit(r, r->resubmit[--r->n_resubmit]);
	while (r->next < REPORTS && in_flight(r) < WINDOW)
		submit(r, r->next++);
}

/* One round of the event loop.  Returns false when the connection closed. */
static bool pump(struct run *r, int timeout_ms)
{
	struct pollfd pfd = {slac_client_fd(r->client), slac_client_events(r->client), 0};
	if (pfd.fd < 0)
		return false;
	int t = slac_client_timeout_ms(r->client);
	if (t < 0 || t > timeout_ms)
		t = timeout_ms;
	int n = poll(&pfd, 1, t);
	if (slac_client_step(r->client, n > 0 ? pfd.revents : 0) != 0)
		return false;
	return true;
}

static void reconnect(struct run *r)
{
	for (int attempt = 0; attempt < 100; attempt++) {
		if (slac_client_start(r->client) == 0) {
			while (slac_client_state(r->client) != SLAC_READY &&
			       slac_client_state(r->client) != SLAC_CLOSED)
				pump(r, 100);
			if (slac_client_state(r->client) == SLAC_READY)
				return;
		}
		struct timespec ts = {0, 50 * 1000000L};
		nanosleep(&ts, NULL);
	}
	fail_msg("could not reconnect");
}

/* Every OK names exactly one ticket, no request id made two. */
static void check_exactly_once(const struct run *r)
{
	for (int i = 0; i < REPORTS; i++)
		assert_true(r->ticket[i] > 0);
	for (int i = 0; i < REPORTS; i++)
		for (int j = i + 1; j < REPORTS; j++)
			assert_true(r->ticket[i] != r->ticket[j]);
	char sql[512];
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM tickets WHERE symptoms LIKE '%s report %%'", r->prefix);
	assert_int_equal(h_sql_int(sql), REPORTS);
	snprintf(sql, sizeof(sql),
	         "SELECT count(DISTINCT symptoms) FROM tickets WHERE symptoms LIKE '%s report %%'",
	         r->prefix);
	assert_int_equal(h_sql_int(sql), REPORTS);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM requests WHERE request_id LIKE '%s-%%' AND answer = 'null'",
	         r->prefix);
	assert_int_equal(h_sql_int(sql), 0);
	/* Each answer's ticket is the one its own report created. */
	for (int i = 0; i < REPORTS; i += 97) {
		snprintf(
		    sql, sizeof(sql),
		    "SELECT count(*) FROM tickets WHERE id = %lld AND symptoms = '%s report %d'",
		    (long long)r->ticket[i], r->prefix, i);
		assert_int_equal(h_sql_int(sql), 1);
	}
}

static void sigkill_between_commit_and_reply(void **state)
{
	(void)state;
	static struct run r;
	memset(&r, 0, sizeof(r));
	r.prefix = "kill";
	/* Batches let pass before each crash: the kills land at different
	 * depths of the run, each right after a COMMIT. */
	static const char *const skips[] = {"SLAD_FAILPOINT_SKIP=5", "SLAD_FAILPOINT_SKIP=17",
	                                    "SLAD_FAILPOINT_SKIP=9", "SLAD_FAILPOINT_SKIP=30",
	                                    "SLAD_FAILPOINT_SKIP=12"};
	int kills = 0;
	const char *env[3] = {"SLAD_FAILPOINT=report_after_commit", skips[0], NULL};
	h_slad_start(NULL, env);
	r.client = h_must_connect("hotline");
	while (r.ok < REPORTS) {
		fill_window(&r);
		if (pump(&r, 200))
			continue;
		/* The connection dropped: slad killed itself (or is dying). */
		int status = h_slad_wait(5000);
		assert_true(status != -1);
		assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		kills++;
		if (kills < 5) {
			env[1] = skips[kills];
			h_slad_start(NULL, env);
		} else {
			h_slad_start(NULL, NULL);
		}
		reconnect(&r);
	}
	assert_int_equal(kills, 5);
	assert_true(h_log_contains("event=failpoint name=report_after_commit"));
	check_exactly_once(&r);
	slac_client_free(r.client);
	h_slad_stop(SIGTERM);
}

static void postgres_immediate_stop(void **state)
{
	(void)state;
	static struct run r;
	memset(&r, 0, sizeof(r));
	r.prefix = "pgstop";
	h_slad_start(NULL, NULL);
	r.client = h_must_connect("hotline");
	bool stopped = false, restarted = false;
	while (r.ok < REPORTS) {
		fill_window(&r);
		if (!pump(&r, 200)) {
			reconnect(&r);
			continue;
		}
		if (!stopped && r.ok >= REPORTS / 3) {
			h_pg_stop("immediate");
			stopped = true;
		}
		/* Let requests meet the dead database before it comes back. */
		if (stopped && !restarted && r.unavailable >= 50) {
			h_pg_start();
			restarted = true;
		}
	}
	assert_true(stopped && restarted);
	assert_true(r.unavailable >= 50);
	check_exactly_once(&r);
	slac_client_free(r.client);
	/* slad survived it all. */
	assert_int_equal(h_slad_wait(0), -1);
	h_slad_stop(SIGTERM);
}

int main(void)
{
	h_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sigkill_between_commit_and_reply),
	    cmocka_unit_test(postgres_immediate_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
